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
the MMD sample and the leakage sections (beyond ``--leak-rows`` exact-row candidates
too: they are keyed by their current row numbers), except that float moments may differ
in their last bits. CSV input is read by one process only: convert it to Parquet first.

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
from .errors import InputError
from .passes import (
    PREFETCH,
    CurrentStates,
    ReferenceStates,
    Side,
    current_side,
    current_states,
    merge_fields,
    reference_side,
    reference_states,
)
from .plan import Plan
from .progress import Progress
from .read import Source, prefetched, short_message
from .rowhash import HashSet, RowHasher
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
        raise InputError(
            src.path,
            "--scheduler reads Parquet files or folders; convert the CSV "
            "to Parquet or run without --scheduler",
        )
    if src.format == "table":
        raise InputError(
            src.path,
            "a scheduler reads Parquet files or folders, not a table in "
            "memory; pass paths, or use driftcore.dask on Dask "
            "collections",
        )
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
            yield from pf.iter_batches(
                batch_size=batch_size, row_groups=list(part.row_groups), columns=columns
            )
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(part.file, f"cannot read: {short_message(exc)}") from exc

    return prefetched(read(), PREFETCH)


# --- the tasks ----------------------------------------------------------------------------


def _merged(states: list[Any]) -> Any:
    """The states of consecutive parts merged in order into a new one (the inputs are
    left as they are: a retried task may see them again)."""
    out = copy.deepcopy(states[0])
    for other in states[1:]:
        out = out.merge(other)
    return out


def _first_part(
    part: Part, plan: Plan, s: Settings, expected_rows: int | None, hash_rows: bool
) -> ReferenceStates:
    batches = _batches(part, plan.read, s.batch_size)
    return reference_states(batches, plan, s, expected_rows, hash_rows, part.start)


def _current_part(
    part: Part, plan: Plan, s: Settings, expected_rows: int | None, ref: Side
) -> CurrentStates:
    return current_states(
        _batches(part, plan.read, s.batch_size), plan, ref, s, expected_rows, part.start
    )


@dataclass
class _Second:
    """What the second reference pass finds in one part."""

    texts: dict[str, dict[int, Any]]  # column -> reference row -> text (examples)
    filtered: list[pa.Table]  # reference rows whose hash is a candidate's
    kept: list[np.ndarray]  # their row numbers

    def merge(self, other: _Second) -> _Second:
        return merge_fields(self, other)


def _second_part(
    part: Part,
    plan: Plan,
    s: Settings,
    wanted: dict[str, list[int]],
    want: np.ndarray | None,
) -> _Second:
    texts: dict[str, dict[int, Any]] = {c: {} for c in wanted}
    filtered, kept = [], []
    hasher = RowHasher() if want is not None else None
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


# --- the passes ---------------------------------------------------------------------------


class DaskPasses:
    """:class:`passes.LocalPasses` on a Dask cluster: the same three passes, each a
    task per part and a tree merge of the parts' states, run by ``client``."""

    def __init__(self, client: Any, split_every: int = _graph.SPLIT_EVERY) -> None:
        self.client = client
        self.split_every = split_every

    def _run(self, fn: Any, parts: list[Part], *args: Any) -> Any:
        import dask

        # Large arguments (the reference's side, a hash set) become one graph key each,
        # sent once to each worker rather than once per task.
        shared = [
            dask.delayed(a, pure=True) if isinstance(a, (Side, dict, np.ndarray)) else a
            for a in args
        ]
        states = _graph.per_partition(fn, parts, *shared)
        (merged,) = _graph.compute(
            _graph.tree_merge(states, _merged, self.split_every), scheduler=self.client
        )
        return merged

    @staticmethod
    def _settings(s: Settings) -> Settings:
        # The cluster's workers are the parallelism: one kernel thread per task unless
        # --threads says otherwise.
        return dataclasses.replace(s, threads=s.threads or 1)

    def reference_first(
        self, src: Source, plan: Plan, s: Settings, progress: Progress, hash_rows: bool = False
    ) -> Side:
        s = self._settings(s)
        st = self._run(_first_part, parts_of(src), plan, s, src.num_rows, hash_rows)
        _done(progress, st.rows)
        return reference_side(src, plan, st)

    def current(self, src: Source, plan: Plan, ref: Side, s: Settings, progress: Progress) -> Side:
        s = self._settings(s)
        # The tasks need the reference's profile, indexes and row hashes, not its sample.
        shared = dataclasses.replace(ref, sample=np.zeros((0, 0)), saved=None)
        st = self._run(_current_part, parts_of(src), plan, s, src.num_rows, shared)
        _done(progress, st.rows)
        side = current_side(src, plan, st)
        for t in side.text.values():  # a merged state came back without the index
            t.index = ref.indexes.get(t.column)
        if side.exact is not None:
            side.exact.reference = ref.hashes
        return side

    def reference_second(
        self, src: Source, plan: Plan, cur: Side, s: Settings, progress: Progress
    ) -> dict[str, Any] | None:
        s = self._settings(s)
        wanted = {c: sorted(t.wanted_reference_rows()) for c, t in cur.text.items()}
        want = None if cur.exact is None else cur.exact.candidate_hashes()
        m = self._run(_second_part, parts_of(src), plan, s, wanted, want)
        _done(progress, src.num_rows or 0)
        for c, t in cur.text.items():
            for e in t.examples:
                if e["reference"] is None and e["reference_index"] in m.texts[c]:
                    e["reference"] = m.texts[c][e["reference_index"]]
        if cur.exact is None:
            return None
        return cur.exact.verify_filtered(
            iter(m.filtered), m.kept, s.thresholds["exact_rows"], s.examples
        )


def _done(progress: Progress, rows: int) -> None:
    progress.advance(rows)
    progress.close()
