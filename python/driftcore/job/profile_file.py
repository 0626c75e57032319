"""``.dcp`` files: what ``driftcore profile`` saves and ``driftcore compare`` reads.

A profile file holds the serialized, mergeable states of one side of a check: the
:class:`driftcore.Profile` (moments, value grids, category counts), the MMD sample of
the numeric columns (raw values, bottom-k order), one :class:`driftcore.LSHIndex` per
text column (reference profiles only), and a JSON header with the source, columns,
kinds and settings. A file of format version 1 (profiles with quantile sketches) is
refused with a message to rebuild it.
It goes in the same checked envelope as every driftcore state (magic ``DRFT``,
format version, kind ``DCPF``, length, CRC-32), so truncation or corruption is
caught on loading and reported as a ``ValueError``, as is a header that does not
describe the stored states (:func:`check_header`).

Payload: ``u64 header length | header (JSON) | blobs``; the header's ``blobs``
list gives the name and length of each blob in order, and its ``fingerprint`` is the
profile's content hash (:meth:`driftcore.Profile.fingerprint`), checked on loading:
two files of the same rows and settings carry the same one.

Examples
--------
>>> import numpy as np, driftcore
>>> from driftcore.job.profile_file import ProfileFile
>>> meta = {"rows": 5, "columns": ["x"], "kinds": {"x": "numeric"}, "types": {"x": "double"}}
>>> pf = ProfileFile(driftcore.Profile.build({"x": np.arange(5.0)}), meta,
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

import hashlib
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _validate, _wire
from ..lsh import LSHIndex
from ..profile import Profile
from .output import write_all

_KIND = b"DCPF"
FORMAT_VERSION = 2
#: Column kinds a profile's header may give (see driftcore.job.plan).
KINDS = ("numeric", "categorical", "text", "identifier")
_HEADER_FIELDS = (
    "format_version",
    "fingerprint",
    "meta",
    "sample_shape",
    "sample_columns",
    "blobs",
)


@dataclass
class ProfileFile:
    """One side of a check, summarized (see the module docstring)."""

    profile: Profile
    meta: dict[str, Any]
    sample: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    sample_columns: list[str] = field(default_factory=list)
    text: dict[str, LSHIndex] = field(default_factory=dict)
    #: where it was loaded from (named in messages and reports); not saved
    path: Path | str = field(default="profile", compare=False)

    def to_bytes(self) -> bytes:
        """Serialize (versioned, checksummed)."""
        profile = self.profile.to_bytes()
        blobs: list[tuple[str, bytes]] = [("profile", profile)]
        sample = np.ascontiguousarray(self.sample, dtype=np.float64)
        blobs.append(("sample", sample.tobytes()))
        blobs += [(f"text:{k}", ix.to_bytes()) for k, ix in self.text.items()]
        header = {
            "format_version": FORMAT_VERSION,
            "fingerprint": hashlib.sha256(profile).hexdigest(),
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
        with _validate.corrupted("corrupted profile file"):
            header, pos = _validate.header(payload)
            header = _validate.fields(header, "header", _HEADER_FIELDS)
            version = header["format_version"]
            if version == 1:
                raise ValueError(
                    "a profile file of an older driftcore (quantile sketches), "
                    "which this one no longer reads: rebuild it with driftcore "
                    "profile DATA -o FILE.dcp"
                )
            if version != FORMAT_VERSION:
                raise ValueError(f"unsupported profile file version {version!r:.40}")
            parts: dict[str, bytes] = {}
            for blob in _validate.list_of(header["blobs"], "blobs"):
                name, size = _validate.list_of(blob, "a blob entry", 2)
                if type(name) is not str or not (
                    name in ("profile", "sample") or name.startswith("text:")
                ):
                    raise ValueError(f"unknown blob {name!r:.60}")
                if name in parts:
                    raise ValueError(f"blob {name!r:.60} appears twice")
                _validate.integer(size, f"blob {name!r:.60} size", 0, len(payload) - pos)
                parts[name] = payload[pos : pos + size]
                pos += size
            if pos != len(payload):
                raise ValueError(f"{len(payload) - pos} unexpected trailing bytes")
            if "profile" not in parts or "sample" not in parts:
                raise ValueError("no profile or no sample blob")
            columns = _validate.list_of(header["sample_columns"], "sample_columns")
            if any(type(c) is not str for c in columns) or len(set(columns)) != len(columns):
                raise ValueError("sample_columns must be distinct names")
            shape = _validate.list_of(header["sample_shape"], "sample_shape", 2)
            rows, width = (_validate.integer(v, "sample_shape") for v in shape)
            if (
                width != len(columns)
                or rows * width * 8 != len(parts["sample"])
                or (rows and not width)
            ):
                raise ValueError(
                    f"sample_shape {shape} does not fit {len(columns)} columns "
                    f"and {len(parts['sample'])} bytes"
                )
            if header["fingerprint"] != hashlib.sha256(parts["profile"]).hexdigest():
                raise ValueError("fingerprint does not match the profile")
            out = cls(
                profile=Profile.from_bytes(parts["profile"]),
                meta=header["meta"],
                sample=np.frombuffer(parts["sample"], dtype=np.float64).reshape(rows, width).copy(),
                sample_columns=list(columns),
                text={
                    k[5:]: LSHIndex.from_bytes(v) for k, v in parts.items() if k.startswith("text:")
                },
            )
            check_header(out)
        return out

    def save(self, path: str | Path) -> int:
        """Write to ``path`` (all or nothing); returns the size in bytes."""
        data = self.to_bytes()
        write_all([(path, data)])
        return len(data)


def check_header(pf: ProfileFile) -> None:
    """Raise ValueError naming the first header field that is missing, of the wrong
    type, or disagrees with the stored states (a hand-made or damaged file): ``rows``
    values in every profiled column, and no more in the sample;
    ``columns`` with ``kinds`` and ``types`` for exactly those columns; the profile
    holding exactly the numeric and categorical ones, of those kinds; the sample
    holding the numeric ones, and text indexes only for text columns."""
    m = pf.meta
    if not isinstance(m, dict):  # a damaged file: ValueError, as every other check
        raise ValueError(f"meta must be a JSON object, got {type(m).__name__}")  # noqa: TRY004
    if not _is_int(m.get("rows")) or not 0 <= m["rows"] <= _validate.MAX_COUNT:
        raise ValueError(f"meta.rows must be a row count, got {m.get('rows')!r:.40}")
    cols = m.get("columns")
    if not _names(cols) or not cols or len(set(cols)) != len(cols):
        raise ValueError(f"meta.columns must be a list of distinct column names, got {cols!r:.80}")
    for key in ("kinds", "types"):
        d = m.get(key)
        if not isinstance(d, dict) or any(not isinstance(d.get(c), str) for c in cols):
            raise ValueError(f"meta.{key} must give every column a {key[:-1]}, got {d!r:.80}")
        if set(d) != set(cols):
            raise ValueError(f"meta.{key} and meta.columns differ in {sorted(set(d) ^ set(cols))}")
    for key, want in _OPTIONAL.items():
        if key in m and not (isinstance(m[key], want) and not isinstance(m[key], bool)):
            raise ValueError(f"meta.{key} has the wrong type: {m[key]!r:.40}")
    kinds = m["kinds"]
    for c in cols:
        if kinds[c] not in KINDS:
            raise ValueError(f"meta.kinds: column {c!r} has unknown kind {kinds[c]!r:.40}")
        col = pf.profile.columns.get(c)
        if kinds[c] in ("numeric", "categorical") and (col is None or col.kind != kinds[c]):
            raise ValueError(
                f"column {c!r} is {kinds[c]} in meta but "
                f"{'missing' if col is None else col.kind} in the profile"
            )
    extra = [c for c in pf.profile.columns if kinds.get(c) not in ("numeric", "categorical")]
    if extra:  # a column cut from the meta would silently leave the comparison
        raise ValueError(f"the profile has columns {extra} that meta does not profile")
    cats = m.get("categorical", [])
    if not _names(cats) or any(kinds.get(c) != "categorical" for c in cats):
        raise ValueError(f"meta.categorical must list categorical columns, got {cats!r:.80}")
    numeric = [c for c in cols if kinds[c] == "numeric"]
    if not _names(pf.sample_columns) or sorted(pf.sample_columns) != sorted(numeric):
        raise ValueError(
            f"sample_columns {pf.sample_columns!r} are not the numeric columns {numeric!r}"
        )
    if pf.sample.ndim != 2 or (pf.sample.size and pf.sample.shape[1] != len(numeric)):
        raise ValueError(f"sample of shape {pf.sample.shape} for {len(numeric)} numeric columns")
    roles = m.get("roles", {})
    if not isinstance(roles, dict) or any(
        kinds.get(c) not in ("numeric", "categorical") or r not in ("target", "prediction")
        for c, r in roles.items()
    ):
        raise ValueError(
            f"meta.roles must map profiled columns to target or prediction, got {roles!r:.80}"
        )
    texts = {c for c in cols if kinds[c] == "text"}
    if not set(pf.text) <= texts:
        raise ValueError(f"text indexes of {sorted(set(pf.text) - texts)}, not text columns")
    _check_rows(pf, m["rows"])


def _check_rows(pf: ProfileFile, rows: int) -> None:
    """Every profiled column holds ``rows`` values (count + missing); the sample no
    more, and no more than ``mmd_sample``."""
    for name, col in pf.profile.columns.items():
        if col.count + col.missing != rows:
            raise ValueError(
                f"column {name!r:.60} holds {col.count + col.missing} values, meta.rows is {rows}"
            )
    cap = pf.meta.get("mmd_sample")
    if pf.sample.shape[0] > (min(rows, cap) if _is_int(cap) else rows):
        raise ValueError(
            f"a sample of {pf.sample.shape[0]} rows, more than meta.rows or meta.mmd_sample"
        )


#: Header fields that only describe the profile: checked when present (older files
#: may lack some of them).
_OPTIONAL: dict[str, Any] = {
    "source": str,
    "format": str,
    "seed": int,
    "mmd_sample": int,
    "batch_size": int,
    "reference": (str, type(None)),
    "created_utc": str,
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _names(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(c, str) for c in v)


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
