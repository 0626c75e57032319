"""Banded LSH over MinHash signatures, tuned so that misses are rare.

Signatures are cut into ``bands`` bands of ``rows`` values; two documents become a
candidate pair when any band matches exactly. A pair with Jaccard similarity ``j``
becomes a candidate with probability ``1 - (1 - j**rows)**bands`` (the S-curve).

**The rule** (:func:`lsh_params`): for leakage a missed pair is the costly error, so
we take the largest ``rows`` (fewest false candidates) for which a pair exactly at
the threshold is a candidate with probability >= ``recall`` (default 0.99), with
``bands = num_perm // rows``. At 128 permutations and threshold 0.8 that is 21 x 6:
0.998 at 0.8, 0.93 at 0.7, 0.63 at 0.6. datasketch's default rule (minimizing the
areas under the curve) picks 9 x 13, which finds a pair at 0.8 with probability 0.40.
Pass ``bands``/``rows`` to override.

Memory per indexed document: ``8 * bands`` bytes of band keys, plus ``4 * num_perm``
bytes of signature when the index keeps signatures for verification (the default;
21 x 6 bands of 128 permutations: 168 + 512 = 680 bytes).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _core, _dispatch, _validate, _wire
from ._locking import Guarded
from .minhash import ALGORITHM, EMPTY, MinHasher, nonempty

_KIND = b"LSHI"
#: Most candidate pairs one band may produce before a query stops with a clear error
#: (800 MB of pairs): only large groups of identical documents get there.
MAX_CANDIDATES = 100_000_000
_VERIFY = ("signature", "none")
_HEADER_FIELDS = (
    "algorithm",
    "num_perm",
    "seed",
    "shingle",
    "n",
    "lowercase",
    "normalize",
    "fold_punctuation",
    "threshold",
    "bands",
    "rows",
    "keep_signatures",
    "n_docs",
)


def candidate_probability(similarity: Any, bands: int, rows: int) -> Any:
    """Probability that a pair with this Jaccard similarity becomes a candidate.

    Examples
    --------
    >>> from driftcore.lsh import candidate_probability
    >>> round(float(candidate_probability(0.8, 21, 6)), 4)
    0.9983
    """
    j = np.asarray(similarity, dtype=np.float64)
    if np.any((j < 0) | (j > 1) | np.isnan(j)):
        raise ValueError("similarity must be between 0 and 1")
    if bands < 1 or rows < 1:
        raise ValueError(f"bands and rows must be at least 1, got {bands} x {rows}")
    return 1.0 - (1.0 - j**rows) ** bands


def lsh_params(threshold: float, num_perm: int, recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows): the largest ``rows`` whose S-curve reaches ``recall`` at ``threshold``.

    Examples
    --------
    >>> from driftcore.lsh import lsh_params
    >>> lsh_params(0.8, 128), lsh_params(0.5, 128), lsh_params(0.9, 256)
    ((21, 6), (42, 3), (18, 14))
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if not 0.0 < recall < 1.0:
        raise ValueError(f"recall must be in (0, 1), got {recall}")
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= recall:
            return bands, rows
    raise ValueError(
        f"no banding of {num_perm} permutations reaches recall {recall} at threshold "
        f"{threshold}; use more permutations"
    )


@dataclass
class CandidatePairs:
    """Pairs from an LSH query: ``query[i]`` and ``index[i]`` are document numbers,
    ``agreement[i]`` the share of equal signature positions (estimated Jaccard)."""

    query: np.ndarray
    index: np.ndarray
    agreement: np.ndarray

    def __len__(self) -> int:
        return len(self.query)


class LSHIndex(Guarded):
    """An LSH index of MinHash signatures, built chunk by chunk, merged, saved, loaded.

    The index keeps band keys (and signatures, for verification), never the text.
    Document numbers run from 0 in the order documents were added. Several threads
    may add to and query one index: signatures are computed in parallel, each batch
    then gets its numbers and joins the index alone, and a query sees the index as it
    was when the query began.

    Examples
    --------
    >>> import driftcore
    >>> index = driftcore.LSHIndex(driftcore.MinHasher(n=2), threshold=0.5)
    >>> index.add(["a b c d e f", "g h i j k l"])
    range(0, 2)
    >>> pairs = index.query(["a b c d e f x"])
    >>> pairs.query.tolist(), pairs.index.tolist()
    ([0], [0])
    """

    def __init__(
        self,
        hasher: MinHasher | None = None,
        threshold: float = 0.8,
        *,
        bands: int | None = None,
        rows: int | None = None,
        keep_signatures: bool = True,
    ) -> None:
        self.hasher = hasher if hasher is not None else MinHasher()
        if not isinstance(self.hasher, MinHasher):
            raise TypeError(f"hasher must be a MinHasher, got {type(self.hasher).__name__}")
        if not 0.0 < float(threshold) < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        self.threshold = float(threshold)
        if (bands is None) != (rows is None):
            raise ValueError("give both bands and rows, or neither")
        if bands is None:
            bands, rows = lsh_params(self.threshold, self.hasher.num_perm)
        if bands < 1 or rows < 1 or bands * rows > self.hasher.num_perm:
            raise ValueError(
                f"bands x rows must be at least 1 and at most num_perm={self.hasher.num_perm}, "
                f"got {bands} x {rows}"
            )
        self.bands, self.rows = int(bands), int(rows)
        self.keep_signatures = bool(keep_signatures)
        self._keys: list[np.ndarray] = []
        self._valid: list[np.ndarray] = []
        self._sigs: list[np.ndarray] = []
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return (
            f"LSHIndex({self._n} documents, {self.bands} bands x {self.rows} rows, "
            f"threshold {self.threshold}, num_perm {self.hasher.num_perm})"
        )

    @property
    def bytes_per_document(self) -> int:
        """Memory one indexed document takes."""
        return 8 * self.bands + 1 + (4 * self.hasher.num_perm if self.keep_signatures else 0)

    def recall_at(self, similarity: Any) -> Any:
        """Candidate probability of a pair at this Jaccard similarity (the S-curve)."""
        return candidate_probability(similarity, self.bands, self.rows)

    # -- building ---------------------------------------------------------------
    def add(
        self,
        docs: Any = None,
        *,
        signatures: Any = None,
        threads: int | None = None,
        device: str = "auto",
    ) -> range:
        """Index more documents (or precomputed signatures); returns their numbers.

        On the GPU (``device="gpu"`` or cupy signatures) signatures and band keys are
        computed by the CUDA kernels; the index itself lives in host memory.
        """
        sig, where = self._signatures(docs, signatures, threads, device)
        if where == "gpu":
            keys = _band_keys_device(sig, self.bands, self.rows).get()
            sig = sig.get()
        else:
            keys = _core.band_keys(sig, self.bands, self.rows, _dispatch.resolve_threads(threads))
        valid = nonempty(sig).astype(np.uint8)
        with self._lock:  # numbers and arrays must agree: one batch at a time
            start = self._n
            self._keys.append(keys)
            self._valid.append(valid)
            if self.keep_signatures:
                self._sigs.append(sig)
            self._n += len(sig)
            return range(start, self._n)

    def _signatures(
        self, docs: Any, signatures: Any, threads: int | None, device: str
    ) -> tuple[Any, str]:
        if (docs is None) == (signatures is None):
            raise TypeError("give either docs or signatures=")
        where = _dispatch.resolve_device(device, signatures)
        if signatures is None:
            return self.hasher.signatures(docs, threads=threads, device=where), where
        xp = np
        if where == "gpu":
            import cupy as xp
        sig = xp.asarray(signatures)
        if sig.ndim != 2 or sig.shape[1] != self.hasher.num_perm:
            raise ValueError(
                f"signatures must have shape (n, {self.hasher.num_perm}) for this index, "
                f"got {sig.shape}"
            )
        if sig.dtype != np.uint32:
            raise TypeError(
                f"signatures must be uint32 (from MinHasher.signatures), got {sig.dtype}"
            )
        return xp.ascontiguousarray(sig), where

    def _snapshot(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray | None]:
        """(documents, keys, valid, signatures or None), one consistent state.

        Chunks are joined on first use, so adding chunk by chunk stays linear. The
        joined arrays are never written again (adds append new chunks), so callers may
        use them after the lock is released.
        """
        with self._lock:
            if len(self._keys) > 1:
                self._keys = [np.concatenate(self._keys)]
                self._valid = [np.concatenate(self._valid)]
                if self._sigs:
                    self._sigs = [np.concatenate(self._sigs)]
            keys = self._keys[0] if self._keys else np.zeros((0, self.bands), np.uint64)
            valid = self._valid[0] if self._valid else np.zeros(0, np.uint8)
            sigs = None
            if self.keep_signatures:
                sigs = (
                    self._sigs[0] if self._sigs else np.zeros((0, self.hasher.num_perm), np.uint32)
                )
            return self._n, keys, valid, sigs

    @property
    def keys(self) -> np.ndarray:
        return self._snapshot()[1]

    @property
    def valid(self) -> np.ndarray:
        return self._snapshot()[2]

    @property
    def signatures(self) -> np.ndarray | None:
        """The indexed signatures (None when the index does not keep them)."""
        return self._snapshot()[3]

    # -- querying ---------------------------------------------------------------
    def query(
        self,
        docs: Any = None,
        *,
        signatures: Any = None,
        hasher: MinHasher | None = None,
        verify: str = "signature",
        threads: int | None = None,
        device: str = "auto",
    ) -> CandidatePairs:
        """Indexed documents that near-duplicate each query document.

        ``verify="signature"`` keeps pairs whose signatures agree on at least
        ``threshold`` of positions; ``"none"`` returns every LSH candidate (agreement
        is still computed when the index keeps signatures, else NaN).
        Pairs come sorted by (query, index) and distinct. With precomputed
        ``signatures``, pass the ``hasher`` that made them to have its settings checked
        against the index's (a different seed gives signatures that never match).
        """
        if hasher is not None and hasher != self.hasher:
            mine, theirs = self.hasher.config, hasher.config
            diff = ", ".join(
                f"{k}: index {mine[k]!r}, query {theirs[k]!r}" for k in mine if mine[k] != theirs[k]
            )
            raise ValueError(f"query signatures were made with other MinHash settings ({diff})")
        if verify not in _VERIFY:
            raise ValueError(f"verify must be one of {_VERIFY}, got {verify!r}")
        if verify == "signature" and not self.keep_signatures:
            raise ValueError("verify='signature' needs an index built with keep_signatures=True")
        t = _dispatch.resolve_threads(threads)
        sig, where = self._signatures(docs, signatures, threads, device)
        _, index_keys, index_valid, index_sigs = self._snapshot()
        if where == "gpu":
            q, i, agree = self._query_gpu(sig, index_keys, index_valid, index_sigs)
        else:
            keys = _core.band_keys(sig, self.bands, self.rows, t)
            q, i = _core.lsh_cross_pairs(
                index_keys,
                index_valid,
                keys,
                nonempty(sig).astype(np.uint8),
                MAX_CANDIDATES,
                t,
            )
            agree = None
            if index_sigs is not None:
                agree = _core.signature_agreement(sig, index_sigs, q, i, t)
        return self._verified(q, i, agree, verify)

    def _verified(
        self, left: np.ndarray, right: np.ndarray, agree: np.ndarray | None, verify: str
    ) -> CandidatePairs:
        """Candidates with their share of equal positions, kept when it reaches the
        threshold under ``verify="signature"`` (NaN without stored signatures)."""
        if agree is None:
            return CandidatePairs(left, right, np.full(len(left), np.nan))
        share = agree / self.hasher.num_perm
        if verify == "signature":
            keep = share >= self.threshold
            left, right, share = left[keep], right[keep], share[keep]
        return CandidatePairs(left, right, share)

    def _query_gpu(
        self,
        sig: Any,
        index_keys: np.ndarray,
        index_valid: np.ndarray,
        index_sigs: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        # Band bucketing by sort on the device; the same pairs as the CPU's hash join.
        import cupy as cp

        keys = _band_keys_device(sig, self.bands, self.rows)
        valid = ~cp.all(sig == EMPTY, axis=1)
        q, i = sort_join(cp, cp.asarray(index_keys), cp.asarray(index_valid), keys, valid)
        agree = None
        if index_sigs is not None:
            agree = _agreement(cp, sig, cp.asarray(index_sigs), q, i).get()
        return q.get(), i.get(), agree

    def self_pairs(
        self, *, verify: str = "signature", threads: int | None = None
    ) -> CandidatePairs:
        """Near-duplicate pairs within the index, (i, j) with i < j."""
        if verify not in _VERIFY:
            raise ValueError(f"verify must be one of {_VERIFY}, got {verify!r}")
        if verify == "signature" and not self.keep_signatures:
            raise ValueError("verify='signature' needs an index built with keep_signatures=True")
        t = _dispatch.resolve_threads(threads)
        _, keys, valid, sigs = self._snapshot()
        a, b = _core.lsh_self_pairs(keys, valid, MAX_CANDIDATES, t)
        agree = None
        if sigs is not None:
            agree = _core.signature_agreement(sigs, sigs, a, b, t)
        return self._verified(a, b, agree, verify)

    # -- merging and files ------------------------------------------------------
    def _check_compatible(self, other: LSHIndex) -> None:
        mine, theirs = self._settings(), other._settings()
        diff = [k for k in mine if mine[k] != theirs.get(k)]
        if diff:
            details = ", ".join(f"{k}: {mine[k]!r} vs {theirs.get(k)!r}" for k in diff)
            raise ValueError(f"cannot merge LSH indexes with different settings ({details})")

    def _empty_like(self) -> LSHIndex:
        """An index with these settings and no documents."""
        return LSHIndex(
            self.hasher,
            self.threshold,
            bands=self.bands,
            rows=self.rows,
            keep_signatures=self.keep_signatures,
        )

    def merge(self, other: LSHIndex) -> LSHIndex:
        """A new index holding this one's documents then ``other``'s (numbered after)."""
        if not isinstance(other, LSHIndex):
            raise TypeError(f"can only merge another LSHIndex, got {type(other).__name__}")
        self._check_compatible(other)
        out = self._empty_like()
        n_a, keys_a, valid_a, sigs_a = self._snapshot()
        n_b, keys_b, valid_b, sigs_b = other._snapshot()
        out._keys = [keys_a, keys_b]
        out._valid = [valid_a, valid_b]
        if self.keep_signatures:
            out._sigs = [sigs_a, sigs_b]
        out._n = n_a + n_b
        out._snapshot()  # joined now, as before
        return out

    def _settings(self) -> dict[str, Any]:
        return {
            **self.hasher.config,
            "threshold": self.threshold,
            "bands": self.bands,
            "rows": self.rows,
            "keep_signatures": self.keep_signatures,
        }

    def to_bytes(self) -> bytes:
        """The index as checked bytes (driftcore framing: magic, version, CRC-32)."""
        n, keys, valid, sigs = self._snapshot()
        header = json.dumps({**self._settings(), "n_docs": n}, sort_keys=True).encode()
        parts = [struct.pack("<Q", len(header)), header, keys.tobytes(), valid.tobytes()]
        if sigs is not None:
            parts.append(sigs.tobytes())
        return _wire.frame(_KIND, b"".join(parts))

    @classmethod
    def from_bytes(cls, data: bytes) -> LSHIndex:
        """Read an index written by :meth:`to_bytes`; refuses corrupt or foreign data."""
        payload = _wire.unframe(data, _KIND)
        with _validate.corrupted("corrupted LSH index payload"):
            return cls._read(payload)

    @classmethod
    def _read(cls, payload: bytes) -> LSHIndex:
        head, pos = _validate.header(payload)
        head = dict(_validate.fields(head, "header", _HEADER_FIELDS))
        algorithm = head.pop("algorithm")
        if algorithm != ALGORITHM:
            raise ValueError(
                f"index built with {algorithm!r:.60}, this driftcore computes {ALGORITHM}"
            )
        # Document numbers travel as 32-bit halves of a candidate pair.
        n = _validate.integer(head.pop("n_docs"), "n_docs", 0, 2**32 - 1)
        threshold = _validate.number(head.pop("threshold"), "threshold")
        bands = _validate.integer(head.pop("bands"), "bands", 1, 4096)
        rows = _validate.integer(head.pop("rows"), "rows", 1, 4096)
        for name in ("keep_signatures", "lowercase", "fold_punctuation"):
            if type(head[name]) is not bool:
                raise ValueError(f"{name} must be true or false, got {head[name]!r:.40}")
        for name in ("num_perm", "seed", "n"):
            _validate.integer(head[name], name, 0, 2**64 - 1)
        if type(head["shingle"]) is not str:
            raise ValueError(f"shingle must be a string, got {head['shingle']!r:.40}")
        keep = head.pop("keep_signatures")
        hasher = MinHasher(**head)
        index = cls(hasher, threshold, bands=bands, rows=rows, keep_signatures=keep)
        num_perm = hasher.num_perm
        sizes = [n * bands * 8, n] + ([n * num_perm * 4] if keep else [])
        if len(payload) != pos + sum(sizes):
            raise ValueError(f"{len(payload) - pos} bytes of arrays, expected {sum(sizes)}")
        # Copies: the arrays start wherever the header ended, so views into the payload
        # would be misaligned for the C++ join (and would pin the whole payload).
        keys = np.frombuffer(payload, np.uint64, n * bands, pos).reshape(n, bands).copy()
        valid = np.frombuffer(payload, np.uint8, n, pos + sizes[0]).copy()
        if np.any(valid > 1):
            raise ValueError("validity flags other than 0 and 1")
        # Band keys are a function of the signatures: recomputed, they cannot pair
        # documents whose signatures do not match. Without signatures, at least a
        # document without shingles must hold the empty document's keys.
        if keep:
            sig = np.frombuffer(payload, np.uint32, n * num_perm, pos + sizes[0] + sizes[1])
            sig = sig.reshape(n, num_perm).copy()
            if not np.array_equal(valid, nonempty(sig)):
                raise ValueError("validity flags do not match the signatures")
            threads = _dispatch.resolve_threads(None)
            if not np.array_equal(keys, _core.band_keys(sig, bands, rows, threads)):
                raise ValueError("band keys do not match the signatures")
            index._sigs = [sig]
        elif not np.all(valid == 1):
            empty = np.full((1, num_perm), EMPTY, np.uint32)
            if not np.all(keys[valid == 0] == _core.band_keys(empty, bands, rows, 1)):
                raise ValueError("band keys of an empty document are not the empty keys")
        index._keys, index._valid, index._n = [keys], [valid], n
        return index

    def __reduce__(self) -> tuple:
        # pickle (Dask, multiprocessing) through the checked, compacted wire format
        return (_wire.restore, (LSHIndex, self.to_bytes()))

    def __deepcopy__(self, memo: dict) -> LSHIndex:
        # The joined arrays are never written again (see _snapshot): a copy shares them,
        # where a round trip through bytes would recompute and check every band key
        # (the Dask driver copies the first state of every merge).
        n, keys, valid, sigs = self._snapshot()
        out = self._empty_like()
        if n:
            out._keys, out._valid, out._n = [keys], [valid], n
            if sigs is not None:
                out._sigs = [sigs]
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LSHIndex) and self.to_bytes() == other.to_bytes()

    __hash__ = None  # type: ignore[assignment]

    def save(self, path: str | Path) -> None:
        """Write the index to ``path``."""
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> LSHIndex:
        """Read an index saved with :meth:`save`."""
        return cls.from_bytes(Path(path).read_bytes())


def _band_keys_device(sig: Any, bands: int, rows: int) -> Any:
    """(n_docs, bands) uint64 band keys of device signatures, as lsh_band_keys on the CPU."""
    import cupy as cp

    sig = cp.ascontiguousarray(sig)
    out = cp.empty((sig.shape[0], bands), dtype=cp.uint64)
    _core.band_keys_device(
        sig.data.ptr,
        sig.shape[0],
        sig.shape[1],
        bands,
        rows,
        out.data.ptr,
        _dispatch.current_stream(),
    )
    return out


def sort_join(
    xp: Any, build: Any, build_valid: Any, probe: Any, probe_valid: Any
) -> tuple[Any, Any]:
    """Candidate pairs by sorting, for numpy or cupy arrays (``xp``): per band, sort the
    build side's keys, find each probe key's run by binary search and expand the runs.
    Returns (probe, build) index arrays, sorted by (probe, build) and distinct, the same
    pairs as the CPU's hash join."""
    packed = []
    bands = build.shape[1]
    build_ids = xp.flatnonzero(build_valid.astype(bool))
    probe_ids = xp.flatnonzero(probe_valid.astype(bool))
    for b in range(bands):
        keys = build[build_ids, b]
        order = xp.argsort(keys)
        sorted_keys = keys[order]
        q = probe[probe_ids, b]
        lo = xp.searchsorted(sorted_keys, q, side="left")
        hi = xp.searchsorted(sorted_keys, q, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            continue
        ends = xp.cumsum(counts)
        slot = xp.arange(total, dtype=xp.int64)
        owner = xp.searchsorted(ends, slot, side="right")  # which probe row fills this slot
        within = slot - (ends[owner] - counts[owner])
        left = probe_ids[owner].astype(xp.uint64)
        right = build_ids[order[lo[owner] + within]].astype(xp.uint64)
        packed.append((left << xp.uint64(32)) | right)
    if not packed:
        empty = xp.zeros(0, dtype=xp.int64)
        return empty, empty
    pairs = xp.sort(xp.concatenate(packed))
    pairs = pairs[xp.concatenate([xp.ones(1, dtype=bool), pairs[1:] != pairs[:-1]])]
    return (pairs >> xp.uint64(32)).astype(xp.int64), (pairs & xp.uint64(0xFFFFFFFF)).astype(
        xp.int64
    )


def _agreement(xp: Any, a: Any, b: Any, left: Any, right: Any, chunk: int = 1 << 16) -> Any:
    """Equal signature positions of each pair (chunked to bound memory)."""
    out = xp.empty(len(left), dtype=xp.uint32)
    for start in range(0, len(left), chunk):
        stop = start + chunk
        out[start:stop] = (a[left[start:stop]] == b[right[start:stop]]).sum(axis=1)
    return out
