"""Data-quality findings of a check, beside per-column drift: the schema changed (a
column vanished, appeared or changed its type), a column became constant, values fell
outside the reference's range, categories appeared or vanished.

Each finding has its own rule. Schema changes always fail the check (exit 1). The others are tests of the "nothing changed" hypothesis
and fail only when their share reaches its threshold and their p-value, adjusted in
the check's family (with the columns' drift tests and the MMD test), is <= ``alpha``;
only findings whose share reaches the threshold join the family, since no other can
fail:

* **constant column**: a column constant in the current data that varied in the
  reference (threshold ``constant``: the share of reference values that differ from
  the current constant). Under no change, the ``k`` differing reference values all
  land on the reference's side of the pooled values with probability
  ``prod_{i<k} (n - i) / (n + m - i)``.
* **out of range**: the share of current values below the reference's minimum or
  above its maximum (threshold ``out_of_range``). Under no change, the number of
  current values above the largest of ``n`` reference values has ``P(K >= k) =
  prod_{i<k} (m - i) / (n + m - i)`` for ``m`` current values (the top ``k`` of the
  pooled values are all current ones); the two ends are tested apart and combined by
  Bonferroni. Values only known to lie in the grid cell holding the extreme are not
  counted, so the p-value is conservative.
* **new categories**: the share of current rows whose category the reference never
  saw (threshold ``new_categories``), against what sampling alone leaves unseen:
  given a category's pooled count ``t``, all its rows land on the current side with
  probability ``q^t`` (``q`` the current side's share of all rows); the expected
  count and variance of such rows add up over the categories, and a normal tail with
  a continuity correction gives the p-value.
* **vanished categories**: the same with the sides swapped: the share of reference
  rows whose category the current data lacks (threshold ``vanished_categories``).

Examples
--------
>>> from driftcore.job.findings import out_of_range_pvalue
>>> round(out_of_range_pvalue(above=3, below=0, n_reference=1000, n_current=1000), 4)
0.2496
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .. import pvalues
from ..profile import CategoricalColumn, NumericColumn

if TYPE_CHECKING:
    from ..profile import Profile

#: Findings that fail the check whenever they occur.
ALWAYS = ("vanished_column", "new_column", "type_changed")
#: Findings tested in the family: (kind, threshold name).
TESTED = {
    "constant_column": "constant",
    "out_of_range": "out_of_range",
    "new_categories": "new_categories",
    "vanished_categories": "vanished_categories",
}
NAMED = 10  # categories named in a finding


@dataclass
class Finding:
    """One data-quality finding: its kind, column, message, and for tested kinds the
    share, threshold and p-values (``failed`` is set by :func:`decide`)."""

    kind: str
    column: str
    message: str
    share: float | None = None
    threshold: float | None = None
    pvalue: float | None = None
    pvalue_adjusted: float | None = None
    failed: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def test_name(self) -> str:
        return f"{self.kind}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def schema_findings(
    vanished: list[str], new: list[str], changed: dict[str, tuple[str, str]]
) -> list[Finding]:
    """Findings of columns missing from the current data, columns only it has, and
    columns whose type changed (reference type, current type)."""
    out = [
        Finding("vanished_column", c, f"column {c!r} is missing from the current data", failed=True)
        for c in vanished
    ]
    out += [
        Finding("new_column", c, f"column {c!r} is new in the current data", failed=True)
        for c in new
    ]
    out += [
        Finding(
            "type_changed",
            c,
            f"column {c!r} changed type: {a} -> {b}",
            failed=True,
            detail={"reference": a, "current": b},
        )
        for c, (a, b) in changed.items()
    ]
    return out


# Arrow's names of the temporal types profiles count in integer units.
_TEMPORAL = re.compile(r"^(timestamp|date32|date64|time32|time64|duration)\[(\w+)")


def is_temporal(arrow_type: str) -> bool:
    """Whether an Arrow type name is a date, time, timestamp or duration (profiled as
    its integer units, shown as such by :func:`shown`).

    Examples
    --------
    >>> from driftcore.job.findings import is_temporal
    >>> is_temporal("timestamp[us, tz=UTC]"), is_temporal("date32[day]"), is_temporal("int64")
    (True, True, False)
    """
    return _TEMPORAL.match(arrow_type) is not None


def value_findings(
    ref: Profile,
    cur: Profile,
    columns: list[str],
    thresholds: dict[str, float],
    types: dict[str, str] | None = None,
    column_thresholds: dict[str, dict[str, float]] | None = None,
) -> list[Finding]:
    """Findings read off the two profiles: constant columns, out-of-range values,
    new and vanished categories (tested ones without their verdict yet). ``types``
    (Arrow type names) let messages show dates and times as such;
    ``column_thresholds`` holds a column's own thresholds."""
    out: list[Finding] = []
    for name in columns:
        r, c = ref.columns.get(name), cur.columns.get(name)
        own = {**thresholds, **(column_thresholds or {}).get(name, {})}
        if isinstance(r, NumericColumn) and isinstance(c, NumericColumn):
            out += _numeric(name, r, c, own, (types or {}).get(name, ""))
        elif isinstance(r, CategoricalColumn) and isinstance(c, CategoricalColumn):
            out += _categories(name, r, c, own)
    return out


def candidates(findings: list[Finding]) -> list[Finding]:
    """Tested findings whose share reaches their threshold: only these can fail, so
    only their p-values join the family (one below its threshold would only cost the
    other tests power)."""
    return [
        f
        for f in findings
        if f.kind in TESTED
        and f.pvalue is not None
        and f.share is not None
        and f.threshold is not None
        and f.share >= f.threshold
    ]


def decide(findings: list[Finding], outcomes: dict[str, Any], alpha: float) -> None:
    """Set each candidate finding's adjusted p-value and whether it fails, from the
    family's outcomes (test name -> TestOutcome)."""
    for f in candidates(findings):
        o = outcomes[f.test_name]
        f.pvalue_adjusted = o.pvalue_adjusted
        f.failed = bool(
            o.pvalue_adjusted <= alpha
            and f.share is not None
            and f.threshold is not None
            and f.share >= f.threshold
        )


def out_of_range_pvalue(*, above: int, below: int, n_reference: int, n_current: int) -> float:
    """P-value of at least ``above`` current values above the reference's maximum or
    ``below`` below its minimum, under no change (see the module docstring)."""

    def tail(k: int) -> float:
        if k <= 0:
            return 1.0
        total = n_reference + n_current
        log_p = sum(math.log((n_current - i) / (total - i)) for i in range(min(k, n_current)))
        return math.exp(log_p) if k <= n_current else 0.0

    return min(1.0, 2.0 * min(tail(above), tail(below)))


def shown(
    value: float, arrow_type: str = "", number: Callable[[float], str] = "{:g}".format
) -> str:
    """A column's value for a message: dates, times and durations (counted as their
    integer units in profiles) as such, other numbers by ``number``.

    Examples
    --------
    >>> from driftcore.job.findings import shown
    >>> shown(1.7e15, "timestamp[us]"), shown(19000.0, "date32[day]"), shown(2.5)
    ('2023-11-14T22:13:20', '2022-01-08', '2.5')
    """
    m = _TEMPORAL.match(arrow_type)
    if m is None or not math.isfinite(value) or value != int(value):
        return number(value)
    import numpy as np

    kind, unit = m.group(1), m.group(2)
    unit = {"day": "D"}.get(unit, unit)
    if kind in ("duration", "time32", "time64"):  # a time of day: since midnight
        return str(np.timedelta64(int(value), unit).astype("timedelta64[us]").item())
    t = np.datetime64(int(value), unit)
    if kind.startswith("date") and t == t.astype("datetime64[D]"):
        t = t.astype("datetime64[D]")  # a date: no time of day to show
    elif t == t.astype("datetime64[s]"):
        t = t.astype("datetime64[s]")  # no fraction of a second to show
    return str(t)


def _numeric(
    name: str,
    r: NumericColumn,
    c: NumericColumn,
    thresholds: dict[str, float],
    arrow_type: str = "",
) -> list[Finding]:
    out: list[Finding] = []
    fr, fc = r.moments, c.moments
    if fc.count >= 2 and fc.min == fc.max and fr.count >= 2 and fr.min < fr.max:
        out.append(_constant(name, r, c, thresholds["constant"], arrow_type))
    if not fr.count or not fc.count:
        return out
    lo, hi = float(fr.min), float(fr.max)
    cells_lo, cells_hi, counts = c.grid.cells()
    # Certainly out of range: cells wholly beyond the reference's extremes.
    below = int(counts[cells_hi < lo].sum())
    above = int(counts[cells_lo > hi].sum())
    slots = c.grid.histogram([lo, hi] if hi > lo else [lo, math.nextafter(lo, math.inf)])
    est_below = int(slots[0] + fc.neg_inf)
    est_above = int(slots[-1] + fc.pos_inf)
    n = int(c.count)
    share = (est_below + est_above) / n
    if est_below + est_above == 0:
        return out
    p = out_of_range_pvalue(
        above=above + int(fc.pos_inf),
        below=below + int(fc.neg_inf),
        n_reference=int(r.count),
        n_current=n,
    )
    out.append(
        Finding(
            "out_of_range",
            name,
            f"{share:.1%} of {name!r} lies outside the reference's range "
            f"[{shown(lo, arrow_type)}, {shown(hi, arrow_type)}] "
            f"({est_below:,} below, {est_above:,} above)",
            share=share,
            threshold=thresholds["out_of_range"],
            pvalue=p,
            detail={
                "below": est_below,
                "above": est_above,
                "reference_min": lo,
                "reference_max": hi,
            },
        )
    )
    return out


def _constant(
    name: str, r: NumericColumn, c: NumericColumn, threshold: float, arrow_type: str = ""
) -> Finding:
    """A column constant in the current data that varied in the reference. Under no
    change, the ``k`` reference values that differ from the constant would all have
    landed on the reference's side of the pooled values with probability
    ``prod_{i<k} (n - i) / (n + m - i)``."""
    value = float(c.moments.min)
    slots = r.grid.histogram([value, math.nextafter(value, math.inf)])
    same = int(slots[1]) if r.grid.shift == 0 else 0  # exact only at one cell a value
    n, m = int(r.count), int(c.count)
    k = n - same
    p = math.exp(sum(math.log((n - i) / (n + m - i)) for i in range(k))) if k < n else 0.0
    return Finding(
        "constant_column",
        name,
        f"column {name!r} is constant in the current data "
        f"({shown(value, arrow_type)}) but "
        f"{k / n:.1%} of the reference differs from it",
        share=k / n,
        threshold=threshold,
        pvalue=p,
        detail={"value": value},
    )


def _unseen_pvalue(counts: dict[Any, int], other: dict[Any, int], q: float, k: int) -> float:
    """P-value of ``k`` rows of this side in categories the other side lacks. Under
    no change, given a category's pooled count ``t``, its rows fall on this side with
    probability ``q`` each, so all ``t`` do with probability ``q^t``: the expected
    count and variance of such rows add up over the categories (normal tail with a
    continuity correction)."""
    mean = var = 0.0
    for key in counts.keys() | other.keys():
        t = counts.get(key, 0) + other.get(key, 0)
        all_here = q**t
        mean += t * all_here
        var += t * t * all_here * (1.0 - all_here)
    if var <= 0:
        return 1.0 if k <= mean else 0.0
    return float(pvalues.normal_sf((k - 0.5 - mean) / math.sqrt(var)))


def _categories(
    name: str, r: CategoricalColumn, c: CategoricalColumn, thresholds: dict[str, float]
) -> list[Finding]:
    out = []
    for kind, have, lack, side in (
        ("new_categories", c, r, "current"),
        ("vanished_categories", r, c, "reference"),
    ):
        counts, other = have.counts.counts, lack.counts.counts
        n, m = have.count, lack.count
        if not n or not m:
            continue
        missing = {k: v for k, v in counts.items() if k not in other}
        if not missing:
            continue
        k = sum(missing.values())
        share = k / n
        p = _unseen_pvalue(counts, other, n / (n + m), k)
        top = sorted(missing.items(), key=lambda kv: -kv[1])[:NAMED]
        named = ", ".join(f"{str(key)!r} ({v / n:.1%})" for key, v in top)
        more = f" and {len(missing) - NAMED} more" if len(missing) > NAMED else ""
        what = (
            "new in the current data"
            if kind == "new_categories"
            else "absent from the current data"
        )
        out.append(
            Finding(
                kind,
                name,
                f"{len(missing)} categor{'y' if len(missing) == 1 else 'ies'} of {name!r} "
                f"{what} ({share:.1%} of {side} rows): {named}{more}",
                share=share,
                threshold=thresholds[TESTED[kind]],
                pvalue=p,
                detail={
                    "categories": [str(key) for key, _ in top],
                    "shares": [v / n for _, v in top],
                    "count": len(missing),
                },
            )
        )
    return out
