"""Leakage results a person can act on: both texts with their exact similarity and a
word diff, shingles chosen for short texts, punctuation kept on request, duplicates
within the reference, and temporal histogram edges readable in the JSON."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pytest

import driftcore
from driftcore.job.report_json import validate
from driftcore.job.report_text import render

WORDS = [
    "return",
    "the",
    "value",
    "of",
    "a",
    "key",
    "in",
    "the",
    "mapping",
    "or",
    "raise",
    "an",
    "error",
    "when",
    "it",
    "is",
    "missing",
    "open",
    "file",
    "read",
    "write",
    "close",
    "buffer",
    "stream",
    "socket",
    "thread",
    "lock",
    "queue",
    "event",
    "timer",
]


def _sentences(rng, n, words):
    return [" ".join(rng.choice(WORDS, words)) + "." for _ in range(n)]


def _typo(text, rng):
    chars = list(text.rstrip("."))
    i = int(rng.integers(len(chars)))
    while not chars[i].isalpha():
        i = int(rng.integers(len(chars)))
    chars[i] = "x" if chars[i] != "x" else "y"
    return "".join(chars)


def _short_text_case(seed=0, n=600, copies=60, words=12):
    rng = np.random.default_rng(seed)
    ref = _sentences(rng, n, words)
    cur = [_typo(ref[i], rng) for i in range(copies)] + _sentences(rng, n - copies, words)
    return {"id": np.arange(n), "doc": ref}, {"id": np.arange(n, 2 * n), "doc": cur}


def test_short_texts_are_shingled_by_characters_and_copies_found():
    ref, cur = _short_text_case()
    r = driftcore.check(ref, cur, text_columns=["doc"], examples=3)
    near = r.leakage["near_duplicates"][0]
    assert near["shingles"] == "char 3-grams"
    assert near["n_leaked"] >= 57  # of 60 copies with one typo
    assert near["exceeded"] and not r.passed
    words = driftcore.check(ref, cur, text_columns=["doc"], text_shingles="word")
    w = words.leakage["near_duplicates"][0]
    assert w["shingles"] == "word 5-grams" and w["n_leaked"] < 20
    validate(r.document)


def test_examples_carry_both_texts_their_scores_and_a_word_diff():
    ref, cur = _short_text_case()
    r = driftcore.check(ref, cur, text_columns=["doc"], examples=3)
    ex = r.leakage["near_duplicates"][0]["examples"]
    assert len(ex) == 3
    for e in ex:
        assert e["reference"] == ref["doc"][e["reference_index"]]
        assert e["current"] == cur["doc"][e["current_index"]]
        # The exact scores of the two texts, as find_leakage's exact verification gives.
        want = driftcore.find_leakage(
            [e["reference"]],
            [e["current"]],
            0.5,
            verify="exact",
            hasher=driftcore.MinHasher(shingle="char", n=3),
        )
        assert e["jaccard"] == pytest.approx(float(want.jaccard[0]))
        assert e["containment"] == pytest.approx(float(want.containment[0]))
        assert 0.0 < e["jaccard"] <= e["containment"] <= 1.0
    html = r.to_html()
    assert "<del>" in html and "<ins>" in html and "Jaccard" in html
    out = io.StringIO()
    render(r.document, out, use_rich=False)
    text = out.getvalue()
    assert f"current row {ex[0]['current_index']:,} ~ reference row" in text


def test_punctuation_is_kept_on_request():
    ref = {"f": ["if a > b then return the first value of the pair"] * 3}
    cur = {"f": ["if a < b then return the first value of the pair"] * 3}
    folded = driftcore.check(ref, cur, text_columns=["f"], leak_rows=0)
    near = folded.leakage["near_duplicates"][0]
    assert near["shingles"] == "char 3-grams"
    assert near["n_leaked"] == 3 and near["examples"][0]["jaccard"] == 1.0  # both "a b"
    kept = driftcore.check(ref, cur, text_columns=["f"], leak_rows=0, keep_punctuation=True)
    near = kept.leakage["near_duplicates"][0]
    assert near["shingles"] == "char 3-grams, punctuation kept"
    assert all(e["jaccard"] < 1.0 for e in near["examples"])
    same = driftcore.check(ref, ref, text_columns=["f"], leak_rows=0, keep_punctuation=True)
    assert same.leakage["near_duplicates"][0]["examples"][0]["jaccard"] == 1.0


def test_duplicates_within_the_reference_are_reported():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 1000, 5000)
    ref = {"x": np.concatenate([x, x[:250]]), "c": np.array(["a"] * 5250)}
    cur = {"x": rng.integers(1000, 2000, 3000), "c": np.array(["a"] * 3000)}
    r = driftcore.check(ref, cur)
    dup = r.leakage["exact_rows"]["reference_duplicates"]
    distinct = np.unique(x).size
    assert dup == {
        "n_rows": 5250,
        "n_distinct": distinct,
        "n_duplicate_rows": 5250 - distinct,
        "share": (5250 - distinct) / 5250,
    }
    out = io.StringIO()
    render(r.document, out, use_rich=False)
    assert f"duplicates within the reference: {5250 - distinct:,} of 5,250 rows" in out.getvalue()
    assert "repeat an earlier reference row" in r.to_html()


def test_temporal_histograms_carry_readable_edges():
    t0 = np.datetime64("2024-03-01T00:00:00", "s")
    ref = pa.table({"when": pa.array(t0 + np.arange(0, 86400 * 30, 3600))})
    cur = pa.table({"when": pa.array(t0 + np.arange(0, 86400 * 30, 3600) + 86400 * 3)})
    r = driftcore.check(ref, cur)
    h = r.document["columns"][0]["histogram"]
    assert h["edge_labels"][0] == "2024-03-01T00:00:00"
    assert len(h["edge_labels"]) == len(h["edges"])
    assert all(lbl.startswith("2024-03") for lbl in h["edge_labels"])
    validate(r.document)


def test_rows_are_named_by_their_index_labels():
    import pandas as pd

    rng = np.random.default_rng(8)
    ref = pd.DataFrame(
        {"x": rng.integers(0, 50, 400), "c": rng.choice(["a", "b"], 400)},
        index=[f"cust{i}" for i in range(400)],
    )
    cur = pd.DataFrame(
        {"x": rng.integers(0, 50, 200), "c": rng.choice(["a", "b"], 200)},
        index=pd.RangeIndex(1000, 1200),
    )
    r = driftcore.check(ref, cur, examples=3)
    for e in r.leakage["exact_rows"]["examples"]:
        assert e["reference_label"] == f"cust{e['reference_index']}"
        assert e["current_label"] == 1000 + e["current_index"]
    validate(r.document)
    out = io.StringIO()
    render(r.document, out, use_rich=False)
    e = r.leakage["exact_rows"]["examples"][0]
    assert f"current row {e['current_index']:,} ({e['current_label']})" in out.getvalue()
    # The library's leakage results carry the labels too.
    rows = driftcore.exact_row_leakage(ref, cur)
    assert rows.to_pandas()["train_label"].tolist() == [f"cust{i}" for i in rows.train_index]
    assert rows.eval_labels.tolist() == (1000 + rows.eval_index).tolist()
    near = driftcore.find_leakage(
        pd.Series(["the cat sat on the mat today", "other words here"], index=["t1", "t2"]),
        pd.Series(["the cat sat on the mat today"], index=["e7"]),
        0.8,
        n=2,
    )
    assert near.to_pandas()[["eval_label", "train_label"]].values.tolist() == [["e7", "t1"]]
    plain = driftcore.exact_row_leakage(ref.reset_index(drop=True), cur.reset_index(drop=True))
    assert plain.eval_labels is None and "eval_label" not in plain.to_pandas()


def test_near_duplicates_within_the_reference_are_counted():
    rng = np.random.default_rng(9)
    texts = _sentences(rng, 300, 12)
    ref = {"doc": texts + [_typo(t, rng) for t in texts[:30]]}  # 30 near-copies inside
    cur = {"doc": _sentences(rng, 100, 12)}
    r = driftcore.check(ref, cur, text_columns=["doc"], leak_rows=0)
    dup = r.leakage["near_duplicates"][0]["reference_duplicates"]
    assert dup["status"] == "ok" and dup["n_texts"] == 330
    assert 29 <= dup["n_near_duplicates"] <= 33
    validate(r.document)
    out = io.StringIO()
    render(r.document, out, use_rich=False)
    assert "within the reference:" in out.getvalue()


def test_a_saved_index_is_queried_at_the_similarity_asked_for(tmp_path):
    import pyarrow.parquet as pq

    from driftcore.cli import main

    rng = np.random.default_rng(11)
    ref = _sentences(rng, 400, 40)
    # Copies with 1, 2 or 4 words replaced: estimated Jaccard from about 0.95 down.
    cur = []
    for k, text in enumerate(ref[:90]):
        words = text.split()
        for j in range(1 + (k % 3) * (k % 3)):
            words[(7 * j + k) % len(words)] = "zzz"
        cur.append(" ".join(words))
    pq.write_table(pa.table({"doc": ref}), tmp_path / "ref.parquet")
    pq.write_table(pa.table({"doc": cur}), tmp_path / "cur.parquet")
    dcp = tmp_path / "ref.dcp"
    argv = ["--text-column", "doc", "--text-shingles", "word", "-q"]
    assert main(["profile", str(tmp_path / "ref.parquet"), "-o", str(dcp), *argv]) == 0
    found = {}
    for sim in (0.7, 0.8, 0.95):
        out = tmp_path / f"r{sim}.json"
        args = ["compare", str(dcp), str(tmp_path / "cur.parquet"), *argv, "--json", str(out)]
        main([*args, "--threshold", f"similarity={sim}"])
        near = json.loads(out.read_text())["leakage"]["near_duplicates"][0]
        found[sim] = (near["n_leaked"], near["similarity"])
    # Stricter than the index: fewer pairs; looser: the index's own threshold holds.
    assert found[0.95][0] < found[0.8][0] and found[0.95][1] == 0.95
    assert found[0.7] == found[0.8] and found[0.7][1] == 0.8
