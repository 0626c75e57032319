"""Whole-dataset drift reports: ``driftcore.compare`` against Evidently's
``DataDriftPreset`` on the same pandas DataFrames (10 float64 columns, the current
side shifted by 0.5 on x0..x4, so exactly 5 of 10 columns drift and, at the 0.5 share
both libraries use by default, the dataset drifts).

Group ``compare-10x``; group ``compare-tiny-shift`` is the everyday case (every
column shifted by 0.01 sd at 1e6 rows: nothing drifts, and KS p-values are neither
tiny nor large), driftcore alone. Evidently is slow (about a minute per call at 1e6 rows on a
2-core VM), so it gets only a few rounds; it is skipped when evidently cannot be
imported. Both answers are checked: which columns drift, and the dataset verdict.
"""

from __future__ import annotations

import pytest

import driftcore

DRIFTED = {f"x{i}" for i in range(5)}


def _cells(frames) -> int:
    ref, cur = frames
    return int(ref.size + cur.size)


@pytest.mark.benchmark(group="compare-10x")
def test_compare_driftcore(measure, compare_frames):
    ref, cur = compare_frames
    report = measure(
        "compare",
        lambda: driftcore.compare(ref, cur, threads=1),
        impl="driftcore.compare (1 thread)",
        baseline=True,
        items=_cells(compare_frames),
        rows=len(ref),
        columns=ref.shape[1],
    )
    assert report.dataset_drift
    assert {c.column for c in report.columns if c.drifted} == DRIFTED
    assert report["x0"].drifted and not report["x9"].drifted


@pytest.fixture(scope="module")
def evidently_api():
    """(Report, DataDriftPreset), imported once and untimed (the import takes seconds)."""
    pytest.importorskip("evidently")
    from evidently import Report
    from evidently.presets import DataDriftPreset

    return Report, DataDriftPreset


# Evidently 0.7 and its dependencies (litestar, numpy.core aliases, pandas) emit
# deprecation and future warnings at import and while running; the project's pytest
# config turns warnings into errors.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.benchmark(group="compare-10x")
def test_compare_evidently(measure, compare_frames, evidently_api):
    Report, DataDriftPreset = evidently_api
    ref, cur = compare_frames

    def run():
        return Report([DataDriftPreset()]).run(cur, ref)  # (current, reference)

    snapshot = measure(
        "evidently",
        run,
        impl="evidently DataDriftPreset",
        items=_cells(compare_frames),
        rows=len(ref),
        columns=ref.shape[1],
    )
    result = snapshot.dict()["metrics"]
    count = next(m for m in result if m["metric_name"].startswith("DriftedColumnsCount"))
    assert count["value"]["count"] == len(DRIFTED)
    per_column = {
        m["config"]["column"]: m["value"]
        for m in result
        if m["metric_name"].startswith("ValueDrift")
    }
    assert set(per_column) == {f"x{i}" for i in range(ref.shape[1])}
    # Normed Wasserstein against its 0.1 threshold: the shifted columns sit near 0.5.
    assert {c for c, v in per_column.items() if v >= 0.1} == DRIFTED


@pytest.mark.benchmark(group="compare-tiny-shift")
def test_compare_tiny_shift_driftcore(measure, tiny_shift_frames):
    ref, cur = tiny_shift_frames
    report = measure(
        "compare",
        lambda: driftcore.compare(ref, cur, threads=1),
        impl="driftcore.compare (1 thread)",
        baseline=True,
        items=_cells(tiny_shift_frames),
        rows=len(ref),
        columns=ref.shape[1],
    )
    assert not report.dataset_drift and report.n_drifted == 0
