"""The ``driftcore`` command line: exit codes, bad input, settings, profiles, reports."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import driftcore
from driftcore.cli import main
from driftcore.job.report_json import validate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "data"
REF, CUR = str(EXAMPLE / "reference.parquet"), str(EXAMPLE / "current.parquet")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def table(rng: np.random.Generator, n: int, shift: float = 0.0) -> pa.Table:
    return pa.table(
        {
            "a": rng.normal(shift, 1.0, n),
            "b": rng.normal(0.0, 1.0, n),
            "k": rng.integers(0, 100, n),
            "c": rng.choice(["x", "y", "z"], n),
        }
    )


@pytest.fixture
def pair(tmp_path, rng):
    """(reference, same-distribution current, shifted current) Parquet paths."""
    paths = []
    for name, shift in (("ref", 0.0), ("same", 0.0), ("shift", 0.8)):
        p = tmp_path / f"{name}.parquet"
        pq.write_table(table(rng, 5000, shift), p)
        paths.append(str(p))
    return paths


def load(path) -> dict:
    doc = json.loads(Path(path).read_text())
    validate(doc)
    return doc


# --- exit codes ------------------------------------------------------------------------


def test_example_data_drifts(capsys, tmp_path):
    code, out, err = run(capsys, "check", REF, CUR, "--json", tmp_path / "r.json")
    assert code == 1 and err == ""  # no progress bar when stderr is not a terminal
    doc = load(tmp_path / "r.json")
    drifted = {c["column"] for c in doc["columns"] if c["drifted"]}
    assert drifted == {"temp_max", "temp_min", "weather"}
    assert [c["column"] for c in doc["columns"]][:3] == ["temp_max", "temp_min", "weather"]
    assert "temp_max" in out and "FAIL (exit 1)" in out
    # The same verdicts and binned metrics as driftcore.compare on the raw tables.
    raw = driftcore.compare(pq.read_table(REF), pq.read_table(CUR))
    for c in doc["columns"]:
        assert c["drifted"] == raw[c["column"]].drifted
        assert c["metrics"]["psi"] == pytest.approx(raw[c["column"]].metrics["psi"], rel=1e-12)


def test_exit_0_and_1_on_synthetic_data(capsys, pair, tmp_path):
    ref, same, shift = pair
    code, out, _ = run(capsys, "check", ref, same, "--json", tmp_path / "a.json")
    assert code == 0, out
    assert "PASS (exit 0)" in out
    doc = load(tmp_path / "a.json")
    assert doc["summary"]["status"] == "pass" and doc["leakage"]["exact_rows"]["n_leaked"] == 0
    code, out, _ = run(capsys, "check", ref, shift, "--json", tmp_path / "b.json")
    assert code == 1
    doc = load(tmp_path / "b.json")
    assert [c["column"] for c in doc["columns"] if c["drifted"]] == ["a"]


def test_exact_row_leakage_fails_the_gate(capsys, tmp_path, rng):
    ref = table(rng, 3000)
    cur = pa.concat_tables([table(rng, 2990), ref.slice(100, 10)])
    pq.write_table(ref, tmp_path / "r.parquet")
    pq.write_table(cur, tmp_path / "c.parquet")
    code, _, _ = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
    )
    doc = load(tmp_path / "o.json")
    e = doc["leakage"]["exact_rows"]
    assert code == 1 and e["n_leaked"] == 10 and e["exceeded"]
    assert [(x["current_index"], x["reference_index"]) for x in e["examples"]] == [
        (2990 + i, 100 + i) for i in range(5)
    ]
    code, _, _ = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--threshold",
        "exact_rows=0.01",
    )
    assert code == 0


# --- bad input: one line, names the file, exit 2, no traceback ------------------------------


def _bad_inputs(tmp_path: Path, rng) -> dict[str, tuple[list[str], str]]:
    good = tmp_path / "good.parquet"
    pq.write_table(table(rng, 100), good)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1 this is not parquet")
    other = tmp_path / "other.parquet"
    pq.write_table(table(rng, 100).drop_columns(["b"]), other)
    retyped = tmp_path / "retyped.parquet"
    t = table(rng, 100)
    pq.write_table(t.set_column(3, "c", pa.array(np.arange(100.0))), retyped)
    empty = tmp_path / "empty.parquet"
    pq.write_table(table(rng, 0), empty)
    stamps = tmp_path / "stamps.parquet"  # a list column: no drift metric handles it
    pq.write_table(t.append_column("ts", pa.array([[i] for i in range(100)])), stamps)
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("")
    no_parquet = tmp_path / "folder"
    no_parquet.mkdir()
    prof = tmp_path / "ref.dcp"
    assert main(["profile", str(good), "-o", str(prof), "-q"]) == 0
    broken = tmp_path / "broken.dcp"
    data = bytearray(prof.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(data))
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[driftcore\nseed = 1")
    g = str(good)
    return {
        "missing file": (["check", str(tmp_path / "nope.parquet"), g], "nope.parquet"),
        "unreadable file": (["check", g, str(garbage)], "garbage.parquet"),
        "empty table": (["check", g, str(empty)], "empty.parquet"),
        "unsupported type": (["check", str(stamps), str(stamps)], "stamps.parquet"),
        "empty csv": (["check", g, str(empty_csv)], "empty.csv"),
        "folder without parquet": (["check", g, str(no_parquet)], "folder"),
        "corrupted profile": (["compare", str(broken), g], "broken.dcp"),
        "bad config": (["check", g, g, "--config", str(bad_toml)], "bad.toml"),
        "unknown column": (["check", g, g, "--columns", "zz"], "good.parquet"),
    }


def test_schema_changes_are_findings_exit_1(capsys, tmp_path, rng):
    good = tmp_path / "good.parquet"
    t = table(rng, 500)
    pq.write_table(t, good)
    other = tmp_path / "other.parquet"
    pq.write_table(t.drop_columns(["b"]).append_column("extra", pa.array(np.arange(500.0))), other)
    retyped = tmp_path / "retyped.parquet"
    pq.write_table(t.set_column(3, "c", pa.array(np.arange(500.0))), retyped)
    code, out, err = run(capsys, "check", good, other, "--json", tmp_path / "o.json")
    assert code == 1 and err == ""
    assert "column 'b' is missing from the current data" in out
    assert "column 'extra' is new in the current data" in out
    doc = json.loads((tmp_path / "o.json").read_text())
    kinds = {(f["kind"], f["column"]) for f in doc["findings"] if f["failed"]}
    assert {("vanished_column", "b"), ("new_column", "extra")} <= kinds
    assert "b" not in [c["column"] for c in doc["columns"]]  # the rest is still compared
    code, out, _ = run(capsys, "check", good, retyped)
    assert code == 1 and "column 'c' changed type: string -> double" in out


def test_bad_input_one_line_exit_2(capsys, tmp_path, rng):
    cases = _bad_inputs(tmp_path, rng)
    for case, (argv, name) in cases.items():
        code, out, err = run(capsys, *argv)
        assert code == 2, (case, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("driftcore: "), (case, err)
        assert name in lines[0], (case, err)
        assert "Traceback" not in err, case
    # --debug shows the traceback.
    argv, _ = cases["corrupted profile"]
    code, _, err = run(capsys, *argv, "--debug")
    assert code == 2 and "Traceback" in err


def test_usage_errors_exit_2(capsys, pair):
    ref, same, _ = pair
    assert run(capsys, "check", ref)[0] == 2  # argparse
    assert run(capsys)[0] == 2
    code, _, err = run(capsys, "check", ref, same, "--threshold", "nonsense=1")
    assert code == 2 and err.count("\n") == 1 and "--threshold" in err
    code, _, err = run(capsys, "check", ref, same, "--mmd-sample", "0")
    assert code == 2 and "mmd-sample" in err
    code, _, err = run(capsys, "check", ref, same, "--seed", "-1")
    assert code == 2 and err.count("\n") == 1 and "seed" in err
    if not driftcore.gpu_available():
        code, _, err = run(capsys, "check", ref, same, "--device", "gpu")
        assert code == 2 and "GPU" in err


# --- settings ------------------------------------------------------------------------------


def test_column_selection(capsys, pair, tmp_path):
    ref, _, shift = pair
    run(capsys, "check", ref, shift, "--columns", "b,c", "--json", tmp_path / "o.json")
    assert [c["column"] for c in load(tmp_path / "o.json")["columns"]] == ["b", "c"]
    code, _, _ = run(capsys, "check", ref, shift, "--exclude", "a", "--json", tmp_path / "o.json")
    doc = load(tmp_path / "o.json")
    assert code == 0 and sorted(c["column"] for c in doc["columns"]) == ["b", "c", "k"]
    assert doc["leakage"]["exact_rows"]["columns"] == ["b", "k", "c"]


def test_thresholds_from_cli_and_toml(capsys, pair, tmp_path):
    ref, _, shift = pair
    assert run(capsys, "check", ref, shift)[0] == 1
    loose = ["--threshold", "psi=5", "--threshold", "wasserstein=5", "--threshold", "alpha=0.001"]
    assert run(capsys, "check", ref, shift, *loose)[0] == 0
    cfg = tmp_path / "gate.toml"
    cfg.write_text(
        '[driftcore]\nmmd_sample = 300\nexclude = ["k"]\n\n'
        "[driftcore.thresholds]\npsi = 5.0\nwasserstein = 5.0\nalpha = 0.001\n"
    )
    code, _, _ = run(capsys, "check", ref, shift, "--config", cfg, "--json", tmp_path / "o.json")
    doc = load(tmp_path / "o.json")
    assert code == 0 and doc["settings"]["thresholds"]["psi"] == 5.0
    assert doc["settings"]["mmd_sample"] == 300 and "k" not in doc["settings"]["columns"]
    # The command line wins over the file.
    assert run(capsys, "check", ref, shift, "--config", cfg, "--threshold", "psi=0.2")[0] == 1


# --- profiles --------------------------------------------------------------------------------


def _comparable(doc: dict) -> dict:
    return {"columns": doc["columns"], "mmd": doc["mmd"], "summary": doc["summary"]}


def test_profile_compare_loop_equals_check(capsys, pair, tmp_path):
    ref, _, shift = pair
    common = ["--leak-rows", "0"]
    run(capsys, "check", ref, shift, "--json", tmp_path / "direct.json", *common)
    assert run(capsys, "profile", ref, "-o", tmp_path / "ref.dcp", "-q")[0] == 0
    code, _, _ = run(
        capsys, "compare", tmp_path / "ref.dcp", shift, "--json", tmp_path / "loop.json", *common
    )
    assert code == 1
    direct, loop = load(tmp_path / "direct.json"), load(tmp_path / "loop.json")
    assert _comparable(loop) == _comparable(direct)
    assert (
        loop["reference"]["is_profile"] and loop["leakage"]["exact_rows"]["status"] == "unavailable"
    )
    # A profile of the current batch, binned on the reference's edges, gives the same table.
    assert (
        run(
            capsys,
            "profile",
            shift,
            "-o",
            tmp_path / "cur.dcp",
            "--reference",
            tmp_path / "ref.dcp",
            "-q",
        )[0]
        == 0
    )
    run(
        capsys,
        "compare",
        tmp_path / "ref.dcp",
        tmp_path / "cur.dcp",
        "--json",
        tmp_path / "pp.json",
    )
    assert _comparable(load(tmp_path / "pp.json")) == _comparable(direct)


def test_batches_and_formats_agree(capsys, tmp_path):
    """Small batches, CSV input and a folder of Parquet files give the same table
    (sketches are exact below 4096 values)."""
    run(capsys, "check", REF, CUR, "--json", tmp_path / "a.json")
    run(capsys, "check", REF, CUR, "--batch-size", "50", "--json", tmp_path / "b.json")
    run(
        capsys,
        "check",
        EXAMPLE / "reference.csv",
        EXAMPLE / "current.csv",
        "--json",
        tmp_path / "c.json",
    )
    folder = tmp_path / "cur"
    folder.mkdir()
    cur = pq.read_table(CUR)
    for i, start in enumerate(range(0, cur.num_rows, 100)):
        pq.write_table(cur.slice(start, 100), folder / f"part-{i:02d}.parquet")
    run(capsys, "check", REF, folder, "--json", tmp_path / "d.json")
    docs = [load(tmp_path / f"{x}.json") for x in "abcd"]
    assert (
        docs[3]["current"]["format"] == "parquet-folder" and docs[2]["current"]["format"] == "csv"
    )

    def strip(doc: dict) -> list[dict]:  # the Arrow type may differ between CSV and Parquet
        return [{k: v for k, v in c.items() if k != "type"} for c in doc["columns"]]

    # Counts, bins and verdicts are identical; means and variances are merged per batch,
    # so their last bits may differ.
    for d in docs[1:]:
        for a, b in zip(strip(d), strip(docs[0])):
            assert {**a, "metrics": None} == {**b, "metrics": None}
            assert a["metrics"] == pytest.approx(b["metrics"], rel=1e-12, nan_ok=True)


# --- text leakage ------------------------------------------------------------------------------


def _texts(rng, n: int, start: int) -> list[str]:
    words = [f"w{i}" for i in range(400)]
    return [" ".join(rng.choice(words, 12)) + f" doc{start + i}" for i in range(n)]


def test_text_leakage_detected(capsys, tmp_path, rng):
    ref_text = _texts(rng, 300, 0)
    cur_text = _texts(rng, 300, 10_000)
    planted = [3, 50, 77, 200, 255]  # 5 of 300: over the 1% default
    for j, i in enumerate(planted):
        cur_text[10 * j] = ref_text[i] + " !"  # near-duplicate: one extra token
    ref = pa.table({"x": rng.normal(size=300), "note": ref_text})
    cur = pa.table({"x": rng.normal(size=300), "note": cur_text})
    pq.write_table(ref, tmp_path / "r.parquet")
    pq.write_table(cur, tmp_path / "c.parquet")
    code, out, _ = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
        "--report",
        tmp_path / "o.html",
        "--batch-size",
        "128",
    )
    doc = load(tmp_path / "o.json")
    assert code == 1 and doc["settings"]["text_columns"] == ["note"]  # auto-detected
    (nd,) = doc["leakage"]["near_duplicates"]
    assert nd["n_leaked"] == 5 and nd["exceeded"]
    assert [(e["current_index"], e["reference_index"]) for e in nd["examples"]] == [
        (10 * j, i) for j, i in enumerate(planted)
    ]
    assert all(e["reference"] + " !" == e["current"] for e in nd["examples"])
    # The same pairs as driftcore.find_leakage on the whole columns.
    lk = driftcore.find_leakage(ref_text, cur_text, threshold=0.8)
    assert lk.n_leaked == nd["n_leaked"]
    assert "near-duplicate texts in 'note'" in out
    html = (tmp_path / "o.html").read_text()
    assert ref_text[200] in html
    # From a saved reference profile (the LSH index is in it; the texts are not).
    assert run(capsys, "profile", tmp_path / "r.parquet", "-o", tmp_path / "r.dcp", "-q")[0] == 0
    code, _, _ = run(
        capsys,
        "compare",
        tmp_path / "r.dcp",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "p.json",
        "--report",
        tmp_path / "p.html",
    )
    (nd2,) = load(tmp_path / "p.json")["leakage"]["near_duplicates"]
    assert code == 1 and nd2["n_leaked"] == 5 and nd2["examples"][0]["reference"] is None
    assert "text not stored in the profile" in (tmp_path / "p.html").read_text()
    # --text-column on a numeric column is an error.
    code, _, err = run(
        capsys, "check", tmp_path / "r.parquet", tmp_path / "c.parquet", "--text-column", "x"
    )
    assert code == 2 and "not a string column" in err


# --- reports ----------------------------------------------------------------------------------


def test_mmd_section_contract(capsys, pair, tmp_path, monkeypatch):
    ref, same, _ = pair
    run(capsys, "check", ref, same, "--mmd-sample", "500", "--json", tmp_path / "r.json")
    m = load(tmp_path / "r.json")["mmd"]  # the real test
    assert m["status"] == "ok" and m["columns"] == ["a", "b", "k"]
    assert m["n_reference"] == m["n_current"] == m["sample_size"] == 500
    assert m["estimator"] == "unbiased" and m["bandwidth"] > 0 and 0 < m["p_value"] <= 1
    monkeypatch.delattr(driftcore, "mmd_test")
    run(capsys, "check", ref, same, "--mmd-sample", "500", "--json", tmp_path / "u.json")
    assert load(tmp_path / "u.json")["mmd"]["status"] == "unavailable"
    seen = {}

    def fake(x, y, **kw):
        seen.update(x=x, y=y, **kw)
        return type(
            "R",
            (),
            {
                "mmd2": 0.3,
                "pvalue": 0.001,
                "threshold": 0.01,
                "bandwidth": 1.5,
                "estimator": "unbiased",
            },
        )()

    monkeypatch.setattr(driftcore, "mmd_test", fake, raising=False)
    code, out, _ = run(
        capsys, "check", ref, same, "--mmd-sample", "500", "--json", tmp_path / "o.json"
    )
    m = load(tmp_path / "o.json")["mmd"]
    assert code == 1 and m["status"] == "ok" and m["drifted"] and "MMD p-value" in out
    assert seen["x"].shape == (500, 3) and seen["kernel"] == "rbf" and seen["seed"] == 0
    assert abs(seen["x"].mean(axis=0)).max() < 0.2  # standardized by the reference


def test_plain_table_without_rich(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich.console", None)
    code, out, _ = run(capsys, "check", REF, CUR)
    assert code == 1 and "column" in out and "━" not in out and "temp_max" in out


def _urls(html: str) -> list[str]:
    found = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", html)
    found += re.findall(r"url\(([^)]*)\)", html)
    found += re.findall(r"@import", html)
    return found


def test_html_is_self_contained(capsys, tmp_path):
    run(capsys, "check", REF, CUR, "--report", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert _urls(html) == []
    assert "<script" not in html and html.count("<svg") == 5
    no_ns = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in no_ns and "https://" not in no_ns


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _screenshot(browser: str, page: Path, png: Path) -> str:
    res = subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={png}",
            "--window-size=1200,2000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(page.parent)},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stderr


@pytest.mark.skipif(_browser() is None, reason="no chromium / google-chrome binary")
def test_html_renders_in_chromium(capsys, tmp_path):
    browser = _browser()
    assert browser is not None
    run(capsys, "check", REF, CUR, "--report", tmp_path / "report.html")
    png = tmp_path / "report.png"
    log = _screenshot(browser, tmp_path / "report.html", png)
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []
    # The capture works: a page that logs an error is caught.
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>console.error("boom")</script></body></html>')
    log = _screenshot(browser, bad, tmp_path / "bad.png")
    assert any(":CONSOLE" in line and "boom" in line for line in log.splitlines())


def test_python_m_alias(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "driftcore", REF, CUR, "--json", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert res.returncode == 1 and "temp_max" in res.stdout, res.stderr
    load(tmp_path / "o.json")


def test_the_command_runs_without_loading_pandas(capsys, tmp_path):
    # pyarrow would import pandas (0.2 s) on its first array conversion; the command
    # keeps it out, and reports what a process with pandas loaded reports.
    cur = tmp_path / "c.csv"
    pacsv.write_csv(pq.read_table(CUR), cur)
    probe = (
        "import sys, runpy; sys.argv = ['driftcore'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('driftcore', run_name='__main__')\n"
        "finally:\n    print('pandas loaded:', 'pandas' in sys.modules, file=sys.stderr)"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe, "check", REF, str(cur), "--json", str(tmp_path / "a.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert res.returncode == 1 and "pandas loaded: False" in res.stderr, res.stderr
    code, _, _ = run(capsys, "check", REF, cur, "--json", tmp_path / "b.json")
    assert code == 1 and "pandas" in sys.modules
    a, b = load(tmp_path / "a.json"), load(tmp_path / "b.json")
    for doc in (a, b):
        doc.pop("timing")
        doc.pop("created_utc")
    assert a == b
    for argv, ok in ((["--scheduler", "tcp://x:1"], True), (["check"], False)):  # Dask needs it
        code = f"from driftcore.cli import without_pandas; without_pandas({argv!r}); import pandas"
        res = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert (res.returncode == 0) == ok, res.stderr


def test_csv_with_unparsable_value(capsys, tmp_path):
    good = pa.table({"x": np.arange(10.0), "y": ["a"] * 10})
    pacsv.write_csv(good, tmp_path / "r.csv")
    (tmp_path / "c.csv").write_text('"x","y"\n1.0,"a"\n')
    code, _, err = run(capsys, "check", tmp_path / "r.csv", tmp_path / "c.csv")
    assert code == 0 or code == 1
    (tmp_path / "bad.csv").write_text('"x","y"\n1.0,"a"\n"oops\n')
    code, _, err = run(capsys, "check", tmp_path / "r.csv", tmp_path / "bad.csv")
    assert code == 2 and "bad.csv" in err and err.count("\n") == 1


@pytest.mark.gpu
def test_device_gpu_matches_cpu(capsys, tmp_path):
    run(capsys, "check", REF, CUR, "--device", "cpu", "--json", tmp_path / "cpu.json")
    code, _, err = run(
        capsys, "check", REF, CUR, "--device", "gpu", "--json", tmp_path / "gpu.json"
    )
    assert code == 1, err
    cpu, gpu = load(tmp_path / "cpu.json"), load(tmp_path / "gpu.json")
    for a, b in zip(cpu["columns"], gpu["columns"]):
        assert (a["column"], a["drifted"]) == (b["column"], b["drifted"])
        assert a["metrics"]["psi"] == pytest.approx(b["metrics"]["psi"], rel=1e-9)


def test_mixed_types_nulls_and_nan(capsys, tmp_path, rng):
    n = 3000

    def side(shift: float) -> pa.Table:
        x = rng.normal(shift, 1, n)
        x[::50] = np.nan
        ints = pa.array(rng.integers(0, 5, n), mask=rng.random(n) < 0.1)
        return pa.table(
            {
                "x": x,
                "ints": ints,
                "flag": rng.random(n) < 0.3,
                "cat": pa.array(rng.choice(["p", "q", "r"], n)).dictionary_encode(),
                "empty": pa.nulls(n),
                "f32": rng.normal(size=n).astype(np.float32),
            }
        )

    pq.write_table(side(0.0), tmp_path / "r.parquet")
    pq.write_table(side(1.0), tmp_path / "c.parquet")
    code, _, err = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
        "--report",
        tmp_path / "o.html",
        "--batch-size",
        "700",
    )
    doc = load(tmp_path / "o.json")
    assert code == 1, err
    by = {c["column"]: c for c in doc["columns"]}
    assert by["x"]["drifted"] and by["x"]["missing_reference"] == 60
    assert by["ints"]["missing_reference"] > 0 and by["flag"]["kind"] == "categorical"
    assert by["empty"]["drifted"] is None
    assert doc["mmd"]["columns"] == ["x", "ints", "f32"]


def test_json_to_stdout_and_progress_bar(capsys, monkeypatch):
    code, out, err = run(capsys, "check", REF, CUR, "--json", "-")
    assert code == 1 and json.loads(out)["schema_version"] == 2 and "temp_max" in err

    from driftcore.job.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    p = Progress(1000, "reference")
    p._start -= 5.0  # shown only for runs longer than a second
    p.advance(500)
    p.close()
    assert "50.0%" in fake.getvalue() and "500 rows" in fake.getvalue()
    quiet = Progress(1000, "reference", quiet=True)
    quiet._start -= 5.0
    quiet.advance(500)
    assert fake.getvalue().count("50.0%") == 1


def test_exact_rows_every_row_across_types(capsys, tmp_path, rng):
    """Every current row is checked (no sampling) and matches follow exact_row_leakage's
    equality across types: int64 == float64, string == dictionary."""
    n = 20_000
    ref = pa.table({"x": rng.integers(0, 1_000_000, n), "s": rng.choice(["a", "b", "c"], n)})
    picks = rng.choice(n, 7, replace=False)
    cur = pa.table(
        {
            "x": np.concatenate(
                [rng.integers(0, 1_000_000, n - 7), ref["x"].to_numpy()[picks]]
            ).astype(np.float64),
            "s": pa.array(
                np.concatenate(
                    [
                        rng.choice(["a", "b", "c"], n - 7),
                        ref["s"].to_numpy(zero_copy_only=False)[picks],
                    ]
                )
            ).dictionary_encode(),
        }
    )
    pq.write_table(ref, tmp_path / "r.parquet")
    pq.write_table(cur, tmp_path / "c.parquet")
    truth = driftcore.exact_row_leakage(ref, cur)
    assert truth.n_leaked >= 7
    run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
        "--batch-size",
        "3000",
        "--examples",
        "100",
    )
    e = load(tmp_path / "o.json")["leakage"]["exact_rows"]
    assert e["n_leaked"] == truth.n_leaked and not e["estimated"]
    assert e["n_candidates"] >= e["n_leaked"]
    got = sorted((x["current_index"], x["reference_index"]) for x in e["examples"])
    assert got == sorted(zip(truth.eval_index.tolist(), truth.train_index.tolist()))[:100]
    # More candidates than --leak-rows: a verified sample, the count estimated.
    run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "s.json",
        "--leak-rows",
        "3",
    )
    e = load(tmp_path / "s.json")["leakage"]["exact_rows"]
    assert e["estimated"] and e["n_checked"] == 3 and e["n_candidates"] == truth.n_leaked
    assert e["n_leaked"] == truth.n_leaked  # every candidate is a true match here
    # --columns narrows the drift table only; --leak-columns chooses the key.
    run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "k.json",
        "--columns",
        "s",
        "--batch-size",
        "3000",
    )
    doc = load(tmp_path / "k.json")
    assert [c["column"] for c in doc["columns"]] == ["s"]
    assert doc["leakage"]["exact_rows"]["n_leaked"] == truth.n_leaked
    run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "k.json",
        "--leak-columns",
        "s",
    )
    assert load(tmp_path / "k.json")["leakage"]["exact_rows"]["n_leaked"] == n
    code, _, err = run(
        capsys, "check", tmp_path / "r.parquet", tmp_path / "c.parquet", "--leak-columns", "nope"
    )
    assert code == 2 and "--leak-columns: no column 'nope'" in err and err.count("\n") == 1


def test_identifier_columns_get_no_drift_metrics(capsys, tmp_path):
    # A row key would make category counts grow with the data: it is recognised and
    # kept for exact-row leakage only.
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(4)
    n = 3000
    ref = pa.table(
        {
            "id": [f"row-{i}" for i in range(n)],
            "x": rng.normal(size=n),
            "c": rng.choice(["a", "b"], n),
        }
    )
    cur = pa.table(
        {
            "id": [f"row-{i + n}" for i in range(n)],
            "x": rng.normal(size=n),
            "c": rng.choice(["a", "b"], n),
        }
    )
    pq.write_table(ref, tmp_path / "r.parquet")
    pq.write_table(cur, tmp_path / "c.parquet")
    code, out, _ = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
    )
    doc = load(tmp_path / "o.json")
    assert doc["settings"]["identifier_columns"] == ["id"]
    assert sorted(c["column"] for c in doc["columns"]) == ["c", "x"]
    assert "identifier columns" in out and code in (0, 1)
    assert doc["leakage"]["exact_rows"]["n_leaked"] == 0  # ids differ: no row repeats
    # An integer id drifts on any split by construction: --id says what it is.
    ref = ref.append_column("num", pa.array(np.arange(n)))
    cur = cur.append_column("num", pa.array(np.arange(n, 2 * n)))
    pq.write_table(ref, tmp_path / "r.parquet")
    pq.write_table(cur, tmp_path / "c.parquet")
    code, _, _ = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
    )
    assert code == 1 and any(
        c["column"] == "num" and c["drifted"] for c in load(tmp_path / "o.json")["columns"]
    )
    code, _, _ = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
        "--id",
        "num",
    )
    doc = load(tmp_path / "o.json")
    assert doc["settings"]["identifier_columns"] == ["id", "num"] and code == 0
    assert sorted(c["column"] for c in doc["columns"]) == ["c", "x"]
    assert doc["leakage"]["exact_rows"]["columns"] == ["id", "x", "c", "num"]
    # A current side whose integer id arrives as strings is a retyped column.
    cur = cur.set_column(3, "num", pa.array([str(i) for i in range(n, 2 * n)]))
    pq.write_table(cur, tmp_path / "c.parquet")
    code, _, _ = run(
        capsys,
        "check",
        tmp_path / "r.parquet",
        tmp_path / "c.parquet",
        "--json",
        tmp_path / "o.json",
        "--id",
        "num",
    )
    kinds = {f["kind"] for f in load(tmp_path / "o.json")["findings"]}
    assert code == 1 and "type_changed" in kinds, kinds
    code, _, err = run(
        capsys, "check", tmp_path / "r.parquet", tmp_path / "c.parquet", "--id", "nope"
    )
    assert code == 2 and "--id 'nope' is not a selected column" in err
