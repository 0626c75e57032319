"""Comparing a reference dataset with a current one: per-column metrics and verdicts.

Verdict rules (defaults; every threshold is a keyword of :func:`compare`):

* **Small samples** (fewer than ``small_sample`` = 1000 non-missing values on either
  side): a statistical test decides. Numeric: two-sample KS; categorical: chi-square.
  Drift when the p-value (after the optional ``correction``) is below ``alpha`` = 0.05.
* **Large samples**: every p-value is tiny at a million rows, so effect sizes decide.
  Numeric: PSI >= 0.2 on the reference's quantile bins, or Wasserstein-1 divided by
  the reference's standard deviation >= 0.1. Categorical: PSI >= 0.2 or Jensen-Shannon
  distance >= 0.1.
* **Sketched metrics** (profiles built in one streaming pass) carry an error bound.
  The verdict uses the value minus its bound, so sketch error alone never makes a
  column drift; PSI from sketch-estimated bins is reported but not used.
* **Infinities**: the Wasserstein distance here is taken over the finite values (one
  stray inf would otherwise make it infinite, or its sketch bound infinite). ``±inf``
  still count in KS and in the binned metrics (their under/overflow bins), and
  ``metrics.wasserstein`` on raw arrays stays the exact, possibly infinite, value.
* A column absent on one side, or with no values on one side, gets no verdict.
* The dataset drifts when the share of drifted columns (among those with a verdict)
  reaches ``drift_share`` = 0.5.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import _core, _dispatch, _tables, metrics
from .categories import CategoryCounts
from .profile import CategoricalColumn, NumericColumn, Profile


@dataclass
class ColumnDrift:
    """Comparison of one column."""

    column: str
    kind: str  # "numeric", "categorical", or "missing" (absent on one side)
    n_reference: int
    n_current: int
    missing_reference: int = 0
    missing_current: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    error_bounds: dict[str, float] = field(default_factory=dict)
    test: str | None = None
    pvalue: float | None = None
    rule: str = ""
    drifted: bool | None = None
    unseen_categories: list[Any] = field(default_factory=list)


@dataclass
class DriftReport:
    """Result of :func:`compare`: one :class:`ColumnDrift` per column, drifted first."""

    columns: list[ColumnDrift]
    drift_share: float
    threshold_share: float

    @property
    def dataset_drift(self) -> bool:
        return self.drift_share >= self.threshold_share and self.n_drifted > 0

    @property
    def n_drifted(self) -> int:
        return sum(1 for c in self.columns if c.drifted)

    def __getitem__(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(f"no column {name!r} in this report")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "n_drifted": self.n_drifted,
            "columns": [asdict(c) for c in self.columns],
        }

    def to_pandas(self) -> Any:
        """One row per column with its metrics flattened (needs pandas)."""
        import pandas as pd

        rows = []
        for c in self.columns:
            row = {k: v for k, v in asdict(c).items() if k not in ("metrics", "error_bounds")}
            row.update(c.metrics)
            rows.append(row)
        return pd.DataFrame(rows)

    def __str__(self) -> str:
        head = f"{'column':<20} {'kind':<12} {'drift':<6} {'psi':>8} {'wass/std':>9} " \
               f"{'js_dist':>8} {'p-value':>9}  rule"
        lines = [head, "-" * len(head)]
        for c in self.columns:
            verdict = {True: "DRIFT", False: "ok", None: "-"}[c.drifted]
            m = c.metrics
            lines.append(
                f"{c.column[:20]:<20} {c.kind:<12} {verdict:<6} {_fmt(m.get('psi')):>8} "
                f"{_fmt(m.get('wasserstein_normed')):>9} {_fmt(m.get('js_distance')):>8} "
                f"{_fmt(c.pvalue):>9}  {c.rule}"
            )
        lines.append(
            f"{self.n_drifted} of {len(self.columns)} columns drifted "
            f"(share {self.drift_share:.2f}); dataset drift: {self.dataset_drift}"
        )
        return "\n".join(lines)


def _fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2e}"


def compare(
    reference: Any,
    current: Any,
    *,
    bins: int = 10,
    alpha: float = 0.05,
    correction: str | None = None,
    drift_share: float = 0.5,
    small_sample: int = 1000,
    psi_threshold: float = 0.2,
    wasserstein_threshold: float = 0.1,
    js_threshold: float = 0.1,
    columns: list[str] | None = None,
    threads: int | None = None,
    device: str = "auto",
) -> DriftReport:
    """Compare ``current`` with ``reference``, column by column.

    Each side is raw data (a dict of arrays, pandas DataFrame, pyarrow Table or
    RecordBatch) or a :class:`Profile`. On raw data every metric is exact; with a
    profile, KS and Wasserstein come from its sketch and carry an error bound.
    ``correction`` ("bonferroni" or "bh" for Benjamini-Hochberg) adjusts the p-values
    of the small-sample tests. The rules are in this module's docstring.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> rng = np.random.default_rng(0)
    >>> ref = {"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)}
    >>> cur = {"x": rng.normal(0.5, 1, 5000), "c": rng.choice(["a", "b"], 5000)}
    >>> report = driftcore.compare(ref, cur)
    >>> report["x"].drifted, report["c"].drifted
    (True, False)
    """
    if correction not in (None, "bonferroni", "bh"):
        raise ValueError(f"correction must be None, 'bonferroni' or 'bh', got {correction!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    raw_ref = None if isinstance(reference, Profile) else _tables.read_chunk(_one_table(reference, "reference"))
    raw_cur = None if isinstance(current, Profile) else _tables.read_chunk(_one_table(current, "current"))
    if raw_ref is not None and raw_cur is not None and not _on_device(raw_ref, raw_cur):
        ref_cols: dict[str, Any] = raw_ref
        cur_cols: dict[str, Any] = raw_cur
    else:
        ref_prof = reference if raw_ref is None else Profile.build(
            reference, bins=bins, threads=threads, device=device
        )
        cur_prof = current if raw_cur is None else Profile.build(
            current, bins=bins, reference=ref_prof, threads=threads, device=device
        )
        ref_cols, cur_cols = ref_prof.columns, cur_prof.columns
        raw_ref = raw_cur = None
    names = list(dict.fromkeys([*ref_cols, *cur_cols]))
    if columns is not None:
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise KeyError(f"unknown columns: {unknown} (have {names})")
        names = list(columns)
    results = []
    for name in names:
        r, c = ref_cols.get(name), cur_cols.get(name)
        if r is None or c is None:
            results.append(_missing(name, r, c))
            continue
        if r.kind != c.kind:
            raise TypeError(f"column {name!r} is {r.kind} in the reference, {c.kind} in current")
        if raw_ref is not None:
            if r.kind == "numeric":
                results.append(_numeric_raw(name, r, c, bins, threads))
            else:
                results.append(_categorical(name, _counted(r), _counted(c)))
        elif isinstance(r, NumericColumn):
            results.append(_numeric(name, r, c, bins))
        else:
            results.append(_categorical(name, r, c))
    _adjust_pvalues(results, correction)
    rules = {
        "alpha": alpha, "small": small_sample, "psi": psi_threshold, "wass": wasserstein_threshold,
        "js": js_threshold,
    }
    for res in results:
        _verdict(res, **rules)
    judged = [r for r in results if r.drifted is not None]
    share = (sum(1 for r in judged if r.drifted) / len(judged)) if judged else 0.0
    results.sort(key=lambda r: (not r.drifted, r.drifted is None))
    return DriftReport(results, share, drift_share)


def _one_table(data: Any, side: str) -> Any:
    if not _tables.is_chunk(data):
        raise TypeError(
            f"{side} must be a table (dict of arrays, DataFrame, pyarrow Table) or a "
            "Profile; profile a stream of chunks with Profile.build first"
        )
    return data


def _on_device(*tables: dict[str, Any]) -> bool:
    return any(_dispatch.is_device_array(col.values) for t in tables for col in t.values())


def _size(col: Any) -> int:
    """Non-missing values of a Profile column or a raw column chunk."""
    if isinstance(col, (NumericColumn, CategoricalColumn)):
        return col.count
    if col.kind == "numeric":
        v = col.values
        return int(v.size - (np.count_nonzero(np.isnan(v)) if v.dtype.kind == "f" else 0))
    return _counted(col).total


def _counted(col: Any) -> CategoricalColumn:
    counts = CategoryCounts()
    counts.update(col.values)
    return CategoricalColumn(counts)


def _missing(name: str, r: Any, c: Any) -> ColumnDrift:
    kind = (r or c).kind
    side = "current" if c is None else "reference"
    return ColumnDrift(
        name, "missing", _size(r) if r else 0, _size(c) if c else 0,
        rule=f"{kind} column absent from the {side} data",
    )


def _numeric_raw(name: str, r: Any, c: Any, bins: int, threads: int | None) -> ColumnDrift:
    """Every numeric metric, exact, from one sort of each side: quantile edges and bin
    counts by binary search on the sorted reference and current, KS and Wasserstein
    from one merge walk."""
    nthreads = _dispatch.resolve_threads(threads)
    sa, sb = metrics._sorted_pair(r.values, c.values, nthreads)
    res = ColumnDrift(name, "numeric", sa.size, sb.size,
                      r.nulls + r.values.size - sa.size, c.nulls + c.values.size - sb.size)
    if sa.size == 0 or sb.size == 0:
        res.rule = "no values on one side"
        return res
    edges = _exact_quantile_edges(sa, bins)
    a, b = _sorted_counts(sa, edges), _sorted_counts(sb, edges)
    res.metrics.update(metrics.binned_metrics(a, b))
    res.metrics["psi_from_sketch"] = 0.0
    stat, w, na, nb = _core.two_sample_sorted(sa, sb)
    if math.isinf(w) or np.isinf(sa[[0, -1]]).any() or np.isinf(sb[[0, -1]]).any():
        w = _finite_sorted_wasserstein(sa, sb)
    ks = metrics._ks_result(stat, na, nb, 0.0, (sa, sb), sa, sb)
    m_ref = _core.moments(sa, nthreads)
    m_cur = _core.moments(sb, nthreads)
    std = math.sqrt(m_ref.m2 / m_ref.count) if m_ref.count else math.nan
    res.metrics["ks"] = ks.statistic
    res.metrics["wasserstein"] = w
    res.metrics["wasserstein_normed"] = w / std if std > 0 else math.nan
    res.metrics["mean_reference"] = m_ref.mean if m_ref.count else math.nan
    res.metrics["mean_current"] = m_cur.mean if m_cur.count else math.nan
    res.test, res.pvalue = "ks", ks.pvalue
    return res


def _exact_quantile_edges(s: np.ndarray, bins: int) -> np.ndarray:
    """The rule of QuantileSketch.quantile_edges, on the exact sorted sample."""
    q = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.ceil(q * s.size).astype(np.int64) - 1, 0, s.size - 1)
    e = np.unique(s[idx])
    e = e[np.isfinite(e)]
    if e.size == 0:
        e = np.array([0.0])
    if e.size == 1:
        e = np.array([e[0], np.nextafter(e[0], np.inf)])
    return e


def _sorted_counts(s: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Underflow, bin and overflow counts of a sorted sample (numpy's bin rule)."""
    left = np.searchsorted(s, edges, side="left")
    right_last = np.searchsorted(s, edges[-1], side="right")
    inner = np.diff(left).astype(np.float64)
    inner[-1] = right_last - left[-2]  # the last bin is closed
    return np.concatenate([[left[0]], inner, [s.size - right_last]]).astype(np.float64)


def _numeric(name: str, r: NumericColumn, c: NumericColumn, bins: int) -> ColumnDrift:
    res = ColumnDrift(name, "numeric", r.count, c.count, r.missing, c.missing)
    if r.count == 0 or c.count == 0:
        res.rule = "no values on one side"
        return res
    # Binned metrics: exact when both sides were binned on the same edges.
    hr, hc = r.histogram, c.histogram
    exact_bins = hr is not None and hc is not None and np.array_equal(hr.edges, hc.edges)
    if exact_bins:
        a, b = metrics.binned_counts(hr, hc)
    else:
        edges = r.edges(bins)
        a, b = _counts_from_sketch(r, edges), _counts_from_sketch(c, edges)
        res.error_bounds["bin_proportions"] = r.sketch.rank_error + c.sketch.rank_error
    res.metrics.update(metrics.binned_metrics(a, b))
    res.metrics["psi_from_sketch"] = float(not exact_bins)
    ks, w = metrics.two_sample(r.sketch, c.sketch)
    w_distance, w_bound = w.distance, w.error_bound
    if _infinities(r) or _infinities(c):
        w_distance, w_bound = _finite_sketch_wasserstein(r, c)
    std = math.sqrt(r.variance) if r.moments.count else math.nan
    res.metrics["ks"] = ks.statistic
    res.metrics["wasserstein"] = w_distance
    res.metrics["wasserstein_normed"] = w_distance / std if std > 0 else math.nan
    res.metrics["mean_reference"] = r.mean
    res.metrics["mean_current"] = c.mean
    if ks.error_bound:
        res.error_bounds["ks"] = ks.error_bound
    if w_bound:
        res.error_bounds["wasserstein"] = w_bound
        res.error_bounds["wasserstein_normed"] = w_bound / std if std > 0 else math.nan
    res.test, res.pvalue = "ks", ks.pvalue
    return res


# Wasserstein in compare is taken over the finite values: one stray inf would make it
# infinite (always "drifted" on raw data) or its sketch error bound infinite (never
# "drifted"). Infinities are counted apart (moments.pos_inf / neg_inf) and still move
# KS and the binned metrics (their under/overflow bins).


def _infinities(col: NumericColumn) -> int:
    return int(col.moments.pos_inf + col.moments.neg_inf)


def _finite_view(col: NumericColumn) -> tuple[np.ndarray, np.ndarray]:
    values, cum = col.sketch.sorted_view()
    keep = np.isfinite(values)
    weights = np.diff(np.concatenate([[0.0], cum]))[keep]
    return np.ascontiguousarray(values[keep]), np.cumsum(weights)


def _finite_sketch_wasserstein(r: NumericColumn, c: NumericColumn) -> tuple[float, float]:
    """(distance, error bound) between the finite parts of two columns' sketches."""
    va, ca = _finite_view(r)
    vb, cb = _finite_view(c)
    if va.size == 0 or vb.size == 0:
        return math.nan, 0.0
    _, w, _, _ = _core.two_sample_weighted(va, ca, vb, cb)
    eps = r.sketch.rank_error + c.sketch.rank_error
    span = max(r.moments.max, c.moments.max) - min(r.moments.min, c.moments.min)
    return float(w), eps * span if eps else 0.0


def _finite_sorted_wasserstein(sa: np.ndarray, sb: np.ndarray) -> float:
    """Wasserstein-1 between the finite values of two sorted samples."""
    fa = sa[np.searchsorted(sa, -np.inf, "right"): np.searchsorted(sa, np.inf, "left")]
    fb = sb[np.searchsorted(sb, -np.inf, "right"): np.searchsorted(sb, np.inf, "left")]
    if fa.size == 0 or fb.size == 0:
        return math.nan
    return float(_core.two_sample_sorted(fa, fb, False, True)[1])


def _counts_from_sketch(col: NumericColumn, edges: np.ndarray) -> np.ndarray:
    """Underflow, bin and overflow counts estimated from a sketch's CDF (used when no
    exact histogram on these edges exists)."""
    n = float(col.sketch.n)
    below = col.sketch.cdf(np.nextafter(edges, -np.inf)) * n  # values < e_i
    at_or_below_last = col.sketch.cdf(edges[-1:])[0] * n
    last = at_or_below_last - below[-2]  # the last bin is closed
    return np.concatenate([[below[0]], np.diff(below)[:-1], [last, n - at_or_below_last]])


def _categorical(name: str, r: CategoricalColumn, c: CategoricalColumn) -> ColumnDrift:
    res = ColumnDrift(name, "categorical", r.count, c.count, r.missing, c.missing)
    res.unseen_categories = c.counts.unseen_in(r.counts)
    if r.count == 0 or c.count == 0:
        res.rule = "no values on one side"
        return res
    a, b = metrics.binned_counts(r.counts, c.counts)
    res.metrics.update(metrics.binned_metrics(a, b))
    chi = metrics.chi_square_counts(a, b)
    res.metrics["chi_square"] = chi.statistic
    res.test, res.pvalue = "chi_square", chi.pvalue
    return res


def _adjust_pvalues(results: list[ColumnDrift], correction: str | None) -> None:
    tested = [r for r in results if r.pvalue is not None and not math.isnan(r.pvalue)]
    if correction is None or not tested:
        return
    p = np.array([r.pvalue for r in tested])
    m = p.size
    if correction == "bonferroni":
        adj = np.minimum(p * m, 1.0)
    else:  # Benjamini-Hochberg step-up
        order = np.argsort(p)
        ranked = p[order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        adj = np.empty(m)
        adj[order] = np.minimum(ranked, 1.0)
    for r, a in zip(tested, adj):
        r.pvalue = float(a)


def _verdict(res: ColumnDrift, *, alpha, small, psi, wass, js) -> None:
    if res.kind == "missing" or res.test is None:
        return
    if min(res.n_reference, res.n_current) < small:
        res.drifted = bool(res.pvalue is not None and res.pvalue < alpha)
        res.rule = f"{res.test} p-value < {alpha} (small sample)"
        return
    m, b = res.metrics, res.error_bounds
    if res.kind == "numeric":
        w = m["wasserstein_normed"] - b.get("wasserstein_normed", 0.0)
        by_psi = not m["psi_from_sketch"] and m["psi"] >= psi
        res.drifted = bool(by_psi or (not math.isnan(w) and w >= wass))
        res.rule = f"psi >= {psi} or wasserstein/std >= {wass}"
    else:
        res.drifted = bool(m["psi"] >= psi or m["js_distance"] >= js)
        res.rule = f"psi >= {psi} or js_distance >= {js}"
