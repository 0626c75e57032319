"""Column roles (target, prediction) and a column's own thresholds, in the library,
the command line, TOML config files and saved profiles."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import driftcore
from driftcore.cli import main
from driftcore.compare import UnknownColumnError
from driftcore.job.report_json import validate


def _churn(seed: int, n: int = 6000, label_rate: float = 0.2, score_shift: float = 0.0):
    """A customer table: features, a 0/1 label and a model score."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.lognormal(10, 0.5, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "tenure": rng.gamma(2.0, 12.0, n),
            "churned": (rng.random(n) < label_rate).astype(np.int64),
            "score": np.clip(rng.beta(2, 6, n) + score_shift, 0, 1),
        }
    )


ROLES = {"target": ["churned"], "prediction": ["score"], "categorical": ["churned"]}


def test_label_shift_fails_the_check_alone_and_is_reported_apart():
    ref, cur = _churn(0), _churn(1, label_rate=0.45)  # features unchanged, labels shifted
    r = driftcore.check(ref, cur, thresholds={"drift_share": 0.5}, **ROLES)
    assert not r.passed and r.exit_code == 1
    assert r.roles == {
        "churned": "target",
        "score": "prediction",
        "age": "feature",
        "income": "feature",
        "plan": "feature",
        "tenure": "feature",
    }
    assert r["churned"].drifted
    assert any(reason.startswith("target 'churned' drifted (") for reason in r.reasons)
    s = r.document["summary"]
    assert s["target_drift"] == ["churned"] and s["prediction_drift"] == []
    assert s["n_judged"] == 4 and s["n_drifted"] == 0  # the drift share is the features'
    validate(r.document)
    assert "churned (target)" in str(r) and "(target)" in r.to_html()
    # The same data without roles: one drifted column of six stays under drift_share.
    plain = driftcore.check(ref, cur, thresholds={"drift_share": 0.5}, categorical=["churned"])
    assert plain.passed and plain["churned"].drifted


def test_prediction_drift_fails_and_clean_splits_pass():
    ref, cur = _churn(0), _churn(1, score_shift=0.08)
    r = driftcore.check(ref, cur, **ROLES)
    assert r.document["summary"]["prediction_drift"] == ["score"]
    assert any(reason.startswith("prediction 'score' drifted") for reason in r.reasons)
    clean = driftcore.check(_churn(2), _churn(3), **ROLES)
    assert clean.passed, clean.reasons


def test_roles_must_name_compared_numeric_or_categorical_columns():
    ref = _churn(0).assign(note=["a long free text comment about the account"] * 6000)
    with pytest.raises(driftcore.InputError, match="--target 'nope' is not a compared column"):
        driftcore.check(ref, ref, target=["nope"])
    with pytest.raises(driftcore.InputError, match="--prediction 'note' is text"):
        driftcore.check(ref, ref, prediction=["note"], text_columns=["note"])
    with pytest.raises(driftcore.InputError, match="both target and prediction"):
        driftcore.check(ref, ref, target=["score"], prediction=["score"])


def test_a_column_threshold_changes_that_column_only():
    rng = np.random.default_rng(4)
    ref = {"a": rng.normal(size=8000), "b": rng.normal(size=8000)}
    cur = {"a": rng.normal(0.25, 1, 8000), "b": rng.normal(0.25, 1, 8000)}
    base = driftcore.check(ref, cur)
    assert base["a"].drifted and base["b"].drifted
    r = driftcore.check(ref, cur, column_thresholds={"a": {"psi": 5, "wasserstein": 5}})
    assert not r["a"].drifted and r["b"].drifted
    assert "psi* >= 5" in r["a"].rule and "psi* >= 0.2" in r["b"].rule
    assert r.document["settings"]["column_thresholds"] == {"a": {"psi": 5, "wasserstein": 5}}
    # The library's compare takes the same overrides.
    rep = driftcore.compare(ref, cur, column_thresholds={"a": {"psi": 5, "wasserstein": 5}})
    assert not rep["a"].drifted and rep["b"].drifted
    with pytest.raises(UnknownColumnError, match="zz"):
        driftcore.compare(ref, cur, column_thresholds={"zz": {"psi": 1}})
    with pytest.raises(ValueError, match="'alpha' cannot be set per column"):
        driftcore.compare(ref, cur, column_thresholds={"a": {"alpha": 0.1}})


def test_a_column_threshold_applies_to_its_findings():
    rng = np.random.default_rng(6)
    ref = {"a": rng.uniform(0, 1, 20000), "b": rng.uniform(0, 1, 20000)}
    cur = {"a": rng.uniform(0, 1.03, 20000), "b": rng.uniform(0, 1.03, 20000)}  # 3% above max
    r = driftcore.check(ref, cur, thresholds={"psi": 9, "wasserstein": 9})
    failed = {f["column"] for f in r.findings if f["kind"] == "out_of_range" and f["failed"]}
    assert failed == {"a", "b"}
    r = driftcore.check(
        ref,
        cur,
        thresholds={"psi": 9, "wasserstein": 9},
        column_thresholds={"a": {"out_of_range": 0.5}},
    )
    failed = {f["column"] for f in r.findings if f["kind"] == "out_of_range" and f["failed"]}
    assert failed == {"b"}
    with pytest.raises(driftcore.InputError, match="not a compared column"):
        driftcore.check(ref, cur, column_thresholds={"zz": {"psi": 1}})
    with pytest.raises(driftcore.InputError, match="cannot be set per column"):
        driftcore.check(ref, cur, column_thresholds={"a": {"near_duplicates": 1}})


def _files(tmp_path, ref, cur):
    paths = []
    for name, df in (("ref", ref), ("cur", cur)):
        p = tmp_path / f"{name}.parquet"
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), p)
        paths.append(str(p))
    return paths


def test_command_line_and_toml_roles_and_column_thresholds(tmp_path, capsys):
    ref, cur = _files(tmp_path, _churn(0), _churn(1, label_rate=0.45))
    out = tmp_path / "r.json"
    argv = ["check", ref, cur, "--target", "churned", "--prediction", "score", "--quiet"]
    argv += ["--categorical", "churned", "--threshold", "drift_share=0.5", "--json", str(out)]
    assert main(argv) == 1
    doc = json.loads(out.read_text())
    assert doc["summary"]["target_drift"] == ["churned"]
    assert doc["settings"]["roles"] == {"churned": "target", "score": "prediction"}
    assert "churned (target)" in capsys.readouterr().out
    # A column's own threshold lets the label shift pass, from the command line ...
    assert main([*argv, "--threshold", "churned:psi=9", "--threshold", "churned:js=9"]) == 0
    # ... or from a config file.
    cfg = tmp_path / "driftcore.toml"
    cfg.write_text(
        '[driftcore]\ntarget = ["churned"]\nprediction = ["score"]\ncategorical = ["churned"]\n'
        "[driftcore.thresholds]\ndrift_share = 0.5\n"
        "[driftcore.column_thresholds.churned]\npsi = 9\njs = 9\n"
    )
    assert main(["check", ref, cur, "--config", str(cfg), "--quiet"]) == 0
    capsys.readouterr()
    for bad in (["--threshold", "nope:psi=1"], ["--threshold", "age:alpha=0.1"]):
        assert main(["check", ref, cur, "--quiet", *bad]) == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_saved_profiles_keep_their_roles(tmp_path, capsys):
    ref, cur = _files(tmp_path, _churn(0), _churn(1, label_rate=0.45))
    dcp = tmp_path / "ref.dcp"
    argv = ["profile", ref, "-o", str(dcp), "--quiet", "--target", "churned"]
    assert main([*argv, "--prediction", "score", "--categorical", "churned"]) == 0
    out = tmp_path / "r.json"
    assert main(["compare", str(dcp), cur, "--quiet", "--json", str(out)]) == 1
    doc = json.loads(out.read_text())
    assert doc["settings"]["roles"] == {"churned": "target", "score": "prediction"}
    assert doc["summary"]["target_drift"] == ["churned"]
    r = driftcore.check(str(dcp), cur)
    assert r.roles["churned"] == "target"
