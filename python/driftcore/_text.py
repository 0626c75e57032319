"""Documents to buffers: text in Arrow layout (UTF-8 bytes + int64 offsets), token ids
as a flat integer array + offsets. Normalization happens here, in Arrow's C++ kernels.

Missing documents (None, nulls) become empty documents: they have no shingles, so they
never match anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_NORMAL_FORMS = ("NFC", "NFKC", "NFD", "NFKD")


@dataclass
class TextBuffers:
    data: np.ndarray  # uint8, UTF-8 bytes of all documents
    offsets: np.ndarray  # int64, n_docs + 1
    lower_ascii: bool = False  # the kernel still has to lowercase ASCII letters

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1


@dataclass
class TokenBuffers:
    ids: np.ndarray  # integer token ids of all documents
    offsets: np.ndarray  # int64, n_docs + 1

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1


def check_normalize(normalize: str | None) -> None:
    if normalize is not None and normalize not in _NORMAL_FORMS:
        raise ValueError(f"normalize must be one of {_NORMAL_FORMS} or None, got {normalize!r}")


def text_buffers(
    docs: Any, *, lowercase: bool, normalize: str | None, threads: int = 0
) -> TextBuffers:
    """Normalize ``docs`` and return their Arrow-layout buffers.

    Only documents holding non-ASCII bytes go through Arrow's Unicode normalization
    and lowercasing (for ASCII text both are the identity or plain A-Z folding); the
    kernels fold ASCII letters themselves (``lower_ascii``), which gives the same
    bytes without copying the text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import _core

    check_normalize(normalize)
    arr = _to_arrow_strings(docs)
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    arr = arr.cast(pa.large_string())
    data, offsets = _buffers(arr)
    if (lowercase or normalize is not None) and len(arr):
        unicode = _core.non_ascii_documents(data, offsets, threads).view(bool)
        if unicode.any():
            mask = pa.array(unicode)
            sub = arr.filter(mask)
            if normalize is not None:
                sub = pc.utf8_normalize(sub, form=normalize)
            if lowercase:
                sub = pc.utf8_lower(sub)
            arr = pc.replace_with_mask(arr, mask, sub.cast(pa.large_string()))
            data, offsets = _buffers(arr)
    return TextBuffers(data, offsets, lower_ascii=lowercase)


def _buffers(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, int64 offsets) of a large_string array, without copying."""
    _, offsets_buf, data_buf = arr.buffers()
    n = len(arr)
    if offsets_buf is None:
        offsets = np.zeros(n + 1, dtype=np.int64)
    else:
        offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.zeros(0, np.uint8) if data_buf is None else np.frombuffer(data_buf, dtype=np.uint8)
    return data, offsets


def _to_arrow_strings(docs: Any):
    """A pyarrow string array (valid UTF-8) of the documents."""
    import pyarrow as pa

    if isinstance(docs, (str, bytes)):
        raise TypeError(
            "expected a collection of documents, got a single str/bytes; wrap it in a list"
        )
    if isinstance(docs, (pa.Array, pa.ChunkedArray)):
        arr = docs
    else:
        if type(docs).__module__.startswith("pandas"):
            docs = docs.to_numpy(dtype=object)
        if isinstance(docs, np.ndarray):
            if docs.ndim != 1:
                raise ValueError(f"documents must be 1-D, got an array of shape {docs.shape}")
            if docs.dtype.kind not in "USO":
                raise TypeError(f"documents must be strings, got a {docs.dtype} array")
        elif not isinstance(docs, Sequence):
            docs = list(docs)
        try:
            arr = pa.array(docs, type=None if len(docs) else pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
            # Mixed str/bytes, invalid UTF-8 or lone surrogates: repair one by one.
            arr = pa.array([_repair(d) for d in docs], type=pa.string())
    if isinstance(arr, pa.ChunkedArray):  # also what pa.array makes of over 2 GB of text
        if pa.types.is_string(arr.type):  # 64-bit offsets first, so the chunks fit in one
            arr = arr.cast(pa.large_string())
        elif pa.types.is_binary(arr.type):
            arr = arr.cast(pa.large_binary())
        arr = arr.combine_chunks()
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        try:
            arr = arr.cast(pa.large_string())
        except pa.ArrowInvalid:
            # Not valid UTF-8: decode with U+FFFD replacement (only on this bad input).
            arr = pa.array([_repair(d) for d in arr.to_pylist()], type=pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        raise TypeError(f"documents must be strings, got Arrow type {arr.type}")
    return arr


def _repair(doc: Any) -> str | None:
    """One document as valid Unicode text (invalid bytes and lone surrogates replaced)."""
    if doc is None or (isinstance(doc, float) and np.isnan(doc)):
        return None
    if isinstance(doc, (bytes, bytearray, memoryview)):
        return bytes(doc).decode("utf-8", errors="replace")
    if isinstance(doc, str):
        return doc.encode("utf-8", errors="replace").decode("utf-8")
    raise TypeError(f"documents must be str, bytes or None, got {type(doc).__name__}")


def token_buffers(docs: Any) -> TokenBuffers:
    """Token-id documents: ``(ids, offsets)``, a list of integer sequences, or a pyarrow
    list array of integers."""
    import pyarrow as pa

    if isinstance(docs, tuple) and len(docs) == 2 and not isinstance(docs[0], (list, tuple)):
        ids = _int_array(docs[0], "token ids")
        offsets = np.asarray(docs[1])
        if offsets.ndim != 1 or offsets.dtype.kind not in "iu":
            raise TypeError("offsets must be a 1-D integer array")
        offsets = offsets.astype(np.int64, copy=False)
        if len(offsets) == 0:
            raise ValueError("offsets must hold n_docs + 1 entries (at least one)")
        if offsets[0] < 0 or np.any(np.diff(offsets) < 0) or offsets[-1] > len(ids):
            raise ValueError(
                f"offsets do not fit the data: they must start >= 0, never decrease and end "
                f"<= {len(ids)} (the number of token ids)"
            )
        return TokenBuffers(ids, np.ascontiguousarray(offsets))
    if isinstance(docs, pa.ChunkedArray):
        docs = docs.combine_chunks()
    if isinstance(docs, pa.Array):
        if not (pa.types.is_list(docs.type) or pa.types.is_large_list(docs.type)):
            raise TypeError(f"token documents must be a list array, got Arrow type {docs.type}")
        if docs.null_count:
            docs = docs.fill_null([])  # pragma: no cover - pyarrow versions differ
        docs = docs.cast(pa.large_list(docs.type.value_type))
        offsets = docs.offsets.to_numpy().astype(np.int64)
        values = docs.values
        ids = _int_array(values.to_numpy(zero_copy_only=False), "token ids")
        return TokenBuffers(ids, offsets - offsets[0] if len(offsets) else offsets)
    if isinstance(docs, (str, bytes)) or not isinstance(docs, Sequence):
        raise TypeError(
            "token documents must be (ids, offsets), a list of integer arrays, or a list array"
        )
    parts = [np.zeros(0, np.int64) if d is None else _int_array(d, "token ids") for d in docs]
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return TokenBuffers(_int_array(ids, "token ids"), offsets)


def _int_array(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {arr.dtype}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)
