"""Framing of serialized states: magic, format version, kind, length and CRC-32.

Every ``to_bytes`` in driftcore goes through :func:`frame` and every ``from_bytes``
through :func:`unframe`, so all states share one checked envelope::

    b"DRFT" | u16 version | 4-byte kind | u64 payload length | payload | u32 crc32

The CRC covers everything before it. Version 1 is the only version so far. A valid
CRC proves integrity, not sense: each ``from_bytes`` then checks its state's
invariants (``_validate``; the list is in docs/formats.md).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

MAGIC = b"DRFT"
VERSION = 1
_HEAD = struct.Struct("<4sH4sQ")
_CRC = struct.Struct("<I")


def frame(kind: bytes, payload: bytes) -> bytes:
    """Wrap ``payload`` of state ``kind`` (4 bytes) in the checked envelope."""
    head = _HEAD.pack(MAGIC, VERSION, kind, len(payload))
    body = head + payload
    return body + _CRC.pack(zlib.crc32(body))


def unframe(data: bytes, kind: bytes) -> bytes:
    """Return the payload of ``data`` after checking magic, version, kind, length, CRC.

    Raises
    ------
    ValueError
        Naming what is wrong: not driftcore data, another kind of state, an unknown
        version, a truncated payload or a checksum mismatch.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEAD.size + _CRC.size:
        raise ValueError(f"truncated payload: {len(data)} bytes is shorter than the header")
    magic, version, got_kind, length = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise ValueError("not a driftcore state: bad magic bytes")
    if version != VERSION:
        raise ValueError(
            f"unsupported serial version {version} (this driftcore reads version {VERSION})"
        )
    if got_kind != kind:
        raise ValueError(
            f"payload holds a {got_kind.decode(errors='replace')!r} state, "
            f"expected {kind.decode()!r}"
        )
    end = _HEAD.size + length
    if len(data) != end + _CRC.size:
        raise ValueError(
            f"truncated or padded payload: expected {end + _CRC.size} bytes, got {len(data)}"
        )
    (crc,) = _CRC.unpack_from(data, end)
    actual = zlib.crc32(data[:end])
    if crc != actual:
        raise ValueError(
            f"possible corruption: checksum mismatch (stored {crc:#010x}, computed {actual:#010x})"
        )
    return data[_HEAD.size : end]


def restore(cls: Any, data: bytes) -> Any:
    """``cls.from_bytes(data)``: what the states' ``__reduce__`` returns, so pickles
    (Dask, multiprocessing) carry the checked wire format and name only importable
    functions (a bound classmethod would be pickled by value by cloudpickle).

    Examples
    --------
    >>> import pickle, driftcore
    >>> s = driftcore.QuantileSketch()
    >>> pickle.loads(pickle.dumps(s)) == s
    True
    """
    return cls.from_bytes(data)
