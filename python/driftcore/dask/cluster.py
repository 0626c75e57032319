"""Connecting to a Dask cluster: a LocalCluster of worker processes, a running
scheduler's address, or dask-cuda's LocalCUDACluster (one worker per GPU)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover - connect() says what to install
    WorkerPlugin = object  # type: ignore[assignment,misc]

#: ``connect`` names that start a cluster on this machine instead of joining one.
LOCAL, LOCAL_CUDA = "local", "local-cuda"


class ArrowThreads(WorkerPlugin):
    """Worker plugin: Arrow's CPU pool sized to the worker's threads. Arrow otherwise
    decodes Parquet with a thread per core in every worker process, so the workers of
    one machine oversubscribe its cores (measured here: 1 -> 2 workers scaled 1.63x
    with Arrow's default pool, 1.72x with one Arrow thread per worker, both faster).
    Runs again on every worker the nanny restarts."""

    idempotent = True
    name = "driftcore-arrow-threads"

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def setup(self, worker: Any) -> None:
        import pyarrow as pa

        pa.set_cpu_count(self.threads)


@contextmanager
def connect(
    scheduler: str = LOCAL, *, n_workers: int | None = None, threads_per_worker: int = 1
) -> Iterator[Any]:
    """A ``distributed.Client``, active (the default scheduler) inside the ``with``
    block and closed after it, with the cluster it started.

    ``scheduler``: ``"local"`` starts a LocalCluster of ``n_workers`` processes
    (default: one per core) with ``threads_per_worker`` threads each; ``"local-cuda"``
    a dask-cuda LocalCUDACluster (one worker per GPU; needs ``dask-cuda``); anything
    else is a scheduler address such as ``"tcp://10.0.0.5:8786"``. The workers of a
    LocalCluster started here size Arrow's pool to their threads and run without
    Dask's statistical profiler; a cluster you join keeps its own settings.

    Examples
    --------
    >>> import driftcore.dask as dcd
    >>> with dcd.connect("local", n_workers=1) as client:  # doctest: +SKIP
    ...     profile = dcd.profile(ddf)                       # runs on the cluster
    """
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == LOCAL:
        # Without the workers' statistical profiler (it samples every thread's stack
        # every 10 ms, which on a 2-core machine is CPU taken from the computing
        # threads: 1 -> 2 workers on a 1e8-row profile scaled 1.52x with it, 1.70x
        # without); the dashboard's profile page stays empty. Each nanny applies its
        # ``config`` in the worker processes it starts, restarts included; the dotted
        # key is set after (on top of) the client's own configuration.
        cluster = LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=threads_per_worker,
            processes=True,
            dashboard_address=":0",  # a free port: never clash
            config={"distributed.worker.profile.enabled": False},
        )
    elif scheduler == LOCAL_CUDA:
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError as exc:
            raise ImportError(
                "scheduler 'local-cuda' needs dask-cuda: pip install dask-cuda "
                f"(and cudf for GPU DataFrames); the import failed with: {exc}"
            ) from exc
        cluster = LocalCUDACluster(
            n_workers=n_workers, threads_per_worker=threads_per_worker, dashboard_address=":0"
        )
    elif not isinstance(scheduler, str) or not scheduler:
        raise ValueError(
            f"scheduler must be 'local', 'local-cuda' or an address, got {scheduler!r}"
        )
    try:
        client = Client(cluster if cluster is not None else scheduler)
    except BaseException:
        if cluster is not None:
            cluster.close()
        raise
    try:
        if cluster is not None:  # our own workers; a shared cluster keeps its settings
            client.register_plugin(ArrowThreads(threads_per_worker))
        with client.as_current():
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
