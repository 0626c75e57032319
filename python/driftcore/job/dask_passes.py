"""``--scheduler``: the command line's passes on a Dask cluster.

The input is cut into *parts* of whole Parquet row groups (about ``PART_ROWS`` rows
each, never across files), each knowing its first row in the whole input. Each pass
runs the single-process pass's own per-batch code (:func:`passes.reference_states`,
:func:`passes.current_states`) on every part in a Dask task,
and the parts' states are tree-merged in input order with Dask's reduction:
profiles, LSH indexes (documents numbered in order), bottom-k samples
(each part keys its rows from its first row of the seeded stream, so the merged
sample is the single-process one), leakage counts and examples, row hashes.

So the report equals the single-process one, exactly in every count, value grid,
the MMD sample and the leakage sections, except that float moments may differ in
their last bits, and beyond ``--leak-rows`` exact-row candidates the verified sample
is another uniform sample. CSV input is read by one process only: convert it to Parquet first.

Examples
--------
>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
>>> from driftcore.job.dask_passes import parts_of
>>> from driftcore.job.read import open_source
>>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
>>> pq.write_table(pa.table({"x": list(range(10))}), path, row_group_size=4)
>>> [(p.row_groups, p.start, p.rows) for p in parts_of(open_source(path), rows_per_part=5)]
[((0, 1), 0, 8), ((2,), 8, 2)]
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..dask import _graph
from ..dask.leakage import merge_indexes
from ..dask.profile import merge_profiles
from ..profile import Profile
from . import leak
from .errors import InputError
from .passes import (
    PREFETCH,
    Side,
    current_states,
    numeric_matrix,
    reference_side,
    reference_states,
)
from .plan import Plan
from .progress import Progress
from .read import Source, prefetched, short_message
from .rowhash import HashSet, sorted_unique
from .sample import Reservoir
from .settings import Settings

#: Rows per part (whole row groups are kept together, so a part may be larger). Each
#: part starts fresh quantile sketches, whose first ~1e6 values are all sorted (about
#: 12 ms a column here), so parts are large: 1e8 rows took 1.13-1.47 s on a warm
#: 2-worker cluster in parts of 2^22 rows, 0.88-0.97 s in parts of 2^24.
PART_ROWS = 1 << 24


@dataclass(frozen=True)
class Part:
    """Row groups ``row_groups`` of one Parquet file: rows ``start`` to
    ``start + rows`` of the whole input."""

    file: str
    row_groups: tuple[int, ...]
    start: int
    rows: int


def parts_of(src: Source, rows_per_part: int = PART_ROWS) -> list[Part]:
    """The input's parts, in reading order."""
    if src.format == "csv":
        raise InputError(src.path, "--scheduler reads Parquet files or folders; convert the CSV "
                                   "to Parquet or run without --scheduler")
    if src.format == "table":
        raise InputError(src.path, "a scheduler reads Parquet files or folders, not a table in "
                                   "memory; pass paths, or use driftcore.dask on Dask "
                                   "collections")
    import pyarrow.parquet as pq

    parts, start = [], 0
    for f in src.files:
        meta = pq.ParquetFile(f).metadata
        groups: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= rows_per_part or g == meta.num_row_groups - 1:
                parts.append(Part(str(f), tuple(groups), start, rows))
                start += rows
                groups, rows = [], 0
    return parts


def _batches(part: Part, columns: list[str], batch_size: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.parquet as pq

    def read() -> Iterator[pa.RecordBatch]:
        try:
            pf = pq.ParquetFile(part.file, pre_buffer=False, buffer_size=1 << 22)
            yield from pf.iter_batches(batch_size=batch_size, row_groups=list(part.row_groups),
                                       columns=columns)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(part.file, f"cannot read: {short_message(exc)}") from exc

    return prefetched(read(), PREFETCH)


# --- the states one part sends back, and their merges ----------------------------------


@dataclass
class _First:
    rows: int
    profile: Profile
    sample: Reservoir
    text: dict[str, Any]  # column -> LSHIndex
    hashes: np.ndarray | None  # sorted distinct row hashes (exact-row leakage)


@dataclass
class _Second:
    texts: dict[str, dict[int, Any]]  # column -> reference row -> text (examples)
    filtered: list[pa.Table]  # reference rows whose hash is a candidate's
    kept: list[np.ndarray]  # their row numbers


@dataclass
class _Current:
    rows: int
    profile: Profile
    sample: Reservoir
    text: dict[str, leak.TextLeak]
    exact: leak.ExactRows | None


def _merged_reservoir(parts: list[Reservoir]) -> Reservoir:
    out = copy.deepcopy(parts[0])  # merge changes its left side; inputs stay as they are
    for other in parts[1:]:
        out.merge(other)
    return out


def _merge_first(states: list[_First]) -> _First:
    first = states[0]
    hashes = None
    if first.hashes is not None:
        hashes = sorted_unique(np.concatenate([s.hashes for s in states]))
    return _First(
        sum(s.rows for s in states),
        merge_profiles([s.profile for s in states]),
        _merged_reservoir([s.sample for s in states]),
        {c: merge_indexes([s.text[c] for s in states]) for c in first.text},
        hashes,
    )


def _merge_second(states: list[_Second]) -> _Second:
    texts: dict[str, dict[int, Any]] = {c: {} for c in states[0].texts}
    for s in states:
        for c, found in s.texts.items():
            texts[c].update(found)
    return _Second(
        texts,
        [t for s in states for t in s.filtered],
        [k for s in states for k in s.kept],
    )


def _merge_current(states: list[_Current]) -> _Current:
    text = {c: copy.copy(t) for c, t in states[0].text.items()}
    exact = copy.deepcopy(states[0].exact)
    for c, t in text.items():
        t.examples = list(t.examples)
        for s in states[1:]:
            t.merge_current(s.text[c])
    if exact is not None:
        for s in states[1:]:
            exact.merge_current(s.exact)
    return _Current(
        sum(s.rows for s in states),
        merge_profiles([s.profile for s in states]),
        _merged_reservoir([s.sample for s in states]),
        text,
        exact,
    )


# --- the tasks ---------------------------------------------------------------------------


def _first_part(part: Part, plan: Plan, s: Settings, expected_rows: int | None,
                hashes: bool) -> _First:
    exact = leak.ExactRows(plan.key, 0, s.seed) if hashes else None
    batches = _batches(part, plan.read, s.batch_size)
    prof, res, text, rows = reference_states(batches, plan, s, expected_rows, exact, part.start)
    ref_set = None
    if exact is not None:
        exact.finish_reference()
        ref_set = exact.reference_hashes()
    return _First(rows, prof, res, {c: t.index for c, t in text.items()}, ref_set)


def _second_part(part: Part, plan: Plan, s: Settings, wanted: dict[str, list[int]],
                 want: np.ndarray | None) -> _Second:
    texts: dict[str, dict[int, Any]] = {c: {} for c in wanted}
    filtered, kept = [], []
    hasher = leak.ExactRows(plan.key, 0).hasher if want is not None else None
    want_set = HashSet(want, distinct_ascending=True) if want is not None else None
    start = part.start
    for batch in _batches(part, plan.read, s.batch_size):
        for c, rows in wanted.items():
            for r in rows:
                if start <= r < start + batch.num_rows:
                    texts[c][r] = batch.column(c)[r - start].as_py()
        if hasher is not None and want_set is not None:
            keep = np.flatnonzero(want_set.member(hasher.hashes(batch, plan.key)))
            filtered.append(pa.Table.from_batches([batch.select(plan.key).take(pa.array(keep))]))
            kept.append(start + keep)
        start += batch.num_rows
    return _Second(texts, filtered, kept)


def _current_part(part: Part, plan: Plan, s: Settings, expected_rows: int | None,
                  ref_profile: Profile,
                  indexes: dict[str, Any], ref_set: np.ndarray | None) -> _Current:
    text = {c: leak.TextLeak(c, similarity=s.thresholds["similarity"], examples=s.examples,
                             threads=s.threads, device=s.device, index=ix,
                             first_current_row=part.start)
            for c, ix in indexes.items()}
    exact = None
    if ref_set is not None:
        exact = leak.ExactRows(plan.key, s.leak_rows, s.seed, first_current_row=part.start)
        exact.use_reference_hashes(ref_set)
    batches = _batches(part, plan.read, s.batch_size)
    prof, res, rows = current_states(batches, plan, ref_profile, text, s, expected_rows, exact,
                                     part.start)
    for t in text.values():
        t.index = None  # the merge needs the counts and examples, not the index back
    if exact is not None:  # the merge needs the counts and candidates, not the set back
        exact.use_reference_hashes(np.zeros(0, np.uint64))
    return _Current(rows, prof, res, text, exact)


# --- the passes ---------------------------------------------------------------------------


class DaskPasses:
    """:class:`passes.LocalPasses` on a Dask cluster: the same three passes, each a
    task per part and a tree merge, run by ``client``."""

    def __init__(self, client: Any, split_every: int = _graph.SPLIT_EVERY) -> None:
        self.client = client
        self.split_every = split_every

    def _run(self, fn: Any, parts: list[Part], merge: Any, *args: Any) -> Any:
        import dask

        # Large arguments (a profile, an index, a hash set) become one graph key each,
        # sent once to each worker rather than once per task.
        shared = [dask.delayed(a, pure=True) if isinstance(a, (Profile, dict, np.ndarray))
                  else a for a in args]
        states = _graph.per_partition(fn, parts, *shared)
        (merged,) = _graph.compute(_graph.tree_merge(states, merge, self.split_every),
                                   scheduler=self.client)
        return merged

    @staticmethod
    def _settings(s: Settings) -> Settings:
        # The cluster's workers are the parallelism: one kernel thread per task unless
        # --threads says otherwise.
        return dataclasses.replace(s, threads=s.threads or 1)

    def reference_first(self, src: Source, plan: Plan, s: Settings, progress: Progress,
                        exact: leak.ExactRows | None = None) -> Side:
        s = self._settings(s)
        m = self._run(_first_part, parts_of(src), _merge_first, plan, s, src.num_rows,
                      exact is not None)
        _done(progress, m.rows)
        if m.rows == 0:
            raise InputError(src.path, "no rows")
        if exact is not None:
            exact.use_reference_hashes(m.hashes)
            exact.n_reference = m.rows
        text = {c: leak.TextLeak(c, similarity=s.thresholds["similarity"], examples=s.examples,
                                 threads=s.threads, device=s.device, index=ix)
                for c, ix in m.text.items()}
        return reference_side(src, plan, m.profile, m.sample, text, m.rows)

    def current(self, src: Source, plan: Plan, ref: Side, s: Settings, progress: Progress,
                exact: leak.ExactRows | None = None) -> Side:
        s = self._settings(s)
        indexes = {c: t.index for c, t in ref.text.items()}
        ref_set = None if exact is None else exact.reference_hashes()
        m = self._run(_current_part, parts_of(src), _merge_current, plan, s, src.num_rows,
                      ref.profile, indexes, ref_set)
        _done(progress, m.rows)
        if m.rows == 0:
            raise InputError(src.path, "no rows")
        for c, t in ref.text.items():
            t.merge_current(m.text[c])
        if exact is not None:
            exact.merge_current(m.exact)
        return Side(src.path, src.format, m.rows, m.profile,
                    numeric_matrix(m.sample.table(), plan.of("numeric")))

    def reference_second(self, src: Source, plan: Plan, side: Side, s: Settings,
                         progress: Progress, exact: leak.ExactRows | None = None) -> Any:
        s = self._settings(s)
        wanted = {c: sorted(t.wanted_reference_rows()) for c, t in side.text.items()}
        want = None if exact is None else exact.candidate_hashes()
        m = self._run(_second_part, parts_of(src), _merge_second, plan, s, wanted, want)
        _done(progress, side.rows)
        for c, t in side.text.items():
            for e in t.examples:
                if e["reference"] is None and e["reference_index"] in m.texts[c]:
                    e["reference"] = m.texts[c][e["reference_index"]]
        if exact is None:
            return None
        return exact.verify_filtered(iter(m.filtered), m.kept, s.thresholds["exact_rows"],
                                     s.examples)


def _done(progress: Progress, rows: int) -> None:
    progress.advance(rows)
    progress.close()
