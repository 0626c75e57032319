"""Connecting to a Dask cluster: a LocalCluster of worker processes, a running
scheduler's address, or dask-cuda's LocalCUDACluster (one worker per GPU)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: ``connect`` names that start a cluster on this machine instead of joining one.
LOCAL, LOCAL_CUDA = "local", "local-cuda"


@contextmanager
def connect(scheduler: str = LOCAL, *, n_workers: int | None = None,
            threads_per_worker: int = 1) -> Iterator[Any]:
    """A ``distributed.Client``, active (the default scheduler) inside the ``with``
    block and closed after it, with the cluster it started.

    ``scheduler``: ``"local"`` starts a LocalCluster of ``n_workers`` processes
    (default: one per core) with ``threads_per_worker`` threads each; ``"local-cuda"``
    a dask-cuda LocalCUDACluster (one worker per GPU; needs ``dask-cuda``); anything
    else is a scheduler address such as ``"tcp://10.0.0.5:8786"``.

    Examples
    --------
    >>> import driftcore.dask as dcd
    >>> with dcd.connect("local", n_workers=1) as client:  # doctest: +SKIP
    ...     profile = dcd.profile(ddf)                       # runs on the cluster
    """
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == LOCAL:
        cluster = LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=threads_per_worker,
            processes=True, dashboard_address=":0",  # a free port: never clash with another cluster
        )
    elif scheduler == LOCAL_CUDA:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError as exc:
            raise ImportError("scheduler 'local-cuda' needs dask-cuda: pip install dask-cuda "
                              f"(and cudf for GPU DataFrames); the import failed with: {exc}"
                              ) from exc
        cluster = LocalCUDACluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                   dashboard_address=":0")
    elif not isinstance(scheduler, str) or not scheduler:
        raise ValueError(f"scheduler must be 'local', 'local-cuda' or an address, got {scheduler!r}")
    try:
        client = Client(cluster if cluster is not None else scheduler)
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    try:
        with client.as_current():
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
