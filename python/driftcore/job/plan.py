"""Which columns a check compares, and how: the column plan.

The reference's schema decides: ``--columns`` / ``--exclude`` select columns, each
selected column must be numeric (integers, floats), categorical (strings, bools,
dictionaries, all-null) or text; other types are an input error naming the column.
String columns become *text* (near-duplicate leakage instead of category counts) when
``--text-column`` names them, or, without that option, when the median of the first
2,000 values has at least 20 characters or 4 words. Other string columns whose first
2,000 values are at least 95% distinct are *identifiers* (row keys, ids), and so are
the columns ``--id`` names, of any type: they take part in exact-row leakage but get
no drift metrics (category counts would grow with the data; a row number or
customer id drifts on any split by construction). The current side's differences (columns it lacks or adds, columns of another kind)
are findings of the check (:class:`SchemaChange`); the check compares what both share.

Examples
--------
>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
>>> from driftcore.job.settings import Settings
>>> from driftcore.job.plan import plan_columns
>>> from driftcore.job.read import open_source
>>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
>>> pq.write_table(pa.table({"x": [1.0, 2.0], "c": ["a", "b"],
...                          "note": ["a long free text review here", "and another one"]}), path)
>>> plan = plan_columns(open_source(path), Settings(exclude=["x"]))
>>> plan.columns, plan.kinds
(['c', 'note'], {'c': 'categorical', 'note': 'text'})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .profile_file import ProfileFile
from .read import Source, column_kind, is_string, looks_like_identifier, looks_like_text
from .settings import Settings


@dataclass
class Plan:
    """The columns of a check and their kinds ("numeric", "categorical", "text")."""

    columns: list[str]
    kinds: dict[str, str]
    types: dict[str, str]
    as_categories: list[str] = field(default_factory=list)  # numeric, counted as categories
    widened: dict[str, str] = field(default_factory=dict)  # CSV columns retyped, and why
    all_columns: list[str] = field(default_factory=list)  # the reference's, selected or not
    leak_key: list[str] = field(default_factory=list)  # exact-row leakage key ([]: columns)
    storage: dict[str, str] = field(default_factory=dict)  # kind of each reference type
    roles: dict[str, str] = field(default_factory=dict)  # target / prediction columns
    shingles: dict[str, tuple[str, int]] = field(default_factory=dict)  # of text columns

    def role(self, column: str) -> str:
        """``"target"``, ``"prediction"`` or ``"feature"``."""
        return self.roles.get(column, "feature")

    def of(self, kind: str) -> list[str]:
        return [c for c in self.columns if self.kinds[c] == kind]

    @property
    def key(self) -> list[str]:
        """The columns two rows must share to count as exact-row leakage."""
        return self.leak_key or self.columns

    @property
    def read(self) -> list[str]:
        """The columns a pass reads: the compared ones, then the rest of the key."""
        return self.columns + [c for c in self.key if c not in self.columns]

    @property
    def profiled(self) -> list[str]:
        return [c for c in self.columns if self.kinds[c] in ("numeric", "categorical")]


def plan_columns(ref: Source, settings: Settings) -> Plan:
    """Select the columns of the reference, check their types and find text columns."""
    names = ref.schema.names
    if settings.columns is not None:
        unknown = [c for c in settings.columns if c not in names]
        if unknown:
            raise InputError(ref.path, f"no column {unknown[0]!r} (columns: {', '.join(names)})")
        selected = list(dict.fromkeys(settings.columns))
    else:
        selected = list(names)
    unknown = [c for c in settings.exclude if c not in names]
    if unknown:
        raise InputError(
            ref.path, f"--exclude: no column {unknown[0]!r} (columns: {', '.join(names)})"
        )
    selected = [c for c in selected if c not in settings.exclude]
    if not selected:
        raise InputError(None, "no columns left to compare after --columns/--exclude")
    kinds, types = {}, {}
    for c in selected:
        t = ref.schema.field(c).type
        kind = column_kind(t)
        if kind is None:
            raise InputError(
                ref.path, f"column {c!r} has unsupported type {t} (leave it out with --exclude {c})"
            )
        kinds[c], types[c] = kind, str(t)
    for c in settings.ids:
        if c not in selected:
            raise InputError(ref.path, f"--id {c!r} is not a selected column")
        if c in settings.categorical or (settings.text_columns and c in settings.text_columns):
            raise InputError(ref.path, f"--id {c!r} is also given another role")
    for c in settings.categorical:
        if c not in selected:
            raise InputError(ref.path, f"--categorical {c!r} is not a selected column")
        if kinds[c] != "numeric":
            raise InputError(ref.path, f"--categorical {c!r} is {types[c]}, not a numeric column")
        kinds[c] = "categorical"
    strings = [c for c in selected if is_string(ref.schema.field(c).type)]
    first = next(ref.batches(strings, batch_size=2000), None) if strings else None
    if settings.text_columns is not None:
        for c in settings.text_columns:
            if c not in selected:
                raise InputError(ref.path, f"--text-column {c!r} is not a selected column")
            if c not in strings:
                raise InputError(
                    ref.path, f"--text-column {c!r} is {types[c]}, not a string column"
                )
            kinds[c] = "text"
    elif first is not None:
        for c in strings:
            if looks_like_text(first.column(c)):
                kinds[c] = "text"
    if first is not None:
        for c in strings:
            if kinds[c] == "categorical" and looks_like_identifier(first.column(c)):
                kinds[c] = "identifier"
    for c in settings.ids:
        kinds[c] = "identifier"
    shingles = {}
    for c in selected:
        if kinds[c] == "text":
            if settings.text_shingles == "auto":
                sample = first.column(c).to_pylist() if first is not None else []
                shingles[c] = auto_shingle(sample)
            else:
                shingles[c] = SHINGLES[settings.text_shingles]
    storage = {c: column_kind(ref.schema.field(c).type) or "" for c in selected}
    return Plan(
        selected,
        kinds,
        types,
        list(settings.categorical),
        dict(ref.widened),
        list(names),
        _leak_key(ref, settings, selected),
        storage,
        _roles(settings, kinds, ref.path),
        shingles,
    )


#: Texts with a median of fewer words than this are shingled by characters when the
#: shingling is automatic. One changed word changes 5 word 5-grams, so a copy with one
#: word changed stays at Jaccard >= 0.8 only in texts of about 50 words or more; among
#: 10-word docstrings, word 5-grams found 9% of copies with one typo, character
#: 3-grams all of them, at the same precision (benchmarks/leakage_short_texts.py).
SHORT_TEXT_WORDS = 50

#: The shingles of each choice of ``text_shingles``.
SHINGLES = {"word": ("word", 5), "char": ("char", 3)}


def auto_shingle(texts: Any) -> tuple[str, int]:
    """The shingles of a text column: character 3-grams when the median text has
    fewer than :data:`SHORT_TEXT_WORDS` words, else word 5-grams.

    Examples
    --------
    >>> from driftcore.job.plan import auto_shingle
    >>> auto_shingle(["Return the sum of the two numbers."]), auto_shingle(["w " * 80])
    (('char', 3), ('word', 5))
    """
    import numpy as np

    counts = [len(str(t).split()) for t in texts if t is not None]
    if counts and float(np.median(counts)) < SHORT_TEXT_WORDS:
        return SHINGLES["char"]
    return SHINGLES["word"]


def _check_column_thresholds(settings: Settings, kinds: dict[str, str], where: Any) -> None:
    """A column's own thresholds name a compared numeric or categorical column."""
    for c in settings.column_thresholds:
        if c not in kinds:
            raise InputError(where, f"thresholds given for {c!r}, which is not a compared column")
        if kinds[c] not in ("numeric", "categorical"):
            raise InputError(
                where, f"thresholds given for {c!r}, a {kinds[c]} column without drift metrics"
            )


def _roles(settings: Settings, kinds: dict[str, str], where: str | Path | None) -> dict[str, str]:
    """``--target`` and ``--prediction`` columns: selected, and numeric or categorical."""
    _check_column_thresholds(settings, kinds, where)
    roles = {}
    for role in ("target", "prediction"):
        for c in getattr(settings, role):
            if c not in kinds:
                raise InputError(where, f"--{role} {c!r} is not a compared column")
            if kinds[c] not in ("numeric", "categorical"):
                raise InputError(
                    where, f"--{role} {c!r} is {kinds[c]}: a {role} is numeric or categorical"
                )
            roles[c] = role
    return roles


def _leak_key(ref: Source, settings: Settings, selected: list[str]) -> list[str]:
    """``--leak-columns``, or every column of a supported type that ``--exclude`` leaves
    (``--columns`` narrows the drift comparison, not what makes two rows equal)."""
    names = ref.schema.names
    if settings.leak_columns is None:
        if settings.columns is None:
            return list(selected)
        return [
            c
            for c in names
            if c not in settings.exclude and column_kind(ref.schema.field(c).type) is not None
        ]
    key = list(dict.fromkeys(settings.leak_columns))
    for c in key:
        if c not in names:
            raise InputError(
                ref.path, f"--leak-columns: no column {c!r} (columns: {', '.join(names)})"
            )
        t = ref.schema.field(c).type
        if column_kind(t) is None:
            raise InputError(ref.path, f"--leak-columns: column {c!r} has unsupported type {t}")
    return key


@dataclass
class SchemaChange:
    """How the current side's columns differ from the plan's: columns it lacks,
    columns only it has, and planned columns of another kind (reference type,
    current type). :meth:`common` is the plan of what both sides share."""

    vanished: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    key_missing: list[str] = field(default_factory=list)  # key columns the current lacks

    def common(self, plan: Plan, where: str | Path) -> Plan:
        gone = set(self.vanished) | set(self.changed)
        columns = [c for c in plan.columns if c not in gone]
        if not columns:
            raise InputError(
                where, "no column in common with the reference: " + "; ".join(_describe(self))
            )
        # The leakage key: its columns that both sides have with one kind.
        key = [c for c in plan.key if c not in gone and c not in self.key_missing]
        return Plan(
            columns,
            {c: plan.kinds[c] for c in columns},
            {c: plan.types[c] for c in columns},
            [c for c in plan.as_categories if c not in gone],
            dict(plan.widened),
            plan.all_columns,
            key if key != columns else [],
            {c: k for c, k in plan.storage.items() if c in columns},
            {c: r for c, r in plan.roles.items() if c in columns},
            {c: sh for c, sh in plan.shingles.items() if c in columns},
        )


def _describe(change: SchemaChange) -> list[str]:
    out = [f"column {c!r} is missing" for c in change.vanished[:3]]
    out += [
        f"column {c!r} is {b} here but {a} in the reference"
        for c, (a, b) in list(change.changed.items())[:3]
    ]
    return out


def compare_current(src: Source, plan: Plan, settings: Settings) -> SchemaChange:
    """The current side's schema against the plan. A CSV column read with a wider
    type than the reference's says why, and that ``--exclude`` leaves it out."""
    change = SchemaChange()
    for c in plan.columns:
        if c not in src.schema.names:
            change.vanished.append(c)
            continue
        t = src.schema.field(c).type
        kind = column_kind(t)
        want = "categorical" if plan.kinds[c] in ("text", "identifier") else plan.kinds[c]
        if c in plan.as_categories:
            want = "numeric"
        want = plan.storage.get(c, want)  # the reference type's own kind, where known
        if kind != want:
            why = f" ({src.widened[c]})" if c in src.widened else ""
            ref_why = f" ({plan.widened[c]})" if c in plan.widened else ""
            fix = f"; --exclude {c} leaves it out" if why or ref_why else ""
            change.changed[c] = (plan.types[c] + ref_why, str(t) + why + fix)
    change.new = _new_columns(src.schema.names, plan, settings)
    change.key_missing = [
        c for c in plan.key if c not in plan.columns and c not in src.schema.names
    ]
    return change


def compare_current_profile(pf: ProfileFile, plan: Plan, settings: Settings) -> SchemaChange:
    """A current profile's columns against the plan (profiles hold the profiled
    columns only)."""
    change = SchemaChange()
    for c in plan.profiled:
        col = pf.profile.columns.get(c)
        if col is None:
            change.vanished.append(c)
        elif col.kind != plan.kinds[c]:
            change.changed[c] = (plan.kinds[c], col.kind)
    change.new = _new_columns(list(pf.meta.get("columns", [])), plan, settings)
    return change


def _new_columns(names: list[str], plan: Plan, s: Settings) -> list[str]:
    """Current columns the reference lacks, among those the settings would select."""
    known = set(plan.columns) | set(s.exclude) | set(plan.all_columns)
    picked = [c for c in names if c not in known]
    return [c for c in picked if s.columns is None or c in s.columns]


def plan_from_profile(pf: ProfileFile, path: Path, s: Settings) -> Plan:
    meta = pf.meta
    columns, kinds, types = list(meta["columns"]), dict(meta["kinds"]), dict(meta["types"])
    if s.columns is not None or s.exclude:
        keep = s.columns if s.columns is not None else columns
        unknown = [c for c in [*keep, *s.exclude] if c not in columns]
        if unknown:
            raise InputError(
                path, f"no column {unknown[0]!r} in this profile (columns: {', '.join(columns)})"
            )
        columns = [c for c in columns if c in keep and c not in s.exclude]
    if not columns:
        raise InputError(None, "no columns left to compare after --columns/--exclude")
    cats = [c for c in meta.get("categorical", []) if c in columns]
    kinds = {c: kinds[c] for c in columns}
    roles = {c: r for c, r in meta.get("roles", {}).items() if c in columns}
    roles.update(_roles(s, kinds, path))  # the settings' roles add to the saved ones
    return Plan(
        columns,
        kinds,
        {c: types[c] for c in columns},
        cats,
        all_columns=list(meta["columns"]),
        roles=roles,
    )
