"""GPU signatures: the CUDA kernel reads Arrow-layout buffers in device memory and
writes an (n_docs, num_perm) uint32 cupy array on cupy's current stream."""

from __future__ import annotations

from typing import Any

from . import _core, _dispatch, _text


def text_signatures(buf: _text.TextBuffers, hasher: Any) -> Any:
    import cupy as cp

    data = cp.asarray(buf.data) if len(buf.data) else cp.zeros(1, cp.uint8)
    offsets = cp.asarray(buf.offsets)
    out = cp.empty((buf.n_docs, hasher.num_perm), dtype=cp.uint32)
    from .minhash import _UNITS

    _core.minhash_text_device(
        data.data.ptr, offsets.data.ptr, buf.n_docs, _UNITS[hasher.shingle], hasher.n,
        hasher.fold_punctuation, hasher.num_perm, hasher.seed, out.data.ptr,
        _dispatch.current_stream(),
    )
    return out


def token_signatures(buf: _text.TokenBuffers, hasher: Any) -> Any:
    import cupy as cp

    # int64 keeps the CPU's sign extension (uint64 ids keep their bits).
    ids = cp.asarray(buf.ids).astype(cp.int64) if len(buf.ids) else cp.zeros(1, cp.int64)
    offsets = cp.asarray(buf.offsets)
    out = cp.empty((buf.n_docs, hasher.num_perm), dtype=cp.uint32)
    _core.minhash_tokens_device(
        ids.data.ptr, offsets.data.ptr, buf.n_docs, hasher.n, hasher.num_perm, hasher.seed,
        out.data.ptr, _dispatch.current_stream(),
    )
    return out
