"""Uniform row samples drawn while streaming (bottom-k sampling).

Every row gets a random key; the sample is the ``size`` rows with the smallest keys,
kept in key order. Row r of the stream (counted from 0) gets the r-th output of a
SplitMix64 generator seeded by (seed, stream), computed by the engine from r alone
(``driftcore/row_sample.hpp``), so the sample depends on the seed and the data, not
on how the data is cut into batches, files or Dask partitions, and a part that starts
at row ``start`` keys its rows without drawing the ones before it. Memory: at most
about ``2 * size`` rows plus one batch.

When the number of rows is known in advance (``expected_rows``, from Parquet
metadata), only keys below ``(size + 6 sqrt(size) + 64) / expected_rows`` are
considered from the start, so few rows are copied; the sample is the same unless
fewer than ``size`` keys fall below that bound (a 6-sigma event), and then it is
every row below the bound: still uniform, only smaller, and its size is reported.

Examples
--------
>>> import pyarrow as pa
>>> from driftcore.job.sample import Reservoir
>>> r = Reservoir(3, seed=0)
>>> for start in range(0, 100, 10):
...     r.add(pa.record_batch({"i": list(range(start, start + 10))}))
>>> r.seen, r.table().num_rows
(100, 3)
>>> r2 = Reservoir(3, seed=0)
>>> r2.add(pa.record_batch({"i": list(range(100))}))
>>> r2.table()["i"].to_pylist() == r.table()["i"].to_pylist()
True
>>> a, b = Reservoir(3, seed=0), Reservoir(3, seed=0, start=60)   # two parts, merged
>>> a.add(pa.record_batch({"i": list(range(60))})); b.add(pa.record_batch({"i": list(range(60, 100))}))
>>> a.merge(b).table()["i"].to_pylist() == r.table()["i"].to_pylist()
True
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import _core
from .._locking import Guarded, locked_pair


class Reservoir(Guarded):
    """The ``size`` rows of a stream of record batches with the smallest random keys."""

    def __init__(self, size: int, seed: int = 0, stream: int = 0,
                 expected_rows: int | None = None, start: int = 0) -> None:
        self.size = int(size)
        self._base = _core.sample_base(int(seed), int(stream))
        self._row = int(start)  # the stream's row number of the next row offered
        self._keys: list[np.ndarray] = []
        self._parts: list[pa.RecordBatch | pa.Table] = []
        self._kept = 0
        self._cut = np.inf  # keys at or above this can never enter the sample
        if expected_rows and expected_rows > 2 * self.size:
            self._cut = min(1.0, (self.size + 6 * self.size**0.5 + 64) / expected_rows)
        self.seen = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Offer every row of ``batch``."""
        with self._lock:  # row numbers follow the order batches are offered
            n = batch.num_rows
            first, self._row = self._row, self._row + n
            self.seen += n
            if self.size == 0:
                return
            cut = min(self._cut, 1.0)
            idx, keys = _core.sample_keys_below(self._base, first, n, cut)
            if idx.size == 0:
                return
            self._keys.append(keys)
            whole = idx.size == batch.num_rows
            self._parts.append(batch if whole else batch.take(pa.array(idx)))
            self._kept += idx.size
            if self._kept > 2 * self.size:
                self._prune()

    def merge(self, other: Reservoir) -> Reservoir:
        """Fold in the sample of another part of the stream (same size, seed and
        stream; each part keyed from its own start): the result is the sample of the
        whole stream."""
        with locked_pair(self, other):
            self._keys += other._keys
            self._parts += other._parts
            self._kept += other._kept
            self.seen += other.seen
            self._cut = min(self._cut, other._cut)
            self._prune()
            return self

    def _prune(self) -> None:
        if not self._parts:
            return
        keys = np.concatenate(self._keys)
        order = np.argsort(keys, kind="stable")[: self.size]
        table = pa.Table.from_batches(
            [b for p in self._parts for b in (p.to_batches() if isinstance(p, pa.Table) else [p])]
        )
        table = table.take(pa.array(order))
        self._keys, self._parts, self._kept = [keys[order]], [table], len(order)
        if len(order) == self.size:
            self._cut = float(keys[order[-1]])

    def table(self) -> pa.Table:
        """The sample, in key order (a table with no rows when nothing was added)."""
        with self._lock:
            self._prune()
            if not self._parts:
                return pa.table({})
            part = self._parts[0]
            return part if isinstance(part, pa.Table) else pa.Table.from_batches([part])
