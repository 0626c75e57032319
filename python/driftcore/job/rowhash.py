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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import _core
from .read import as_float64

_U = np.uint64
_G = _U(0x9E3779B97F4A7C15)
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

    def hashes(self, batch: pa.RecordBatch | pa.Table, columns: list[str],
               out: np.ndarray | None = None) -> np.ndarray:
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
    return ((pa.types.is_integer(t) or (pa.types.is_floating(t) and t.bit_width > 16))
            and col.null_count == 0)


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
