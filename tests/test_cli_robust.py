"""The command line on hostile ground: failed writes, outputs that are inputs, CSV
files whose types change late, huge integers, bad settings and hand-made profiles."""

from __future__ import annotations

import errno
import json
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import driftcore
from driftcore import _wire
from driftcore.cli import main
from driftcore.job.profile_file import ProfileFile


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("driftcore: "), err
    return lines[0]


@pytest.fixture
def pq_pair(tmp_path, rng) -> tuple[Path, Path]:
    paths = []
    for name, shift in (("ref", 0.0), ("cur", 0.5)):
        p = tmp_path / f"{name}.parquet"
        pq.write_table(
            pa.table({"wind": rng.normal(shift, 1, 500), "c": rng.choice(["x", "y"], 500)}), p
        )
        paths.append(p)
    return paths[0], paths[1]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- outputs: all or nothing ---------------------------------------------------------------


def test_missing_report_folder_leaves_no_json(capsys, tmp_path, pq_pair):
    ref, cur = pq_pair
    code, _, err = run(
        capsys,
        "check",
        ref,
        cur,
        "--json",
        tmp_path / "ok.json",
        "--report",
        tmp_path / "missing_dir" / "r.html",
    )
    assert code == 2 and "missing_dir" in one_line(err)
    assert not (tmp_path / "ok.json").exists()


def test_outputs_checked_before_reading(capsys, tmp_path, pq_pair, monkeypatch):
    from driftcore.job import read

    def never(*_a, **_k):
        raise AssertionError("read an input before refusing the output")

    monkeypatch.setattr(read, "open_source", never)
    ref, cur = pq_pair
    code, _, err = run(capsys, "check", ref, cur, "--report", tmp_path / "no" / "r.html")
    assert code == 2 and "no such folder" in one_line(err)


def _full_disk_after(monkeypatch, good_writes: int) -> None:
    """The ``good_writes + 1``-th output write stops half way with ENOSPC."""
    from driftcore.job import output

    real, calls = output._write, []

    def write(f, data):
        calls.append(len(data))
        if len(calls) > good_writes:
            real(f, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(f, data)

    monkeypatch.setattr(output, "_write", write)


@pytest.mark.parametrize("good_writes", [0, 1])
def test_full_disk_leaves_no_output(capsys, tmp_path, pq_pair, monkeypatch, good_writes):
    ref, cur = pq_pair
    out = tmp_path / "out"
    out.mkdir()
    _full_disk_after(monkeypatch, good_writes)
    code, _, err = run(
        capsys, "check", ref, cur, "--json", out / "r.json", "--report", out / "r.html"
    )
    assert code == 2 and "No space left on device" in one_line(err)
    assert listing(out) == []  # neither report, no temporary file


def test_full_disk_keeps_the_old_output(capsys, tmp_path, pq_pair, monkeypatch):
    ref, cur = pq_pair
    old = tmp_path / "r.json"
    old.write_text("old report")
    _full_disk_after(monkeypatch, 0)
    code, _, _ = run(capsys, "check", ref, cur, "--json", old)
    assert code == 2 and old.read_text() == "old report"
    assert listing(tmp_path) == ["cur.parquet", "r.json", "ref.parquet"]


def test_full_disk_profile(capsys, tmp_path, pq_pair, monkeypatch):
    ref, _ = pq_pair
    _full_disk_after(monkeypatch, 0)
    code, _, err = run(capsys, "profile", ref, "-o", tmp_path / "ref.dcp", "-q")
    assert code == 2 and "ref.dcp" in one_line(err)
    assert not (tmp_path / "ref.dcp").exists()
    assert listing(tmp_path) == ["cur.parquet", "ref.parquet"]


def test_output_may_not_be_an_input(capsys, tmp_path, pq_pair):
    ref, cur = pq_pair
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,a\n2,b\n")
    before = data.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    hard = tmp_path / "hard.csv"
    hard.hardlink_to(data)
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("seed = 1\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    pq.write_table(pq.read_table(ref), folder / "a.parquet")
    cases = [
        ["profile", data, "-o", data],
        ["profile", link, "-o", data],  # the same file through a symlink
        ["profile", data, "-o", link],
        ["profile", data, "-o", hard],  # a hard link
        ["check", ref, cur, "--json", ref],
        ["check", ref, cur, "--report", cur],
        ["check", ref, cur, "--json", cfg, "--config", cfg],
        ["check", ref, cur, "--json", tmp_path / "r", "--report", tmp_path / "r"],
        ["profile", folder, "-o", folder / "b.parquet"],
    ]
    for argv in cases:
        code, _, err = run(capsys, *argv)
        assert code == 2, (argv, err)
        one_line(err)
    assert data.read_bytes() == before and cfg.read_text() == "seed = 1\n"
    assert listing(folder) == ["a.parquet"] and not (tmp_path / "r").exists()


def test_json_to_stdout_still_works(capsys, pq_pair, tmp_path):
    ref, cur = pq_pair
    code, out, err = run(capsys, "check", ref, cur, "--json", "-", "--report", tmp_path / "r.html")
    assert code in (0, 1) and json.loads(out)["schema_version"] == 2
    assert "reference:" in err and (tmp_path / "r.html").exists()


def test_written_files_keep_an_ordinary_mode(capsys, pq_pair, tmp_path):
    ref, cur = pq_pair
    run(capsys, "check", ref, cur, "--json", tmp_path / "r.json")
    assert (tmp_path / "r.json").stat().st_mode & 0o777 != 0o600
    json.loads((tmp_path / "r.json").read_text())


# --- files as they are ---------------------------------------------------------------------


def test_int64_beyond_2_53(capsys, tmp_path, rng):
    big = 2**53
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    pq.write_table(
        pa.table(
            {
                "id": pa.array([big + 1 + 2 * i for i in range(300)], pa.int64()),
                "x": rng.normal(size=300),
            }
        ),
        ref,
    )
    # each current id is a reference id minus one: equal as float64, not as integers
    pq.write_table(
        pa.table(
            {
                "id": pa.array([big + 2 * i for i in range(300)], pa.int64()),
                "x": pq.read_table(ref).column("x"),
            }
        ),
        cur,
    )
    code, _, err = run(capsys, "check", ref, cur, "--json", tmp_path / "r.json")
    assert code in (0, 1), err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert sorted(c["column"] for c in doc["columns"]) == ["id", "x"]
    assert doc["leakage"]["exact_rows"]["n_leaked"] == 0  # told apart exactly
    csv = tmp_path / "big.csv"
    csv.write_text("id,x\n" + "".join(f"{big + 1 + i},{i}\n" for i in range(100)))
    code, _, err = run(capsys, "profile", csv, "-o", tmp_path / "big.dcp", "-q")
    assert code == 0, err


def ints_csv(path: Path, rows: int, odd: str, at: int) -> Path:
    """Column ``a`` holds integers except ``odd`` at data row ``at`` (1-based)."""
    lines = [f"{i},{i % 7}\n" for i in range(rows)]
    lines[at - 1] = f"{odd},3\n"
    path.write_text("a,b\n" + "".join(lines))
    return path


def offset(path: Path, odd: str) -> int:
    """Byte offset of the row holding ``odd``."""
    return path.read_bytes().index(f"\n{odd},".encode())


def doc_of(capsys, tmp_path, *argv) -> dict:
    code, _, err = run(capsys, "check", *argv, "--json", tmp_path / "r.json", "-q")
    assert code in (0, 1), err
    return json.loads((tmp_path / "r.json").read_text())


@pytest.mark.parametrize(("at", "past"), [(20_000, 128_000), (160_000, 2**20)])
def test_csv_word_late_is_read_as_string(capsys, tmp_path, at, past):
    path = ints_csv(tmp_path / "late.csv", 170_000, "word", at)
    assert offset(path, "word") > past
    doc = doc_of(capsys, tmp_path, path, path)
    assert "a" in doc["settings"]["identifier_columns"]  # a string column, all ids
    code, _, err = run(
        capsys, "profile", path, "-o", tmp_path / "late.dcp", "--batch-size", "4096", "-q"
    )
    assert code == 0, err


@pytest.mark.parametrize("batch", ["4096", "262144"])
def test_csv_float_after_integers(capsys, tmp_path, batch):
    path = ints_csv(tmp_path / "late.csv", 170_000, "1.5", 160_000)
    assert offset(path, "1.5") > 2**20
    doc = doc_of(capsys, tmp_path, path, path, "--batch-size", batch)
    a = next(c for c in doc["columns"] if c["column"] == "a")
    assert a["kind"] == "numeric" and a["type"] == "double"


def test_csv_late_word_in_current_is_a_type_change_naming_column_and_row(capsys, tmp_path):
    ref = ints_csv(tmp_path / "ref.csv", 170_000, "7", 1)
    cur = ints_csv(tmp_path / "cur.csv", 170_000, "word", 160_000)
    assert offset(cur, "word") > 2**20
    code, out, err = run(capsys, "check", ref, cur, "-q")
    # the column's type changed: a finding (exit 1) that names the row and the way out
    assert code == 1 and err == ""
    assert "column 'a' changed type" in out and "160,000" in out and "--exclude a" in out
    code, _, err = run(capsys, "check", ref, cur)  # without -q, a note says what happened
    assert code == 1 and "note:" in err and "starting over" in err
    code, _, err = run(capsys, "check", ref, cur, "--exclude", "a", "-q")
    assert code in (0, 1), err


def test_csv_invalid_utf8_late(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    body = "".join(f"{i},w{i % 5}\n" for i in range(170_000)).encode()
    path.write_bytes(b"a,b\n" + body + b"5,\xff\xfe\n")
    code, _, err = run(capsys, "check", path, path, "-q")
    line = one_line(err)
    assert code == 2 and "'b'" in line and "UTF-8" in line and "--exclude b" in line


def test_csv_empty_then_numbers(capsys, tmp_path, monkeypatch):
    # a column with nothing in its first bytes, then integers, then a float
    from driftcore.job import read_csv

    monkeypatch.setattr(read_csv, "INFER_BYTES", 4096)
    rows = ["a,b\n"] + [f"{i},\n" for i in range(2000)] + [f"{i},{i}\n" for i in range(2000)]
    rows.append("1,2.5\n")
    path = tmp_path / "t.csv"
    path.write_text("".join(rows))
    doc = doc_of(capsys, tmp_path, path, path, "--batch-size", "256")
    b = next(c for c in doc["columns"] if c["column"] == "b")
    assert b["kind"] == "numeric" and b["type"] == "double"


def test_widening_rule():
    from driftcore.job import read_csv

    assert read_csv.wider(pa.int64(), "1e5") == pa.float64()
    assert read_csv.wider(pa.null(), "12") == pa.int64()
    assert read_csv.wider(pa.null(), "99999999999999999999") == pa.float64()
    assert read_csv.wider(pa.float64(), "n/a") == pa.string()
    assert read_csv.wider(pa.bool_(), "maybe") == pa.string()
    assert read_csv.wider(pa.string(), "x") is None


# --- messages ------------------------------------------------------------------------------


def test_bad_settings_one_line(capsys, tmp_path, pq_pair):
    ref, cur = pq_pair
    tomls = {
        "threads = true\n": "threads",
        'columns = "wind"\n': "columns must be a list",
        "exclude = [1, 2]\n": "exclude must be a list",
        'threads = "2"\n': "threads",
        "threads = 0\n": "threads",
    }
    for i, (text, want) in enumerate(tomls.items()):
        cfg = tmp_path / f"c{i}.toml"
        cfg.write_text(text)
        code, _, err = run(capsys, "check", ref, cur, "--config", cfg)
        line = one_line(err)
        assert code == 2 and want in line and cfg.name in line, (text, line)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)))
    code, _, err = run(capsys, "check", ref, cur, "--config", binary)
    assert code == 2 and "binary.toml" in one_line(err)
    for value in ("99999999999", "4097"):
        code, _, err = run(capsys, "check", ref, cur, "--threads", value)
        assert code == 2 and "threads must be an integer in [1, 4096]" in one_line(err)
    code, _, err = run(capsys, "check", ref, cur, "--threads", "4096", "-q")
    assert code in (0, 1), err


def _crafted(pf: ProfileFile) -> dict[str, bytes]:
    m = pf.meta
    metas = {
        "no rows": {k: v for k, v in m.items() if k != "rows"},
        "rows not a number": {**m, "rows": "many"},
        "no columns": {k: v for k, v in m.items() if k != "columns"},
        "columns a string": {**m, "columns": "wind"},
        "column None": {**m, "columns": [None]},
        "extra column": {**m, "columns": [*m["columns"], "zz"]},
        "no kinds": {k: v for k, v in m.items() if k != "kinds"},
        "kind unknown": {**m, "kinds": {**m["kinds"], "c": "zzz"}},
        "kinds swapped": {**m, "kinds": {"wind": "categorical", "c": "numeric"}},
        "types missing one": {**m, "types": {"wind": "double"}},
        "categorical a string": {**m, "categorical": "c"},
        "seed a bool": {**m, "seed": True},
        "meta a list": [1, 2],
    }
    out = {
        name: ProfileFile(pf.profile, meta, pf.sample, pf.sample_columns, pf.text).to_bytes()
        for name, meta in metas.items()
    }
    out["sample columns wrong"] = ProfileFile(pf.profile, m, pf.sample, ["c"], pf.text).to_bytes()
    out["sample shape wrong"] = ProfileFile(
        pf.profile, m, np.zeros((3, 4)), pf.sample_columns, pf.text
    ).to_bytes()
    head = json.dumps(
        {
            "format_version": 2,
            "fingerprint": "",
            "meta": m,
            "sample_shape": [0, 0],
            "sample_columns": [],
            "blobs": [[None, 0]],
        }
    ).encode()
    out["blob name None"] = _wire.frame(b"DCPF", struct.pack("<Q", len(head)) + head)
    return out


def test_crafted_profiles_are_corrupted(capsys, tmp_path, pq_pair):
    ref, cur = pq_pair
    good = tmp_path / "ref.dcp"
    assert main(["profile", str(ref), "-o", str(good), "-q"]) == 0
    pf = ProfileFile.from_bytes(good.read_bytes())
    for name, data in _crafted(pf).items():
        bad = tmp_path / "bad.dcp"
        bad.write_bytes(data)
        for argv in (
            ["compare", bad, cur],
            ["compare", good, bad],
            ["check", bad, cur],
            ["profile", cur, "-o", tmp_path / "c.dcp", "--reference", bad],
        ):
            code, _, err = run(capsys, *argv)
            line = one_line(err)
            assert code == 2 and "bad.dcp: corrupted profile:" in line, (name, argv, line)


def test_compare_names_an_unknown_column():
    data = {"a": np.arange(10.0)}
    for exc in (ValueError, KeyError):
        with pytest.raises(exc, match=r"unknown columns: \['nope'\]"):
            driftcore.compare(data, data, columns=["nope"])
    with pytest.raises(TypeError, match="columns must be a list"):
        driftcore.compare(data, data, columns="a")
    with pytest.raises(ValueError, match="threads"):
        driftcore.compare(data, data, threads=99999999999)


def test_csv_empty_fields_are_missing_values(capsys, tmp_path):
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.write_text("plan,x\n" + "".join(f"{'a' if i % 2 else ''},{i}\n" for i in range(200)))
    cur.write_text("plan,x\n" + "".join(f"{'a' if i % 2 else 'b'},{i}\n" for i in range(200)))
    code, _, _ = run(capsys, "check", ref, cur, "-q", "--json", tmp_path / "o.json")
    doc = json.loads((tmp_path / "o.json").read_text())
    plan = next(c for c in doc["columns"] if c["column"] == "plan")
    assert plan["missing_reference"] == 100 and plan["missing_current"] == 0
    assert "" not in plan["histogram"]["categories"]
    assert plan["missing_changed"] and code == 1
