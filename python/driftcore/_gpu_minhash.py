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
        hasher.fold_punctuation, buf.lower_ascii, hasher.num_perm, hasher.seed, out.data.ptr,
        _dispatch.current_stream(),
    )
    return out


def buffer_signatures(data: Any, offsets: Any, hasher: Any) -> Any:
    """Signatures of Arrow-layout text already on the device (offsets checked there)."""
    import cupy as cp

    from .minhash import _UNITS

    data = cp.ascontiguousarray(cp.asarray(data))
    offsets = cp.ascontiguousarray(cp.asarray(offsets)).astype(cp.int64, copy=False)
    if data.ndim != 1 or data.dtype != cp.uint8:
        raise TypeError(f"data must be a 1-D uint8 array, got {data.dtype} with shape {data.shape}")
    if offsets.ndim != 1 or len(offsets) == 0:
        raise TypeError("offsets must be a non-empty 1-D integer array")
    bad = bool(((offsets[1:] < offsets[:-1]).any() | (offsets[0] < 0) | (offsets[-1] > data.size)).get())
    if bad:
        raise ValueError("offsets do not fit the data: they must start >= 0, never decrease and end <= len(data)")
    n_docs = len(offsets) - 1
    out = cp.empty((n_docs, hasher.num_perm), dtype=cp.uint32)
    if data.size == 0:
        data = cp.zeros(1, cp.uint8)
    _core.minhash_text_device(
        data.data.ptr, offsets.data.ptr, n_docs, _UNITS[hasher.shingle], hasher.n,
        hasher.fold_punctuation, False, hasher.num_perm, hasher.seed, out.data.ptr,
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


def band_keys(sig: Any, bands: int, rows: int) -> Any:
    """(n_docs, bands) uint64 band keys of device signatures, as lsh_band_keys on the CPU."""
    import cupy as cp

    sig = cp.ascontiguousarray(sig)
    out = cp.empty((sig.shape[0], bands), dtype=cp.uint64)
    _core.band_keys_device(
        sig.data.ptr, sig.shape[0], sig.shape[1], bands, rows, out.data.ptr,
        _dispatch.current_stream(),
    )
    return out


def sort_join(xp: Any, build: Any, build_valid: Any, probe: Any, probe_valid: Any) -> tuple[Any, Any]:
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
    return (pairs >> xp.uint64(32)).astype(xp.int64), (pairs & xp.uint64(0xFFFFFFFF)).astype(xp.int64)


def agreement(xp: Any, a: Any, b: Any, left: Any, right: Any, chunk: int = 1 << 16) -> Any:
    """Equal signature positions of each pair (chunked to bound memory)."""
    out = xp.empty(len(left), dtype=xp.uint32)
    for start in range(0, len(left), chunk):
        stop = start + chunk
        out[start:stop] = (a[left[start:stop]] == b[right[start:stop]]).sum(axis=1)
    return out
