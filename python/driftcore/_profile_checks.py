"""What a loaded profile column must satisfy: the invariants that every way of building
one keeps (chunked, merged, on CPU or GPU, with Dask). Each check raises ValueError
naming the field; ``Profile.from_bytes`` adds the column's name."""

from __future__ import annotations

from typing import Any

from . import _core, _validate

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
    lo, hi, mean, m2 = (
        _validate.number(v, f"moments {name}", finite=name != "m2")
        for name, v in zip(_FLOATS, values[4:])
    )
    if m.count == 0:
        if any((lo, hi, mean, m2)):
            raise ValueError(
                f"moments min, max, mean, m2 = {lo}, {hi}, {mean}, {m2} "
                "without finite values (must be 0)"
            )
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


#: Hex digits of an exact sum: S2 * 2**2148 stays below 2**4260 for any count < 2**63.
_SUM_DIGITS = 1100


def sums(raw: Any) -> tuple[int, int]:
    """The ``sums`` entry: two hex strings, the exact S1 * 2**1074 and S2 * 2**2148
    (S2 not negative)."""
    pair = _validate.list_of(raw, "sums", 2)
    out = []
    for name, text in zip(("S1", "S2"), pair):
        if type(text) is not str or len(text) > _SUM_DIGITS:
            raise ValueError(f"sums {name} must be a hex string, got {text!r:.40}")
        try:
            out.append(int(text, 16))
        except ValueError:
            raise ValueError(f"sums {name} is not a hex number: {text!r:.40}") from None
    if out[1] < 0:
        raise ValueError("sums S2 (of squares) is negative")
    return out[0], out[1]


def numeric(col: Any, max_cells: int) -> None:
    """A numeric column's parts agree: the grid has the profile's ``max_cells`` and
    counts exactly the finite values, its first and last cells hold the smallest and
    largest of them; the counts of values stay below 2^63."""
    m, g = col.moments, col.grid
    if g.max_cells != max_cells:
        raise ValueError(f"grid max_cells={g.max_cells} differs from the profile's {max_cells}")
    if g.total != m.count:
        raise ValueError(f"grid counts {g.total} values, the moments {m.count} finite ones")
    _validate.total((col.count, m.nan, col.nulls), "the count of values")
    s1, s2 = col.sums
    if m.count == 0 and (s1 or s2):
        raise ValueError("sums of a column without finite values are not 0")
    bound = max(abs(m.min), abs(m.max)) if m.count else 0.0
    if (
        s1 * s1 > m.count * s2
        or abs(s1) > m.count * _scaled(bound, 1074)
        or s2 > m.count * _scaled(bound, 1074) ** 2
    ):
        raise ValueError("sums S1, S2 cannot come from the column's count and range")
    if g.total:
        lo, hi, _ = g.cells()
        # -0.0 counts as +0.0 in the grid
        if not (lo[0] <= m.min + 0.0 <= hi[0] and lo[-1] <= m.max + 0.0 <= hi[-1]):
            raise ValueError(
                f"moments min/max {m.min}/{m.max} lie outside the grid's first and last cells"
            )


def _scaled(x: float, bits: int) -> int:
    """x * 2**bits as an exact integer (x a finite double)."""
    from fractions import Fraction

    f = Fraction(x) * (1 << bits)
    return f.numerator // f.denominator + 1
