"""``.dcp`` files: what ``driftcore profile`` saves and ``driftcore compare`` reads.

A profile file holds the serialized, mergeable states of one side of a check: the
:class:`driftcore.Profile` (sketches, histograms, category counts), the display
histograms of the HTML report, the MMD sample of the numeric columns (raw values,
bottom-k order), one :class:`driftcore.LSHIndex` per text column (reference
profiles only), and a JSON header with the source, columns, kinds and settings.
It goes in the same checked envelope as every driftcore state (magic ``DRFT``,
format version, kind ``DCPF``, length, CRC-32), so truncation or corruption is
caught on loading and reported as a ``ValueError``.

Payload: ``u64 header length | header (JSON) | blobs``; the header's ``blobs``
list gives the name and length of each blob in order.

Examples
--------
>>> import numpy as np, driftcore
>>> from driftcore.cli.profile_file import ProfileFile
>>> pf = ProfileFile(driftcore.Profile.build({"x": np.arange(5.0)}), {"rows": 5},
...                  sample=np.zeros((2, 1)), sample_columns=["x"])
>>> back = ProfileFile.from_bytes(pf.to_bytes())
>>> back.profile == pf.profile, back.meta["rows"], back.sample.shape
(True, 5, (2, 1))
>>> ProfileFile.from_bytes(pf.to_bytes()[:-1])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: truncated or padded payload: expected ... bytes, got ...
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _wire
from ..histogram import Histogram
from ..lsh import LSHIndex
from ..profile import Profile

_KIND = b"DCPF"
FORMAT_VERSION = 1


@dataclass
class ProfileFile:
    """One side of a check, summarized (see the module docstring)."""

    profile: Profile
    meta: dict[str, Any]
    display: dict[str, Histogram] = field(default_factory=dict)
    sample: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    sample_columns: list[str] = field(default_factory=list)
    text: dict[str, LSHIndex] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """Serialize (versioned, checksummed)."""
        blobs: list[tuple[str, bytes]] = [("profile", self.profile.to_bytes())]
        blobs += [(f"display:{k}", h.to_bytes()) for k, h in self.display.items()]
        sample = np.ascontiguousarray(self.sample, dtype=np.float64)
        blobs.append(("sample", sample.tobytes()))
        blobs += [(f"text:{k}", ix.to_bytes()) for k, ix in self.text.items()]
        header = {
            "format_version": FORMAT_VERSION,
            "meta": self.meta,
            "sample_shape": list(sample.shape),
            "sample_columns": self.sample_columns,
            "blobs": [[name, len(b)] for name, b in blobs],
        }
        head = json.dumps(header).encode()
        payload = struct.pack("<Q", len(head)) + head + b"".join(b for _, b in blobs)
        return _wire.frame(_KIND, payload)

    @classmethod
    def from_bytes(cls, data: bytes) -> ProfileFile:
        """Inverse of :meth:`to_bytes`; ValueError on anything corrupted."""
        payload = _wire.unframe(data, _KIND)
        try:
            (hlen,) = struct.unpack_from("<Q", payload)
            header = json.loads(payload[8 : 8 + hlen].decode())
            if header["format_version"] != FORMAT_VERSION:
                raise ValueError(f"unsupported profile file version {header['format_version']}")
            pos, parts = 8 + hlen, {}
            for name, size in header["blobs"]:
                if size < 0 or pos + size > len(payload):
                    raise ValueError("blob runs past the end")
                parts[name] = payload[pos : pos + size]
                pos += size
            if pos != len(payload):
                raise ValueError("unexpected trailing bytes")
            shape = tuple(header["sample_shape"])
            out = cls(
                profile=Profile.from_bytes(parts["profile"]),
                meta=header["meta"],
                display={k[8:]: Histogram.from_bytes(v) for k, v in parts.items()
                         if k.startswith("display:")},
                sample=np.frombuffer(parts["sample"], dtype=np.float64).reshape(shape).copy(),
                sample_columns=list(header["sample_columns"]),
                text={k[5:]: LSHIndex.from_bytes(v) for k, v in parts.items()
                      if k.startswith("text:")},
            )
        except (KeyError, TypeError, IndexError, struct.error, UnicodeDecodeError,
                json.JSONDecodeError) as exc:
            raise ValueError(f"corrupted profile file: {exc!r}") from None
        return out

    def save(self, path: str | Path) -> int:
        """Write to ``path``; returns the size in bytes."""
        data = self.to_bytes()
        Path(path).write_bytes(data)
        return len(data)


def is_profile_file(path: str | Path) -> bool:
    """True when ``path`` is a file starting with driftcore's magic bytes."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        with open(p, "rb") as f:
            return f.read(4) == _wire.MAGIC
    except OSError:
        return False
