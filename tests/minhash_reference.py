"""An independent, slow, pure-Python implementation of driftcore's documented MinHash
definition (minhash v1, see driftcore.minhash), for ASCII and Unicode text and token
ids. The tests hold the compiled kernels to it bit for bit."""

from __future__ import annotations

import unicodedata

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MUL = 0xD6E8FEB86659FD93
CHAR = 0x243F6A8885A308D3
TOKEN = 0x13198A2E03707344


def rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & M64


def mix64(x: int) -> int:
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & M64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & M64
    return x ^ (x >> 33)


def splitmix64(seed: int, i: int) -> int:
    z = (seed + (i + 1) * GOLDEN) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def step(h: int, w: int) -> int:
    h = ((h ^ w) * MUL) & M64
    return (rotl(h, 29) * GOLDEN) & M64


def hash_bytes(b: bytes) -> int:
    h = GOLDEN ^ ((len(b) * MUL) & M64)
    for i in range(0, len(b), 8):
        h = step(h, int.from_bytes(b[i : i + 8], "little"))
    return h ^ (h >> 31)


def fold(units: list[int]) -> int:
    h = (len(units) * GOLDEN) & M64
    for j, u in enumerate(units):
        h = (h + u * ((MUL + 2 * j * GOLDEN) & M64)) & M64
    return mix64(h)


SPACES = {
    0x20,
    *range(0x09, 0x0E),
    0x85,
    0xA0,
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
}


def is_punct(cp: int) -> bool:
    if cp < 0x80:
        return 0x21 <= cp <= 0x2F or 0x3A <= cp <= 0x40 or 0x5B <= cp <= 0x60 or 0x7B <= cp <= 0x7E
    if 0xA1 <= cp <= 0xBF:
        return cp not in (0xAA, 0xB2, 0xB3, 0xB5, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE)
    if cp in (0xD7, 0xF7):
        return True
    if 0x2010 <= cp <= 0x205E:
        return cp not in (0x2028, 0x2029, 0x202F)
    if 0x3001 <= cp <= 0x303F:
        return True
    return (
        0xFF01 <= cp <= 0xFF0F
        or 0xFF1A <= cp <= 0xFF20
        or 0xFF3B <= cp <= 0xFF40
        or 0xFF5B <= cp <= 0xFF65
    )


def is_sep(cp: int, fold_punct: bool) -> bool:
    return cp in SPACES or (fold_punct and is_punct(cp))


def normalize(text: str, lowercase: bool = True, form: str | None = "NFC") -> str:
    if form:
        text = unicodedata.normalize(form, text)
    return text.lower() if lowercase else text


def units(text: str, unit: str, fold_punct: bool = True) -> list[int]:
    if unit == "word":
        words, cur = [], []
        for ch in text:
            if is_sep(ord(ch), fold_punct):
                if cur:
                    words.append("".join(cur))
                cur = []
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
        return [hash_bytes(w.encode()) for w in words]
    out: list[int] = []
    pending = False
    for ch in text:
        if is_sep(ord(ch), fold_punct):
            pending = bool(out)
            continue
        if pending:
            out.append(mix64((0x20 + CHAR) & M64))
        pending = False
        out.append(mix64((ord(ch) + CHAR) & M64))
    return out


def shingles(u: list[int], n: int) -> list[int]:
    if not u:
        return []
    if len(u) < n:
        return [fold(u)]
    return [fold(u[i : i + n]) for i in range(len(u) - n + 1)]


def signature(shingle_hashes: list[int], num_perm: int, seed: int) -> list[int]:
    slots: list[int | None] = [None] * num_perm
    for h in shingle_hashes:
        j = ((h >> 32) * num_perm) >> 32
        rank = (h & 0xFFFFFFFF) >> 1
        if slots[j] is None or rank < slots[j]:
            slots[j] = rank
    out = []
    for j, value in enumerate(slots):
        if value is None:  # no shingle reached this slot: an independent permutation
            r = splitmix64(seed, j)
            a, b = (r >> 32) | 1, r & 0xFFFFFFFF
            f = min(((a * (h >> 32) + b) & 0xFFFFFFFF for h in shingle_hashes), default=0xFFFFFFFF)
            value = 0x80000000 | (f >> 1)
        out.append(value)
    return out


def text_signature(
    text: str,
    *,
    unit: str = "word",
    n: int = 5,
    num_perm: int = 128,
    seed: int = 1,
    fold_punct: bool = True,
) -> list[int]:
    return signature(shingles(units(normalize(text), unit, fold_punct), n), num_perm, seed)


def token_signature(ids: list[int], *, n: int = 5, num_perm: int = 128, seed: int = 1) -> list[int]:
    u = [mix64((i + TOKEN) & M64) for i in ids]
    return signature(shingles(u, n), num_perm, seed)
