"""What a loaded profile column must satisfy: the invariants that every way of building
one keeps (chunked, merged, on CPU or GPU, with Dask). Each check raises ValueError
naming the field; ``Profile.from_bytes`` adds the column's name."""

from __future__ import annotations

from typing import Any

from . import _core, _fine_bins, _validate

_COUNTS = ("count", "nan", "pos_inf", "neg_inf")
_FLOATS = ("min", "max", "mean", "m2")
#: Relative slack of the mean inside [min, max]: summing rounds (about 1e-13 at worst).
_MEAN_SLACK = 1e-6


def moments(raw: Any) -> Any:
    """The ``moments`` list of a numeric column, checked: counts in range, and min,
    max, mean and M2 as a summary of ``count`` finite values has them (all 0 when
    there are none; min <= mean <= max, M2 >= 0 otherwise)."""
    values = _validate.list_of(raw, "moments", 8)
    m = _core.Moments()
    for name, v in zip(_COUNTS, values[:4]):
        setattr(m, name, _validate.integer(v, f"moments {name}"))
    _validate.total(values[:4], "moments counts")
    # M2 may overflow to +inf on values near 1e308; the others are finite.
    lo, hi, mean, m2 = (_validate.number(v, f"moments {name}", finite=name != "m2")
                        for name, v in zip(_FLOATS, values[4:]))
    if m.count == 0:
        if any((lo, hi, mean, m2)):
            raise ValueError(f"moments min, max, mean, m2 = {lo}, {hi}, {mean}, {m2} "
                             "without finite values (must be 0)")
    else:
        slack = _MEAN_SLACK * max(abs(lo), abs(hi))
        if not lo <= hi:
            raise ValueError(f"moments min {lo} > max {hi}")
        if not lo - slack <= mean <= hi + slack:
            raise ValueError(f"moments mean {mean} outside [min, max] = [{lo}, {hi}]")
        if not m2 >= 0:
            raise ValueError(f"moments m2 {m2} is negative")
        if m.count == 1 and (lo != hi or m2 != 0):
            raise ValueError("moments of one value with min != max or m2 != 0")
    m.min, m.max, m.mean, m.m2 = lo, hi, mean, m2
    return m


def numeric(col: Any, bins: int, k: int, seed: int) -> None:
    """A numeric column's parts agree: the sketch has the profile's k and seed and
    saw what the moments saw (n = finite + infinite values, the same NaN count, the
    same extremes); the exact value counts add up to the finite count within [min,
    max]; the histogram (on at most ``bins`` x FINE + 2 x TAIL fine bins) counted
    every non-NaN value."""
    m, s = col.moments, col.sketch
    if (s.k, s.seed) != (k, seed):
        raise ValueError(f"sketch k={s.k}, seed={s.seed} differ from the profile's "
                         f"k={k}, seed={seed}")
    if s.n != m.count + m.pos_inf + m.neg_inf or s.nan != m.nan:
        raise ValueError(f"sketch n={s.n}, nan={s.nan} differ from the moments' "
                         f"{m.count + m.pos_inf + m.neg_inf} non-NaN and {m.nan} NaN values")
    if s.n and (s.min != col.min or s.max != col.max):
        raise ValueError(f"sketch min/max {s.min}/{s.max} differ from the moments' "
                         f"{col.min}/{col.max}")
    _validate.total((s.n, s.nan, col.nulls), "the count of values")
    if col.values is not None:
        if sum(col.values.values()) != m.count:
            raise ValueError(f"value counts add up to {sum(col.values.values())}, "
                             f"not the {m.count} finite values")
        if any(not m.min <= v <= m.max for v in col.values):
            raise ValueError(f"a counted value lies outside [min, max] = [{m.min}, {m.max}]")
    h = col.histogram
    if h is None:
        return
    most = bins * _fine_bins.FINE + 2 * _fine_bins.TAIL
    if h.weighted or len(h.edges) - 1 > most:
        raise ValueError(f"histogram is weighted or has more than the {most} bins of "
                         f"bins={bins}")
    # Every non-NaN value, and at most the NaN ones (a GPU pass may count nulls as NaN
    # in the sketch and leave them out of the histogram).
    if h.total - h.nan != s.n or h.nan > m.nan or h.underflow < m.neg_inf \
            or h.overflow < m.pos_inf:
        raise ValueError(f"histogram counts ({h.total - h.nan} non-NaN, {h.nan} NaN) differ "
                         f"from the column's ({s.n}, {m.nan})")


def values(entry: Any, cap: int) -> dict[float, int] | None:
    """The optional exact ``values`` entry: ``[[value...], [count...]]``, at most
    ``cap`` distinct finite values, each counted at least once."""
    if entry is None:
        return None
    keys, counts = _validate.list_of(entry, "values", 2)
    _validate.list_of(keys, "values")
    _validate.list_of(counts, "value counts", len(keys))
    if len(keys) > cap:
        raise ValueError(f"{len(keys)} counted values, more than {cap}")
    out = {_validate.number(v, "a counted value"): _validate.integer(n, "a value count", 1)
           for v, n in zip(keys, counts)}
    if len(out) != len(keys):
        raise ValueError("a counted value appears twice")
    return out
