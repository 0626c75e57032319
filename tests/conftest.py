from contextlib import contextmanager

import numpy as np
import pytest

import driftcore
from driftcore import _core


@pytest.fixture
def rng():
    return np.random.default_rng(20261127)


@contextmanager
def _portable():
    _core.set_simd(False)
    try:
        yield
    finally:
        _core.set_simd(True)


@pytest.fixture
def portable():
    """``with portable(): ...`` runs the kernels without their AVX-512 paths, which
    must give the same bits (a no-op comparison on CPUs without AVX-512)."""
    return _portable


def pytest_collection_modifyitems(config, items):
    # GPU tests run only where a GPU is usable; elsewhere they are skipped, not failed.
    if driftcore.gpu_available():
        return
    skip = pytest.mark.skip(reason="no usable CUDA GPU (driftcore.gpu_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster of two single-threaded worker processes, shared by the Dask
    tests (started once: a cluster takes a few seconds)."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )  # any free port
    with cluster, distributed.Client(cluster) as client:
        yield client
