"""Settings of a check (:func:`driftcore.check`, ``driftcore check`` / ``compare``):
every option besides the two inputs, with its default, and their validation.

Thresholds (:data:`THRESHOLDS`): a column drifts by the rule of
:mod:`driftcore.verdict` (the rule of :func:`driftcore.compare`): its p-value,
corrected with the MMD test's over the whole family (``correction``, Holm by
default), is <= ``alpha``, and an effect size reaches ``psi``, ``wasserstein``
(Wasserstein-1 / reference std) or ``js`` (Jensen-Shannon distance). The gate fails
(exit 1) when the share of drifted columns reaches ``drift_share`` (default 0: any
drifted column), when a column's share of missing values moves by ``missing`` or more
(and its test rejects in the same family), when the MMD test rejects at the same
corrected level, when the
share of current rows equal to a reference row exceeds
``exact_rows`` (default 0: any), or when the share of current texts that
near-duplicate a reference text (Jaccard >= ``similarity``) exceeds
``near_duplicates`` (default 0.01) in any text column.

Examples
--------
>>> from driftcore.job.settings import Settings, parse_threshold
>>> s = Settings()
>>> s.thresholds["psi"], s.thresholds["near_duplicates"]
(0.2, 0.01)
>>> parse_threshold("psi=0.3")
(None, 'psi', 0.3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..verdict import COLUMN_THRESHOLDS as _EFFECT_THRESHOLDS
from ..verdict import CORRECTIONS, Rules
from .errors import InputError

_RULES = Rules()  # the library's defaults are the command line's

#: Every threshold, its default and what it means.
THRESHOLDS: dict[str, tuple[float, str]] = {
    "psi": (_RULES.psi, "column drifts when PSI (net of noise) >= this and its test rejects"),
    "wasserstein": (
        _RULES.wasserstein,
        "numeric column drifts when Wasserstein-1 / reference std >= this",
    ),
    "js": (_RULES.js, "categorical column drifts when Jensen-Shannon distance >= this"),
    "alpha": (
        _RULES.alpha,
        "false-alarm rate of the whole family of drift tests (columns and MMD)",
    ),
    "drift_share": (
        _RULES.drift_share,
        "gate fails when the share of drifted columns >= this (0: any)",
    ),
    "missing": (
        _RULES.missing,
        (
            "gate fails when a column's share of missing values moves "
            "by this much and its two-proportion test rejects"
        ),
    ),
    "exact_rows": (0.0, "gate fails when the share of current rows found in the reference > this"),
    "near_duplicates": (0.01, "gate fails when a text column's near-duplicate rate > this"),
    "similarity": (0.8, "Jaccard similarity at which two texts are near-duplicates"),
    "constant": (
        0.01,
        (
            "gate fails when a column is constant in the current data, this share "
            "of reference values differs from it, and its test rejects"
        ),
    ),
    "out_of_range": (
        0.01,
        (
            "gate fails when this share of a column's current values lies "
            "outside the reference's range and its test rejects"
        ),
    ),
    "new_categories": (
        0.01,
        (
            "gate fails when this share of current rows has categories the "
            "reference never saw and its test rejects"
        ),
    ),
    "vanished_categories": (
        0.01,
        (
            "gate fails when this share of reference rows has "
            "categories absent from the current data and its test "
            "rejects"
        ),
    ),
}

#: The thresholds a column may set for itself (``column_thresholds``, ``--threshold
#: COLUMN:NAME=VALUE``): its effect sizes, missing-share move and findings.
COLUMN_THRESHOLDS = (
    *_EFFECT_THRESHOLDS,
    "constant",
    "out_of_range",
    "new_categories",
    "vanished_categories",
)

#: Roles a column may have besides feature: drift of these is reported apart and fails
#: the check on its own (a label shift, a model's outputs moving).
ROLES = ("target", "prediction")

_DEVICES = ("auto", "cpu", "gpu")

#: Most CPU threads a command may ask for: more than any machine here has, and a typo
#: such as 99999999999 is an error rather than a crash in the C++ engine.
MAX_THREADS = 4096

_NAME_LISTS = (
    "columns",
    "exclude",
    "text_columns",
    "categorical",
    "leak_columns",
    "ids",
    "target",
    "prediction",
)


@dataclass
class Settings:
    """Everything a check needs besides the two inputs."""

    columns: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    leak_columns: list[str] | None = None  # None: every column both sides have
    text_columns: list[str] | None = None  # None: auto-detect
    text_shingles: str = "auto"  # "word" (5-grams), "char" (3-grams) or "auto" (by length)
    keep_punctuation: bool = False  # punctuation is part of the texts compared
    thresholds: dict[str, float] = field(
        default_factory=lambda: {k: v for k, (v, _) in THRESHOLDS.items()}
    )
    bins: int = 10
    categorical: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # identifier columns: no drift metrics
    target: list[str] = field(default_factory=list)  # label columns, reported apart
    prediction: list[str] = field(default_factory=list)  # model outputs, reported apart
    #: A column's own thresholds: column -> {name: value} (names: COLUMN_THRESHOLDS).
    column_thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    correction: str = "holm"
    mmd_sample: int = 2000
    mmd_permutations: int = 100
    leak_rows: int = 500_000
    examples: int = 5
    seed: int = 0
    batch_size: int = 1 << 18
    threads: int | None = None
    device: str = "auto"

    def validate(self, where: str | Path | None = None) -> Settings:
        """Check types and ranges; raise InputError naming the setting (and ``where``
        it came from, when given)."""
        for name in _NAME_LISTS:
            v = getattr(self, name)
            if v is None and name in ("columns", "text_columns", "leak_columns"):
                continue
            if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
                raise InputError(where, f"{name} must be a list of column names, got {v!r}")
        for chosen in (self.columns, self.leak_columns):
            if chosen is not None and self.exclude:
                both = set(chosen) & set(self.exclude)
                if both:
                    raise InputError(where, f"columns both selected and excluded: {sorted(both)}")
        if self.leak_columns is not None and not self.leak_columns:
            raise InputError(where, "leak_columns is empty (leave it out to use every column)")
        for name, v in self.thresholds.items():
            if name not in THRESHOLDS:
                raise InputError(
                    where, f"unknown threshold {name!r} (known: {', '.join(THRESHOLDS)})"
                )
            if not isinstance(v, (int, float)) or isinstance(v, bool) or math.isnan(v) or v < 0:
                raise InputError(where, f"threshold {name} must be a number >= 0, got {v!r}")
        if not isinstance(self.column_thresholds, dict):
            raise InputError(where, "column_thresholds must map column names to thresholds")
        for column, own in self.column_thresholds.items():
            if not isinstance(own, dict):
                raise InputError(where, f"thresholds of column {column!r} must be a table")
            for name, v in own.items():
                if name not in COLUMN_THRESHOLDS:
                    raise InputError(
                        where,
                        f"column {column!r}: threshold {name!r} cannot be set per column "
                        f"(per column: {', '.join(COLUMN_THRESHOLDS)})",
                    )
                if not isinstance(v, (int, float)) or isinstance(v, bool) or not v >= 0:
                    raise InputError(
                        where, f"column {column!r}: threshold {name} must be a number >= 0"
                    )
        both = set(self.target) & set(self.prediction)
        if both:
            raise InputError(where, f"columns both target and prediction: {sorted(both)}")
        t = self.thresholds
        for name in ("alpha", "similarity"):
            if not 0 < t[name] < 1:
                raise InputError(where, f"threshold {name} must be in (0, 1), got {t[name]}")
        for name, lo in (
            ("bins", 1),
            ("mmd_sample", 2),
            ("mmd_permutations", 1),
            ("leak_rows", 0),
            ("examples", 0),
            ("batch_size", 1),
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise InputError(
                    where, f"{name.replace('_', '-')} must be an integer >= {lo}, got {v!r}"
                )
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed < 2**64
        ):
            raise InputError(where, f"seed must be an integer in [0, 2**64), got {self.seed!r}")
        th = self.threads
        if th is not None and (
            isinstance(th, bool) or not isinstance(th, int) or not 1 <= th <= MAX_THREADS
        ):
            raise InputError(where, f"threads must be an integer in [1, {MAX_THREADS}], got {th!r}")
        if self.text_shingles not in ("auto", "word", "char"):
            raise InputError(
                where, f"text_shingles must be auto, word or char, got {self.text_shingles!r}"
            )
        if not isinstance(self.keep_punctuation, bool):
            raise InputError(
                where, f"keep_punctuation must be true or false, got {self.keep_punctuation!r}"
            )
        if not isinstance(self.device, str) or self.device not in _DEVICES:
            raise InputError(where, f"device must be one of {_DEVICES}, got {self.device!r}")
        if not isinstance(self.correction, str) or self.correction not in CORRECTIONS:
            raise InputError(
                where,
                f"correction must be one of {', '.join(CORRECTIONS)}, got {self.correction!r}",
            )
        if self.thresholds["drift_share"] > 1:
            raise InputError(
                where,
                f"threshold drift_share must be in [0, 1], got {self.thresholds['drift_share']}",
            )
        if self.device == "gpu":
            from .._dispatch import gpu_available

            if not gpu_available():
                raise InputError(
                    where or "device gpu",
                    "no usable CUDA GPU (driftcore.gpu_available() is False; "
                    "install cupy with pip install 'driftcore[gpu]')",
                )
        return self


def parse_threshold(text: str) -> tuple[str | None, str, float]:
    """``"name=value"`` -> (None, name, value); ``"column:name=value"`` -> (column,
    name, value), a threshold of one column; raises InputError on anything else.

    Examples
    --------
    >>> from driftcore.job.settings import parse_threshold
    >>> parse_threshold("psi=0.3"), parse_threshold("age:psi=0.5")
    ((None, 'psi', 0.3), ('age', 'psi', 0.5))
    """
    key, sep, value = text.partition("=")
    column, colon, name = key.rpartition(":")
    name = name.strip()
    known = COLUMN_THRESHOLDS if colon else tuple(THRESHOLDS)
    if not sep or name not in known or (colon and not column):
        raise InputError(
            "--threshold",
            f"expected NAME=VALUE (NAME one of {', '.join(THRESHOLDS)}) or "
            f"COLUMN:NAME=VALUE (NAME one of {', '.join(COLUMN_THRESHOLDS)}); got {text!r}",
        )
    try:
        return (column if colon else None), name, float(value)
    except ValueError:
        raise InputError("--threshold", f"{name}: {value!r} is not a number") from None


def apply(settings: Settings, table: dict[str, Any], where: str | Path) -> Settings:
    """Fold a config table (from TOML, or options as a dict) into ``settings``.

    Examples
    --------
    >>> from driftcore.job.settings import Settings, apply
    >>> s = apply(Settings(), {"mmd_sample": 500, "thresholds": {"psi": 0.3}}, "cfg.toml")
    >>> s.mmd_sample, s.thresholds["psi"], s.thresholds["js"]
    (500, 0.3, 0.1)
    """
    known = {f.name for f in fields(Settings)}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name == "thresholds":
            if not isinstance(value, dict):
                raise InputError(where, "thresholds must be a table of NAME = number")
            for k, v in value.items():
                if k not in THRESHOLDS:
                    raise InputError(
                        where, f"unknown threshold {k!r} (known: {', '.join(THRESHOLDS)})"
                    )
                settings.thresholds[k] = v
        elif name in known:
            setattr(settings, name, value)
        else:
            raise InputError(where, f"unknown setting {key!r}")
    return settings
