"""Property test of the command line's inputs: random small tables of every column
type the readers meet (numbers, strings, booleans, timestamps, dates, decimals, nulls,
NaN and infinities, empty and constant columns), written as Parquet or CSV, with
random schema differences between the sides. ``driftcore check`` answers 0 or 1 with
a report, or 2 with one line naming the problem; never a traceback."""

from __future__ import annotations

import datetime
import decimal
import json
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcore.cli import main

KINDS = ["float", "int", "string", "bool", "timestamp", "date", "decimal", "null", "text"]


def _column(kind: str, n: int, rng: np.random.Generator, nulls: float, special: bool) -> pa.Array:
    mask = rng.random(n) < nulls
    if kind == "float":
        v = rng.normal(size=n)
        if special and n:
            v[rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf, 1e308, -0.0])
        return pa.array(v, mask=mask)
    if kind == "int":
        return pa.array(rng.integers(-3, 4, n) * int(rng.choice([1, 2**40])), mask=mask)
    if kind == "string":
        return pa.array(rng.choice(["a", "b", "", "ünï", "x y"], n), mask=mask)
    if kind == "text":
        return pa.array(
            [f"row {i} says something long enough to be free text" for i in range(n)], mask=mask
        )
    if kind == "bool":
        return pa.array(rng.random(n) < 0.5, mask=mask)
    if kind == "timestamp":
        return pa.array(rng.integers(0, 10**15, n), pa.timestamp("us"), mask=mask)
    if kind == "date":
        return pa.array(
            [
                datetime.date(2020, 1, 1) + datetime.timedelta(int(d))
                for d in rng.integers(0, 900, n)
            ],
            pa.date32(),
            mask=mask,
        )
    if kind == "decimal":
        return pa.array(
            [decimal.Decimal(int(c)) / 100 for c in rng.integers(0, 10**6, n)],
            pa.decimal128(10, 2),
            mask=mask,
        )
    return pa.nulls(n)


@st.composite
def tables(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    sizes = draw(st.tuples(st.integers(0, 60), st.integers(0, 60)))
    nulls = draw(st.sampled_from([0.0, 0.1, 1.0]))
    special = draw(st.booleans())
    change = draw(st.sampled_from(["none", "drop", "retype", "rename"]))
    rng = np.random.default_rng(seed)
    sides = []
    for n in sizes:
        sides.append({f"c{i}": _column(k, n, rng, nulls, special) for i, k in enumerate(kinds)})
    cur = sides[1]
    if change == "drop" and len(cur) > 1:
        cur.pop(next(iter(cur)))
    elif change == "retype":
        cur["c0"] = _column(draw(st.sampled_from(KINDS)), sizes[1], rng, nulls, special)
    elif change == "rename":
        cur["renamed"] = cur.pop("c0")
    fmt = draw(st.sampled_from(["parquet", "csv"]))
    return [pa.table(s) for s in sides], fmt


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tables())
def test_check_never_crashes_on_random_tables(capsys, case):
    (ref, cur), fmt = case
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, table in (("ref", ref), ("cur", cur)):
            path = Path(tmp) / f"{name}.{fmt}"
            if fmt == "parquet":
                pq.write_table(table, path)
            else:
                pacsv.write_csv(table, path)
            paths.append(str(path))
        capsys.readouterr()  # one capture per example (the fixture spans them all)
        code = main(["check", *paths, "-q", "--json", str(Path(tmp) / "out.json")])
        _out, err = capsys.readouterr()
        assert code in (0, 1, 2), code
        assert "Traceback" not in err
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("driftcore: "), err
        else:
            doc = json.loads((Path(tmp) / "out.json").read_text())
            assert doc["summary"]["exit_code"] == code
