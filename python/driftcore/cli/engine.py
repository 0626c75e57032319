"""The streaming check: read each side in record batches and build the summaries
that :mod:`driftcore.cli.document` turns into the report.

Passes over the data (each reads record batches of ``batch_size`` rows):

1. **Reference**: the :class:`~driftcore.Profile` (moments, quantile sketches,
   category counts), a bottom-k sample of numeric rows for MMD, one LSH index per
   text column, and a 64-bit hash of every row.
2. **Current**: its Profile, binned on the reference's quantile edges (so the binned
   metrics are exact), display histograms on the reference's range, a numeric
   sample for MMD, row hashes looked up among the reference's (exact-row
   candidates), and LSH queries of its texts.
3. **Reference again** (raw reference only): histograms on its own quantile edges,
   display histograms, the reference texts of the leakage examples, and the exact
   verification of the exact-row candidates, streamed.

``driftcore profile`` runs passes 1 and 3 (or 2 with ``--reference``) and saves the
result, so ``compare`` of a saved reference profile gives the same drift table and
MMD sample as ``check`` of the raw file. Memory: a few batches, the sketches (about
50 kB per numeric column), category counts, the MMD samples (``mmd_sample`` rows a
side), 16 bytes per reference row and at most ``leak_rows`` candidate rows for
exact-row leakage, and 680 bytes per reference text in the LSH indexes.

Examples
--------
>>> import numpy as np, pyarrow as pa, pyarrow.parquet as pq, tempfile, os
>>> from driftcore.cli.config import Settings
>>> from driftcore.cli.engine import run_check
>>> d = tempfile.mkdtemp(); rng = np.random.default_rng(0)
>>> pq.write_table(pa.table({"x": rng.normal(size=500)}), os.path.join(d, "r.parquet"))
>>> pq.write_table(pa.table({"x": rng.normal(1, 1, 500)}), os.path.join(d, "c.parquet"))
>>> doc = run_check(os.path.join(d, "r.parquet"), os.path.join(d, "c.parquet"), Settings())
>>> doc["summary"]["exit_code"], doc["columns"][0]["column"], doc["columns"][0]["drifted"]
(1, 'x', True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .. import _tables
from ..histogram import Histogram
from ..lsh import LSHIndex
from ..profile import NumericColumn, Profile
from . import document, leak
from .config import Settings
from .errors import InputError
from .plan import (
    Plan,
    check_current,
    check_current_profile,
    plan_columns,
    plan_from_profile,
)
from .profile_file import ProfileFile, is_profile_file
from .progress import Progress
from .read import Source, as_float64, open_source
from .read_csv import retry_widened, share_types
from .sample import Reservoir

DISPLAY_BINS = 40
PREFETCH = 2  # batches decoded ahead of the one being summarized


@dataclass
class Side:
    """Everything one side contributes to the report."""

    path: Path
    format: str
    rows: int
    profile: Profile
    display: dict[str, Histogram] = field(default_factory=dict)
    sample: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    text: dict[str, leak.TextLeak] = field(default_factory=dict)
    is_profile: bool = False
    saved: ProfileFile | None = None


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


def _numeric_matrix(table: pa.Table | pa.RecordBatch, columns: list[str]) -> np.ndarray:
    if not columns or table.num_rows == 0:
        return np.zeros((table.num_rows if columns else 0, len(columns)))
    return np.column_stack([
        as_float64(table.column(c)) for c in columns
    ])


def _display_edges(col: NumericColumn) -> np.ndarray | None:
    if col.moments.count == 0:
        return None
    lo, hi = float(col.moments.min), float(col.moments.max)
    if not hi > lo:
        hi = lo + max(abs(lo), 1.0) * 1e-9
    return np.linspace(lo, hi, DISPLAY_BINS + 1)


def _counted(iterable: Iterator[pa.RecordBatch], progress: Progress) -> Iterator[pa.RecordBatch]:
    for b in iterable:
        yield b
        progress.advance(b.num_rows)
    progress.close()


def reference_first_pass(src: Source, plan: Plan, s: Settings, progress: Progress,
                         exact: leak.ExactRows | None = None) -> Side:
    batches = _counted(src.batches(plan.columns, s.batch_size, prefetch=PREFETCH), progress)
    prof, res, text, rows = reference_states(batches, plan, s, src.num_rows, exact)
    if rows == 0:
        raise InputError(src.path, "no rows")
    if exact is not None:
        exact.finish_reference()
    return reference_side(src, plan, prof, res, text, rows)


def reference_states(batches: Iterator[pa.RecordBatch], plan: Plan, s: Settings,
                     expected_rows: int | None, exact: leak.ExactRows | None = None,
                     start: int = 0) -> tuple[Profile, Reservoir, dict[str, leak.TextLeak], int]:
    """The first pass's mergeable states over ``batches``, the reference's rows from
    row ``start`` on (a Dask partition; 0 for the whole file)."""
    prof = Profile(bins=s.bins, seed=s.seed, categorical=plan.as_categories)
    numeric = plan.of("numeric")
    res = Reservoir(s.mmd_sample, s.seed, stream=1, expected_rows=expected_rows, start=start)
    text = {c: leak.TextLeak(c, similarity=s.thresholds["similarity"], examples=s.examples,
                             threads=s.threads, device=s.device) for c in plan.of("text")}
    rows = 0
    for batch in batches:
        if plan.profiled:
            prof.update(_profile_input(batch, plan, s.device), threads=s.threads, device=s.device)
        if numeric:
            res.add(batch.select(numeric))
        for c, t in text.items():
            t.add_reference(batch.column(c))
        if exact is not None:
            exact.add_reference(batch)
        rows += batch.num_rows
    return prof, res, text, rows


def reference_side(src: Source, plan: Plan, prof: Profile, res: Reservoir,
                   text: dict[str, leak.TextLeak], rows: int) -> Side:
    """The reference's Side after its first pass (display histograms still empty)."""
    numeric = plan.of("numeric")
    side = Side(src.path, src.format, rows, prof, text=text,
                sample=_numeric_matrix(res.table(), numeric))
    for c in numeric:
        edges = _display_edges(prof.columns[c])
        if edges is not None:
            side.display[c] = Histogram(edges)
    return side


def reference_second_pass(src: Source, plan: Plan, side: Side, s: Settings, progress: Progress,
                          consume: Callable[[Iterator[pa.RecordBatch]], Any] | None = None) -> Any:
    """Own-edge histograms, display histograms, example texts; ``consume`` (the
    exact-row lookup) reads the batches after they have been used here."""
    for c in plan.of("numeric"):
        col = side.profile.columns[c]
        if isinstance(col, NumericColumn) and col.count and col.histogram is None:
            col.histogram = Histogram(col.edges(side.profile.bins))

    def batches() -> Iterator[pa.RecordBatch]:
        start = 0
        for batch in _counted(src.batches(plan.columns, s.batch_size, prefetch=PREFETCH), progress):
            _fill_histograms(batch, plan, side.profile, side.display, s)
            for c, t in side.text.items():
                if t.wanted_reference_rows():
                    t.fill_reference(start, batch.column(c))
            start += batch.num_rows
            yield batch

    if consume is None:
        for _ in batches():
            pass
        return None
    return consume(batches())


def _fill_histograms(batch: pa.RecordBatch, plan: Plan, prof: Profile,
                     display: dict[str, Histogram], s: Settings) -> None:
    numeric = plan.of("numeric")
    if not numeric:
        return
    chunk = _tables.read_chunk(batch.select(numeric))
    for c in numeric:
        values = chunk[c].values
        if s.device == "gpu":
            import cupy as cp

            values = cp.asarray(values)
        col = prof.columns.get(c)
        if display.get(c) is not None:
            display[c].update(values, threads=s.threads, device=s.device)
        if prof._reference is None and isinstance(col, NumericColumn) and col.histogram is not None:
            col.histogram.update(values, threads=s.threads, device=s.device)


def current_pass(src: Source, plan: Plan, ref: Side, s: Settings, progress: Progress,
                 exact: leak.ExactRows | None = None) -> Side:
    batches = _counted(src.batches(plan.columns, s.batch_size, prefetch=PREFETCH), progress)
    prof, display, mmd_res, rows = current_states(batches, plan, ref.profile, ref.display,
                                                  ref.text, s, src.num_rows, exact)
    if rows == 0:
        raise InputError(src.path, "no rows")
    return Side(src.path, src.format, rows, prof, display,
                _numeric_matrix(mmd_res.table(), plan.of("numeric")))


def current_states(batches: Iterator[pa.RecordBatch], plan: Plan, ref_profile: Profile,
                   ref_display: dict[str, Histogram], text: dict[str, leak.TextLeak],
                   s: Settings, expected_rows: int | None, exact: leak.ExactRows | None = None,
                   start: int = 0) -> tuple[Profile, dict[str, Histogram], Reservoir, int]:
    """The current pass's mergeable states over ``batches`` (rows from ``start`` on);
    ``text`` and ``exact`` accumulate the leakage queries."""
    prof = Profile(bins=ref_profile.bins, k=ref_profile.k, seed=ref_profile.seed,
                   reference=ref_profile)
    numeric = plan.of("numeric")
    display = {c: h.empty_copy() for c, h in ref_display.items()}
    mmd_res = Reservoir(s.mmd_sample, s.seed, stream=2, expected_rows=expected_rows, start=start)
    rows = 0
    for batch in batches:
        if plan.profiled:
            prof.update(_profile_input(batch, plan, s.device), threads=s.threads, device=s.device)
            _fill_histograms(batch, plan, prof, display, s)
        if numeric:
            mmd_res.add(batch.select(numeric))
        if exact is not None:
            exact.add_current(batch)
        for c, t in text.items():
            t.query_current(batch.column(c))
        rows += batch.num_rows
    return prof, display, mmd_res, rows


class LocalPasses:
    """The passes in this process. ``driftcore.cli.dask_engine.DaskPasses`` has the
    same three methods and runs them on a Dask cluster (``--scheduler``)."""

    def reference_first(self, src: Source, plan: Plan, s: Settings, progress: Progress,
                        exact: leak.ExactRows | None = None) -> Side:
        return reference_first_pass(src, plan, s, progress, exact)

    def current(self, src: Source, plan: Plan, ref: Side, s: Settings, progress: Progress,
                exact: leak.ExactRows | None = None) -> Side:
        return current_pass(src, plan, ref, s, progress, exact)

    def reference_second(self, src: Source, plan: Plan, side: Side, s: Settings,
                         progress: Progress, exact: leak.ExactRows | None = None) -> Any:
        """The second reference pass; with ``exact``, returns its report section."""
        if exact is None:
            return reference_second_pass(src, plan, side, s, progress)
        check = exact
        return reference_second_pass(
            src, plan, side, s, progress,
            lambda it: check.verify(it, s.thresholds["exact_rows"], s.examples))


# --- loading inputs -------------------------------------------------------------------------


def load_profile(path: str | Path) -> ProfileFile:
    p = Path(path)
    try:
        return ProfileFile.from_bytes(p.read_bytes())
    except OSError as exc:
        raise InputError(p, f"cannot open: {exc.strerror or exc}") from exc
    except (ValueError, TypeError) as exc:
        raise InputError(p, f"corrupted profile: {exc}") from exc


def side_from_profile(path: Path, pf: ProfileFile, similarity: float, s: Settings) -> Side:
    meta = pf.meta
    text = {}
    for c, ix in pf.text.items():
        if abs(ix.threshold - similarity) > 1e-12:
            ix = LSHIndex.from_bytes(ix.to_bytes())
        text[c] = leak.TextLeak(c, similarity=similarity, examples=s.examples,
                                threads=s.threads, device=s.device, index=ix)
    return Side(path, "profile", int(meta["rows"]), pf.profile, dict(pf.display), pf.sample,
                text, is_profile=True, saved=pf)


# --- the commands ----------------------------------------------------------------------------


def run_profile(data: str | Path, settings: Settings, *, reference: str | Path | None = None,
                quiet: bool = True, passes: Any = None) -> ProfileFile:
    """Profile ``data`` (a reference profile, or with ``reference`` a current one binned
    on the reference's edges). ``passes``: where the passes run (default
    :class:`LocalPasses`). Starts over when a CSV column widens
    (:mod:`driftcore.cli.read_csv`)."""
    passes = passes or LocalPasses()
    s = settings.validate()
    src = open_source(data)
    ref_pf = None if reference is None else load_profile(reference)
    return retry_widened(lambda: _profile(src, s, reference, ref_pf, quiet, passes), quiet)


def _profile(src: Source, s: Settings, reference: str | Path | None, ref_pf: ProfileFile | None,
             quiet: bool, passes: Any) -> ProfileFile:
    if ref_pf is not None and reference is not None:
        plan = plan_from_profile(ref_pf, Path(reference), s)
        check_current(src, plan)
        ref = side_from_profile(Path(reference), ref_pf, s.thresholds["similarity"], s)
        ref.text = {}
        side = passes.current(src, plan, ref, s, Progress(src.num_rows, "profile", quiet))
        text_idx: dict[str, LSHIndex] = {}
    else:
        plan = plan_columns(src, s)
        side = passes.reference_first(src, plan, s, Progress(src.num_rows, "profile", quiet))
        passes.reference_second(src, plan, side, s, Progress(side.rows, "histograms", quiet))
        text_idx = {c: t.index for c, t in side.text.items()}
    meta = {
        "source": str(src.path), "format": src.format, "rows": side.rows,
        "columns": plan.columns, "kinds": plan.kinds, "types": plan.types,
        "categorical": plan.as_categories,
        "seed": s.seed, "mmd_sample": s.mmd_sample, "batch_size": s.batch_size,
        "reference": None if reference is None else str(reference),
        "created_utc": document.now(),
    }
    return ProfileFile(side.profile, meta, side.display, side.sample, plan.of("numeric"), text_idx)


def run_check(reference: str | Path, current: str | Path, settings: Settings, *,
              quiet: bool = True, command: str = "check", passes: Any = None) -> dict[str, Any]:
    """Compare ``current`` with ``reference`` (files, folders or ``.dcp`` profiles) and
    return the report document (see ``schema/report.v1.json``). ``passes``: where the
    passes run (default :class:`LocalPasses`). Starts over when a CSV column widens
    (:mod:`driftcore.cli.read_csv`)."""
    passes = passes or LocalPasses()
    t0 = time.perf_counter()
    s = settings.validate()
    ref_path, cur_path = Path(reference), Path(current)
    ref = load_profile(ref_path) if is_profile_file(ref_path) else open_source(ref_path)
    cur = load_profile(cur_path) if is_profile_file(cur_path) else open_source(cur_path)

    def attempt() -> dict[str, Any]:
        share_types(ref, cur)  # the same CSV file on both sides: one set of types
        return _check(ref_path, ref, cur_path, cur, s, quiet, command, passes, t0)

    return retry_widened(attempt, quiet)


def _check(ref_path: Path, ref_in: ProfileFile | Source, cur_path: Path,
           cur_in: ProfileFile | Source, s: Settings, quiet: bool, command: str,
           passes: Any, t0: float) -> dict[str, Any]:
    phases: dict[str, float] = {}
    ref_src = ref_in if isinstance(ref_in, Source) else None
    if isinstance(ref_in, ProfileFile):
        plan = plan_from_profile(ref_in, ref_path, s)
        ref = side_from_profile(ref_path, ref_in, s.thresholds["similarity"], s)
        ref.text = {c: t for c, t in ref.text.items() if c in plan.columns}
    else:
        plan = plan_columns(ref_in, s)
    cur_pf = cur_in if isinstance(cur_in, ProfileFile) else None
    cur_src = cur_in if isinstance(cur_in, Source) else None
    if cur_src is not None:
        check_current(cur_src, plan)
    else:
        assert cur_pf is not None
        check_current_profile(cur_pf, cur_path, plan)
    rows_check = None
    if ref_src is not None and cur_src is not None and s.leak_rows:
        rows_check = leak.ExactRows(plan.columns, s.leak_rows, s.seed)
    if ref_src is not None:
        t = time.perf_counter()
        ref = passes.reference_first(ref_src, plan, s,
                                     Progress(ref_src.num_rows, "reference", quiet), rows_check)
        phases["reference"] = time.perf_counter() - t
    if cur_src is not None:
        t = time.perf_counter()
        cur = passes.current(cur_src, plan, ref, s, Progress(cur_src.num_rows, "current", quiet),
                             rows_check)
        phases["current"] = time.perf_counter() - t
    else:
        assert cur_pf is not None
        cur = side_from_profile(cur_path, cur_pf, s.thresholds["similarity"], s)
        cur.text = {}
        cols = cur_pf.sample_columns
        idx = [cols.index(c) for c in plan.of("numeric") if c in cols]
        cur.sample = cur_pf.sample[:, idx] if cur_pf.sample.size else cur_pf.sample
    exact: dict[str, Any]
    t = time.perf_counter()
    if ref_src is not None:
        progress = Progress(ref.rows, "reference (2nd pass)", quiet)
        if rows_check is not None:
            exact = passes.reference_second(ref_src, plan, ref, s, progress, rows_check)
        else:
            passes.reference_second(ref_src, plan, ref, s, progress)
            exact = ({"status": "skipped", "reason": "--leak-rows 0"} if cur_src is not None else
                     {"status": "unavailable", "reason": "the current side is a profile (no rows kept)"})
    else:
        exact = {"status": "unavailable", "reason": "the reference is a profile (no rows kept)"}
    phases["reference_second_pass"] = time.perf_counter() - t
    if ref_src is None:
        idx = [ref.saved.sample_columns.index(c) for c in plan.of("numeric")]  # type: ignore[union-attr]
        ref.sample = ref.sample[:, idx] if ref.sample.size else ref.sample
    t = time.perf_counter()
    doc = document.assemble(plan, ref, cur, s, exact, command, cur_is_profile=cur_pf is not None)
    phases["compare_and_mmd"] = time.perf_counter() - t
    doc["timing"] = {"seconds": time.perf_counter() - t0, "phases": phases}
    return doc
