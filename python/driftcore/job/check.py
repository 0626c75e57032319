"""The main job as one call: :func:`check` compares a current dataset with a
reference (drift per column, data-quality findings, a multivariate MMD test, exact-row
and near-duplicate text leakage) and gives one verdict, the same as ``driftcore
check``.

Inputs are file paths (Parquet file, CSV file, folder of Parquet files, or a ``.dcp``
profile made by ``driftcore profile``) or tables in memory (pyarrow Tables and
RecordBatches, pandas and polars DataFrames, dicts of arrays, or iterables of such
chunks). Files are streamed in record batches; tables in memory are read in batches
of the same size. :func:`run_check` and :func:`run_profile` are the same job with
the options as a :class:`~driftcore.job.settings.Settings` (the command line's
entry points).

Examples
--------
>>> import numpy as np, driftcore
>>> rng = np.random.default_rng(0)
>>> ref = {"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)}
>>> cur = {"x": rng.normal(0.5, 1, 5000), "c": rng.choice(["a", "b"], 5000)}
>>> report = driftcore.check(ref, cur)
>>> report.passed, report.exit_code, report["x"].drifted, report["c"].drifted
(False, 1, True, False)
>>> report.reasons[0]
"1 of 2 columns drifted: 'x'"
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .settings import Settings

if TYPE_CHECKING:
    from ..compare import ColumnDrift, DriftReport
    from .profile_file import ProfileFile
    from .read import Source

__all__ = ["CheckReport", "check", "run_check", "run_profile"]


class CheckReport:
    """The result of :func:`check`: the verdict, per-column drift, MMD and leakage.

    ``document`` is the report as a JSON-ready dict (the versioned schema of
    ``driftcore/job/schema/report.v2.json``, also written by ``driftcore check
    --json``); ``drift`` is :func:`driftcore.compare`'s report on the two profiles,
    whose :class:`~driftcore.ColumnDrift` entries ``report[name]`` returns.
    """

    def __init__(self, document: dict[str, Any], drift: DriftReport) -> None:
        self.document = document
        self.drift = drift

    @property
    def passed(self) -> bool:
        """True when nothing exceeds its threshold (exit code 0)."""
        return self.exit_code == 0

    @property
    def exit_code(self) -> int:
        """0 pass, 1 drift or leakage over a threshold (as the command line's)."""
        return int(self.document["summary"]["exit_code"])

    @property
    def reasons(self) -> list[str]:
        """Why the check fails, one sentence per finding (empty when it passes)."""
        return list(self.document["summary"]["reasons"])

    @property
    def columns(self) -> list[ColumnDrift]:
        """Per-column drift results, in the order of the columns."""
        return list(self.drift.columns)

    @property
    def roles(self) -> dict[str, str]:
        """The role of each compared column: ``"feature"``, ``"target"`` or
        ``"prediction"`` (target and prediction drift are reported apart)."""
        return {c["column"]: c["role"] for c in self.document["columns"]}

    @property
    def findings(self) -> list[dict[str, Any]]:
        """Data-quality findings (:mod:`driftcore.job.findings`): kind, column, message,
        share, threshold, p-values and whether each fails the check."""
        return list(self.document["findings"])

    @property
    def mmd(self) -> dict[str, Any] | None:
        """The MMD test's section (None without numeric columns)."""
        return self.document["mmd"]

    @property
    def leakage(self) -> dict[str, Any]:
        """``{"exact_rows": {...}, "near_duplicates": [...]}``."""
        return self.document["leakage"]

    def __getitem__(self, column: str) -> ColumnDrift:
        return self.drift[column]

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The JSON report; written to ``path`` (all or nothing) when given."""
        from .report_json import dumps, write

        if path is not None:
            write(self.document, path)
        return dumps(self.document)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """The self-contained HTML report; written to ``path`` when given."""
        from .report_html import render, write

        if path is not None:
            write(self.document, path)
        return render(self.document)

    def _repr_html_(self) -> str:
        # An iframe keeps the report's page styles out of the notebook's.
        return (
            f'<iframe srcdoc="{escape(self.to_html())}" style="width:100%;height:640px;'
            f'border:1px solid #dde" title="driftcore report"></iframe>'
        )

    def __str__(self) -> str:
        from .report_text import render

        out = io.StringIO()
        render(self.document, out, use_rich=False)
        return out.getvalue()

    def __repr__(self) -> str:
        s = self.document["summary"]
        return (
            f"CheckReport({s['status']}, exit_code={s['exit_code']}, "
            f"{s['n_drifted']} of {s['n_judged']} columns drifted, "
            f"{len(s['reasons'])} reasons)"
        )


def check(
    reference: Any,
    current: Any,
    *,
    columns: list[str] | None = None,
    exclude: list[str] | None = None,
    leak_columns: list[str] | None = None,
    ids: list[str] | None = None,
    target: list[str] | None = None,
    prediction: list[str] | None = None,
    text_columns: list[str] | None = None,
    text_shingles: str = "auto",
    keep_punctuation: bool = False,
    categorical: list[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    column_thresholds: Mapping[str, Mapping[str, float]] | None = None,
    correction: str = "holm",
    bins: int = 10,
    mmd_sample: int = 2000,
    mmd_permutations: int = 100,
    leak_rows: int = 500_000,
    examples: int = 5,
    seed: int = 0,
    batch_size: int = 1 << 18,
    threads: int | None = None,
    device: str = "auto",
    scheduler: Any = None,
    progress: bool = False,
) -> CheckReport:
    """Compare ``current`` with ``reference``: drift per column, the MMD test on the
    numeric columns, exact-row and near-duplicate text leakage, and one verdict.

    Parameters
    ----------
    reference, current
        A path (Parquet file, CSV file, folder of Parquet files, ``.dcp`` profile) or
        a table in memory (pyarrow Table or RecordBatch, pandas or polars DataFrame,
        dict of arrays, or an iterable of such chunks, held in memory as one table).
    columns, exclude
        Compare only these columns for drift / leave these out of everything.
    ids
        Identifier columns (row keys such as a customer id, of any type): no drift
        metrics, as a row number drifts on any split; still in the exact-row key.
    target, prediction
        Label columns and model-output columns: their drift (label shift, prediction
        drift) is reported apart from the features' (``CheckReport.roles``, the
        ``role`` of each column) and fails the check on its own, whatever
        ``drift_share`` says of the features.
    leak_columns
        The columns two rows must share to count as exact-row leakage; None: every
        column of the reference that ``exclude`` leaves and the current side has
        (``columns`` does not narrow it).
    text_columns
        String columns checked for near-duplicate leakage instead of drift; None
        detects them (long, mostly distinct strings).
    text_shingles
        How texts are compared: ``"word"`` 5-grams, ``"char"`` 3-grams, or ``"auto"``:
        character 3-grams for columns whose texts have a median under 50 words (one
        changed word would hide a short copy from word 5-grams), word 5-grams above.
    keep_punctuation
        Compare texts with their punctuation (``"a > b"`` and ``"a < b"`` differ);
        by default punctuation separates words and is not compared.
    categorical
        Numeric columns (integer codes) counted as categories.
    thresholds
        Overrides of :data:`driftcore.job.settings.THRESHOLDS` (``psi``,
        ``wasserstein``, ``js``, ``alpha``, ``drift_share``, ``missing``,
        ``exact_rows``, ``near_duplicates``, ``similarity``).
    column_thresholds
        A column's own thresholds, for example ``{"age": {"psi": 0.3}}`` (names:
        :data:`driftcore.job.settings.COLUMN_THRESHOLDS`).
    correction
        Multiple-testing correction over the columns' and the MMD test's p-values:
        ``"holm"`` (false-alarm rate of the whole check <= alpha), ``"bh"``,
        ``"bonferroni"`` or ``"none"``.
    bins, mmd_sample, mmd_permutations, leak_rows, examples, seed, batch_size
        As the command line's options of the same names.
    threads, device
        CPU threads (default all cores); ``"auto"``, ``"cpu"`` or ``"gpu"``.
    scheduler
        Run the passes on Dask: ``"local"``, ``"local-cuda"``, a scheduler address,
        or a ``distributed.Client``; Parquet inputs only.
    progress
        Show progress bars on stderr.

    Raises
    ------
    InputError
        (a ``ValueError``) a missing file, an unknown column, a bad option, data that
        cannot be read; the message names it.

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> x = np.random.default_rng(1).normal(size=4000)
    >>> driftcore.check({"x": x[:2000]}, {"x": x[2000:]}).passed
    True
    """
    s = Settings(
        columns=None if columns is None else list(columns),
        exclude=list(exclude or []),
        leak_columns=None if leak_columns is None else list(leak_columns),
        ids=list(ids or []),
        target=list(target or []),
        prediction=list(prediction or []),
        column_thresholds={str(k): dict(v) for k, v in (column_thresholds or {}).items()},
        text_columns=None if text_columns is None else list(text_columns),
        text_shingles=text_shingles,
        keep_punctuation=keep_punctuation,
        categorical=list(categorical or []),
        correction=correction,
        bins=bins,
        mmd_sample=mmd_sample,
        mmd_permutations=mmd_permutations,
        leak_rows=leak_rows,
        examples=examples,
        seed=seed,
        batch_size=batch_size,
        threads=threads,
        device=device,
    )
    for name, value in (thresholds or {}).items():
        s.thresholds[name] = value
    return run_check(reference, current, s, quiet=not progress, scheduler=scheduler)


# --- the job with Settings ------------------------------------------------------------------


def run_check(
    reference: Any, current: Any, settings: Settings, *, quiet: bool = True, scheduler: Any = None
) -> CheckReport:
    """:func:`check` with its options as ``settings``. Starts over when a CSV column
    widens (:mod:`driftcore.job.read_csv`)."""
    from .read_csv import retry_widened, share_types

    t0 = time.perf_counter()
    s = settings.validate()
    ref = _open(reference, "reference")
    cur = _open(current, "current")

    def attempt() -> CheckReport:
        share_types(ref, cur)  # the same CSV file on both sides: one set of types
        with _passes(scheduler) as passes:
            return _check(ref, cur, s, quiet, passes, t0)

    return retry_widened(attempt, quiet)


def run_profile(
    data: Any,
    settings: Settings,
    *,
    reference: str | os.PathLike[str] | None = None,
    quiet: bool = True,
    scheduler: Any = None,
) -> ProfileFile:
    """Summarize ``data`` into a :class:`~driftcore.job.profile_file.ProfileFile` (the
    ``.dcp`` file of ``driftcore profile``) that :func:`check` accepts in place of
    the data; with ``reference`` (a ``.dcp`` path), a current-side profile binned on
    the reference's edges.

    Examples
    --------
    >>> import numpy as np
    >>> from driftcore.job.check import run_profile
    >>> from driftcore.job.settings import Settings
    >>> pf = run_profile({"x": np.arange(100.0)}, Settings())
    >>> pf.meta["rows"], pf.meta["columns"]
    (100, ['x'])
    """
    from .read_csv import retry_widened

    s = settings.validate()
    src = _open(data, "data")
    if not _is_source(src):
        raise InputError(str(data), "is a profile already")
    ref_pf = None if reference is None else _load_profile(reference)

    def attempt() -> ProfileFile:
        with _passes(scheduler) as passes:
            return _profile(src, s, reference, ref_pf, quiet, passes)

    return retry_widened(attempt, quiet)


def _is_source(x: Any) -> bool:
    from .read import Source

    return isinstance(x, Source)


def _open(data: Any, label: str) -> Source | ProfileFile:
    from .profile_file import ProfileFile, is_profile_file
    from .read import open_source, open_table

    if isinstance(data, ProfileFile):
        return data
    if isinstance(data, (str, os.PathLike)):
        return _load_profile(data) if is_profile_file(data) else open_source(data)
    return open_table(data, label)


def _load_profile(path: str | os.PathLike[str]) -> ProfileFile:
    from .profile_file import ProfileFile

    p = Path(path)
    try:
        pf = ProfileFile.from_bytes(p.read_bytes())
    except OSError as exc:
        raise InputError(p, f"cannot open: {exc.strerror or exc}") from exc
    except (ValueError, TypeError) as exc:
        raise InputError(p, f"corrupted profile: {exc}") from exc
    pf.path = p
    return pf


@contextmanager
def _passes(scheduler: Any) -> Iterator[Any]:
    """Where the passes run: this process (None), or a Dask cluster."""
    from .passes import LocalPasses

    if scheduler is None:
        yield LocalPasses()
        return
    try:
        from ..dask import connect
        from .dask_passes import DaskPasses
    except ImportError as exc:
        raise InputError("--scheduler", "needs Dask: pip install 'driftcore[dask]'") from exc
    if not isinstance(scheduler, str):  # a distributed.Client of the caller's
        yield DaskPasses(scheduler)
        return
    with ExitStack() as stack:
        try:
            client = stack.enter_context(connect(scheduler))
        except ImportError as exc:  # local-cuda without dask-cuda
            raise InputError(
                f"--scheduler {scheduler}", "needs dask-cuda: pip install dask-cuda (and cudf)"
            ) from exc
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}", f"cannot connect: {exc}") from exc
        yield DaskPasses(client)


def _side_from_profile(pf: ProfileFile) -> Any:
    from .passes import Side

    return Side(
        pf.path,
        "profile",
        int(pf.meta["rows"]),
        pf.profile,
        pf.sample,
        indexes=dict(pf.text),
        is_profile=True,
        saved=pf,
    )


def _profile(
    src: Source, s: Settings, reference: Any, ref_pf: ProfileFile | None, quiet: bool, passes: Any
) -> ProfileFile:
    from ..lsh import LSHIndex
    from .document import now
    from .plan import compare_current, plan_columns, plan_from_profile
    from .profile_file import ProfileFile
    from .progress import Progress

    if ref_pf is not None:
        plan = plan_from_profile(ref_pf, ref_pf.path, s)
        plan = compare_current(src, plan, s).common(plan, src.path)
        ref = _side_from_profile(ref_pf)
        ref.indexes = {}
        side = passes.current(src, plan, ref, s, Progress(src.num_rows, "profile", quiet))
        text_idx: dict[str, LSHIndex] = {}
    else:
        plan = plan_columns(src, s)
        plan.leak_key = []  # a profile keeps no rows: read the compared columns only
        side = passes.reference_first(src, plan, s, Progress(src.num_rows, "profile", quiet))
        text_idx = side.indexes
    meta = {
        "source": str(src.path),
        "format": src.format,
        "rows": side.rows,
        "columns": plan.columns,
        "kinds": plan.kinds,
        "types": plan.types,
        "categorical": plan.as_categories,
        "roles": plan.roles,
        "seed": s.seed,
        "mmd_sample": s.mmd_sample,
        "batch_size": s.batch_size,
        "reference": None if reference is None else str(reference),
        "created_utc": now(),
    }
    return ProfileFile(side.profile, meta, side.sample, plan.of("numeric"), text_idx)


def _check(
    ref_in: Source | ProfileFile,
    cur_in: Source | ProfileFile,
    s: Settings,
    quiet: bool,
    passes: Any,
    t0: float,
) -> CheckReport:
    from . import document
    from .plan import (
        compare_current,
        compare_current_profile,
        plan_columns,
        plan_from_profile,
    )
    from .progress import Progress

    phases: dict[str, float] = {}
    ref_src = ref_in if _is_source(ref_in) else None
    cur_src = cur_in if _is_source(cur_in) else None
    ref_pf = None if ref_src is not None else ref_in
    cur_pf = None if cur_src is not None else cur_in
    if ref_pf is not None:
        plan = plan_from_profile(ref_pf, ref_pf.path, s)
        ref = _side_from_profile(ref_pf)
    else:
        plan = plan_columns(ref_src, s)
    # What the sides do not share is a finding; the check compares what they do.
    if cur_src is not None:
        change = compare_current(cur_src, plan, s)
    else:
        change = compare_current_profile(cur_pf, plan, s)
    plan = change.common(plan, cur_src.path if cur_src is not None else cur_pf.path)
    if ref_pf is not None:
        ref.indexes = {c: ix for c, ix in ref.indexes.items() if c in plan.columns}
    if ref_src is not None:
        t = time.perf_counter()
        hash_rows = cur_src is not None and s.leak_rows > 0
        ref = passes.reference_first(
            ref_src, plan, s, Progress(ref_src.num_rows, "reference", quiet), hash_rows
        )
        phases["reference"] = time.perf_counter() - t
    if cur_src is not None:
        t = time.perf_counter()
        cur = passes.current(cur_src, plan, ref, s, Progress(cur_src.num_rows, "current", quiet))
        phases["current"] = time.perf_counter() - t
    else:
        cur = _side_from_profile(cur_pf)
        cur.indexes = {}
        cols = cur_pf.sample_columns
        idx = [cols.index(c) for c in plan.of("numeric") if c in cols]
        cur.sample = cur_pf.sample[:, idx] if cur_pf.sample.size else cur_pf.sample
    exact: dict[str, Any]
    t = time.perf_counter()
    if ref_src is not None:
        # Again over the reference only for leakage: to verify exact-row candidates
        # and to fetch the reference texts of near-duplicate examples.
        # Not at all when no current row's hash is a reference row's and no example
        # text is wanted: the everyday case.
        progress = Progress(ref.rows, "reference (leakage)", quiet)
        texts = any(t.wanted_reference_rows() for t in cur.text.values())
        rows_check = cur.exact
        if rows_check is not None and (rows_check.n_candidates or texts):
            exact = passes.reference_second(ref_src, plan, cur, s, progress)
        else:
            if texts:
                passes.reference_second(ref_src, plan, cur, s, progress)
            if rows_check is not None:
                exact = rows_check.verify_filtered(
                    iter(()), [], s.thresholds["exact_rows"], s.examples
                )
            else:
                exact = (
                    {"status": "skipped", "reason": "leak_rows is 0"}
                    if cur_src is not None
                    else {
                        "status": "unavailable",
                        "reason": "the current side is a profile (no rows kept)",
                    }
                )
    else:
        exact = {"status": "unavailable", "reason": "the reference is a profile (no rows kept)"}
        idx = [ref_pf.sample_columns.index(c) for c in plan.of("numeric")]
        ref.sample = ref.sample[:, idx] if ref.sample.size else ref.sample
    phases["reference_second_pass"] = time.perf_counter() - t
    t = time.perf_counter()
    doc, drift = document.assemble(
        plan, ref, cur, s, exact, change, cur_is_profile=cur_pf is not None
    )
    document.label_examples(doc, ref_src, cur_src)
    phases["compare_and_mmd"] = time.perf_counter() - t
    doc["timing"] = {"seconds": time.perf_counter() - t0, "phases": phases}
    return CheckReport(doc, drift)
