"""The streaming check: read each side in record batches and build the summaries
that :mod:`driftcore.job.document` turns into the report.

Passes over the data (each reads record batches of ``batch_size`` rows):

1. **Reference**: the :class:`~driftcore.Profile` (moments, value grids, category
   counts), a bottom-k sample of numeric rows for MMD, one LSH index per text
   column, and a 64-bit hash of every row.
2. **Current**: its Profile (the grids of both sides compare exactly, see
   :class:`~driftcore.ValueGrid`), a numeric sample for MMD, row hashes looked up
   among the reference's (exact-row candidates), and LSH queries of its texts.
3. **Reference again** (raw reference, only for leakage, and only when there is
   something to fetch): the reference texts of the leakage examples and the exact
   verification of the exact-row candidates, streamed.

The report's histograms are drawn from the two profiles' grids, so no pass exists
for them.

``driftcore profile`` runs pass 1 (or 2 with ``--reference``) and saves the
result, so ``compare`` of a saved reference profile gives the same drift table and
MMD sample as ``check`` of the raw file. Memory: a few batches, the grids (at most
64 KiB per numeric column), category counts, the MMD samples (``mmd_sample`` rows a
side), about 10 bytes per reference row and at most ``leak_rows`` candidate rows for
exact-row leakage, and 680 bytes per reference text in the LSH indexes.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> from driftcore.job.passes import reference_first_pass
>>> from driftcore.job.plan import plan_columns
>>> from driftcore.job.progress import Progress
>>> from driftcore.job.read import open_table
>>> from driftcore.job.settings import Settings
>>> src = open_table({"x": np.arange(1000.0)}, "reference")
>>> s = Settings()
>>> side = reference_first_pass(src, plan_columns(src, s), s, Progress(None, "", True))
>>> side.rows, side.profile.columns["x"].count, side.sample.shape
(1000, 1000, (1000, 1))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..lsh import LSHIndex
from ..minhash import MinHasher
from ..profile import Profile
from ..row_sample import RowSample
from . import leak
from .errors import InputError
from .plan import Plan
from .profile_file import ProfileFile
from .progress import Progress
from .read import Source, as_float64
from .rowhash import RowHashes
from .settings import Settings

PREFETCH = 2  # batches decoded ahead of the one being summarized


@dataclass
class Side:
    """Everything one side contributes to the report."""

    path: Path | str
    format: str
    rows: int
    profile: Profile
    sample: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    #: The reference's text indexes and row hashes (None: no exact-row leakage).
    indexes: dict[str, LSHIndex] = field(default_factory=dict)
    hashes: RowHashes | None = None
    #: The current side's leakage states, counted against the reference's.
    text: dict[str, leak.TextLeak] = field(default_factory=dict)
    exact: leak.ExactRows | None = None
    is_profile: bool = False
    saved: ProfileFile | None = None


# --- the states of a pass ----------------------------------------------------------------


def merge_fields(a: Any, b: Any) -> Any:
    """Merge dataclass ``b`` into ``a``, field by field, by one rule: counts add, lists
    concatenate, states ``merge``, dicts merge key by key, None stays None. Returns
    ``a``. This is how the parts of a pass combine on Dask, in input order."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        setattr(a, f.name, _merged(x, y))
    return a


def _merged(x: Any, y: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (int, list)):
        return x + y
    if isinstance(x, dict):
        for k, v in y.items():
            x[k] = _merged(x[k], v) if k in x else v
        return x
    if hasattr(x, "merge"):
        return x.merge(y)
    return y  # a plain value (a fetched text): the later part's


@dataclass
class ReferenceStates:
    """The first pass's states over some of the reference's rows."""

    rows: int
    profile: Profile
    sample: RowSample
    indexes: dict[str, LSHIndex]
    hashes: RowHashes | None

    def merge(self, other: ReferenceStates) -> ReferenceStates:
        return merge_fields(self, other)


@dataclass
class CurrentStates:
    """The current pass's states over some of the current side's rows."""

    rows: int
    profile: Profile
    sample: RowSample
    text: dict[str, leak.TextLeak]
    exact: leak.ExactRows | None

    def merge(self, other: CurrentStates) -> CurrentStates:
        return merge_fields(self, other)


# --- passes -------------------------------------------------------------------------------


def _profile_input(batch: pa.RecordBatch, plan: Plan, device: str) -> Any:
    """The profiled columns of a batch; on the GPU numeric columns as cupy arrays
    (nulls become NaN, counted as missing all the same)."""
    sub = batch.select(plan.profiled)
    if device != "gpu":
        return sub
    import cupy as cp

    out: dict[str, Any] = {}
    for name in plan.profiled:
        col = sub.column(name)
        if plan.kinds[name] == "numeric":
            out[name] = cp.asarray(as_float64(col))
        else:
            out[name] = col
    return out


def numeric_matrix(table: pa.Table | pa.RecordBatch, columns: list[str]) -> np.ndarray:
    if not columns or table.num_rows == 0:
        return np.zeros((table.num_rows if columns else 0, len(columns)))
    return np.column_stack([as_float64(table.column(c)) for c in columns])


def _counted(iterable: Iterator[pa.RecordBatch], progress: Progress) -> Iterator[pa.RecordBatch]:
    for b in iterable:
        yield b
        progress.advance(b.num_rows)
    progress.close()


def reference_first_pass(
    src: Source, plan: Plan, s: Settings, progress: Progress, hash_rows: bool = False
) -> Side:
    """Pass 1 over the whole reference; ``hash_rows``: also hash every row (exact-row
    leakage)."""
    batches = _counted(src.batches(plan.read, s.batch_size, prefetch=PREFETCH), progress)
    return reference_side(src, plan, reference_states(batches, plan, s, src.num_rows, hash_rows))


class _Alongside:
    """Calls made one at a time, in order, on a background thread (inline when the
    check runs on one thread): a batch's exact-row hashing runs while the same batch
    is profiled. ``submit`` waits for the previous call first; errors surface there or
    at the end of the :func:`_alongside` block."""

    def __init__(self, threads: int | None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = None if threads == 1 else ThreadPoolExecutor(1, "driftcore-rows")
        self._pending: Any = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self.wait()
        if self._pool is None:
            fn(*args)
        else:
            self._pending = self._pool.submit(fn, *args)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


@contextmanager
def _alongside(threads: int | None) -> Iterator[_Alongside]:
    side = _Alongside(threads)
    try:
        yield side
        side.wait()
    finally:
        side.close()


def reference_states(
    batches: Iterator[pa.RecordBatch],
    plan: Plan,
    s: Settings,
    expected_rows: int | None,
    hash_rows: bool = False,
    start: int = 0,
) -> ReferenceStates:
    """The first pass's states over ``batches``, the reference's rows from row
    ``start`` on (a Dask partition; 0 for the whole file)."""
    st = ReferenceStates(
        0,
        Profile(bins=s.bins, categorical=plan.as_categories),
        RowSample(s.mmd_sample, s.seed, stream=1, expected_rows=expected_rows, start=start),
        {c: _text_index(plan, c, s) for c in plan.of("text")},
        RowHashes(plan.key) if hash_rows else None,
    )

    def index(c: str) -> Callable[[Any], None]:
        ix = st.indexes[c]
        return lambda values: ix.add(leak.as_texts(values), threads=s.threads, device=s.device)

    st.rows = _summarize(
        batches,
        plan,
        s,
        st.profile,
        st.sample,
        st.hashes.update if st.hashes is not None else None,
        {c: index(c) for c in st.indexes},
    )
    return st


def _text_index(plan: Plan, column: str, s: Settings) -> LSHIndex:
    """An empty LSH index of one text column's reference texts, shingled as planned."""
    shingle, n = plan.shingles.get(column, ("word", 5))
    hasher = MinHasher(shingle=shingle, n=n, fold_punctuation=not s.keep_punctuation)
    return LSHIndex(hasher, threshold=s.thresholds["similarity"])


def _summarize(
    batches: Iterator[pa.RecordBatch],
    plan: Plan,
    s: Settings,
    prof: Profile,
    sample: RowSample,
    rows_of: Callable[[pa.RecordBatch], None] | None,
    texts: dict[str, Callable[[Any], None]],
) -> int:
    """One side's pass: each batch into the profile, the MMD sample, the exact-row
    state (``rows_of``, beside the rest) and the text states; returns the rows."""
    numeric = plan.of("numeric")
    rows = 0
    with _alongside(s.threads) as rows_side:
        for batch in batches:
            if rows_of is not None:
                rows_side.submit(rows_of, batch)
            if plan.profiled:
                prof.update(
                    _profile_input(batch, plan, s.device), threads=s.threads, device=s.device
                )
            if numeric:
                sample.update(batch.select(numeric))
            for c, add in texts.items():
                add(batch.column(c))
            rows += batch.num_rows
    return rows


def _side(src: Source, plan: Plan, st: Any, **leakage: Any) -> Side:
    """A side after its pass: rows, profile and MMD sample of ``st``, and its leakage
    states."""
    if st.rows == 0:
        raise InputError(src.path, "no rows")
    sample = numeric_matrix(st.sample.table(), plan.of("numeric"))
    return Side(src.path, src.format, st.rows, st.profile, sample, **leakage)


def reference_side(src: Source, plan: Plan, st: ReferenceStates) -> Side:
    """The reference's Side after its first pass."""
    return _side(src, plan, st, indexes=st.indexes, hashes=st.hashes)


def reference_second_pass(
    src: Source, plan: Plan, cur: Side, s: Settings, progress: Progress
) -> dict[str, Any] | None:
    """Pass 3: the reference texts of the current side's leakage examples, and the
    verification of its exact-row candidates (whose report section it returns; None
    without them)."""

    def batches() -> Iterator[pa.RecordBatch]:
        start = 0
        for batch in _counted(src.batches(plan.read, s.batch_size, prefetch=PREFETCH), progress):
            for c, t in cur.text.items():
                if t.wanted_reference_rows():
                    t.fill_reference(start, batch.column(c))
            start += batch.num_rows
            yield batch

    if cur.exact is None:
        for _ in batches():
            pass
        return None
    return cur.exact.verify(batches(), s.thresholds["exact_rows"], s.examples)


def current_pass(src: Source, plan: Plan, ref: Side, s: Settings, progress: Progress) -> Side:
    """Pass 2 over the whole current side, against the reference's Side."""
    batches = _counted(src.batches(plan.read, s.batch_size, prefetch=PREFETCH), progress)
    return current_side(src, plan, current_states(batches, plan, ref, s, src.num_rows))


def current_states(
    batches: Iterator[pa.RecordBatch],
    plan: Plan,
    ref: Side,
    s: Settings,
    expected_rows: int | None,
    start: int = 0,
) -> CurrentStates:
    """The current pass's states over ``batches`` (rows from ``start`` on): its
    profile and MMD sample, and its leakage against the reference's indexes and row
    hashes."""
    text = {
        c: leak.TextLeak(
            c,
            ix,
            similarity=s.thresholds["similarity"],
            examples=s.examples,
            threads=s.threads,
            device=s.device,
            first_current_row=start,
        )
        for c, ix in ref.indexes.items()
    }
    exact = None
    if ref.hashes is not None:
        exact = leak.ExactRows(ref.hashes, s.leak_rows, s.seed, first_current_row=start)
    ref_profile = ref.profile
    st = CurrentStates(
        0,
        Profile(bins=ref_profile.bins, max_cells=ref_profile.max_cells, reference=ref_profile),
        RowSample(s.mmd_sample, s.seed, stream=2, expected_rows=expected_rows, start=start),
        text,
        exact,
    )
    st.rows = _summarize(
        batches,
        plan,
        s,
        st.profile,
        st.sample,
        exact.update if exact is not None else None,
        {c: t.update for c, t in text.items()},
    )
    return st


def current_side(src: Source, plan: Plan, st: CurrentStates) -> Side:
    """The current side's Side after its pass."""
    return _side(src, plan, st, text=st.text, exact=st.exact)


class LocalPasses:
    """The passes in this process. ``driftcore.job.dask_passes.DaskPasses`` has the
    same three methods and runs them on a Dask cluster (``--scheduler``)."""

    def reference_first(
        self, src: Source, plan: Plan, s: Settings, progress: Progress, hash_rows: bool = False
    ) -> Side:
        return reference_first_pass(src, plan, s, progress, hash_rows)

    def current(self, src: Source, plan: Plan, ref: Side, s: Settings, progress: Progress) -> Side:
        return current_pass(src, plan, ref, s, progress)

    def reference_second(
        self, src: Source, plan: Plan, cur: Side, s: Settings, progress: Progress
    ) -> dict[str, Any] | None:
        return reference_second_pass(src, plan, cur, s, progress)
