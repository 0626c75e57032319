"""``driftcore check`` / ``profile`` / ``compare`` with ``--scheduler`` give the same
report as the single-process run (on inputs of several files and row groups, with
exact-row and near-duplicate leakage), and fail in one line when they cannot run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")

from driftcore.cli import main
from driftcore.job.profile_file import ProfileFile


def _write(folder: Path, tables: list[pa.Table]) -> str:
    folder.mkdir()
    for i, t in enumerate(tables):
        pq.write_table(t, folder / f"part-{i}.parquet", row_group_size=700)
    return str(folder)


def _table(rng, n, shift=0.0, start=0):
    notes = [
        f"review {j} of the product: it arrived on time and works as described"
        for j in range(start, start + n)
    ]
    return pa.table(
        {
            "x": rng.normal(shift, 1.0, n),
            "k": rng.integers(0, 30, n),
            "c": rng.choice(["p", "q", "r"], n),
            "note": notes,
        }
    )


@pytest.fixture
def folders(tmp_path, rng):
    ref = [_table(rng, 1500), _table(rng, 2500, start=1500), _table(rng, 1800, start=4000)]
    cur = [
        _table(rng, 2000, 0.3, start=10_000),
        pa.concat_tables([_table(rng, 900, 0.3, start=20_000), ref[1].slice(7, 12)]),
    ]
    return _write(tmp_path / "ref", ref), _write(tmp_path / "cur", cur)


def _doc(path) -> dict:
    """The report without what differs between any two runs (timings, creation times)."""
    doc = json.loads(Path(path).read_text())
    doc.pop("timing")

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if not k.endswith("_utc")}
        return [strip(v) for v in x] if isinstance(x, list) else x

    return strip(doc)


def _run(capsys, *argv) -> int:
    code = main([str(a) for a in argv])
    capsys.readouterr()
    return code


def test_check_on_dask_equals_single_process(capsys, tmp_path, folders, dask_client):
    ref, cur = folders
    address = dask_client.scheduler.address
    assert _run(capsys, "check", ref, cur, "--json", tmp_path / "a.json", "-q") == 1
    assert (
        _run(capsys, "check", ref, cur, "--json", tmp_path / "b.json", "-q", "--scheduler", address)
        == 1
    )
    a, b = _doc(tmp_path / "a.json"), _doc(tmp_path / "b.json")
    assert a["leakage"]["exact_rows"]["n_leaked"] == 12
    assert a["leakage"]["near_duplicates"][0]["examples"]
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    # Drift on one column, rows keyed on all of them, the same on Dask.
    for name, extra in (("c.json", []), ("d.json", ["--scheduler", address])):
        _run(capsys, "check", ref, cur, "--json", tmp_path / name, "-q", "--columns", "x", *extra)
    c, d = _doc(tmp_path / "c.json"), _doc(tmp_path / "d.json")
    assert c["leakage"]["exact_rows"]["n_leaked"] == 12
    assert c["leakage"]["exact_rows"]["columns"] == ["x", "k", "c", "note"]
    assert json.dumps(c, sort_keys=True) == json.dumps(d, sort_keys=True)


def test_profile_compare_loop_on_dask(capsys, tmp_path, folders, dask_client):
    ref, cur = folders
    address = dask_client.scheduler.address
    for where in ("local", "dask"):
        out = tmp_path / where
        out.mkdir()
        extra = ["--scheduler", address] if where == "dask" else []
        assert _run(capsys, "profile", ref, "-o", out / "ref.dcp", "-q", *extra) == 0
        assert (
            _run(
                capsys,
                "profile",
                cur,
                "-o",
                out / "cur.dcp",
                "-q",
                "--reference",
                out / "ref.dcp",
                *extra,
            )
            == 0
        )
        assert (
            _run(capsys, "compare", out / "ref.dcp", cur, "-q", "--json", out / "r.json", *extra)
            == 1
        )
    for name in ("ref.dcp", "cur.dcp"):
        a = ProfileFile.from_bytes((tmp_path / "local" / name).read_bytes())
        b = ProfileFile.from_bytes((tmp_path / "dask" / name).read_bytes())
        assert a.profile == b.profile and a.text == b.text
        np.testing.assert_array_equal(a.sample, b.sample)
        for meta in (a.meta, b.meta):
            meta.pop("created_utc"), meta.pop("reference")  # the time and the .dcp's path
        assert a.meta == b.meta
    a, b = (
        json.dumps(_doc(tmp_path / w / "r.json"), sort_keys=True).replace(str(tmp_path / w), "")
        for w in ("local", "dask")
    )
    assert a == b


def test_scheduler_local_starts_a_cluster(capsys, tmp_path, folders):
    ref, _ = folders
    assert _run(capsys, "profile", ref, "-o", tmp_path / "a.dcp", "-q") == 0
    assert _run(capsys, "profile", ref, "-o", tmp_path / "b.dcp", "-q", "--scheduler", "local") == 0
    a = ProfileFile.from_bytes((tmp_path / "a.dcp").read_bytes())
    b = ProfileFile.from_bytes((tmp_path / "b.dcp").read_bytes())
    assert a.profile == b.profile and a.text == b.text


def test_scheduler_errors_are_one_line(capsys, tmp_path, folders, monkeypatch, dask_client):
    ref, cur = folders
    csv = tmp_path / "r.csv"
    csv.write_text("x\n1.0\n2.0\n")
    code = main(["check", str(csv), str(csv), "--scheduler", dask_client.scheduler.address])
    err = capsys.readouterr().err
    assert code == 2 and "--scheduler reads Parquet" in err and len(err.strip().splitlines()) == 1
    # dask-cuda missing, a scheduler that does not answer
    monkeypatch.setitem(sys.modules, "dask_cuda", None)
    code = main(["profile", ref, "-o", str(tmp_path / "p.dcp"), "--scheduler", "local-cuda"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == (
        "driftcore: --scheduler local-cuda: needs dask-cuda: pip install dask-cuda (and cudf)"
    )
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(
            ["profile", ref, "-o", str(tmp_path / "p.dcp"), "--scheduler", "tcp://127.0.0.1:1"]
        )
    err = capsys.readouterr().err
    assert code == 2 and "--scheduler tcp://127.0.0.1:1: cannot connect" in err
    assert len(err.strip().splitlines()) == 1
    # without Dask installed: exit 2 and what to install
    for name in [
        m
        for m in sys.modules
        if m == "dask" or m.startswith(("dask.", "driftcore.dask", "driftcore.job.dask"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask", None)
    code = main(["check", ref, cur, "--scheduler", "local"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "driftcore: --scheduler: needs Dask: pip install 'driftcore[dask]'"
