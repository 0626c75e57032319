"""64-bit row hashes that never separate rows :func:`driftcore.exact_row_leakage`
calls equal, so that exact-row leakage can cover every row with bounded memory.

A check hashes every reference row (8 bytes a row kept) and every current row; only
current rows whose hash occurs among the reference hashes are *candidates*, and only
those are verified by ``exact_row_leakage`` against the reference rows with the same
hashes. Equal hashes of unequal rows cost a verification, never a false report.

Canonical values (a superset of ``exact_row_leakage``'s equality): numbers of any
integer or float type by their float64 value (``1 == 1.0``; ``-0.0`` as ``0.0``;
every NaN alike; distinct integers above 2**53 may share a hash, the verification
tells them apart), bools as 0/1, strings by their UTF-8 bytes whatever the Arrow
string or dictionary type, and null as one marker distinct from NaN.

Examples
--------
>>> import pyarrow as pa
>>> from driftcore.job.rowhash import RowHasher
>>> h = RowHasher()
>>> a = h.hashes(pa.record_batch({"x": pa.array([1, 2, None]), "s": ["a", "b", "c"]}), ["x", "s"])
>>> b = h.hashes(pa.record_batch({"x": pa.array([1.0, -2.0, None]),
...                               "s": pa.array(["a", "b", "c"]).dictionary_encode()}), ["x", "s"])
>>> (a == b).tolist()
[True, False, True]
"""

from __future__ import annotations

import copy
import json
import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import _core, _validate, _wire
from .._locking import Guarded, locked_pair
from .read import as_float64

_U = np.uint64
_G = _U(_core.GOLDEN_GAMMA)
NULL = _U(0x6A09E667F3BCC909)
NAN = _U(0xBB67AE8584CAA73B)
_BOOL = _U(0x3C6EF372FE94F82B)


class RowHasher:
    """Hashes rows of record batches; keeps the per-position byte weights of the
    string hash, drawn once from a fixed seed (so hashes agree across batches)."""

    def __init__(self, seed: int = 0x5EED) -> None:
        self._rng = np.random.default_rng(seed)
        self._w = np.zeros(0, _U)

    def _weights(self, n: int) -> np.ndarray:
        if n > self._w.size:
            more = self._rng.integers(0, 2**64, n - self._w.size + 1024, dtype=_U) | _U(1)
            self._w = np.concatenate([self._w, more])
        return self._w

    def strings(self, arr: pa.Array) -> np.ndarray:
        """Hash of each string's bytes (nulls: NULL)."""
        if pa.types.is_large_string(arr.type):
            offsets = np.frombuffer(arr.buffers()[1], np.int64)
        else:
            offsets = np.frombuffer(arr.buffers()[1], np.int32)
        offsets = offsets[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
        data_buf = arr.buffers()[2]
        data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
        start, end = offsets[:-1], offsets[1:]
        lengths = end - start
        out = lengths.astype(_U) + _G
        _core.row_hash_finish(out)  # fmix64 of each length's key
        total = int(lengths.sum())
        if total:
            nz = lengths > 0
            s, ln = start[nz], lengths[nz]
            pos = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(ln) - ln, ln)
            idx = np.repeat(s, ln) + pos
            w = self._weights(int(ln.max()))
            with np.errstate(over="ignore"):
                contrib = data[idx].astype(_U) * w[pos]
                first = np.concatenate([[0], np.cumsum(ln)[:-1]])
                out[nz] ^= np.add.reduceat(contrib, first)
        if arr.null_count:
            out[np.asarray(arr.is_null())] = NULL
        return out

    def column(self, col: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Canonical 64-bit key of each entry of one column (float64 bits, 0/1 for
        bools, a string hash, or a marker for null/NaN), mixed by :meth:`hashes`."""
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        t = col.type
        n = len(col)
        if pa.types.is_null(t):
            return np.full(n, NULL, _U)
        if pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
            enc = col if pa.types.is_dictionary(t) else pc.dictionary_encode(col)
            d = enc.dictionary
            stringy = pa.types.is_string(d.type) or pa.types.is_large_string(d.type)
            values = self.strings(d) if stringy else self.column(d)
            codes = enc.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
            out = values[codes] if len(values) else np.full(n, NULL, _U)
            if enc.null_count:
                out[np.asarray(enc.is_null())] = NULL
            return out
        if pa.types.is_boolean(t):
            out = col.fill_null(False).to_numpy(zero_copy_only=False).astype(_U) + _BOOL
        else:
            # safe=False: integers beyond 2**53 round (may share a hash; verified later)
            v = as_float64(col) + 0.0  # nulls are NaN here, marked NULL below
            nan = np.isnan(v)
            out = v.view(_U)  # "+ 0.0" made a fresh array: reuse it, no copy
            out[nan] = NAN
        if col.null_count:
            out[np.asarray(col.is_null())] = NULL
        return out  # canonical bits; hashes() mixes them

    def hashes(
        self, batch: pa.RecordBatch | pa.Table, columns: list[str], out: np.ndarray | None = None
    ) -> np.ndarray:
        """One uint64 hash per row over ``columns`` (in that order), written into
        ``out`` when given (a writable uint64 array of one entry a row)."""
        # The compiled kernels compute, in place and without the GIL, exactly
        # h = (h ^ fmix64(bits + (j + 1) * _G)) * _G per column j, then fmix64(h)
        # (cpp/include/driftcore/row_hash.hpp; tests/test_row_hash.py holds a numpy
        # definition the kernels are compared with).
        if out is None:
            h = np.empty(batch.num_rows, _U)
        elif out.dtype != _U or out.shape != (batch.num_rows,):
            raise ValueError(f"out must be a uint64 array of {batch.num_rows} entries")
        else:
            h = out
        h[:] = len(columns)
        for j, name in enumerate(columns):
            col = batch.column(name)
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
            if _plain_numbers(col):  # canonical bits made in the kernel: no copies
                _core.row_hash_mix_values(h, col.to_numpy(), j, int(NAN))
            elif _coded(col.type):
                self._mix_coded(h, col, j)
            else:
                _core.row_hash_mix(h, np.ascontiguousarray(self.column(col)), j)
        _core.row_hash_finish(h)
        return h

    def _mix_coded(self, h: np.ndarray, col: pa.Array, j: int) -> None:
        """Mix a string or dictionary column by its dictionary: each distinct value is
        hashed once and the rows mixed by their codes (as :meth:`column` keys them)."""
        enc = col if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col)
        d = enc.dictionary
        stringy = pa.types.is_string(d.type) or pa.types.is_large_string(d.type)
        keys = self.strings(d) if stringy else self.column(d)
        codes = enc.indices
        if enc.null_count or not len(keys):
            keys = np.append(keys, NULL)  # nulls point past the dictionary's values
            codes = codes.fill_null(len(keys) - 1)
        _core.row_hash_mix_codes(h, np.ascontiguousarray(keys), codes.to_numpy(), j)


def _plain_numbers(col: pa.Array) -> bool:
    """A null-free integer or float column (not float16), whose canonical bits are
    those of its float64 values (as :meth:`RowHasher.column` makes them)."""
    t = col.type
    return (
        pa.types.is_integer(t) or (pa.types.is_floating(t) and t.bit_width > 16)
    ) and col.null_count == 0


def _coded(t: pa.DataType) -> bool:
    return pa.types.is_dictionary(t) or pa.types.is_string(t) or pa.types.is_large_string(t)


def sorted_unique(values: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """The distinct values of a uint64 array, ascending. numpy's sort (vectorized where
    the CPU allows) and a compare; no second array when the values are distinct, as
    row hashes usually are (``np.unique`` by hashing took 12 s on 1e7 here).

    Examples
    --------
    >>> import numpy as np
    >>> from driftcore.job.rowhash import sorted_unique
    >>> sorted_unique(np.array([3, 1, 3, 2], np.uint64)).tolist()
    [1, 2, 3]
    """
    if in_place:  # the caller's uint64 array is sorted: no copy
        s = values
        s.sort()
    else:
        s = np.sort(np.asarray(values, dtype=np.uint64))
    if s.size < 2:
        return s
    keep = np.empty(s.size, bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s if keep.all() else s[keep]


class HashSet:
    """A set of uint64 hashes for membership tests of whole batches: the distinct
    values ascending, and the start of each bucket of values sharing their top bits
    (four to eight a bucket), so that a lookup reads one bucket.

    Examples
    --------
    >>> import numpy as np
    >>> from driftcore.job.rowhash import HashSet
    >>> s = HashSet(np.array([9, 1, 5, 9], np.uint64))
    >>> s.member(np.array([3, 5, 9], np.uint64)).tolist(), len(s)
    ([False, True, True], 3)
    """

    def __init__(self, values: np.ndarray, *, distinct_ascending: bool = False) -> None:
        v = np.ascontiguousarray(values, dtype=np.uint64)
        self.values = v if distinct_ascending else sorted_unique(v)
        self._starts = _core.hash_bucket_starts(self.values)  # checks the order

    def __len__(self) -> int:
        return int(self.values.size)

    def member(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``values`` (1-D uint64) are in the set."""
        values = np.ascontiguousarray(values, dtype=np.uint64)
        if values.ndim != 1:
            raise ValueError(f"values must be 1-D, got shape {values.shape}")
        return _core.sorted_member(values, self.values, self._starts).view(bool)


_BLOCK = 1 << 22  # rows of hashes a block holds at most
_KIND = b"RHSH"


class RowHashes(Guarded):
    """The reference side of exact-row leakage: the distinct hashes of every row of
    ``columns`` seen, 8 bytes a distinct row. A state: :meth:`update` with record
    batches, :meth:`merge` the hashes of other parts, :meth:`to_bytes` /
    :meth:`from_bytes`; :meth:`lookup` is what the current side's rows are looked up in.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from driftcore.job.rowhash import RowHashes
    >>> a, b = RowHashes(["x"]), RowHashes(["x"])
    >>> a.update(pa.record_batch({"x": [1, 2, 2]})); b.update(pa.record_batch({"x": [3, 1]}))
    >>> merged = a.merge(b)
    >>> merged.n_rows, len(merged.lookup())
    (5, 3)
    >>> RowHashes.from_bytes(merged.to_bytes()).distinct().tolist() == merged.distinct().tolist()
    True
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self.hasher = RowHasher()
        self.n_rows = 0
        self._parts: list[np.ndarray] = []  # hashes in blocks; the last one filling
        self._used = 0  # hashes in the last block
        self._set: HashSet | None = None  # the distinct hashes, once asked for

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Hash every row of ``batch`` (it must hold the key columns)."""
        if not isinstance(batch, (pa.RecordBatch, pa.Table)):
            raise TypeError(f"expected a pyarrow RecordBatch or Table, got {type(batch).__name__}")
        missing = [c for c in self.columns if c not in batch.schema.names]
        if missing:
            raise ValueError(f"the batch has no column {missing[0]!r} of the row key")
        with self._lock:  # the hasher draws its weights lazily: it runs alone too
            n = batch.num_rows
            self.hasher.hashes(batch, self.columns, out=self._block(n))
            self._used += n
            self.n_rows += n

    def _block(self, n: int) -> np.ndarray:
        """Where the next ``n`` hashes go. Blocks double up to 4Mi rows and are filled
        in place: a fresh array a batch would cost a page fault every 512 rows. The
        distinct set (maybe shared with a copy) is never written: new rows start a
        block after it, and no rows leave it as it is."""
        if n == 0:
            return np.empty(0, _U)
        self._unfreeze()
        if not self._parts or self._used + n > self._parts[-1].size:
            self._trim()
            size = min(_BLOCK, 2 * self.n_rows) if self._parts else 1 << 16
            self._parts.append(np.empty(max(n, size), np.uint64))
            self._used = 0
        return self._parts[-1][self._used : self._used + n]

    def _trim(self) -> None:
        if self._parts:
            self._parts[-1] = self._parts[-1][: self._used]
            self._used = self._parts[-1].size

    def _unfreeze(self) -> None:
        if self._set is not None:  # more rows after a lookup: start from the distinct set
            self._parts, self._used, self._set = [self._set.values], self._set.values.size, None

    def lookup(self) -> HashSet:
        """The distinct hashes, for membership tests (sorted once, then kept)."""
        with self._lock:
            if self._set is None:
                self._trim()
                parts, self._parts = self._parts, []
                hashes = parts[0] if len(parts) == 1 else np.concatenate(parts or [np.zeros(0, _U)])
                # Sorted in place: the rows' order is not kept (verify hashes again).
                self._set = HashSet(sorted_unique(hashes, in_place=True), distinct_ascending=True)
            return self._set

    def distinct(self) -> np.ndarray:
        """The distinct hashes, ascending."""
        return self.lookup().values

    def merge(self, other: RowHashes) -> RowHashes:
        """Add the hashes of another part (same columns). Returns ``self``."""
        with locked_pair(self, other):
            if self.columns != other.columns:
                raise ValueError(f"cannot merge row hashes of {other.columns} into {self.columns}")
            both = np.concatenate([self.distinct(), other.distinct()])
            self._set = HashSet(sorted_unique(both, in_place=True), distinct_ascending=True)
            self.n_rows += other.n_rows
            return self

    def to_bytes(self) -> bytes:
        """The state as checked bytes (driftcore framing): columns, rows seen and the
        distinct hashes."""
        with self._lock:
            values = self.distinct()
            header = json.dumps({"columns": self.columns, "n_rows": self.n_rows}).encode()
            return _wire.frame(_KIND, struct.pack("<Q", len(header)) + header + values.tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> RowHashes:
        """Read a state written by :meth:`to_bytes`; refuses corrupt or foreign data."""
        payload = _wire.unframe(data, _KIND)
        with _validate.corrupted("corrupted row hashes payload"):
            head, pos = _validate.header(payload)
            head = _validate.fields(head, "header", ("columns", "n_rows"))
            columns = _validate.list_of(head["columns"], "columns")
            if not all(type(c) is str for c in columns) or len(set(columns)) != len(columns):
                raise ValueError("columns must be distinct strings")
            n_rows = _validate.integer(head["n_rows"], "n_rows")
            if (len(payload) - pos) % 8:
                raise ValueError(f"{len(payload) - pos} bytes of hashes is not a whole number")
            values = np.frombuffer(payload, _U, (len(payload) - pos) // 8, pos).copy()
            if values.size > n_rows or (values.size > 1 and not np.all(values[1:] > values[:-1])):
                raise ValueError("hashes must be distinct, ascending and no more than the rows")
            out = cls(columns)
            out.n_rows, out._set = n_rows, HashSet(values, distinct_ascending=True)
            return out

    def __reduce__(self) -> tuple:
        # pickle (Dask) through the checked wire format: the distinct hashes only
        return (_wire.restore, (RowHashes, self.to_bytes()))

    def __deepcopy__(self, memo: dict) -> RowHashes:
        # A merge starts from a copy: share the distinct set (never written once made)
        # and copy the blocks still filling, rather than sort and check via bytes.
        with self._lock:
            out = RowHashes(self.columns)
            out.hasher = copy.deepcopy(self.hasher, memo)
            out.n_rows, out._used, out._set = self.n_rows, self._used, self._set
            out._parts = [p.copy() for p in self._parts]
            return out
