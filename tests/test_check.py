"""driftcore.check: the main job in the library, the same verdict as the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import driftcore
from driftcore.cli import main
from driftcore.job.report_json import validate


def _tables(seed: int = 0, n: int = 3000, shift: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def side(mu: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": rng.normal(mu, 1, n),
                "y": rng.lognormal(0, 1, n),
                "rating": rng.integers(1, 6, n),
                "c": rng.choice(["a", "b", "c"], n),
            }
        )

    return side(0.0), side(shift)


@pytest.fixture
def frames():
    return _tables(shift=0.4)


def test_verdict_and_report_object(frames, tmp_path):
    ref, cur = frames
    r = driftcore.check(ref, cur)
    assert isinstance(r, driftcore.CheckReport)
    assert not r.passed and r.exit_code == 1
    assert r["x"].drifted and not r["c"].drifted and not r["rating"].drifted
    assert [c.column for c in r.columns] == ["x", "y", "rating", "c"]
    assert any("'x'" in reason for reason in r.reasons)
    assert r.mmd is not None and r.mmd["status"] == "ok"
    assert r.leakage["exact_rows"]["status"] == "ok" and isinstance(r.findings, list)
    validate(r.document)
    text = r.to_json(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(text)
    html = r.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text() == html and "<svg" in html
    assert r._repr_html_().startswith("<iframe srcdoc=")
    s = str(r)
    assert "x" in s and "exit code 1" in s.lower() or "exit 1" in s.lower()
    assert "exit_code=1" in repr(r)


def test_clean_split_passes():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"x": rng.normal(size=8000), "c": rng.choice(list("abcd"), 8000)})
    r = driftcore.check(data.iloc[:4000], data.iloc[4000:].reset_index(drop=True))
    assert r.passed and r.exit_code == 0 and r.reasons == []


def test_same_result_as_the_command_line(frames, tmp_path):
    ref, cur = frames
    pq.write_table(pa.Table.from_pandas(ref, preserve_index=False), tmp_path / "ref.parquet")
    pq.write_table(pa.Table.from_pandas(cur, preserve_index=False), tmp_path / "cur.parquet")
    code = main(
        [
            "check",
            str(tmp_path / "ref.parquet"),
            str(tmp_path / "cur.parquet"),
            "--json",
            str(tmp_path / "cli.json"),
            "-q",
        ]
    )
    cli = json.loads((tmp_path / "cli.json").read_text())
    for lib in (
        driftcore.check(ref, cur),
        driftcore.check(str(tmp_path / "ref.parquet"), tmp_path / "cur.parquet"),
    ):
        assert lib.exit_code == code == cli["summary"]["exit_code"]
        assert lib.reasons == cli["summary"]["reasons"]
        for a, b in zip(lib.document["columns"], cli["columns"]):
            assert a["column"] == b["column"] and a["drifted"] == b["drifted"]
            assert a["p_value"] == pytest.approx(b["p_value"], rel=1e-12, abs=1e-300)
        assert lib.mmd["p_value"] == cli["mmd"]["p_value"]
        assert lib.leakage["exact_rows"]["n_leaked"] == cli["leakage"]["exact_rows"]["n_leaked"]


def test_every_kind_of_table_gives_the_same_report(frames):
    ref, cur = frames
    base = driftcore.check(ref, cur).document
    arrow_ref = pa.Table.from_pandas(ref, preserve_index=False)
    chunks = [arrow_ref.slice(i, 700) for i in range(0, len(ref), 700)]
    variants = [
        (pl.from_pandas(ref), pl.from_pandas(cur)),
        (arrow_ref, pa.Table.from_pandas(cur, preserve_index=False)),
        ({k: ref[k].to_numpy() for k in ref}, {k: cur[k].to_numpy() for k in cur}),
        (iter(chunks), cur),
        ([b for t in chunks for b in t.to_batches()], cur),
    ]
    for r, c in variants:
        doc = driftcore.check(r, c).document
        assert doc["summary"] == base["summary"]
        assert [e["p_value"] for e in doc["columns"]] == [e["p_value"] for e in base["columns"]]
        assert doc["mmd"]["p_value"] == base["mmd"]["p_value"]


def test_exact_and_text_leakage_in_memory():
    rng = np.random.default_rng(2)
    words = [
        " ".join(
            rng.choice(
                ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"],
                12,
            )
        )
        for _ in range(400)
    ]
    ref = pd.DataFrame({"x": rng.normal(size=400), "note": words})
    cur = ref.sample(200, random_state=1).reset_index(drop=True)
    r = driftcore.check(ref, cur, thresholds={"near_duplicates": 0.5})
    exact = r.leakage["exact_rows"]
    assert exact["n_leaked"] == 200 and exact["exceeded"]
    near = r.leakage["near_duplicates"]
    assert near[0]["column"] == "note" and near[0]["rate"] == 1.0
    assert r.exit_code == 1


def test_saved_profile_as_reference(frames, tmp_path):
    from driftcore.job.check import run_profile
    from driftcore.job.settings import Settings

    ref, cur = frames
    pf = run_profile(ref, Settings())
    (tmp_path / "ref.dcp").write_bytes(pf.to_bytes())
    direct = driftcore.check(ref, cur)
    saved = driftcore.check(tmp_path / "ref.dcp", cur)
    assert saved.exit_code == direct.exit_code
    assert [c.drifted for c in saved.columns] == [c.drifted for c in direct.columns]
    assert saved.leakage["exact_rows"]["status"] == "unavailable"
    assert saved.document["reference"]["format"] == "profile"


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"columns": ["nope"]}, "no column 'nope'"),
        ({"thresholds": {"psx": 0.1}}, "unknown threshold 'psx'"),
        ({"bins": 0}, "bins must be an integer >= 1"),
        ({"correction": "sidak"}, "correction must be one of"),
        ({"categorical": ["c"]}, "not a numeric column"),
        ({"text_shingles": "bigram"}, "text_shingles must be auto, word or char"),
        ({"keep_punctuation": "yes"}, "keep_punctuation must be true or false"),
        ({"target": ["nope"]}, "--target 'nope' is not a compared column"),
    ],
)
def test_bad_options_raise_value_errors_naming_them(frames, kwargs, needle):
    ref, cur = frames
    with pytest.raises(ValueError, match=needle) as info:
        driftcore.check(ref, cur, **kwargs)
    assert isinstance(info.value, driftcore.InputError)


def test_bad_inputs_raise_clear_errors(frames, tmp_path):
    ref, cur = frames
    with pytest.raises(driftcore.InputError, match="no column in common.*column 'x' is missing"):
        driftcore.check(ref[["x"]], cur.drop(columns=["x"]))
    with pytest.raises(driftcore.InputError, match="reference: no rows"):
        driftcore.check(ref.iloc[:0], cur)
    with pytest.raises(driftcore.InputError, match="no such file"):
        driftcore.check(tmp_path / "missing.parquet", cur)
    with pytest.raises(driftcore.InputError, match="column 'm': cannot read as one type"):
        driftcore.check(pd.DataFrame({"m": [1, "a"]}), cur)
    with pytest.raises(driftcore.InputError, match="different lengths"):
        driftcore.check({"x": [1.0, 2.0], "y": [1.0]}, cur)
    with pytest.raises(driftcore.InputError, match="expected a dict of arrays"):
        driftcore.check(42, cur)
    with pytest.raises(driftcore.InputError, match="chunk 1 has columns"):
        driftcore.check([pa.table({"x": [1.0]}), pa.table({"y": [1.0]})], cur)


def test_same_seed_same_answer_whatever_the_threads_or_batches(frames):
    ref, cur = frames
    a = driftcore.check(ref, cur, seed=7, threads=1).document
    b = driftcore.check(ref, cur, seed=7, threads=2).document
    for key in ("summary", "columns", "mmd", "leakage"):
        assert a[key] == b[key]
    # Other batch sizes: profiles are functions of the rows alone, so the same report.
    c = driftcore.check(ref, cur, seed=7, threads=1, batch_size=1000).document
    for key in ("summary", "columns", "findings", "mmd", "leakage"):
        assert a[key] == c[key]


def test_each_input_is_read_once_unless_leakage_needs_the_reference_again(monkeypatch):
    from driftcore.job import read
    from driftcore.job.check import run_profile
    from driftcore.job.settings import Settings

    reads: list[str] = []
    real = read.Source.batches

    def counted(self, *args, **kwargs):
        if kwargs.get("prefetch"):  # a pass (not the first rows the plan looks at)
            reads.append(str(self.path))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(read.Source, "batches", counted)
    ref, cur = _tables()
    run_profile(ref, Settings())
    assert reads == ["data"]
    reads.clear()
    driftcore.check(ref, cur, leak_rows=0)
    assert sorted(reads) == ["current", "reference"]
    reads.clear()
    rep = driftcore.check(ref, cur)  # no current row's hash is a reference row's
    assert sorted(reads) == ["current", "reference"]
    assert rep.document["leakage"]["exact_rows"]["n_leaked"] == 0
    reads.clear()
    cur.iloc[:7] = ref.iloc[:7].to_numpy()
    rep = driftcore.check(ref, cur)  # exact-row candidates are verified on the reference
    assert sorted(reads) == ["current", "reference", "reference"]
    assert rep.document["leakage"]["exact_rows"]["n_leaked"] == 7


def test_report_histograms_come_from_the_grids():
    rng = np.random.default_rng(3)
    ref = {"r": rng.integers(1, 6, 4000).astype(float), "x": rng.normal(size=4000)}
    cur = {"r": rng.integers(1, 6, 3000).astype(float), "x": rng.normal(size=3000)}
    doc = driftcore.check(ref, cur).document
    for entry in doc["columns"]:
        h = entry["histogram"]
        edges = np.array(h["edges"])
        for side, data in (("reference", ref), ("current", cur)):
            values = data[entry["column"]]
            total = h["below"][side == "current"] + sum(h[side]) + h["above"][side == "current"]
            assert total == values.size
            if entry["column"] == "r":  # one cell a value: exact counts
                exact = np.histogram(values, edges)[0]
                assert h[side] == exact.tolist()


def test_data_quality_findings_fail_the_check_and_name_the_problem():
    rng = np.random.default_rng(8)
    n = 4000
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.normal(size=n),
            "c": rng.choice(["a", "b", "c"], n),
            "gone": rng.normal(size=n),
        }
    )
    cur = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": np.full(n, 2.5),
            "c": np.where(rng.random(n) < 0.05, "new-label", rng.choice(["a", "b"], n)),
            "extra": rng.normal(size=n),
        }
    )
    cur.loc[:199, "x"] = 50.0  # 5% beyond the reference's maximum
    r = driftcore.check(ref, cur, leak_rows=0)
    failed = {(f["kind"], f["column"]) for f in r.document["findings"] if f["failed"]}
    assert failed >= {
        ("vanished_column", "gone"),
        ("new_column", "extra"),
        ("constant_column", "k"),
        ("out_of_range", "x"),
        ("new_categories", "c"),
        ("vanished_categories", "c"),
    }
    text = " ".join(r.reasons)
    assert "'new-label' (5." in text and "'c' (" in text and "above" in text
    assert r.exit_code == 1 and r.document["summary"]["n_findings_failed"] == len(failed)
    html = r.to_html()
    assert "Data quality" in html and "new-label" in html
    assert "FINDING" in str(r)


def test_findings_stay_quiet_on_clean_splits():
    """No finding fails on random halves of the same data (schema, ranges and
    categories all as sampling leaves them), over many seeds."""
    fails = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = 3000
        data = pd.DataFrame(
            {
                "x": rng.standard_t(3, 2 * n),
                "y": rng.lognormal(0, 1, 2 * n),
                "z": rng.choice(
                    [f"c{i}" for i in range(300)],
                    2 * n,
                    p=np.r_[1 / np.arange(1, 301)] / np.sum(1 / np.arange(1, 301)),
                ),
            }
        )
        r = driftcore.check(data.iloc[:n], data.iloc[n:].reset_index(drop=True), leak_rows=0)
        fails += any(f["failed"] for f in r.document["findings"])
    assert fails <= 4  # alpha 0.05 over the whole family: at most ~2 expected in 40


def test_a_scheduler_needs_files(frames, dask_client, tmp_path):
    ref, cur = frames
    with pytest.raises(driftcore.InputError, match="not a table in memory"):
        driftcore.check(ref, cur, scheduler=dask_client)
    pq.write_table(pa.Table.from_pandas(ref, preserve_index=False), tmp_path / "ref.parquet")
    pq.write_table(pa.Table.from_pandas(cur, preserve_index=False), tmp_path / "cur.parquet")
    on_dask = driftcore.check(
        tmp_path / "ref.parquet", tmp_path / "cur.parquet", scheduler=dask_client
    )
    here = driftcore.check(tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    for key in ("summary", "columns", "findings", "mmd", "leakage"):
        assert on_dask.document[key] == here.document[key]


def test_out_of_range_pvalue_is_valid_under_no_change():
    # Exact (conservative) tail: P(p <= alpha) <= alpha on exchangeable samples.
    from driftcore.job.findings import out_of_range_pvalue

    rng = np.random.default_rng(21)
    ps = []
    for _ in range(3000):
        x, y = rng.normal(size=150), rng.normal(size=220)
        ps.append(
            out_of_range_pvalue(
                above=int((y > x.max()).sum()),
                below=int((y < x.min()).sum()),
                n_reference=150,
                n_current=220,
            )
        )
    ps = np.array(ps)
    for alpha in (0.01, 0.05, 0.2):
        assert np.mean(ps <= alpha) <= alpha + 0.01


def test_unseen_category_pvalue_is_near_its_level_under_no_change():
    # A normal approximation: checked at the 5% level on a skewed 50-level column and a
    # 2,000-level one (measured 2-6% a test; the family and threshold act on top).
    from driftcore.categories import CategoryCounts
    from driftcore.job.findings import _categories
    from driftcore.profile import CategoricalColumn

    rng = np.random.default_rng(22)

    def col(v):
        c = CategoryCounts()
        c.update(v)
        return CategoricalColumn(c)

    for levels in (50, 2000):
        w = 1 / np.arange(1, levels + 1)
        w /= w.sum()
        ps = []
        for _ in range(300):
            r = rng.choice(levels, 1000, p=w).astype(str)
            c = rng.choice(levels, 800, p=w).astype(str)
            ps += [
                f.pvalue
                for f in _categories(
                    "z", col(r), col(c), {"new_categories": 0.01, "vanished_categories": 0.01}
                )
            ]
        tests = 600  # two tests a run; a run without unseen categories has none
        assert sum(p <= 0.05 for p in ps) / tests <= 0.08


def test_columns_narrow_drift_not_the_exact_row_key():
    ref, cur = _tables(seed=5)
    cur.iloc[:30] = ref.iloc[:30].to_numpy()  # 30 rows leaked whole
    cur["c"] = ref["c"].to_numpy()  # and a column equal row for row
    whole = driftcore.check(ref, cur).document["leakage"]["exact_rows"]
    assert whole["n_leaked"] == 30 and whole["columns"] == ["x", "y", "rating", "c"]
    # --columns picks the drift columns; rows are still equal only when whole.
    doc = driftcore.check(ref, cur, columns=["c"]).document
    assert [c["column"] for c in doc["columns"]] == ["c"]
    assert doc["leakage"]["exact_rows"]["n_leaked"] == 30
    assert doc["leakage"]["exact_rows"]["columns"] == ["x", "y", "rating", "c"]
    # --leak-columns chooses the key: equal on 'c' alone is every row.
    doc = driftcore.check(ref, cur, columns=["x"], leak_columns=["c"]).document
    assert doc["leakage"]["exact_rows"]["n_leaked"] == len(cur)
    assert [c["column"] for c in doc["columns"]] == ["x"]
    # --exclude leaves a column out of the key too; a key column the current side
    # lacks leaves the key.
    doc = driftcore.check(ref, cur, columns=["c"], exclude=["y"]).document
    assert doc["leakage"]["exact_rows"]["columns"] == ["x", "rating", "c"]
    doc = driftcore.check(ref, cur.drop(columns=["y"]), columns=["c"]).document
    assert doc["leakage"]["exact_rows"]["columns"] == ["x", "rating", "c"]
    assert doc["leakage"]["exact_rows"]["n_leaked"] == 30


def test_bad_leak_columns_are_named():
    ref, cur = _tables()
    with pytest.raises(driftcore.InputError, match="--leak-columns: no column 'nope'"):
        driftcore.check(ref, cur, leak_columns=["nope"])
    with pytest.raises(driftcore.InputError, match="leak_columns is empty"):
        driftcore.check(ref, cur, leak_columns=[])
    with pytest.raises(driftcore.InputError, match="both selected and excluded"):
        driftcore.check(ref, cur, leak_columns=["x"], exclude=["x"])


def test_findings_show_dates_and_times_as_such():
    import datetime

    rng = np.random.default_rng(2)
    start = datetime.datetime(2024, 1, 1)
    ref = {
        "when": pa.array(
            [start + datetime.timedelta(hours=int(h)) for h in rng.integers(0, 24 * 365, 3000)],
            pa.timestamp("us"),
        ),
        "day": pa.array(
            [
                datetime.date(2024, 1, 1) + datetime.timedelta(days=int(d))
                for d in rng.integers(0, 365, 3000)
            ],
            pa.date32(),
        ),
        "x": rng.normal(size=3000),
    }
    cur = dict(ref, x=rng.normal(size=3000))
    cur["when"] = pa.array(
        [
            start + datetime.timedelta(days=400, hours=int(h))
            for h in rng.integers(0, 24 * 30, 3000)
        ],
        pa.timestamp("us"),
    )
    cur["day"] = pa.array([datetime.date(2025, 3, 1)] * 3000, pa.date32())
    report = driftcore.check(ref, cur)
    msgs = {f["kind"] + ":" + f["column"]: f["message"] for f in report.document["findings"]}
    hours = ref["when"].to_pylist()
    span = f"[{min(hours).isoformat()}, {max(hours).isoformat()}]"
    assert span in msgs["out_of_range:when"]
    assert "(2025-03-01)" in msgs["constant_column:day"]
    # The HTML histograms' axis ends too (the reference's extremes).
    html = report.to_html()
    days = ref["day"].to_pylist()
    assert f">{min(hours).isoformat()}<" in html and f">{max(days).isoformat()}<" in html


def test_disjoint_sides_give_a_ks_bound_of_one():
    # The cumulative shares of these counts pass 1 by a rounding; with the other side
    # wholly beyond them, the KS lower bound is 1 all the same (the p-value refuses
    # anything above 1).
    from driftcore import _slots

    a = np.array(
        [
            586,
            858,
            554,
            764,
            809,
            61,
            560,
            455,
            289,
            452,
            413,
            492,
            818,
            825,
            626,
            710,
            959,
            637,
            370,
            83,
            553,
            232,
            594,
            26,
        ],
        float,
    )
    assert np.cumsum(a / a.sum())[-1] > 1.0
    counts_a = np.concatenate([a, np.zeros(3)])
    counts_b = np.concatenate([np.zeros(a.size), [5.0, 7.0, 1.0]])
    assert _slots.ks_bounds(counts_a, counts_b) == (1.0, 1.0)


def test_column_names_print_as_they_are_in_the_terminal_table():
    import io

    from driftcore.job.report_text import render

    rng = np.random.default_rng(0)
    names = ["price[usd]", "[bold]x", "a]b[c"]
    r = driftcore.check(
        {n: rng.normal(size=500) for n in names}, {n: rng.normal(size=500) for n in names}
    )
    for use_rich in (True, False):
        out = io.StringIO()
        render(r.document, out, use_rich=use_rich)
        assert all(n in out.getvalue() for n in names)


def test_the_terminal_table_shows_missing_shares():
    import io

    from driftcore.job.report_text import render

    rng = np.random.default_rng(2)
    ref = rng.normal(size=4000)
    cur = rng.normal(size=4000)
    ref[:120] = np.nan  # 3%
    cur[:1600] = np.nan  # 40%
    r = driftcore.check(
        {"x": ref, "y": rng.normal(size=4000)}, {"x": cur, "y": rng.normal(size=4000)}
    )
    assert not r.passed
    out = io.StringIO()
    render(r.document, out, use_rich=False)
    rows = {
        line.split()[0]: line for line in out.getvalue().splitlines() if line[:2] in ("x ", "y ")
    }
    assert rows["x"].rstrip().endswith("3.0 -> 40.0 !") and rows["y"].rstrip().endswith("-")
