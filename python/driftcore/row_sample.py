"""A uniform sample of rows drawn while streaming (bottom-k sampling), mergeable.

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
>>> from driftcore import RowSample
>>> r = RowSample(3, seed=0)
>>> for start in range(0, 100, 10):
...     r.update(pa.record_batch({"i": list(range(start, start + 10))}))
>>> r.seen, r.table().num_rows
(100, 3)
>>> whole = RowSample(3, seed=0)
>>> whole.update(pa.record_batch({"i": list(range(100))}))
>>> whole.table()["i"].to_pylist() == r.table()["i"].to_pylist()
True
>>> a, b = RowSample(3, seed=0), RowSample(3, seed=0, start=60)   # two parts, merged
>>> a.update(pa.record_batch({"i": list(range(60))}))
>>> b.update(pa.record_batch({"i": list(range(60, 100))}))
>>> a.merge(b).table()["i"].to_pylist() == r.table()["i"].to_pylist()
True
>>> RowSample.from_bytes(r.to_bytes()).table().equals(r.table())
True
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pyarrow as pa

from . import _core, _validate, _wire
from ._locking import Guarded, locked_pair

_KIND = b"RSMP"
_HEADER_FIELDS = ("size", "base", "row", "seen", "cut", "kept")


class RowSample(Guarded):
    """The ``size`` rows of a stream of record batches with the smallest random keys.

    Parameters
    ----------
    size : int
        Rows kept.
    seed, stream : int
        Select the keys: the same (seed, stream) gives the same sample of the same rows.
    expected_rows : int, optional
        Rows the whole stream will have, when known: fewer rows are copied.
    start : int
        Stream row number of the first row this state sees (a part of the stream).
    """

    def __init__(
        self,
        size: int,
        seed: int = 0,
        stream: int = 0,
        expected_rows: int | None = None,
        start: int = 0,
    ) -> None:
        if int(size) < 0 or int(start) < 0:
            raise ValueError(f"size and start must be >= 0, got {size} and {start}")
        self.size = int(size)
        self._base = _core.sample_base(int(seed), int(stream))
        self._row = int(start)  # the stream's row number of the next row offered
        self._keys: list[np.ndarray] = []
        self._parts: list[pa.RecordBatch | pa.Table] = []
        self._kept = 0
        self._cut = math.inf  # keys at or above this can never enter the sample
        if expected_rows and expected_rows > 2 * self.size:
            self._cut = min(1.0, (self.size + 6 * self.size**0.5 + 64) / expected_rows)
        self.seen = 0

    def update(self, batch: pa.RecordBatch | pa.Table, rows: np.ndarray | None = None) -> None:
        """Offer every row of ``batch``: the next rows of the stream, or, with ``rows``,
        the rows of those numbers in the stream (a sample of some of its rows, such as
        those a filter kept, keyed by their place in the whole stream)."""
        if not isinstance(batch, (pa.RecordBatch, pa.Table)):
            raise TypeError(f"expected a pyarrow RecordBatch or Table, got {type(batch).__name__}")
        if rows is not None:
            rows = np.asarray(rows)
            if (
                rows.shape != (batch.num_rows,)
                or rows.dtype.kind not in "iu"
                or (rows.size and rows.min() < 0)
            ):
                raise ValueError(
                    f"rows must be {batch.num_rows} row numbers >= 0, one a row of the batch"
                )
        with self._lock:  # row numbers follow the order batches are offered
            self._check_schema(batch.schema)
            n = batch.num_rows
            first, self._row = self._row, self._row + n
            if rows is not None and rows.size:
                self._row = max(first, int(rows.max()) + 1)
            self.seen += n
            if self.size == 0:
                return
            cut = min(self._cut, 1.0)
            if rows is None:
                idx, keys = _core.sample_keys_below(self._base, first, n, cut)
            else:
                keys = _core.sample_keys_at(self._base, rows.astype(np.uint64))
                idx = np.flatnonzero(keys < cut)
                keys = keys[idx]
            if idx.size == 0:
                return
            self._keys.append(keys)
            self._parts.append(batch if idx.size == n else batch.take(pa.array(idx)))
            self._kept += idx.size
            if self._kept > 2 * self.size:
                self._prune()

    def merge(self, other: RowSample) -> RowSample:
        """Fold in the sample of another part of the stream (same size, seed and
        stream; each part keyed from its own start): the result is the sample of the
        whole stream. Returns ``self``."""
        if not isinstance(other, RowSample):
            raise TypeError(f"can merge a RowSample only, got {type(other).__name__}")
        with locked_pair(self, other):
            if (self.size, self._base) != (other.size, other._base):
                raise ValueError("cannot merge row samples of another size, seed or stream")
            if other._parts:
                self._check_schema(other._parts[0].schema)
            self._keys += other._keys
            self._parts += other._parts
            self._kept += other._kept
            self.seen += other.seen
            self._row = max(self._row, other._row)
            self._cut = min(self._cut, other._cut)
            self._prune()
            return self

    def _check_schema(self, schema: pa.Schema) -> None:
        # Checked before anything changes: the kept rows become one table at the next
        # prune, which would fail half-way.
        if self._parts and not self._parts[0].schema.equals(schema, check_metadata=False):
            have = self._parts[0].schema
            raise ValueError(
                f"rows with columns {schema.names} ({', '.join(map(str, schema.types))}) "
                f"cannot join a sample of {have.names} ({', '.join(map(str, have.types))})"
            )

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
        """The sample, in key order (a table with no rows when nothing was kept)."""
        with self._lock:
            self._prune()
            if not self._parts:
                return pa.table({})
            part = self._parts[0]
            return part if isinstance(part, pa.Table) else pa.Table.from_batches([part])

    def to_bytes(self) -> bytes:
        """The state as checked bytes (driftcore framing: magic, version, CRC-32): the
        kept rows as an Arrow IPC stream, their keys, and the stream position."""
        with self._lock:
            self._prune()
            keys = self._keys[0] if self._keys else np.zeros(0)
            head = {
                "size": self.size,
                "base": self._base,
                "row": self._row,
                "seen": self.seen,
                "cut": None if math.isinf(self._cut) else self._cut,
                "kept": int(keys.size),
            }
            rows = b""
            if keys.size:
                sink = pa.BufferOutputStream()
                table = self.table()
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table)
                rows = sink.getvalue().to_pybytes()
        header = json.dumps(head, sort_keys=True).encode()
        return _wire.frame(_KIND, struct.pack("<Q", len(header)) + header + keys.tobytes() + rows)

    @classmethod
    def from_bytes(cls, data: bytes) -> RowSample:
        """Read a state written by :meth:`to_bytes`; refuses corrupt or foreign data."""
        payload = _wire.unframe(data, _KIND)
        with _validate.corrupted("corrupted row sample payload"):
            return cls._read(payload)

    @classmethod
    def _read(cls, payload: bytes) -> RowSample:
        head, pos = _validate.header(payload)
        head = _validate.fields(head, "header", _HEADER_FIELDS)
        size = _validate.integer(head["size"], "size")
        kept = _validate.integer(head["kept"], "kept", 0, size)
        seen = _validate.integer(head["seen"], "seen")
        row = _validate.integer(head["row"], "row")
        base = _validate.integer(head["base"], "base", 0, 2**64 - 1)
        cut = math.inf if head["cut"] is None else _validate.number(head["cut"], "cut")
        if kept > seen or not 0.0 <= cut:
            raise ValueError(f"kept {kept} rows of {seen} seen, cut {cut}")
        if len(payload) < pos + 8 * kept:
            raise ValueError(f"{len(payload) - pos} bytes cannot hold {kept} keys")
        keys = np.frombuffer(payload, np.float64, kept, pos).copy()
        if kept and not (
            np.all(keys >= 0) and np.all(keys <= min(cut, 1.0)) and np.all(np.diff(keys) >= 0)
        ):
            raise ValueError("keys must be ascending in [0, cut]")
        rows = payload[pos + 8 * kept :]
        out = cls(size)
        out._base, out._row, out.seen, out._cut = base, row, seen, cut
        if kept:
            try:
                table = pa.ipc.open_stream(pa.py_buffer(rows)).read_all()
                # Arrow reads buffers as they are: offsets and lengths that do not fit
                # would crash the next kernel that trusts them.
                table.validate(full=True)
            except (pa.ArrowException, OSError) as exc:
                raise ValueError(f"rows: {exc}") from None
            if table.num_rows != kept:
                raise ValueError(f"{table.num_rows} rows for {kept} keys")
            out._keys, out._parts, out._kept = [keys], [table], kept
        elif rows:
            raise ValueError(f"{len(rows)} bytes of rows for no kept row")
        return out

    def __reduce__(self) -> tuple:
        # pickle (Dask, multiprocessing) through the checked wire format
        return (_wire.restore, (RowSample, self.to_bytes()))

    def __repr__(self) -> str:
        return f"RowSample(size={self.size}, seen={self.seen}, kept={self._kept})"
