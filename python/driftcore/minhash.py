"""MinHash signatures of text and token sequences, on CPU (C++) or GPU (CUDA).

The definition (``minhash v1``) is fixed, because stored indexes depend on it:

* **Normalization** (text only): Unicode normalization form ``normalize`` (default
  NFC), then Unicode lowercasing (``lowercase=True``; this is lowercasing, not full
  case folding: "ß" stays "ß"). Documents with non-ASCII bytes go through Arrow's
  kernels; ASCII documents, for which both steps reduce to folding A-Z, are folded by
  the hashing kernel itself, without a copy.
* **Units**: ``shingle="word"``: maximal runs of characters that are not separators;
  separators are Unicode whitespace and, with ``fold_punctuation=True``, ASCII and
  Latin-1 punctuation, General Punctuation (U+2010-U+205E), CJK punctuation
  (U+3001-U+303F) and fullwidth ASCII punctuation. ``shingle="char"``: code points,
  with every run of separators folded into one space and leading/trailing ones
  dropped. ``shingle="token"``: integer token ids (sign-extended to 64 bits).
* **Shingles**: ``n`` consecutive units; a document with fewer than ``n`` (but at
  least one) units has one shingle made of all of them; an empty document has none.
* **Hashes**: a word hashes its UTF-8 bytes in 8-byte little-endian words; a code
  point or token id goes through MurmurHash3's 64-bit finalizer; a shingle hash is the
  finalizer applied to the sum of its unit hashes times distinct odd constants. The
  32-bit key of a shingle is the top half of its 64-bit hash.
* **Signature** (one-permutation hashing with independent fallbacks): ``num_perm``
  slots; a shingle hash ``h`` goes to slot ``((h >> 32) * num_perm) >> 32`` with rank
  ``(h mod 2**32) >> 1``, and a slot keeps its smallest rank. A slot no shingle
  reached holds ``2**31 | (f_j >> 1)``, ``f_j`` the minimum over the document's
  shingles of ``(a_j * (h >> 32) + b_j) mod 2**32`` (``a_j`` odd, ``(a_j, b_j)`` drawn
  from SplitMix64 seeded with ``seed``). A document without shingles is
  ``0xFFFFFFFF`` everywhere.

Each slot of two documents matches with probability exactly the Jaccard similarity
of their shingle sets (up to 32-bit collisions): a slot filled in the union holds the
union's smallest rank there, shared or not; a slot empty in both falls back to an
independent classic MinHash permutation; a slot filled on one side only cannot match
(the top bit tells fallbacks apart). Filled slots sample shingles without
replacement, so the share of equal slots estimates Jaccard with standard error at
most ``sqrt(J (1 - J) / num_perm)``, and about 0.77 of it for documents of a few
hundred shingles (tests check bias and variance per document size). Cost: one update
per shingle plus one multiply-add per shingle and empty slot, instead of
``num_perm`` multiply-adds per shingle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import _core, _dispatch, _text

_UNITS = {"word": 0, "char": 1, "token": 2}
EMPTY = np.uint32(0xFFFFFFFF)
ALGORITHM = "driftcore-minhash-v1"


@dataclass(frozen=True)
class MinHasher:
    """Turns documents into MinHash signatures (``num_perm`` uint32 values each).

    Parameters
    ----------
    num_perm : int
        Signature length, a multiple of 16 between 16 and 4096.
    seed : int
        Seeds the permutations; signatures are comparable only under the same seed.
    shingle : {"word", "char", "token"}
        What a shingle is made of; ``"token"`` takes integer token-id sequences.
    n : int
        Units per shingle (1-32).
    lowercase, normalize, fold_punctuation
        Text normalization (see the module documentation).

    Examples
    --------
    >>> import driftcore
    >>> mh = driftcore.MinHasher(num_perm=128, seed=1, n=3)
    >>> sig = mh.signatures(["the quick brown fox jumps", "The quick brown fox jumped!"])
    >>> sig.shape, sig.dtype
    ((2, 128), dtype('uint32'))
    >>> float(mh.jaccard(sig[0], sig[1]))  # the 3-gram sets' true Jaccard is 0.5
    0.578125
    """

    num_perm: int = 128
    seed: int = 1
    shingle: str = "word"
    n: int = 5
    lowercase: bool = True
    normalize: str | None = "NFC"
    fold_punctuation: bool = True

    def __post_init__(self) -> None:
        if self.shingle not in _UNITS:
            raise ValueError(f"shingle must be one of {tuple(_UNITS)}, got {self.shingle!r}")
        for name in ("num_perm", "n", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if not (16 <= self.num_perm <= 4096 and self.num_perm % 16 == 0):
            raise ValueError(
                f"num_perm must be a multiple of 16 in [16, 4096], got {self.num_perm}"
            )
        if not 1 <= self.n <= 32:
            raise ValueError(f"n must be between 1 and 32, got {self.n}")
        if not 0 <= self.seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {self.seed}")
        _text.check_normalize(self.normalize)

    @property
    def config(self) -> dict[str, Any]:
        """Everything a signature depends on, as stored in index files."""
        return {
            "algorithm": ALGORITHM,
            **asdict(self),
            "num_perm": int(self.num_perm),
            "seed": int(self.seed),
        }

    def signatures(self, docs: Any, *, threads: int | None = None, device: str = "auto") -> Any:
        """MinHash signatures, an ``(n_docs, num_perm)`` uint32 array.

        ``docs``: a list/array/pyarrow array of strings (None for missing), or for
        ``shingle="token"`` a list of integer sequences, ``(ids, offsets)``, or a
        pyarrow list array. With ``device="gpu"`` (or cupy buffers) the result is a
        cupy array computed by the CUDA kernel, bit-identical to the CPU's.

        Examples
        --------
        >>> import driftcore
        >>> mh = driftcore.MinHasher(num_perm=16, shingle="token", n=2)
        >>> mh.signatures([[1, 2, 3], [1, 2, 3]]).tolist()[0] == mh.signatures([[1, 2, 3]]).tolist()[0]
        True
        """
        where = _dispatch.resolve_device(device)
        t = _dispatch.resolve_threads(threads)
        if self.shingle == "token":
            buf = _text.token_buffers(docs)
            if where == "gpu":
                return _token_signatures_device(buf, self)
            sig, _ = _core.minhash_tokens(buf.ids, buf.offsets, self.n, self.num_perm, self.seed, t)
            return sig
        buf = self.text_buffers(docs, threads=threads)
        if where == "gpu":
            return _text_signatures_device(buf, self)
        sig, _ = _core.minhash_text(
            buf.data,
            buf.offsets,
            _UNITS[self.shingle],
            self.n,
            self.fold_punctuation,
            buf.lower_ascii,
            self.num_perm,
            self.seed,
            t,
        )
        return sig

    def signatures_from_buffers(
        self, data: Any, offsets: Any, *, threads: int | None = None
    ) -> Any:
        """Signatures of text already in Arrow layout and already normalized (no
        normalization is applied): ``data`` holds the UTF-8 bytes (uint8), document
        ``i`` is ``data[offsets[i]:offsets[i + 1]]``. numpy buffers run on the CPU;
        cupy buffers (for example a cuDF string column's) run on the GPU without a copy.

        Examples
        --------
        >>> import numpy as np, driftcore
        >>> data = np.frombuffer(b"one two threefour five", dtype=np.uint8)
        >>> mh = driftcore.MinHasher(num_perm=16, n=1)
        >>> sig = mh.signatures_from_buffers(data, np.array([0, 13, 22]))
        >>> bool((sig == mh.signatures(["one two three", "four five"])).all())
        True
        """
        if self.shingle == "token":
            raise TypeError("this MinHasher takes token ids (shingle='token'), not text")
        unit = _UNITS[self.shingle]
        if _dispatch.is_device_array(data) or _dispatch.is_device_array(offsets):
            _dispatch.resolve_device("gpu", data, offsets)
            return _buffer_signatures_device(data, offsets, self)
        data = np.asarray(data)
        offsets = np.asarray(offsets)
        if data.ndim != 1 or data.dtype != np.uint8:
            raise TypeError(
                f"data must be a 1-D uint8 array, got {data.dtype} with shape {data.shape}"
            )
        if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) == 0:
            raise TypeError("offsets must be a non-empty 1-D integer array")
        sig, _ = _core.minhash_text(
            np.ascontiguousarray(data),
            np.ascontiguousarray(offsets, dtype=np.int64),
            unit,
            self.n,
            self.fold_punctuation,
            False,
            self.num_perm,
            self.seed,
            _dispatch.resolve_threads(threads),
        )
        return sig

    def text_buffers(self, docs: Any, *, threads: int | None = None) -> _text.TextBuffers:
        """The normalized documents in Arrow layout (what the kernels read)."""
        if self.shingle == "token":
            raise TypeError("this MinHasher takes token ids (shingle='token'), not text")
        return _text.text_buffers(
            docs,
            lowercase=self.lowercase,
            normalize=self.normalize,
            threads=_dispatch.resolve_threads(threads),
        )

    def shingle_sets(
        self, docs: Any, *, threads: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact shingle sets: sorted distinct 64-bit shingle hashes, flat, and offsets.

        Examples
        --------
        >>> import driftcore
        >>> hashes, offsets = driftcore.MinHasher(n=1).shingle_sets(["a b a", ""])
        >>> offsets.tolist()
        [0, 2, 2]
        """
        t = _dispatch.resolve_threads(threads)
        if self.shingle == "token":
            buf = _text.token_buffers(docs)
            return _core.token_shingle_sets(buf.ids, buf.offsets, self.n, t)
        tb = self.text_buffers(docs, threads=threads)
        return _core.text_shingle_sets(
            tb.data,
            tb.offsets,
            _UNITS[self.shingle],
            self.n,
            self.fold_punctuation,
            tb.lower_ascii,
            t,
        )

    def jaccard(self, a: Any, b: Any) -> Any:
        """Estimated Jaccard similarity: the share of equal positions of two signatures
        (or row by row of two equally shaped signature arrays). Empty documents have
        similarity 0 with everything.

        Examples
        --------
        >>> import driftcore
        >>> mh = driftcore.MinHasher(n=1)
        >>> s = mh.signatures(["a b c d", "a b c e", ""])
        >>> float(mh.jaccard(s[0], s[1])), float(mh.jaccard(s[2], s[2]))  # true: 0.6, 0
        (0.6015625, 0.0)
        """
        a = np.asarray(a)
        b = np.asarray(b)
        if a.shape != b.shape or a.shape[-1] != self.num_perm:
            raise ValueError(
                f"signatures must both have shape (..., {self.num_perm}); got {a.shape} and {b.shape}"
            )
        same = (a == b).mean(axis=-1)
        empty = np.all(a == EMPTY, axis=-1) | np.all(b == EMPTY, axis=-1)
        return np.where(empty, 0.0, same)


def nonempty(signatures: np.ndarray) -> np.ndarray:
    """True for rows that come from documents with at least one shingle."""
    return ~np.all(signatures == EMPTY, axis=1)


# --- the CUDA twins: Arrow-layout buffers in device memory in, an (n_docs, num_perm)
# uint32 cupy array out, on cupy's current stream.


def _text_signatures_device(buf: _text.TextBuffers, hasher: Any) -> Any:
    import cupy as cp

    data = cp.asarray(buf.data) if len(buf.data) else cp.zeros(1, cp.uint8)
    offsets = cp.asarray(buf.offsets)
    out = cp.empty((buf.n_docs, hasher.num_perm), dtype=cp.uint32)
    _core.minhash_text_device(
        data.data.ptr,
        offsets.data.ptr,
        buf.n_docs,
        _UNITS[hasher.shingle],
        hasher.n,
        hasher.fold_punctuation,
        buf.lower_ascii,
        hasher.num_perm,
        hasher.seed,
        out.data.ptr,
        _dispatch.current_stream(),
    )
    return out


def _buffer_signatures_device(data: Any, offsets: Any, hasher: Any) -> Any:
    """Signatures of Arrow-layout text already on the device (offsets checked there)."""
    import cupy as cp

    data = cp.ascontiguousarray(cp.asarray(data))
    offsets = cp.ascontiguousarray(cp.asarray(offsets)).astype(cp.int64, copy=False)
    if data.ndim != 1 or data.dtype != cp.uint8:
        raise TypeError(f"data must be a 1-D uint8 array, got {data.dtype} with shape {data.shape}")
    if offsets.ndim != 1 or len(offsets) == 0:
        raise TypeError("offsets must be a non-empty 1-D integer array")
    bad = bool(
        ((offsets[1:] < offsets[:-1]).any() | (offsets[0] < 0) | (offsets[-1] > data.size)).get()
    )
    if bad:
        raise ValueError(
            "offsets do not fit the data: they must start >= 0, never decrease and end <= len(data)"
        )
    n_docs = len(offsets) - 1
    out = cp.empty((n_docs, hasher.num_perm), dtype=cp.uint32)
    if data.size == 0:
        data = cp.zeros(1, cp.uint8)
    _core.minhash_text_device(
        data.data.ptr,
        offsets.data.ptr,
        n_docs,
        _UNITS[hasher.shingle],
        hasher.n,
        hasher.fold_punctuation,
        False,
        hasher.num_perm,
        hasher.seed,
        out.data.ptr,
        _dispatch.current_stream(),
    )
    return out


def _token_signatures_device(buf: _text.TokenBuffers, hasher: Any) -> Any:
    import cupy as cp

    # int64 keeps the CPU's sign extension (uint64 ids keep their bits).
    ids = cp.asarray(buf.ids).astype(cp.int64) if len(buf.ids) else cp.zeros(1, cp.int64)
    offsets = cp.asarray(buf.offsets)
    out = cp.empty((buf.n_docs, hasher.num_perm), dtype=cp.uint32)
    _core.minhash_tokens_device(
        ids.data.ptr,
        offsets.data.ptr,
        buf.n_docs,
        hasher.n,
        hasher.num_perm,
        hasher.seed,
        out.data.ptr,
        _dispatch.current_stream(),
    )
    return out
