"""States with a valid checksum and impossible contents must not load.

Each case takes a valid state, decodes its payload, writes an impossible value into
one field, frames it again with a correct CRC (as ``_wire.frame`` does) and expects
``from_bytes`` to raise ValueError, nothing else. The property tests mutate payloads
at random, frame them again, and accept either a ValueError or a state whose own
invariants hold (it round-trips, answers queries with numbers, merges or refuses).
"""

from __future__ import annotations

import json
import math
import struct
import zlib

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import driftcore
from driftcore import _wire
from driftcore.job.leak import ExactRows, TextLeak
from driftcore.job.profile_file import ProfileFile
from driftcore.job.rowhash import RowHashes
from driftcore.profile import CategoricalColumn, NumericColumn

BIG = 2**63  # one past the largest count a state may hold
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- valid states, built once ------------------------------------------------------


def _docs():
    return [
        "the cat sat on the mat today",
        "the cat sat on the mat today!",
        "dogs bark",
        None,
        "an entirely different sentence here",
    ]


def _make_states() -> dict[str, object]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=2000)
    h = driftcore.Histogram(bins=6, range=(-2, 2))
    h.update(np.concatenate([x, [np.nan, np.inf]]))
    hw = driftcore.Histogram(bins=4, range=(-2, 2), weighted=True)
    hw.update(x[:100], np.abs(x[:100]))
    exact = driftcore.QuantileSketch(k=64, seed=5)
    exact.update(x[:50])
    compacted = driftcore.QuantileSketch(k=32, seed=5)
    compacted.update(rng.normal(size=20_000))
    cats = driftcore.CategoryCounts()
    cats.update(["a", "b", "b", None])
    icats = driftcore.CategoryCounts()
    icats.update([3, 3, 7])
    prof = driftcore.Profile.build(
        {"x": x, "v": rng.integers(0, 5, 2000).astype(float), "c": rng.choice(["p", "q"], 2000)}
    )
    grid = driftcore.ValueGrid(max_cells=64)
    grid.update(np.concatenate([x, [1e308, -1e308, 0.0, -0.0]]))
    mmd = driftcore.StreamingMMD(1.5, n_features=16, seed=2)
    mmd.update(x=x[:400].reshape(-1, 4), y=x[400:800].reshape(-1, 4) + 0.1)
    lsh = driftcore.LSHIndex(driftcore.MinHasher(num_perm=32, n=2), threshold=0.6)
    lsh.add(_docs())
    lsh_bare = driftcore.LSHIndex(
        driftcore.MinHasher(num_perm=32, n=2), threshold=0.6, keep_signatures=False
    )
    lsh_bare.add(_docs())
    sample = driftcore.RowSample(50, seed=1, expected_rows=2000)
    for k in range(0, 2000, 500):
        sample.update(
            pa.record_batch({"x": x[k : k + 500], "c": [f"c{i % 7}" for i in range(500)]})
        )
    empty_sample = driftcore.RowSample(10, seed=1)
    ref_rows = RowHashes(["x"])
    ref_rows.update(pa.record_batch({"x": x}))
    exact_rows = ExactRows(ref_rows, cap=20, seed=2)
    exact_rows.update(pa.record_batch({"x": np.concatenate([x[:40], rng.normal(size=40)])}))
    text_leak = TextLeak("t", lsh, similarity=0.6, examples=2)
    text_leak.update(pa.array(_docs()))
    return {
        "row_sample": sample,
        "empty_row_sample": empty_sample,
        "row_hashes": ref_rows,
        "exact_rows": exact_rows,
        "text_leak": text_leak,
        "histogram": h,
        "weighted_histogram": hw,
        "exact_sketch": exact,
        "sketch": compacted,
        "categories": cats,
        "int_categories": icats,
        "profile": prof,
        "mmd": mmd,
        "value_grid": grid,
        "lsh": lsh,
        "lsh_bare": lsh_bare,
        "profile_file": _profile_file(prof, x, lsh),
    }


def _profile_file(prof, x, lsh) -> ProfileFile:
    """A .dcp as ``driftcore profile`` writes one: text column t, numeric x and v,
    categorical c."""
    cols = ["x", "v", "c", "t"]
    kinds = {"x": "numeric", "v": "numeric", "c": "categorical", "t": "text"}
    meta = {
        "source": "data.parquet",
        "rows": 2000,
        "columns": cols,
        "kinds": kinds,
        "types": {c: "double" if kinds[c] == "numeric" else "string" for c in cols},
        "categorical": [],
        "seed": 0,
        "mmd_sample": 100,
    }
    sample = np.column_stack([x[:100], x[100:200]])
    return ProfileFile(prof, meta, sample, ["x", "v"], {"t": lsh})


STATES = _make_states()
CLASSES = {
    "row_sample": driftcore.RowSample,
    "empty_row_sample": driftcore.RowSample,
    "row_hashes": RowHashes,
    "exact_rows": ExactRows,
    "text_leak": TextLeak,
    "histogram": driftcore.Histogram,
    "weighted_histogram": driftcore.Histogram,
    "exact_sketch": driftcore.QuantileSketch,
    "sketch": driftcore.QuantileSketch,
    "categories": driftcore.CategoryCounts,
    "int_categories": driftcore.CategoryCounts,
    "profile": driftcore.Profile,
    "mmd": driftcore.StreamingMMD,
    "value_grid": driftcore.ValueGrid,
    "lsh": driftcore.LSHIndex,
    "lsh_bare": driftcore.LSHIndex,
    "profile_file": ProfileFile,
}
BLOBS = {name: s.to_bytes() for name, s in STATES.items()}


# --- taking payloads apart and framing them again ----------------------------------------


def payload(data: bytes) -> tuple[bytes, bytes]:
    kind = data[6:10]
    return kind, _wire.unframe(data, kind)


def refused(cls, data: bytes, match: str | None = None) -> ValueError:
    """``cls.from_bytes(data)`` raises ValueError (any other exception fails the test)."""
    with pytest.raises(ValueError, match=match) as info:
        cls.from_bytes(data)
    return info.value


def hist_fields(data: bytes) -> dict:
    p = payload(data)[1]
    ne = struct.unpack_from("<Q", p, 1)[0]
    edges = np.frombuffer(p, "<f8", ne, 9).copy()
    slots = np.frombuffer(p, "<u8", ne + 2, 9 + 8 * ne + 8).copy()
    w = np.frombuffer(p, "<f8", ne + 2, 9 + 16 * ne + 32).copy() if p[0] else None
    return {"flag": p[0], "edges": edges, "slots": slots, "weights": w}


def hist_bytes(f: dict) -> bytes:
    out = struct.pack("<BQ", f["flag"], len(f["edges"])) + np.asarray(f["edges"], "<f8").tobytes()
    out += struct.pack("<Q", len(f["slots"])) + np.asarray(f["slots"], "<u8").tobytes()
    if f["weights"] is not None:
        out += struct.pack("<Q", len(f["weights"])) + np.asarray(f["weights"], "<f8").tobytes()
    return _wire.frame(b"HIST", out)


_SKETCH = struct.Struct("<IQQQQddI")  # k, seed, n, nan, coins, min, max, level count


def sketch_fields(data: bytes) -> dict:
    p = payload(data)[1]
    k, seed, n, nan, coins, lo, hi, nlev = _SKETCH.unpack_from(p)
    pos, levels = _SKETCH.size, []
    for _ in range(nlev):
        (m,) = struct.unpack_from("<Q", p, pos)
        levels.append(list(np.frombuffer(p, "<f8", m, pos + 8)))
        pos += 8 + 8 * m
    return {
        "k": k,
        "seed": seed,
        "n": n,
        "nan": nan,
        "coins": coins,
        "min": lo,
        "max": hi,
        "levels": levels,
        "nlevels": nlev,
    }


def sketch_bytes(f: dict) -> bytes:
    out = _SKETCH.pack(
        f["k"], f["seed"], f["n"], f["nan"], f["coins"], f["min"], f["max"], f["nlevels"]
    )
    for lv in f["levels"]:
        out += struct.pack("<Q", len(lv)) + np.asarray(lv, "<f8").tobytes()
    return _wire.frame(b"QSKT", out)


def json_edit(data: bytes, edit) -> bytes:
    """CategoryCounts: ``edit(body)`` returns the new body (an object, or raw bytes)."""
    kind, p = payload(data)
    body = edit(json.loads(p))
    return _wire.frame(kind, body if isinstance(body, bytes) else json.dumps(body).encode())


def split_header(data: bytes) -> tuple[bytes, dict, bytes]:
    kind, p = payload(data)
    (hlen,) = struct.unpack_from("<Q", p)
    return kind, json.loads(p[8 : 8 + hlen]), p[8 + hlen :]


def join_header(kind: bytes, head, rest: bytes) -> bytes:
    raw = head if isinstance(head, bytes) else json.dumps(head).encode()
    return _wire.frame(kind, struct.pack("<Q", len(raw)) + raw + rest)


def header_edit(data: bytes, edit) -> bytes:
    """Profile, LSH index, .dcp: ``edit(header)`` returns the new header (or raw bytes)."""
    kind, head, rest = split_header(data)
    return join_header(kind, edit(head), rest)


def _profile_with_part(data: bytes, column: int, part: int, new: bytes) -> bytes:
    kind, head, rest = split_header(data)
    flat = [s for c in head["columns"] for s in c["parts"]]
    offset = sum(len(c["parts"]) for c in head["columns"][:column]) + part
    start = sum(flat[:offset])
    rest = rest[:start] + new + rest[start + flat[offset] :]
    head["columns"][column]["parts"][part] = len(new)
    return join_header(kind, head, rest)


def _dcp_with_blob(data: bytes, name: str, new: bytes) -> bytes:
    kind, head, rest = split_header(data)
    names = [b[0] for b in head["blobs"]]
    i = names.index(name)
    start = sum(b[1] for b in head["blobs"][:i])
    rest = rest[:start] + new + rest[start + head["blobs"][i][1] :]
    head["blobs"][i][1] = len(new)
    return join_header(kind, head, rest)


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value
    return obj


def setter(path, value):
    def edit(head):
        _set(head, path, value)
        return head

    return edit


def deleter(path):
    def edit(head):
        target = head
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return head

    return edit


# --- the envelope -------------------------------------------------------------------------


def test_envelope_refuses_bad_frames():
    data = BLOBS["histogram"]
    kind, p = payload(data)
    head = struct.Struct("<4sH4sQ")

    def framed(magic=b"DRFT", version=1, k=kind, length=None, body=p, crc=None):
        raw = head.pack(magic, version, k, len(body) if length is None else length) + body
        return raw + struct.pack("<I", zlib.crc32(raw) if crc is None else crc)

    cases = {
        "bad magic": framed(magic=b"DRFX"),
        "unsupported serial version": framed(version=2),
        "holds a 'QSKT' state": framed(k=b"QSKT"),
        "truncated or padded": framed(length=len(p) + 1),
        "checksum mismatch": framed(crc=1),
        "shorter than the header": data[:10],
    }
    for match, bad in cases.items():
        refused(driftcore.Histogram, bad, match)
    refused(driftcore.Histogram, framed(length=2**64 - 1), "truncated or padded")
    refused(driftcore.Histogram, data + b"\0", "truncated or padded")


# --- Histogram ----------------------------------------------------------------------------


def _hist_case(name, change, state="histogram"):
    def make():
        f = hist_fields(BLOBS[state])
        change(f)
        return hist_bytes(f)

    return pytest.param(make, id=name)


def _nan_edge(f):
    f["edges"][2] = np.nan


def _slot(i, v):
    def change(f):
        f["slots"][i] = v

    return change


HIST_CASES = [
    _hist_case("flag", lambda f: f.update(flag=2)),
    _hist_case("nan edge", _nan_edge),
    _hist_case("inf edge", lambda f: f["edges"].__setitem__(0, -np.inf)),
    _hist_case("edges not increasing", lambda f: f["edges"].__setitem__(1, f["edges"][3])),
    _hist_case("one edge", lambda f: f.update(edges=f["edges"][:1], slots=f["slots"][:3])),
    _hist_case("count 2**63", _slot(1, BIG)),
    _hist_case("counts adding past 2**63", lambda f: f["slots"].__setitem__(slice(1, 3), BIG // 2)),
    _hist_case("count 2**64 - 1", _slot(0, 2**64 - 1)),
    _hist_case("too few slots", lambda f: f.update(slots=f["slots"][:-1])),
    _hist_case("nan weight", lambda f: f["weights"].__setitem__(2, np.nan), "weighted_histogram"),
    _hist_case(
        "weight without count",
        lambda f: (f["slots"].__setitem__(0, 0), f["weights"].__setitem__(0, 1.5)),
        "weighted_histogram",
    ),
    _hist_case("weights missing", lambda f: f.update(weights=None), "weighted_histogram"),
]


@pytest.mark.parametrize("make", HIST_CASES)
def test_histogram_refuses(make):
    refused(driftcore.Histogram, make())


def test_histogram_truncated_arrays_and_trailing_bytes():
    p = payload(BLOBS["histogram"])[1]
    for cut in (1, 5, 9, 20, len(p) - 1):
        refused(driftcore.Histogram, _wire.frame(b"HIST", p[:cut]))
    refused(driftcore.Histogram, _wire.frame(b"HIST", p + b"\0"), "trailing")
    edges_claim = bytearray(p)
    edges_claim[1:9] = struct.pack("<Q", 2**61)  # an edge count past the payload
    refused(driftcore.Histogram, _wire.frame(b"HIST", bytes(edges_claim)), "truncated")


def test_histogram_merge_refuses_counts_past_2_63():
    f = hist_fields(BLOBS["histogram"])
    f["slots"][:] = 0
    f["slots"][1] = BIG // 2
    a = driftcore.Histogram.from_bytes(hist_bytes(f))  # 2**62: loads
    before = a.copy()
    with pytest.raises(ValueError, match="2\\^63"):
        a.merge(a.copy())
    assert a == before  # unchanged by the refused merge


# --- QuantileSketch -----------------------------------------------------------------------


def _sketch_case(name, change, state="exact_sketch", match=None):
    def make():
        f = sketch_fields(BLOBS[state])
        change(f)
        return sketch_bytes(f)

    return pytest.param(make, match, id=name)


def _extend_levels(f, count):
    f["levels"] = f["levels"] + [[]] * count
    f["nlevels"] = len(f["levels"])


SKETCH_CASES = [
    _sketch_case("nan min", lambda f: f.update(min=np.nan), match="min"),
    _sketch_case("nan max", lambda f: f.update(max=np.nan), match="min"),
    _sketch_case("min > max", lambda f: f.update(min=f["max"] + 1, max=f["min"])),
    _sketch_case(
        "min below every value of an exact sketch",
        lambda f: f.update(min=f["min"] - 1),
        match="exact",
    ),
    _sketch_case(
        "max above every value of an exact sketch",
        lambda f: f.update(max=f["max"] + 1),
        match="exact",
    ),
    _sketch_case(
        "empty with a min", lambda f: f.update(n=0, levels=[[]], nlevels=1, max=np.nan), match="min"
    ),
    _sketch_case("n 5 for 50 values", lambda f: f.update(n=5), match="n of 5"),
    _sketch_case("n 2**63", lambda f: f.update(n=BIG)),
    _sketch_case("nan count 2**64 - 1", lambda f: f.update(nan=2**64 - 1), match="2\\^63"),
    _sketch_case("n + nan past 2**63", lambda f: f.update(nan=BIG - 10), match="2\\^63"),
    _sketch_case("k 3", lambda f: f.update(k=3), match="k must be"),
    _sketch_case("k 70000", lambda f: f.update(k=70_000)),
    _sketch_case("nan value", lambda f: f["levels"][0].__setitem__(3, np.nan)),
    _sketch_case(
        "value outside [min, max]",
        lambda f: f["levels"][-1].__setitem__(0, f["min"] - 1),
        state="sketch",
    ),
    _sketch_case(
        "level out of order",
        lambda f: next(lv for lv in f["levels"][1:] if len(set(lv)) > 1).reverse(),
        state="sketch",
    ),
    _sketch_case("no levels", lambda f: f.update(levels=[], nlevels=0), match="level count"),
    _sketch_case("65 levels", lambda f: _extend_levels(f, 64), match="level count"),
    _sketch_case(
        "level 63 weighing 2**63",
        lambda f: (
            _extend_levels(f, 63 - len(f["levels"])),
            f["levels"].append([f["max"]]),
            f.update(nlevels=64),
        ),
        match="2\\^63",
    ),
    _sketch_case("levels claimed past the payload", lambda f: f.update(nlevels=3)),
]


@pytest.mark.parametrize(("make", "match"), SKETCH_CASES)
def test_quantile_sketch_refuses(make, match):
    refused(driftcore.QuantileSketch, make(), match)


def test_quantile_sketch_merge_refuses_counts_past_2_63():
    f = sketch_fields(driftcore.QuantileSketch(k=64).to_bytes())
    f["nan"] = BIG // 2
    a = driftcore.QuantileSketch.from_bytes(sketch_bytes(f))  # 2**62 NaN: loads
    with pytest.raises(ValueError, match="2\\^63"):
        a.merge(a.copy())
    assert a.nan == BIG // 2


# --- CategoryCounts ------------------------------------------------------------------------


def _cats(name, edit, state="categories"):
    return pytest.param(lambda: json_edit(BLOBS[state], edit), id=name)


def _dup(body):
    body["categories"][1] = body["categories"][0]
    return body


CATEGORY_CASES = [
    _cats("duplicate category", _dup),
    _cats("negative count", setter(["counts", 0], -1)),
    _cats("negative nulls", setter(["nulls"], -1)),
    _cats("float nulls", setter(["nulls"], 1.0)),
    _cats("string nulls", setter(["nulls"], "1")),
    _cats("bool count", setter(["counts", 0], True)),
    _cats("nan count", setter(["counts", 0], float("nan"))),
    _cats("infinite nulls", setter(["nulls"], float("inf"))),
    _cats("count 2**63", setter(["counts", 0], BIG)),
    _cats("counts adding past 2**63", lambda b: {**b, "counts": [BIG // 2, BIG // 2]}),
    _cats("float key type", setter(["key"], "float")),
    _cats("categories without a key type", setter(["key"], None)),
    _cats("int category in str counts", setter(["categories", 0], 5)),
    _cats("str category in int counts", setter(["categories", 0], "3"), "int_categories"),
    _cats("int category past 2**64", setter(["categories", 0], 2**70), "int_categories"),
    _cats("bool category", setter(["categories", 0], True), "int_categories"),
    _cats("categories as a string", lambda b: {**b, "categories": "ab"}),
    _cats("one count short", lambda b: {**b, "counts": b["counts"][:-1]}),
    _cats("nested count", setter(["counts", 0], [1])),
    _cats("body is a list", lambda b: [b]),
    _cats("body is null", lambda b: None),
    _cats("missing nulls", deleter(["nulls"])),
    _cats("unknown field", lambda b: {**b, "extra": 1}),
    _cats("repeated key", lambda b: json.dumps(b)[:-1].encode() + b', "nulls": 0}'),
    _cats("deep nesting", lambda b: b"[" * 100_000 + b"]" * 100_000),
    _cats(
        "deep nesting in a field",
        lambda b: (
            json.dumps({**b, "nulls": 0})[:-1].encode()
            + b', "x": '
            + b"[" * 5000
            + b"]" * 5000
            + b"}"
        ),
    ),
    _cats("not utf-8", lambda b: b'{"key": "str\xff"}'),
    _cats(
        "5000-digit count",
        lambda b: json.dumps(b).replace('"nulls": 1', '"nulls": ' + "9" * 5000).encode(),
    ),
    _cats("not json", lambda b: b"{nope"),
]


@pytest.mark.parametrize("make", CATEGORY_CASES)
def test_category_counts_refuse(make):
    err = refused(driftcore.CategoryCounts, make())
    assert str(err).startswith("corrupted category counts payload")


def test_category_counts_merge_refuses_counts_past_2_63():
    a = driftcore.CategoryCounts.from_bytes(
        json_edit(BLOBS["categories"], lambda b: {**b, "counts": [BIG // 4, BIG // 4]})
    )
    with pytest.raises(ValueError, match="2\\*\\*63"):
        a.merge(a.copy())
    assert a.total == BIG // 2


# --- Profile --------------------------------------------------------------------------------


PROFILE = BLOBS["profile"]
_HEAD = split_header(PROFILE)[1]
_COL = {c["name"]: i for i, c in enumerate(_HEAD["columns"])}  # x, v, c
_MOM = {"count": 0, "nan": 1, "pos_inf": 2, "neg_inf": 3, "min": 4, "max": 5, "mean": 6, "m2": 7}


def moment(col, name, value):
    return setter(["columns", _COL[col], "moments", _MOM[name]], value)


def _prof(name, edit, match=None):
    return pytest.param(lambda: header_edit(PROFILE, edit), match, id=name)


def _rename(head):
    head["columns"][_COL["v"]]["name"] = "x"
    return head


def _part_sizes(sizes):
    return setter(["columns", _COL["x"], "parts"], sizes)


def _values(keys, counts):
    return setter(["columns", _COL["v"], "values"], [keys, counts])


def _x_moments(head, **change):
    for name, value in change.items():
        head["columns"][_COL["x"]]["moments"][_MOM[name]] = value
    return head


PROFILE_CASES = [
    _prof("moments count 5 against a grid of 2000", moment("x", "count", 5), "grid counts"),
    _prof("moments min > max", lambda h: _x_moments(h, min=9.0, max=-9.0), "min"),
    _prof("nan min", moment("x", "min", float("nan")), "min"),
    _prof("infinite max", moment("x", "max", float("inf")), "max"),
    _prof("mean outside [min, max]", moment("x", "mean", 100.0), "mean"),
    _prof("negative m2", moment("x", "m2", -1.0), "m2"),
    _prof("nan m2", moment("x", "m2", float("nan")), "m2"),
    _prof("negative count", moment("x", "count", -1), "count"),
    _prof("float count", moment("x", "count", 2000.0), "count"),
    _prof("count 2**64", moment("x", "count", 2**64), "count"),
    _prof("nan count a string", moment("x", "nan", "0"), "nan"),
    _prof("moments of 7 fields", lambda h: (h["columns"][0]["moments"].pop(), h)[1], "moments"),
    _prof("moments an object", setter(["columns", 0, "moments"], {"count": 1}), "moments"),
    _prof("negative nulls", setter(["columns", 0, "nulls"], -3), "nulls"),
    _prof("nulls past 2**63", setter(["columns", 0, "nulls"], BIG - 1), "2\\*\\*63"),
    _prof(
        "a min of -0.0",
        lambda h: (h["columns"][_COL["v"]]["moments"].__setitem__(4, -0.0), h)[1],
        "extremes",
    ),
    _prof("sums a number", setter(["columns", 0, "sums"], 5), "sums"),
    _prof("sums of one", setter(["columns", 0, "sums"], ["0x1"]), "sums"),
    _prof("sums not hex", setter(["columns", 0, "sums"], ["zz", "0x1"]), "hex"),
    _prof("sums too long", setter(["columns", 0, "sums"], ["0x" + "1" * 2000, "0x1"]), "hex"),
    _prof("negative sum of squares", setter(["columns", 0, "sums", 1], "-0x10"), "negative"),
    _prof(
        "sums off by one",
        lambda h: (
            h["columns"][0]["sums"].__setitem__(
                0, hex(int(h["columns"][0]["sums"][0], 16) + (1 << 1074))
            ),
            h,
        )[1],
        "exact sums",
    ),
    _prof("sums past the range", setter(["columns", 0, "sums", 1], hex(1 << 4000)), "cannot come"),
    _prof("missing sums", deleter(["columns", 0, "sums"]), "missing"),
    _prof("a values field", setter(["columns", _COL["v"], "values"], [[0.0], [2000]]), "unknown"),
    _prof("max_cells differs from the grids", setter(["max_cells"], 300), "max_cells=4096"),
    _prof("max_cells 3", setter(["max_cells"], 3), "max_cells"),
    _prof("max_cells 2**21", setter(["max_cells"], 2**21), "max_cells"),
    _prof("layout 3", setter(["layout"], 3), "layout"),
    _prof("no layout", deleter(["layout"]), "layout"),
    _prof("bins 0", setter(["bins"], 0), "bins"),
    _prof("bins a string", setter(["bins"], "10"), "bins"),
    _prof("bins true", setter(["bins"], True), "bins"),
    _prof("a column twice", _rename, "twice"),
    _prof("unknown kind", setter(["columns", 0, "kind"], "text"), "kind"),
    _prof("three parts", _part_sizes([1, 1, 1]), "parts"),
    _prof("two parts", _part_sizes([1, 1]), "parts"),
    _prof("negative part size", _part_sizes([-1]), "size"),
    _prof("part past the end", _part_sizes([10**9]), "size"),
    _prof("part size a float", _part_sizes([8086.0]), "size"),
    _prof("categorical with two parts", setter(["columns", _COL["c"], "parts"], [48, 48]), "parts"),
    _prof("missing moments", deleter(["columns", 0, "moments"]), "missing"),
    _prof("unknown column field", setter(["columns", 0, "extra"], 1), "unknown"),
    _prof("unknown header field", setter(["extra"], 1), "unknown"),
    _prof("header a list", lambda h: [h], "object"),
    _prof("columns an object", setter(["columns"], {}), "columns"),
    _prof("column name a number", setter(["columns", 0, "name"], 5), "name"),
    _prof(
        "repeated header key", lambda h: json.dumps(h)[:-1].encode() + b', "bins": 10}', "repeated"
    ),
    _prof(
        "deep nesting",
        lambda h: json.dumps(h)[:-1].encode() + b', "z": ' + b"[" * 3000 + b"]" * 3000 + b"}",
        "nested",
    ),
]


@pytest.mark.parametrize(("make", "match"), PROFILE_CASES)
def test_profile_refuses(make, match):
    err = refused(driftcore.Profile, make(), match)
    assert str(err).startswith("corrupted profile payload")


def test_profile_refuses_framing_of_its_header_and_parts():
    kind, p = payload(PROFILE)
    for bad in (
        p[:5],
        struct.pack("<Q", len(p)) + p[8:],
        struct.pack("<Q", 2**64 - 1) + p[8:],
        p + b"\0",
        p[:-1],
    ):
        refused(driftcore.Profile, _wire.frame(kind, bad))


def _grid_fields(data: bytes) -> dict:
    p = payload(data)[1]
    cap, shift, total, nk = struct.unpack_from("<IiQQ", p)
    keys = list(struct.unpack_from(f"<{nk}Q", p, 24))
    counts = list(struct.unpack_from(f"<{nk}Q", p, 32 + 8 * nk))
    return {"cap": cap, "shift": shift, "total": total, "keys": keys, "counts": counts}


def _grid_bytes(f: dict) -> bytes:
    n = len(f["keys"])
    body = struct.pack("<IiQQ", f["cap"], f["shift"], f["total"], n)
    body += struct.pack(f"<{n}Q", *f["keys"]) + struct.pack("<Q", n)
    body += struct.pack(f"<{n}Q", *f["counts"])
    return _wire.frame(b"VGRD", body)


def _hostile_parts():
    """Parts of a profile that are valid on their own but not in this profile, or
    hostile states of their own kind."""
    g = _grid_fields(_profile_part_bytes("x", 0))
    fewer = dict(g, counts=[g["counts"][0] - 1, *g["counts"][1:]], total=g["total"] - 1)
    dropped = dict(
        g, keys=g["keys"][1:], counts=[g["counts"][0] + g["counts"][1], *g["counts"][2:]]
    )
    dropped["keys"][0] = g["keys"][1]
    wider = driftcore.ValueGrid(max_cells=256)
    wider.update(np.random.default_rng(3).normal(size=2000))
    other = driftcore.ValueGrid()
    other.update(np.arange(5.0))
    cats = json_edit(_profile_part_bytes("c", 0), _dup)
    return {
        "grid missing a value": ("x", 0, _grid_bytes(fewer)),
        "grid without the minimum's cell": ("x", 0, _grid_bytes(dropped)),
        "grid with another max_cells": ("x", 0, wider.to_bytes()),
        "grid of other data": ("x", 0, other.to_bytes()),
        "grid with a zero count": ("x", 0, _grid_bytes(dict(g, counts=[0, *g["counts"][1:]]))),
        "category counts with a duplicate": ("c", 0, cats),
        "grid for categories": ("c", 0, _profile_part_bytes("x", 0)),
        "category counts for a numeric column": ("x", 0, _profile_part_bytes("c", 0)),
    }


def _profile_part_bytes(col, part):
    _kind, head, rest = split_header(PROFILE)
    flat = [s for c in head["columns"] for s in c["parts"]]
    offset = sum(len(c["parts"]) for c in head["columns"][: _COL[col]]) + part
    start = sum(flat[:offset])
    return rest[start : start + flat[offset]]


@pytest.mark.parametrize("case", sorted(_hostile_parts()))
def test_profile_refuses_parts_that_do_not_fit(case):
    col, part, new = _hostile_parts()[case]
    err = refused(driftcore.Profile, _profile_with_part(PROFILE, _COL[col], part, new))
    assert f"column {col!r}" in str(err)


def test_profile_merge_refuses_counts_past_2_63():
    p = driftcore.Profile.from_bytes(
        header_edit(PROFILE, setter(["columns", 0, "nulls"], BIG // 2))
    )
    with pytest.raises(ValueError, match="2\\*\\*63"):
        p.merge(driftcore.Profile.from_bytes(p.to_bytes()))


# --- StreamingMMD -----------------------------------------------------------------------------


_MMD = struct.Struct("<BQQQdQQ")  # kernel, d, features, seed, bandwidth, n_x, n_y


def mmd_bytes(**change) -> bytes:
    p = payload(BLOBS["mmd"])[1]
    names = ("kernel", "d", "f", "seed", "bw", "nx", "ny")
    f = dict(zip(names, _MMD.unpack_from(p)))
    sums = np.frombuffer(p, "<f8", offset=_MMD.size).reshape(2, 2, -1).copy()
    if "sums" in change:
        change.pop("sums")(sums)
    f.update(change)
    return _wire.frame(b"RFFM", _MMD.pack(*(f[n] for n in names)) + sums.astype("<f8").tobytes())


def _sum(side, kind, value):
    def change(s):
        s[side, kind, 0] = value

    return change


MMD_CASES = {
    "kernel 2": {"kernel": 2},
    "no features": {"f": 0},
    "features past the sums": {"f": 17},
    "nan bandwidth": {"bw": float("nan")},
    "zero bandwidth": {"bw": 0.0},
    "negative bandwidth": {"bw": -1.0},
    "infinite bandwidth": {"bw": float("inf")},
    "n_x 2**63": {"nx": BIG},
    "rows without d": {"d": 0},
    "huge d": {"d": 2**60},
    "nan sum": {"sums": _sum(0, 0, np.nan)},
    "infinite sum": {"sums": _sum(1, 1, -np.inf)},
    "|sum| > n": {"sums": _sum(0, 0, 101.0)},
    "sum of norm > n": {"sums": lambda s: s.__setitem__((0, slice(None), 1), 80.0)},
    "sums without rows": {"nx": 0},
}


@pytest.mark.parametrize("case", sorted(MMD_CASES))
def test_streaming_mmd_refuses(case):
    err = refused(driftcore.StreamingMMD, mmd_bytes(**MMD_CASES[case]))
    assert str(err).startswith("corrupted StreamingMMD payload")


def test_streaming_mmd_refuses_short_payloads_and_merge_past_2_63():
    p = payload(BLOBS["mmd"])[1]
    for cut in (0, 10, _MMD.size, len(p) - 8):
        refused(driftcore.StreamingMMD, _wire.frame(b"RFFM", p[:cut]))
    big = driftcore.StreamingMMD.from_bytes(mmd_bytes(nx=BIG // 2))  # loads: sums fit
    with pytest.raises(ValueError, match="2\\*\\*63"):
        big.merge(big.copy())


# --- LSHIndex -----------------------------------------------------------------------------------


def _lsh(name, edit, state="lsh", match=None):
    return pytest.param(lambda: header_edit(BLOBS[state], edit), match, id=name)


LSH_HEAD_CASES = [
    _lsh("n_docs negative", setter(["n_docs"], -1)),
    _lsh("n_docs 2**40", setter(["n_docs"], 2**40)),
    _lsh("n_docs a float", setter(["n_docs"], 5.0)),
    _lsh("bands 0", setter(["bands"], 0)),
    _lsh("bands x rows > num_perm", setter(["bands"], 40)),
    _lsh("threshold 1.5", setter(["threshold"], 1.5)),
    _lsh("threshold nan", setter(["threshold"], float("nan"))),
    _lsh("threshold a string", setter(["threshold"], "0.6")),
    _lsh("keep_signatures a string", setter(["keep_signatures"], "yes")),
    _lsh("lowercase a number", setter(["lowercase"], 0)),
    _lsh("another algorithm", setter(["algorithm"], "minhash-v0"), match="built with"),
    _lsh("num_perm 17", setter(["num_perm"], 17)),
    _lsh("seed -1", setter(["seed"], -1)),
    _lsh("normalize 5", setter(["normalize"], 5)),
    _lsh("shingle a list", setter(["shingle"], ["word"])),
    _lsh("unknown field", setter(["extra"], 1), match="unknown"),
    _lsh("missing field", deleter(["rows"]), match="missing"),
    _lsh("header a list", lambda h: [h]),
    _lsh(
        "repeated key", lambda h: json.dumps(h)[:-1].encode() + b', "bands": 1}', match="repeated"
    ),
    _lsh("deep nesting", lambda h: b"[" * 50_000 + b"]" * 50_000, match="nested"),
    _lsh("n_docs one more", lambda h: {**h, "n_docs": h["n_docs"] + 1}, match="bytes of arrays"),
]


@pytest.mark.parametrize(("make", "match"), LSH_HEAD_CASES)
def test_lsh_index_refuses_headers(make, match):
    err = refused(driftcore.LSHIndex, make(), match)
    assert str(err).startswith("corrupted LSH index payload")


def _lsh_arrays(state="lsh"):
    kind, head, rest = split_header(BLOBS[state])
    n, bands, num_perm = head["n_docs"], head["bands"], head["num_perm"]
    keys = np.frombuffer(rest, np.uint64, n * bands).reshape(n, bands).copy()
    valid = np.frombuffer(rest, np.uint8, n, n * bands * 8).copy()
    sig = None
    if head["keep_signatures"]:
        sig = np.frombuffer(rest, np.uint32, n * num_perm, n * bands * 8 + n).reshape(n, -1).copy()
    return kind, head, keys, valid, sig


def _lsh_join(kind, head, keys, valid, sig):
    rest = keys.tobytes() + valid.tobytes() + (b"" if sig is None else sig.tobytes())
    return join_header(kind, head, rest)


def test_lsh_index_refuses_band_keys_that_do_not_match_the_signatures():
    kind, head, keys, valid, sig = _lsh_arrays()
    # Doc 2 given doc 0's band keys: before, a query like doc 0 paired it (an invented
    # pair, with a verification share computed from unrelated signatures).
    keys[2] = keys[0]
    refused(driftcore.LSHIndex, _lsh_join(kind, head, keys, valid, sig), "band keys")
    kind, head, keys, valid, sig = _lsh_arrays()
    sig[1, 0] ^= 1  # a signature changed, its keys not
    refused(driftcore.LSHIndex, _lsh_join(kind, head, keys, valid, sig), "band keys")


def test_lsh_index_refuses_validity_flags():
    kind, head, keys, valid, sig = _lsh_arrays()
    valid[0] = 2
    refused(driftcore.LSHIndex, _lsh_join(kind, head, keys, valid, sig), "validity")
    kind, head, keys, valid, sig = _lsh_arrays()
    valid[3] = 1  # doc 3 (None) has no shingles
    refused(driftcore.LSHIndex, _lsh_join(kind, head, keys, valid, sig), "validity")
    kind, head, keys, valid, sig = _lsh_arrays("lsh_bare")
    keys[3] = keys[0]  # the empty document given a real document's keys
    refused(driftcore.LSHIndex, _lsh_join(kind, head, keys, valid, sig), "empty")


def test_lsh_index_refuses_short_or_long_arrays():
    kind, p = payload(BLOBS["lsh"])
    for bad in (p[:-1], p + b"\0", p[:4], struct.pack("<Q", len(p)) + p[8:]):
        refused(driftcore.LSHIndex, _wire.frame(kind, bad))


# --- .dcp profile files ----------------------------------------------------------------------


DCP = BLOBS["profile_file"]


def _dcp(name, edit, match=None):
    return pytest.param(lambda: header_edit(DCP, edit), match, id=name)


def _drop_column(head):
    head["meta"]["columns"].remove("v")
    return head


def _forget_column(head):
    for key in ("kinds", "types"):
        del head["meta"][key]["v"]
    return _drop_column(head)


def _blob_twice(head):
    head["blobs"].append(list(head["blobs"][1]))
    return head


DCP_CASES = [
    _dcp("a column deleted from meta columns", _drop_column, "kinds"),
    _dcp(
        "a column deleted from meta columns, kinds and types",
        _forget_column,
        "meta does not profile",
    ),
    _dcp("unknown kind", setter(["meta", "kinds", "c"], "bogus"), "kinds"),
    _dcp(
        "numeric column said categorical",
        setter(["meta", "kinds", "x"], "categorical"),
        "in the profile",
    ),
    _dcp("type a number", setter(["meta", "types", "x"], 5), "types"),
    _dcp("rows one more", setter(["meta", "rows"], 2001), "rows"),
    _dcp("rows negative", setter(["meta", "rows"], -1), "rows"),
    _dcp("rows a string", setter(["meta", "rows"], "2000"), "rows"),
    _dcp("mmd_sample below the sample", setter(["meta", "mmd_sample"], 10), "mmd_sample"),
    _dcp(
        "categorical names a numeric column", setter(["meta", "categorical"], ["x"]), "categorical"
    ),
    _dcp("meta a list", setter(["meta"], []), "meta"),
    _dcp("sample of a categorical column", setter(["sample_columns"], ["x", "c"]), "sample"),
    _dcp("sample columns repeated", setter(["sample_columns"], ["x", "x"]), "distinct"),
    _dcp("sample shape off", setter(["sample_shape"], [99, 2]), "sample_shape"),
    _dcp("sample shape negative", setter(["sample_shape"], [-100, -2]), "sample_shape"),
    _dcp("sample shape of three", setter(["sample_shape"], [100, 2, 1]), "sample_shape"),
    pytest.param(
        lambda: header_edit(
            _dcp_with_blob(DCP, "sample", b""),
            lambda h: {**h, "sample_shape": [5, 0], "sample_columns": []},
        ),
        "sample_shape",
        id="rows of a sample without columns",
    ),
    _dcp("a blob twice", _blob_twice, "twice"),
    _dcp("unknown blob", setter(["blobs", 1, 0], "secret"), "unknown blob"),
    _dcp("negative blob size", setter(["blobs", 1, 1], -1), "size"),
    _dcp("blob size a float", setter(["blobs", 0, 1], 10.0), "size"),
    _dcp("no profile blob", setter(["blobs", 0, 0], "text:z"), "profile"),
    _dcp("a display blob", setter(["blobs", 1, 0], "display:x"), "unknown blob"),
    _dcp("text index of a numeric column", setter(["blobs", 2, 0], "text:x"), "text"),
    _dcp("format version 1", setter(["format_version"], 1), "older driftcore.*rebuild"),
    _dcp("format version 3", setter(["format_version"], 3), "version"),
    _dcp("format version a string", setter(["format_version"], "2"), "version"),
    _dcp("unknown header field", setter(["extra"], 1), "unknown"),
    _dcp("fingerprint of another profile", setter(["fingerprint"], "0" * 64), "fingerprint"),
    _dcp("header a string", lambda h: b'"dcp"', "object"),
    _dcp("repeated key", lambda h: json.dumps(h)[:-1].encode() + b', "meta": {}}', "repeated"),
    _dcp(
        "deep meta",
        lambda h: (
            json.dumps(h)[:-1].encode() + b', "z": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2000 + b"}"
        ),
        "nested",
    ),
]


@pytest.mark.parametrize(("make", "match"), DCP_CASES)
def test_profile_file_refuses(make, match):
    err = refused(ProfileFile, make(), match)
    assert str(err).startswith("corrupted profile file")


def test_profile_file_refuses_hostile_states_inside():
    hostile_prof = header_edit(PROFILE, moment("x", "count", 5))
    kind, head, keys, valid, sig = _lsh_arrays()
    keys[2] = keys[0]
    for name, new in (
        ("profile", hostile_prof),
        ("text:t", _lsh_join(kind, head, keys, valid, sig)),
    ):
        refused(ProfileFile, _dcp_with_blob(DCP, name, new))
    refused(ProfileFile, _wire.frame(b"DCPF", payload(DCP)[1] + b"\0"), "trailing")


def test_profile_file_needs_its_plan():
    # rows, columns, kinds and types say what the states cover: a file without them
    # cannot be checked against its states, so it does not load.
    for key in ("rows", "columns", "kinds", "types"):
        refused(ProfileFile, header_edit(DCP, deleter(["meta", key])), key)


# --- random mutations: refused, or a state that behaves ------------------------------------------


def behaves(state) -> None:
    """The invariants any loaded state must keep."""
    cls = type(state)
    data = state.to_bytes()
    again = cls.from_bytes(data)
    assert again.to_bytes() == data
    if isinstance(state, ProfileFile):
        behaves(state.profile)
        for ix in state.text.values():
            behaves(ix)
        return
    try:
        merged = cls.from_bytes(data).merge(again)
    except ValueError as exc:  # only a merge past 2**63 may be refused
        assert "2^63" in str(exc) or "2**63" in str(exc)
        merged = None
    if isinstance(state, driftcore.Histogram):
        assert 0 <= state.total < BIG
        assert np.all(np.isfinite(state.edges)) and np.all(np.diff(state.edges) > 0)
    elif isinstance(state, driftcore.QuantileSketch):
        _sketch_behaves(state)
    elif isinstance(state, driftcore.ValueGrid):
        _grid_behaves(state)
    elif isinstance(state, driftcore.CategoryCounts):
        assert state.nulls >= 0 and all(c >= 0 for c in state.counts.values())
        assert state.total + state.nulls < BIG
    elif isinstance(state, driftcore.Profile):
        _profile_behaves(state)
    elif isinstance(state, driftcore.StreamingMMD):
        if min(state.n) > 0:
            r = state.result()
            assert math.isfinite(r.mmd2) and 0 <= r.mmd2 <= 4 + 1e-5
    elif isinstance(state, driftcore.RowSample):
        assert state.table().num_rows <= min(state.size, state.seen)
    elif isinstance(state, RowHashes):
        d = state.distinct()
        assert d.size <= state.n_rows and np.all(d[1:] > d[:-1])
    elif isinstance(state, ExactRows):
        assert state.n_candidates <= state.n_current
        state.verify_filtered(iter(()), [], 0.0, 2)  # runs on what it holds
    elif isinstance(state, TextLeak):
        assert state.n_leaked <= state.n_current and len(state.examples) <= state.max_examples
        state.section(0.0)
        state.wanted_reference_rows()
    elif isinstance(state, driftcore.LSHIndex):
        pairs = state.self_pairs(verify="none")
        assert np.all(pairs.query < pairs.index) and np.all(pairs.index < len(state))
        if state.keep_signatures:  # every candidate shares a band of its signatures
            assert np.all(pairs.agreement >= state.rows / state.hasher.num_perm)
    del merged


def _sketch_behaves(s) -> None:
    assert s.n + s.nan < BIG
    if s.n == 0:
        assert np.all(np.isnan(s.quantiles([0.0, 0.5, 1.0])))
        return
    q = s.quantiles([0.0, 0.25, 0.5, 0.75, 1.0])
    assert not np.any(np.isnan(q)) and np.all(np.diff(q) >= 0)
    assert q[0] == s.min and q[-1] == s.max
    c = s.cdf(q)
    assert np.all((c >= 0) & (c <= 1))


def _grid_behaves(g) -> None:
    assert 0 <= g.total < 2**64
    lo, hi, counts = g.cells()
    assert np.all(counts > 0) and int(counts.sum()) == g.total
    assert np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)
    q = g.quantiles([0.0, 0.5, 1.0])
    assert np.all(np.isnan(q)) if g.total == 0 else np.all(np.diff(q) >= 0)


def _profile_behaves(p) -> None:
    for col in p.columns.values():
        assert col.count >= 0 and col.missing >= 0
        if isinstance(col, NumericColumn):
            _grid_behaves(col.grid)
            assert col.grid.total == col.moments.count
        else:
            assert isinstance(col, CategoricalColumn)
    if p.columns:
        driftcore.compare(p, p)  # runs, whatever it finds


def mutated_bytes(name: str, edits: list[tuple[int, int]]) -> bytes:
    kind, p = payload(BLOBS[name])
    b = bytearray(p)
    for pos, value in edits:
        b[pos % len(b)] = value
    return _wire.frame(kind, bytes(b))


@pytest.mark.parametrize("name", sorted(BLOBS))
@PROPERTY
@given(st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=1, max_size=4))
def test_random_byte_mutations_are_refused_or_behave(name, edits):
    try:
        state = CLASSES[name].from_bytes(mutated_bytes(name, edits))
    except ValueError:
        return
    behaves(state)


HOSTILE_VALUES = [
    -1,
    0,
    1,
    2,
    0.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    -float("inf"),
    BIG - 1,
    BIG,
    2**64,
    2**70,
    "",
    "x",
    "1",
    None,
    True,
    False,
    [],
    {},
    [[]],
    [1, 2],
    {"a": 1},
    [0.0, 1.0],
]


def _leaves(obj, path=()):
    """Paths to every value inside a JSON document (containers included)."""
    yield path
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))


def _json_of(name: str):
    """(the document, how to frame a changed one) of a JSON-carrying state."""
    if name in ("categories", "int_categories", "text_leak"):
        kind, p = payload(BLOBS[name])
        return json.loads(p), lambda doc: _wire.frame(kind, json.dumps(doc).encode())
    kind, head, rest = split_header(BLOBS[name])
    return head, lambda doc: join_header(kind, doc, rest)


JSON_STATES = [
    "categories",
    "int_categories",
    "profile",
    "lsh",
    "lsh_bare",
    "profile_file",
    "row_sample",
    "row_hashes",
    "exact_rows",
    "text_leak",
]


@pytest.mark.parametrize("name", JSON_STATES)
@PROPERTY
@given(st.data())
def test_random_field_values_are_refused_or_behave(name, data):
    doc, frame = _json_of(name)
    paths = [p for p in _leaves(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        value = data.draw(st.sampled_from(HOSTILE_VALUES))
        try:
            _set(doc, path, value)
        except (TypeError, IndexError, KeyError):  # an earlier change moved that path
            pass
    try:
        state = CLASSES[name].from_bytes(frame(doc))
    except ValueError:
        return
    behaves(state)


@pytest.mark.parametrize("name", sorted(BLOBS))
def test_valid_states_behave(name):
    behaves(CLASSES[name].from_bytes(BLOBS[name]))


def test_command_line_refuses_a_profile_with_a_column_cut_from_its_meta(tmp_path, capsys):
    # A column removed from the meta of the current profile, with a valid CRC: compare
    # would judge one column fewer and could turn a failing check into a pass.
    from pathlib import Path

    from driftcore.cli import main

    data = Path(__file__).resolve().parents[1] / "examples" / "data"
    ref, cur = tmp_path / "ref.dcp", tmp_path / "cur.dcp"
    assert main(["profile", str(data / "reference.parquet"), "-o", str(ref), "-q"]) == 0
    assert (
        main(
            [
                "profile",
                str(data / "current.parquet"),
                "-o",
                str(cur),
                "--reference",
                str(ref),
                "-q",
            ]
        )
        == 0
    )
    assert main(["compare", str(ref), str(cur), "-q"]) == 1  # this data drifts

    def cut(head):
        meta = head["meta"]
        meta["columns"].remove("weather")
        del meta["kinds"]["weather"], meta["types"]["weather"]
        return head

    cur.write_bytes(header_edit(cur.read_bytes(), cut))
    capsys.readouterr()
    assert main(["compare", str(ref), str(cur), "-q"]) == 2
    err = capsys.readouterr().err
    assert "corrupted profile" in err and "weather" in err
