import numpy as np
import pytest

import driftcore


@pytest.fixture
def rng():
    return np.random.default_rng(20261127)


def pytest_collection_modifyitems(config, items):
    # GPU tests run only where a GPU is usable; elsewhere they are skipped, not failed.
    if driftcore.gpu_available():
        return
    skip = pytest.mark.skip(reason="no usable CUDA GPU (driftcore.gpu_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
