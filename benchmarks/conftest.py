"""Shared configuration of the driftcore benchmark suite (pytest-benchmark).

Run (full sizes, 10-20 minutes on a 2-core machine)::

    pytest benchmarks -p no:cacheprovider --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json

Quick mode (CI; small sizes, well under 3 minutes)::

    DRIFTCORE_BENCH_QUICK=1 pytest benchmarks -p no:cacheprovider --benchmark-only \
        --benchmark-json=bench_quick.json

Every benchmark compares driftcore with its peers on the same data in the same run,
single-threaded unless the group is about threads, and checks the answer it times.
Each timed call builds a fresh object (histogram, sketch, report), so rounds are
independent. Data is generated once per session with fixed seeds.

Each benchmark records in ``extra_info``: ``impl`` (a short label), ``baseline`` (True
for the driftcore row the group's ratios are taken against), ``items`` (values
processed per call, for throughput) and sometimes accuracy figures.
:mod:`report.py <report>` reads them back.
"""

from __future__ import annotations

import os

# Keep any library that would start a BLAS/OpenMP pool single-threaded (none of the
# timed calls uses BLAS; this only rules out stray helper threads).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import hashlib
import platform
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pytest

QUICK = os.environ.get("DRIFTCORE_BENCH_QUICK", "").strip() == "1"
SEED = 20_251_127


@dataclass(frozen=True)
class Sizes:
    hist: int  # float64 values histogrammed
    quantile_subsample: int  # values np.quantile sees to make the 65 edges
    sketch: int  # float64 values fed to each sketch
    two_sample: int  # values per side for KS / Wasserstein
    compare_rows: int  # rows per side for compare (10 numeric columns)
    tiny_shift: int  # values per side for the everyday case (KS and compare, 0.01 sd)
    compare_cols: int = 10


FULL_SIZES = Sizes(
    hist=100_000_000,
    quantile_subsample=1_000_000,
    sketch=10_000_000,
    two_sample=10_000_000,
    compare_rows=1_000_000,
    tiny_shift=1_000_000,
)
QUICK_SIZES = Sizes(
    hist=1_000_000,
    quantile_subsample=1_000_000,
    sketch=1_000_000,
    two_sample=100_000,
    compare_rows=20_000,
    tiny_shift=100_000,
)
SIZES = QUICK_SIZES if QUICK else FULL_SIZES


@dataclass(frozen=True)
class Rounds:
    rounds: int
    warmup: int


# Timed rounds per benchmark (medians are what the report uses). Evidently takes about
# a minute per call at full size, hence its few rounds.
ROUNDS: dict[str, Rounds] = (
    {
        "hist": Rounds(25, 2),
        "sketch": Rounds(15, 1),
        "two_sample": Rounds(11, 1),
        "compare": Rounds(7, 1),
        "evidently": Rounds(3, 1),
    }
    if QUICK
    else {
        "hist": Rounds(7, 1),
        "sketch": Rounds(7, 1),
        "two_sample": Rounds(5, 1),
        "compare": Rounds(5, 1),
        "evidently": Rounds(3, 0),
    }
)

HIST_RANGE = (-5.0, 5.0)
HIST_BINS = 64
COMPARE_SHIFT = 0.5  # added to the first half of the current columns
TINY_SHIFT = 0.01  # the everyday case: no drift by effect size, a p-value of either size


def _rng(stream: int) -> np.random.Generator:
    return np.random.default_rng([SEED, stream])


# --- session data ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def sizes() -> Sizes:
    return SIZES


@pytest.fixture(scope="session")
def hist_spec() -> tuple[int, tuple[float, float]]:
    """(bins, range) of the uniform histograms."""
    return HIST_BINS, HIST_RANGE


@pytest.fixture(scope="session")
def hist_values() -> np.ndarray:
    """Standard normal float64 values (about 57 of 1e8 fall outside (-5, 5))."""
    return _rng(1).standard_normal(SIZES.hist)


@pytest.fixture(scope="session")
def hist_uniform_expected(hist_values: np.ndarray) -> np.ndarray:
    """numpy.histogram's counts, computed once, that every implementation must match."""
    return np.histogram(hist_values, bins=HIST_BINS, range=HIST_RANGE)[0]


@pytest.fixture(scope="session")
def quantile_edges(hist_values: np.ndarray) -> np.ndarray:
    """65 edges at the quantiles of a fixed random subsample of the histogram data."""
    m = min(SIZES.quantile_subsample, hist_values.size)
    idx = _rng(2).choice(hist_values.size, size=m, replace=False)
    edges = np.quantile(hist_values[idx], np.linspace(0.0, 1.0, HIST_BINS + 1))
    assert np.all(np.diff(edges) > 0)
    return edges


@pytest.fixture(scope="session")
def quantile_expected(hist_values: np.ndarray, quantile_edges: np.ndarray) -> np.ndarray:
    return np.histogram(hist_values, bins=quantile_edges)[0]


@pytest.fixture(scope="session")
def sketch_values() -> np.ndarray:
    return _rng(3).standard_normal(SIZES.sketch)


@pytest.fixture(scope="session")
def sketch_sorted(sketch_values: np.ndarray) -> np.ndarray:
    return np.sort(sketch_values)


@pytest.fixture(scope="session")
def two_sample_values() -> tuple[np.ndarray, np.ndarray]:
    """Reference N(0, 1) and a slightly drifted current N(0.02, 1.05)."""
    a = _rng(4).standard_normal(SIZES.two_sample)
    b = _rng(5).normal(0.02, 1.05, SIZES.two_sample)
    return a, b


@pytest.fixture(scope="session")
def tiny_shift_values() -> tuple[np.ndarray, np.ndarray]:
    """Reference N(0, 1) and current N(0.01, 1): the monitoring case, where the KS
    p-value needs the Kolmogorov distribution away from its cheap tails."""
    return _rng(8).standard_normal(SIZES.tiny_shift), _rng(9).normal(
        TINY_SHIFT, 1.0, SIZES.tiny_shift
    )


@pytest.fixture(scope="session")
def tiny_shift_frames() -> tuple[Any, Any]:
    """(reference, current) DataFrames of 10 float64 columns, every current column
    shifted by TINY_SHIFT sd: nothing drifts by effect size."""
    pd = pytest.importorskip("pandas")
    n, k = SIZES.tiny_shift, SIZES.compare_cols
    rng_r, rng_c = _rng(10), _rng(11)
    ref = pd.DataFrame({f"x{i}": rng_r.standard_normal(n) for i in range(k)})
    cur = pd.DataFrame({f"x{i}": rng_c.normal(TINY_SHIFT, 1.0, n) for i in range(k)})
    return ref, cur


@pytest.fixture(scope="session")
def compare_frames() -> tuple[Any, Any]:
    """(reference, current) pandas DataFrames with columns x0..x9 of float64; current
    is shifted by COMPARE_SHIFT on x0..x4, so 5 of 10 columns drift."""
    pd = pytest.importorskip("pandas")
    n, k = SIZES.compare_rows, SIZES.compare_cols
    rng_r, rng_c = _rng(6), _rng(7)
    ref = pd.DataFrame({f"x{i}": rng_r.standard_normal(n) for i in range(k)})
    cur = pd.DataFrame(
        {
            f"x{i}": rng_c.standard_normal(n) + (COMPARE_SHIFT if i < k // 2 else 0.0)
            for i in range(k)
        }
    )
    return ref, cur


# --- running a benchmark -----------------------------------------------------------------


@pytest.fixture
def measure(benchmark: Any) -> Callable[..., Any]:
    """``measure(kind, fn, *args, setup=None, impl=..., baseline=False, items=..., **info)``

    Times ``fn(*args)`` (or ``fn(*setup()[0])`` with a fresh setup per round) with the
    round counts of ``ROUNDS[kind]``, records the labels in ``extra_info`` and returns
    the result of the last call.
    """

    def _measure(
        kind: str,
        fn: Callable[..., Any],
        *args: Any,
        setup: Callable[[], tuple[tuple, dict]] | None = None,
        impl: str,
        items: int,
        baseline: bool = False,
        **info: Any,
    ) -> Any:
        r = ROUNDS[kind]
        benchmark.extra_info.update(
            impl=impl, baseline=baseline, items=int(items), quick=QUICK, **info
        )
        if setup is not None:
            return benchmark.pedantic(
                fn, setup=setup, rounds=r.rounds, iterations=1, warmup_rounds=r.warmup
            )
        return benchmark.pedantic(
            fn, args=args, rounds=r.rounds, iterations=1, warmup_rounds=r.warmup
        )

    return _measure


# --- what the JSON records about the run -------------------------------------------------

# driftcore is installed editable and may be rebuilt while a long run is going on: the
# JSON records which commit, which uncommitted source changes and which compiled module
# were measured, at the start and at the end, and the load average (other work on the
# machine, such as a compiler, skews every timing).
_PROVENANCE: dict[str, Any] = {}


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.rstrip()


def _snapshot() -> dict[str, Any]:
    snap: dict[str, Any] = {
        "git_head": _git("rev-parse", "HEAD"),
        "git_dirty": (
            _git("status", "--porcelain", "--", "cpp", "python", "CMakeLists.txt", "pyproject.toml")
            or ""
        ).splitlines(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    try:
        from driftcore import _core

        path = _core.__file__
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        snap["core_module"] = {"path": path, "sha256": digest, "mtime": os.path.getmtime(path)}
    except Exception as exc:  # noqa: BLE001 - recorded in the JSON, not fatal
        snap["core_module"] = {"error": repr(exc)}
    return snap


def pytest_sessionstart(session: Any) -> None:
    _PROVENANCE["start"] = _snapshot()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config: Any, benchmarks: Any, output_json: dict) -> None:
    try:
        import driftcore

        build = driftcore.build_info()
    except Exception as exc:  # noqa: BLE001 - reported in the JSON, not fatal
        build = {"error": repr(exc)}
    output_json["driftcore_bench"] = {
        "quick": QUICK,
        "sizes": asdict(SIZES),
        "rounds": {k: asdict(v) for k, v in ROUNDS.items()},
        "python": platform.python_version(),
        "versions": {
            d: _version(d)
            for d in (
                "driftcore",
                "numpy",
                "scipy",
                "pandas",
                "pyarrow",
                "fast-histogram",
                "boost-histogram",
                "datasketches",
                "evidently",
                "alibi-detect",
                "torch",
                "pytest-benchmark",
            )
        },
        "driftcore_build": build,
        "cpu_count": os.cpu_count(),
    }
    end = _snapshot()
    start = _PROVENANCE.get("start", {})
    output_json["driftcore_bench"]["provenance"] = {
        "start": start,
        "end": end,
        # True when the commit, the source tree or the compiled module changed mid-run:
        # the numbers then mix two builds and should be rerun.
        "changed_during_run": any(
            start.get(k) != end.get(k) for k in ("git_head", "git_dirty", "core_module")
        ),
    }
