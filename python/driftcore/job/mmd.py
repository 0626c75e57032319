"""The multivariate MMD step of a check: one small function with a fixed contract.

:func:`mmd_section` receives the standardized numeric samples of both sides and
returns the ``"mmd"`` section of the report (or None when there are no numeric
columns). It calls ``driftcore.mmd_test`` when this build has it, and otherwise
records ``{"status": "unavailable"}``, so reports keep one shape either way.

Contract of the returned dict (JSON schema: ``report.v1.json``, ``$defs/mmd``):

* ``status``: ``"ok"`` (the test ran), ``"unavailable"`` (no ``driftcore.mmd_test``
  in this build) or ``"skipped"`` (fewer than 2 complete rows on a side);
* ``columns``: the numeric columns, in sample column order; ``n_reference``,
  ``n_current``: rows in each sample (rows with a missing value are left out);
  ``sample_size``: the requested rows per side (``--mmd-sample``); ``alpha``;
* with ``"ok"`` only: ``mmd2``, ``p_value``, ``threshold``, ``bandwidth``,
  ``estimator`` (from the test's result). The report adds ``p_value_adjusted`` and
  ``drifted`` once the p-value has been corrected with the columns' (see
  :mod:`driftcore.verdict`).

Examples
--------
>>> import numpy as np
>>> from driftcore.job.mmd import mmd_section, standardize
>>> x = standardize(np.arange(6.0).reshape(3, 2), np.array([2.0, 3.0]), np.array([2.0, 2.0]))
>>> x[:, 0].tolist()
[-1.0, 0.0, 1.0]
>>> fake = lambda x, y, **kw: type("R", (), dict(mmd2=0.5, pvalue=0.01, threshold=0.1,
...     bandwidth=1.0, estimator="unbiased"))()
>>> sec = mmd_section(x, x, ["a", "b"], sample_size=3, alpha=0.05, test=fake)
>>> sec["status"], sec["p_value"], sec["n_current"]
('ok', 0.01, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def standardize(sample: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(sample - mean) / std per column, a std of 0 or NaN counting as 1."""
    scale = np.where((std > 0) & np.isfinite(std), std, 1.0)
    return (sample - mean) / scale


def complete_rows(sample: np.ndarray) -> np.ndarray:
    """The rows of a 2-D sample whose values are all finite."""
    if sample.size == 0:
        return sample
    return sample[np.all(np.isfinite(sample), axis=1)]


def mmd_section(
    ref_sample: np.ndarray,
    cur_sample: np.ndarray,
    columns: list[str],
    *,
    sample_size: int,
    alpha: float,
    n_permutations: int = 100,
    seed: int = 0,
    test: Callable[..., Any] | None = None,
) -> dict[str, Any] | None:
    """The MMD section of a report (see the module docstring for its fields).

    ``ref_sample`` and ``cur_sample`` are (rows, len(columns)) float64 arrays,
    standardized by the pooled samples' mean and std. ``test`` defaults to
    ``driftcore.mmd_test`` when this build has it.
    """
    if not columns:
        return None
    if test is None:
        import driftcore

        test = getattr(driftcore, "mmd_test", None)
    section: dict[str, Any] = {
        "status": "unavailable",
        "columns": list(columns),
        "n_reference": len(ref_sample),
        "n_current": len(cur_sample),
        "sample_size": int(sample_size),
        "alpha": float(alpha),
    }
    if test is None:
        section["reason"] = "driftcore.mmd_test is not in this build"
        return section
    if len(ref_sample) < 2 or len(cur_sample) < 2:
        section["status"] = "skipped"
        section["reason"] = "fewer than 2 complete rows on one side"
        return section
    res = test(
        ref_sample,
        cur_sample,
        kernel="rbf",
        bandwidth="median",
        n_permutations=n_permutations,
        seed=seed,
    )
    p = float(res.pvalue)
    section.update(
        status="ok",
        mmd2=float(res.mmd2),
        p_value=p,
        threshold=float(res.threshold),
        bandwidth=float(np.asarray(res.bandwidth, dtype=float).ravel()[0]),
        estimator=str(res.estimator),
    )
    return section
