"""The decision rule: when a column drifts, and when a whole comparison fails.

One rule, applied by :func:`driftcore.compare`, the command line and the Dask layer
alike (the statistics page of the documentation says why it is built this way):

1. **Every column with values on both sides is tested**: numeric columns by the
   two-sample Kolmogorov-Smirnov test (conservative when computed from summaries),
   categorical and discrete numeric columns by the chi-square test of homogeneity.
   Other tests of the same "nothing changed" hypothesis (the multivariate MMD test of
   a check) join the same family.
2. **The family's p-values are corrected together** (``correction``, Holm by default),
   so that on data that did not drift the chance of *any* false alarm, however many
   columns, is at most ``alpha``. ``"bh"`` (Benjamini-Hochberg) controls the false
   discovery rate instead, which equals the family-wise rate when nothing drifted;
   ``"bonferroni"`` is Holm's cruder form; ``"none"`` tests each column at ``alpha``
   (the family-wise rate then grows with the number of columns).
3. **A column drifts when its difference is statistically real and large enough to
   matter**: adjusted p-value <= ``alpha`` *and* an effect size at or above its
   threshold. Numeric: Wasserstein-1 / reference std >= ``wasserstein``, or PSI >=
   ``psi`` on exact bins. Categorical (and discrete numeric): PSI >= ``psi`` or
   Jensen-Shannon distance >= ``js``. PSI and JS are taken *net of their sampling
   noise* (``psi_debiased``, ``js_distance_debiased``), so that many rare levels do
   not look like drift; on large samples the noise is negligible and the thresholds
   mean what they mean in other drift tools.
4. **Missing values are a finding of their own**: where either side has missing
   values, the share of missing values is compared by a two-proportion (2 x 2
   chi-square) test that joins the same family, and the column's missing share has
   changed when its adjusted p-value is <= ``alpha`` and the share moved by at least
   ``missing`` (0.05: five percentage points).
5. **The dataset drifts** when the share of drifted columns among those judged is at
   least ``drift_share`` (0, the default: any drifted column), a column's missing
   share changed, or any extra test of the family rejects.

Examples
--------
>>> from driftcore.verdict import Rules, adjust_pvalues
>>> adjust_pvalues([0.01, 0.04, 0.03], "holm").tolist()
[0.03, 0.06, 0.06]
>>> Rules().correction, Rules().alpha
('holm', 0.05)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .compare import ColumnDrift

CORRECTIONS = ("holm", "bh", "bonferroni", "none")
#: The thresholds a column may set for itself (alpha and the correction belong to the
#: whole family of tests, drift_share to the dataset).
COLUMN_THRESHOLDS = ("psi", "wasserstein", "js", "missing")


@dataclass(frozen=True)
class Rules:
    """Thresholds of the decision rule (see the module docstring).

    Examples
    --------
    >>> from driftcore.verdict import Rules
    >>> Rules(psi=0.25).psi
    0.25
    >>> Rules(columns={"age": {"psi": 0.3}}).for_column("age").psi
    0.3
    >>> Rules(correction="fdr")
    Traceback (most recent call last):
    ...
    ValueError: correction must be one of ('holm', 'bh', 'bonferroni', 'none'), got 'fdr'
    """

    alpha: float = 0.05
    correction: str = "holm"
    psi: float = 0.2
    wasserstein: float = 0.1
    js: float = 0.1
    drift_share: float = 0.0
    missing: float = 0.05
    #: Per-column overrides of the effect thresholds: column -> {name: value}.
    columns: Mapping[str, Mapping[str, float]] = field(default_factory=dict, hash=False)

    def for_column(self, name: str) -> Rules:
        """The rules one column is judged by (its overrides applied)."""
        own = self.columns.get(name)
        return replace(self, **own, columns={}) if own else self

    def __post_init__(self) -> None:
        if self.correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {CORRECTIONS}, got {self.correction!r}")
        if not _number(self.alpha) or not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha!r}")
        for name in ("psi", "wasserstein", "js", "missing"):
            v = getattr(self, name)
            if not _number(v) or v < 0:
                raise ValueError(f"{name} threshold must be a number >= 0, got {v!r}")
        if not _number(self.drift_share) or not 0 <= self.drift_share <= 1:
            raise ValueError(f"drift_share must be in [0, 1], got {self.drift_share!r}")
        for column, own in self.columns.items():
            unknown = sorted(set(own) - set(COLUMN_THRESHOLDS))
            if unknown:
                raise ValueError(
                    f"column {column!r}: {unknown[0]!r} cannot be set per column "
                    f"(per column: {', '.join(COLUMN_THRESHOLDS)})"
                )
            for name, v in own.items():
                if not _number(v) or v < 0:
                    raise ValueError(f"column {column!r}: {name} must be a number >= 0, got {v!r}")


@dataclass(frozen=True)
class TestOutcome:
    """An extra test of the family (for example the MMD test of a check)."""

    pvalue: float
    pvalue_adjusted: float
    rejected: bool


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def adjust_pvalues(pvalues: Sequence[float] | np.ndarray, correction: str) -> np.ndarray:
    """Family-wise adjusted p-values (Holm, Bonferroni), or Benjamini-Hochberg's
    false-discovery-rate adjusted ones; ``"none"`` returns them as they are.

    A hypothesis is rejected at level ``alpha`` when its adjusted p-value is <= alpha.

    Examples
    --------
    >>> from driftcore.verdict import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.02, 0.04], "bh").tolist()
    [0.03, 0.03, 0.04]
    >>> adjust_pvalues([0.01, 0.02], "bonferroni").tolist()
    [0.02, 0.04]
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p-values must be a 1-D sequence")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must be in [0, 1]")
    m = p.size
    if m == 0 or correction == "none":
        return p.copy()
    if correction == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if correction == "holm":  # step-down: max over j <= i of (m - j) p_(j)
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:  # Benjamini-Hochberg step-up: min over j >= i of m p_(j) / j
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def effect(res: ColumnDrift, rules: Rules) -> tuple[bool, str]:
    """Whether a tested column's effect size reaches a threshold, and the rule text."""
    m = res.metrics
    psi = m.get("psi_debiased", math.nan)
    if res.kind == "numeric" and not res.by_value:
        w = m.get("wasserstein_normed", math.nan)
        by_psi = psi >= rules.psi
        met = by_psi or (not math.isnan(w) and w >= rules.wasserstein)
        return met, f"psi* >= {rules.psi:g} or wasserstein/std >= {rules.wasserstein:g}"
    js = m.get("js_distance_debiased", math.nan)
    met = psi >= rules.psi or js >= rules.js
    text = f"psi* >= {rules.psi:g} or js_distance* >= {rules.js:g}"
    if res.kind == "numeric":  # discrete numeric: compared value by value
        w = m.get("wasserstein_normed", math.nan)
        met = met or (not math.isnan(w) and w >= rules.wasserstein)
        text += f" or wasserstein/std >= {rules.wasserstein:g}"
    return bool(met), text


def decide(
    columns: list[ColumnDrift], rules: Rules, tests: Mapping[str, float] | None = None
) -> dict[str, TestOutcome]:
    """Apply the rule: set each tested column's ``pvalue_adjusted``, ``drifted`` and
    ``rule``, and return the outcome of each extra test (name -> p-value) of the
    family. Columns without a test (absent or empty on one side) keep ``drifted``
    None."""
    tests = dict(tests or {})
    for name, p in tests.items():
        if not _number(p) or not 0 <= p <= 1:
            raise ValueError(f"p-value of test {name!r} must be in [0, 1], got {p!r}")
    tested = [
        c
        for c in columns
        if c.test is not None and c.pvalue is not None and not math.isnan(c.pvalue)
    ]
    gaps = [c for c in columns if _missing_test(c)]
    family = [c.pvalue for c in tested] + [c.missing_pvalue for c in gaps] + list(tests.values())
    adjusted = adjust_pvalues(family, rules.correction)
    label = {
        "none": "p",
        "bh": "BH-adjusted p",
        "holm": "Holm-adjusted p",
        "bonferroni": "Bonferroni-adjusted p",
    }[rules.correction]
    for c, p_adj in zip(tested, adjusted):
        c.pvalue_adjusted = float(p_adj)
        met, text = effect(c, rules.for_column(c.column))
        c.drifted = bool(p_adj <= rules.alpha and met)
        c.rule = f"{label} <= {rules.alpha:g} and ({text})"
    for c, p_adj in zip(gaps, adjusted[len(tested) :]):
        c.missing_pvalue_adjusted = float(p_adj)
        moved = abs(
            missing_share(c.missing_current, c.n_current)
            - missing_share(c.missing_reference, c.n_reference)
        )
        c.missing_changed = bool(
            p_adj <= rules.alpha and moved >= rules.for_column(c.column).missing
        )
    return {
        name: TestOutcome(float(p), float(p_adj), bool(p_adj <= rules.alpha))
        for (name, p), p_adj in zip(tests.items(), adjusted[len(tested) + len(gaps) :])
    }


def missing_share(missing: int, present: int) -> float:
    """The share of missing values among all (0 when there are none at all).

    Examples
    --------
    >>> from driftcore.verdict import missing_share
    >>> missing_share(3, 97), missing_share(0, 0)
    (0.03, 0.0)
    """
    return missing / (missing + present) if missing + present else 0.0


def _missing_test(c: ColumnDrift) -> bool:
    """Set the column's two-proportion test of its missing share; False when it has
    none (absent on a side, or no missing value on either side)."""
    from .metrics import chi_square_counts

    if c.kind == "missing" or not (c.missing_reference or c.missing_current):
        return False
    ref = [c.missing_reference, c.n_reference]
    cur = [c.missing_current, c.n_current]
    if not sum(ref) or not sum(cur):
        return False
    c.missing_pvalue = chi_square_counts(np.array(ref, float), np.array(cur, float)).pvalue
    return True
