"""Checks shared by the loaders: a CRC proves that bytes arrived intact, not that they
describe a state driftcore could have built. Every ``from_bytes`` checks its fields
with these helpers, which raise ValueError naming the field (see docs/formats.md).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

#: Every count a state holds stays at or below this, so that it fits int64 wherever it
#: goes (numpy, JSON, Arrow) and a merge of two states cannot wrap around.
MAX_COUNT = 2**63 - 1
#: Deepest JSON nesting a header may have (driftcore writes at most 5 levels); deeper
#: documents are refused before parsing, which would otherwise recurse.
MAX_JSON_DEPTH = 16

# A JSON string literal (escapes included): blanked out before counting brackets.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN = np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_OPEN[[ord("]"), ord("}")]] = -1
# What a malformed payload makes Python's own parsing raise.
_PARSE_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    struct.error,
)


@contextmanager
def corrupted(what: str) -> Iterator[None]:
    """Re-raise anything a malformed payload can make the body raise as
    ``ValueError(f"{what}: ...")``, the one error loaders document.

    Examples
    --------
    >>> from driftcore._validate import corrupted
    >>> with corrupted("corrupted thing payload"):
    ...     {}["counts"]
    Traceback (most recent call last):
    ...
    ValueError: corrupted thing payload: KeyError: 'counts'
    """
    try:
        yield
    except _PARSE_ERRORS as exc:
        msg = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        raise ValueError(f"{what}: {msg}") from None


def json_document(raw: bytes) -> Any:
    """Parse UTF-8 JSON whose nesting is at most :data:`MAX_JSON_DEPTH` and whose
    objects have no repeated key (``json`` would keep only the last).

    Examples
    --------
    >>> from driftcore._validate import json_document
    >>> json_document(b'{"nulls": 1, "counts": [2, 3]}')
    {'nulls': 1, 'counts': [2, 3]}
    >>> json_document(b'{"nulls": 1, "nulls": -1}')
    Traceback (most recent call last):
    ...
    ValueError: repeated key 'nulls'
    >>> json_document(b"[" * 100_000 + b"]" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: JSON nested deeper than 16 levels
    """
    bare = _STRING.sub(b'""', bytes(raw))
    if bare.count(b"[") + bare.count(b"{") > MAX_JSON_DEPTH:
        depth = np.cumsum(_OPEN[np.frombuffer(bare, np.uint8)], dtype=np.int64)
        if depth.size and depth.max() > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(raw.decode(), object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        dup = Counter(k for k, _ in pairs).most_common(1)[0][0]
        raise ValueError(f"repeated key {dup!r:.60}")
    return out


def fields(obj: Any, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """``obj`` as a dict with every ``required`` key and no key outside both tuples."""
    if type(obj) is not dict:
        raise ValueError(f"{what} must be an object, got {type(obj).__name__}")
    missing = [k for k in required if k not in obj]
    extra = sorted(set(obj) - set(required) - set(optional))
    if missing or extra:
        raise ValueError(f"{what}: missing fields {missing}, unknown fields {extra}")
    return obj


def integer(value: Any, what: str, lo: int = 0, hi: int = MAX_COUNT) -> int:
    """An int (not a bool, not a float) in [lo, hi]; counts by default."""
    if type(value) is not int or not lo <= value <= hi:
        raise ValueError(f"{what} must be an integer in [{lo}, {hi}], got {value!r:.40}")
    return value


def number(value: Any, what: str, *, finite: bool = True) -> float:
    """A JSON number (int or float, not a bool) as a float; finite unless told,
    never NaN."""
    if type(value) not in (int, float):
        raise ValueError(f"{what} must be a number, got {type(value).__name__}")
    v = float(value)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{what} must be {'finite' if finite else 'a number'}, got {v}")
    return v


def list_of(value: Any, what: str, length: int | None = None) -> list:
    """A JSON array (of ``length`` items when given)."""
    if type(value) is not list or (length is not None and len(value) != length):
        n = "" if length is None else f" of {length} items"
        raise ValueError(f"{what} must be an array{n}, got {value!r:.60}")
    return value


def total(counts: Any, what: str) -> int:
    """The sum of ``counts``; ValueError when it passes :data:`MAX_COUNT`."""
    s = sum(int(c) for c in counts)
    if s > MAX_COUNT:
        raise ValueError(f"{what} would pass 2**63 - 1")
    return s


def header(payload: bytes) -> tuple[Any, int]:
    """The ``u64 length | JSON`` head of a payload: (document, offset after it)."""
    if len(payload) < 8:
        raise ValueError(f"{len(payload)} bytes is too short for a header")
    (hlen,) = struct.unpack_from("<Q", payload)
    if hlen > len(payload) - 8:
        raise ValueError(f"header length {hlen} runs past the end")
    return json_document(payload[8 : 8 + hlen]), 8 + hlen
