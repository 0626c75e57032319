"""Calibration of driftcore's drift verdicts: false alarms under no drift, power
under planted shifts.

Run::

    python benchmarks/calibration.py [--quick] [--json out.json] [--seed S] [--repeats N]
                                     [--only TEXT]

The default run takes about 6 minutes on 2 cores, ``--quick`` about a minute;
``--repeats N`` sets every scenario's repeat count. The result is a Markdown table on
stdout (progress on stderr) and, with ``--json``, the same rows in a JSON file. It
measures; it asserts nothing about the rates.

What is measured
----------------
Each scenario draws a reference and a current table (the same distribution for the
false-alarm scenarios, a planted shift for the power scenarios) and asks one front
end for its verdict, ``repeats`` times with fresh data:

* ``python``: ``driftcore.compare(reference, current, threads=1)`` on pandas
  DataFrames; the verdict is ``report.dataset_drift``.
* ``profiles``: ``Profile.build`` of each side, then ``driftcore.compare`` of the two
  profiles (value grids: conservative KS p-values).
* ``cli``: both sides written as Parquet files and ``driftcore check ref.parquet
  cur.parquet --json out.json --threads 1`` run in this process
  (``driftcore.cli.main``); the verdict is exit status 1 (0 is a pass; 2, an error, is
  counted apart). The reasons of each failure (``summary.reasons``) are tallied by
  kind: column drift, MMD, exact-row leakage, near-duplicate leakage, and the data-quality
  findings (missing values, schema, constant, range, categories).

Only ``threads=1`` is passed besides the data, so the script measures whatever the
defaults of the installed driftcore are.

Columns of the table: ``rate`` is the share of runs with a drift verdict (a false-
alarm rate or a power), with its 95% Wilson interval; ``col rate`` is, for false-
alarm rows, the mean share of judged columns flagged drifted and, for power rows,
the share of runs in which the shifted column was flagged; ``s/run`` is the median
seconds of one front-end call (for ``cli``, the check alone, not the Parquet writes);
``errors`` counts exceptions and exit status 2.

Scenarios
---------
* Real tables, no drift: random 50/50 splits of scikit-learn's bundled tables
  (breast_cancer, wine, iris, diabetes, digits, linnerud; california_housing too when
  it is already in the local scikit-learn data folder, never downloaded), duplicate
  rows dropped first. Features are numeric columns; a classification target is a
  string column, a regression target numeric. Source: the copies bundled with
  scikit-learn (BSD-3-Clause); the datasets themselves are under their own terms (UCI
  Machine Learning Repository and the original authors; see scikit-learn's dataset
  documentation).
* Synthetic correlated normals, no drift: 20 or 100 columns with pairwise
  correlation 0.8, independent draws for both sides, at 100 to 100,000 rows a side;
  one column at 100 and 500 rows; 10 columns at 1,000,000 rows (profiles and the
  command line).
* High-cardinality categoricals, no drift: a country-like column with 200 levels of
  Zipf frequencies (about 8 rows per level a side) and an occupation column of 50
  labels of 30-60 characters.
* Discrete numerics, no drift: ratings 1-5 and counts 0-10.
* Synthetic tables carry a continuous ``amount`` column so that their rows are
  distinct, as the real tables' are after dropping duplicates.
* Power: a 0.5-sd mean shift of one column of 10 or 30 correlated normals (500 rows
  a side); a 0.2-sd shift of one of 10 columns at 100,000 rows a side; a 12%
  multiplicative shift of a lognormal (sigma 0.5) income column at 100,000 rows a side;
  a column on the grid {0, 0.4, ..., 2} in the reference and on {0, 1, 2} in current.

Every table comes from a generator seeded by (``--seed``, scenario name, repeat), so
all front ends of a scenario see the same data, and a rerun the same numbers (up to
timing).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import driftcore

Pair = tuple[pd.DataFrame, pd.DataFrame]
Maker = Callable[[np.random.Generator], Pair]

FRONT_ENDS = ("python", "profiles", "cli")
REPEATS = {"small": 100, "large": 20, "huge": 10, "power": 50}
QUICK_REPEATS = {"small": 15, "large": 3, "huge": 2, "power": 12}
REASON_KINDS = (
    ("columns drifted", "columns"),
    ("mmd", "MMD"),
    ("exact-row", "exact rows"),
    ("near-duplicate", "near-dup"),
    ("missing values", "missing"),
    ("is missing from", "schema"),
    ("is new in", "schema"),
    ("changed type", "schema"),
    ("is constant", "constant"),
    ("outside the reference", "range"),
    ("categor", "categories"),
)
RHO = 0.8


# --- data ------------------------------------------------------------------------------


def correlated_normal(
    rng: np.random.Generator, n: int, cols: int, rho: float = RHO
) -> pd.DataFrame:
    """``cols`` standard normal columns with pairwise correlation ``rho``."""
    common = rng.standard_normal((n, 1))
    own = rng.standard_normal((n, cols))
    x = math.sqrt(rho) * common + math.sqrt(1.0 - rho) * own
    return pd.DataFrame(x, columns=[f"x{i:03d}" for i in range(cols)])


def zipf_weights(levels: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, levels + 1) ** exponent
    return w / w.sum()


def country_names(levels: int = 200) -> list[str]:
    """Short, distinct, country-like names (a fixed list, independent of the seed)."""
    first = [
        "Al",
        "Bel",
        "Cor",
        "Dan",
        "Es",
        "Fre",
        "Gal",
        "Hon",
        "Ir",
        "Ja",
        "Ken",
        "Lor",
        "Mar",
        "Nor",
        "Or",
        "Pal",
        "Qua",
        "Ros",
        "Sal",
        "Tor",
    ]
    last = ["ania", "istan", "land", "onia", "ador", "ica", "eria", "uay", "ovia", "esia"]
    return [f"{a}{b}" for a in first for b in last][:levels]


def occupation_labels(count: int = 50) -> list[str]:
    """Distinct job titles of 30 to 60 characters (a fixed list)."""
    rank = ["Junior", "Senior", "Lead", "Principal", "Assistant"]
    job = [
        "mechanical engineer, heating and ventilation",
        "software developer for embedded systems",
        "nurse in intensive care and recovery",
        "accountant for small business clients",
        "teacher of secondary school mathematics",
        "technician for industrial refrigeration",
        "analyst in retail credit risk",
        "electrician for commercial buildings",
        "pharmacist in a hospital dispensary",
        "civil engineer for bridges and tunnels",
    ]
    labels = [f"{r} {j}" for j in job for r in rank][:count]
    return [s if len(s) <= 60 else s[:60].rstrip(" ,") for s in labels]


COUNTRIES = np.array(country_names())
OCCUPATIONS = np.array(occupation_labels())
COUNTRY_P = zipf_weights(len(COUNTRIES), 1.0)
OCCUPATION_P = zipf_weights(len(OCCUPATIONS), 0.7)


# Each synthetic table carries a continuous "amount" column, so its rows are distinct
# and a false alarm cannot come from rows shared by chance (exact-row leakage).


def categorical_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country": rng.choice(COUNTRIES, size=n, p=COUNTRY_P),
            "occupation": rng.choice(OCCUPATIONS, size=n, p=OCCUPATION_P),
            "amount": rng.lognormal(3.0, 1.0, size=n),
        }
    )


def discrete_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rating": rng.choice(np.arange(1, 6), size=n, p=[0.1, 0.15, 0.25, 0.3, 0.2]),
            "count": rng.binomial(10, 0.3, size=n),
            "amount": rng.lognormal(3.0, 1.0, size=n),
        }
    )


def load_real_table(name: str) -> pd.DataFrame | None:
    """A scikit-learn table as a DataFrame with duplicate rows dropped, or None when it
    is not available without a download."""
    from sklearn import datasets

    try:
        if name == "california_housing":
            bunch = datasets.fetch_california_housing(download_if_missing=False)
        else:
            bunch = getattr(datasets, f"load_{name}")()
    except (OSError, AttributeError):
        return None
    names = [str(c) for c in bunch.feature_names]
    frame = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=names)
    target = np.asarray(bunch.target)
    target_names = getattr(bunch, "target_names", None)
    if target.ndim == 2:  # several regression targets (linnerud)
        for i, t in enumerate(target_names if target_names is not None else range(target.shape[1])):
            frame[f"target_{t}"] = target[:, i].astype(np.float64)
    elif target_names is not None and np.issubdtype(target.dtype, np.integer):
        frame["target"] = np.asarray(target_names).astype(str)[target]
    else:
        frame["target"] = target.astype(np.float64)
    return frame.drop_duplicates(ignore_index=True)


def random_split(table: pd.DataFrame) -> Maker:
    def make(rng: np.random.Generator) -> Pair:
        order = rng.permutation(len(table))
        half = len(table) // 2
        return (
            table.iloc[order[:half]].reset_index(drop=True),
            table.iloc[order[half:]].reset_index(drop=True),
        )

    return make


def same_distribution(draw: Callable[[np.random.Generator, int], pd.DataFrame], n: int) -> Maker:
    def make(rng: np.random.Generator) -> Pair:
        return draw(rng, n), draw(rng, n)

    return make


def mean_shift(n: int, cols: int, shift_sd: float) -> Maker:
    """Correlated normals; the first column of current moved by ``shift_sd`` sd."""

    def make(rng: np.random.Generator) -> Pair:
        ref, cur = correlated_normal(rng, n, cols), correlated_normal(rng, n, cols)
        cur[cur.columns[0]] += shift_sd
        return ref, cur

    return make


def income_scale(n: int, factor: float) -> Maker:
    """A lognormal (sigma 0.5) income column, current multiplied by ``factor``
    (Wasserstein-1 / std about 0.22 for a 12% rise: a real shift by the usual rule)."""

    def make(rng: np.random.Generator) -> Pair:
        ref = pd.DataFrame({"income": rng.lognormal(10.0, 0.5, n)})
        cur = pd.DataFrame({"income": factor * rng.lognormal(10.0, 0.5, n)})
        return ref, cur

    return make


def grid_change(n: int) -> Maker:
    """Reference on {0, 0.4, ..., 2}, current on {0, 1, 2} (both with mean 1)."""

    def make(rng: np.random.Generator) -> Pair:
        ref = pd.DataFrame(
            {
                "score": rng.choice(np.round(np.arange(6) * 0.4, 1), n),
                "amount": rng.lognormal(3.0, 1.0, n),
            }
        )
        cur = pd.DataFrame(
            {
                "score": rng.choice(np.array([0.0, 1.0, 2.0]), n),
                "amount": rng.lognormal(3.0, 1.0, n),
            }
        )
        return ref, cur

    return make


# --- scenarios -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    family: str  # "false alarm" or "power"
    make: Maker
    n_per_side: int
    columns: int
    front_ends: tuple[str, ...]
    tier: str  # a key of REPEATS
    target: str | None = None  # the shifted column of a power scenario

    @property
    def goal(self) -> str:
        return "<= 0.05" if self.family == "false alarm" else ">= 0.9"


def real_scenarios() -> list[Scenario]:
    out = []
    for name in (
        "breast_cancer",
        "wine",
        "iris",
        "diabetes",
        "digits",
        "linnerud",
        "california_housing",
    ):
        table = load_real_table(name)
        if table is None:
            print(f"skipping {name}: not available offline", file=sys.stderr)
            continue
        out.append(
            Scenario(
                f"real: {name} (split)",
                "false alarm",
                random_split(table),
                len(table) // 2,
                table.shape[1],
                ("python", "cli"),
                "small",
            )
        )
    return out


def synthetic_scenarios() -> list[Scenario]:
    out = []

    def one(rng: np.random.Generator, n: int) -> pd.DataFrame:
        return pd.DataFrame({"x": rng.normal(size=n)})

    for n in (100, 500):
        out.append(
            Scenario(
                "normal, 1 col",
                "false alarm",
                same_distribution(one, n),
                n,
                1,
                ("python", "cli"),
                "small",
            )
        )

    def ten(rng: np.random.Generator, n: int) -> pd.DataFrame:
        return correlated_normal(rng, n, 10)

    out.append(
        Scenario(
            f"normal rho={RHO}, 10 cols",
            "false alarm",
            same_distribution(ten, 1_000_000),
            1_000_000,
            10,
            ("profiles", "cli"),
            "huge",
        )
    )
    for cols in (20, 100):

        def draw(rng: np.random.Generator, n: int, cols: int = cols) -> pd.DataFrame:
            return correlated_normal(rng, n, cols)

        for n in (100, 500, 5000):
            ends = ("python", "profiles", "cli") if n >= 5000 else ("python", "cli")
            out.append(
                Scenario(
                    f"normal rho={RHO}, {cols} cols",
                    "false alarm",
                    same_distribution(draw, n),
                    n,
                    cols,
                    ends,
                    "small",
                )
            )
        out.append(
            Scenario(
                f"normal rho={RHO}, {cols} cols",
                "false alarm",
                same_distribution(draw, 100_000),
                100_000,
                cols,
                ("profiles", "cli"),
                "large" if cols <= 20 else "huge",
            )
        )
    return out


def categorical_scenarios() -> list[Scenario]:
    n = 8 * len(COUNTRIES)
    out = [
        Scenario(
            "country 200 levels + occupation 50 long labels",
            "false alarm",
            same_distribution(categorical_table, n),
            n,
            2,
            ("python", "cli"),
            "small",
        )
    ]
    for n in (500, 5000):
        out.append(
            Scenario(
                "discrete: rating 1-5, count 0-10",
                "false alarm",
                same_distribution(discrete_table, n),
                n,
                2,
                ("python", "cli"),
                "small",
            )
        )
    out.append(
        Scenario(
            "discrete: rating 1-5, count 0-10",
            "false alarm",
            same_distribution(discrete_table, 100_000),
            100_000,
            2,
            ("profiles",),
            "large",
        )
    )
    return out


def power_scenarios() -> list[Scenario]:
    return [
        Scenario(
            "shift 0.5 sd, 1 of 10 cols",
            "power",
            mean_shift(500, 10, 0.5),
            500,
            10,
            ("python", "cli"),
            "power",
            "x000",
        ),
        Scenario(
            "shift 0.5 sd, 1 of 30 cols",
            "power",
            mean_shift(500, 30, 0.5),
            500,
            30,
            ("python", "cli"),
            "power",
            "x000",
        ),
        Scenario(
            "shift 0.2 sd, 1 of 10 cols",
            "power",
            mean_shift(100_000, 10, 0.2),
            100_000,
            10,
            ("profiles", "cli"),
            "power",
            "x000",
        ),
        Scenario(
            "income lognormal x1.12",
            "power",
            income_scale(100_000, 1.12),
            100_000,
            1,
            ("profiles", "cli"),
            "power",
            "income",
        ),
        Scenario(
            "grid {0,.4,..,2} -> {0,1,2}",
            "power",
            grid_change(500),
            500,
            1,
            ("python", "cli"),
            "power",
            "score",
        ),
        Scenario(
            "grid {0,.4,..,2} -> {0,1,2}",
            "power",
            grid_change(100_000),
            100_000,
            1,
            ("profiles", "cli"),
            "power",
            "score",
        ),
    ]


def all_scenarios() -> list[Scenario]:
    return real_scenarios() + synthetic_scenarios() + categorical_scenarios() + power_scenarios()


# --- front ends ------------------------------------------------------------------------


@dataclass
class Run:
    """One front-end call: its verdict (None on error) and what else it reported."""

    drift: bool | None
    seconds: float
    column_share: float = math.nan  # judged columns flagged / judged columns
    target_flagged: bool | None = None
    reasons: list[str] = field(default_factory=list)
    error: str | None = None


def _from_report(report: Any, seconds: float, target: str | None) -> Run:
    judged = [c for c in report.columns if c.drifted is not None]
    share = sum(1 for c in judged if c.drifted) / len(judged) if judged else math.nan
    flagged = next((bool(c.drifted) for c in report.columns if c.column == target), None)
    return Run(bool(report.dataset_drift), seconds, share, flagged)


def run_python(ref: pd.DataFrame, cur: pd.DataFrame, target: str | None, _tmp: Path) -> Run:
    t0 = time.perf_counter()
    report = driftcore.compare(ref, cur, threads=1)
    return _from_report(report, time.perf_counter() - t0, target)


def run_profiles(ref: pd.DataFrame, cur: pd.DataFrame, target: str | None, _tmp: Path) -> Run:
    t0 = time.perf_counter()
    ref_p = driftcore.Profile.build(ref, threads=1)
    cur_p = driftcore.Profile.build(cur, reference=ref_p, threads=1)
    report = driftcore.compare(ref_p, cur_p)
    return _from_report(report, time.perf_counter() - t0, target)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def run_cli(ref: pd.DataFrame, cur: pd.DataFrame, target: str | None, tmp: Path) -> Run:
    from driftcore.cli import main

    ref_path, cur_path, out_path = tmp / "ref.parquet", tmp / "cur.parquet", tmp / "out.json"
    write_parquet(ref, ref_path)
    write_parquet(cur, cur_path)
    out_path.unlink(missing_ok=True)
    argv = [
        "check",
        str(ref_path),
        str(cur_path),
        "--json",
        str(out_path),
        "--threads",
        "1",
        "--quiet",
    ]
    err = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    seconds = time.perf_counter() - t0
    if code not in (0, 1) or not out_path.exists():
        return Run(None, seconds, error=f"exit {code}: {err.getvalue().strip()[:300]}")
    doc = json.loads(out_path.read_text())
    cols = doc.get("columns", [])
    judged = [c for c in cols if c.get("drifted") is not None]
    share = sum(1 for c in judged if c["drifted"]) / len(judged) if judged else math.nan
    flagged = next((bool(c["drifted"]) for c in cols if c.get("column") == target), None)
    return Run(code == 1, seconds, share, flagged, list(doc.get("summary", {}).get("reasons", [])))


RUNNERS: dict[str, Callable[[pd.DataFrame, pd.DataFrame, str | None, Path], Run]] = {
    "python": run_python,
    "profiles": run_profiles,
    "cli": run_cli,
}


# --- measuring -------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion k / n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def reason_kind(reason: str) -> str:
    low = reason.lower()
    return next((label for key, label in REASON_KINDS if key in low), "other")


@dataclass
class Row:
    scenario: str
    family: str
    front_end: str
    n_per_side: int
    columns: int
    repeats: int
    alarms: int
    errors: int
    rate: float
    ci_low: float
    ci_high: float
    column_rate: float
    median_seconds: float
    goal: str
    reasons: dict[str, int]
    error_messages: list[str]


def seed_for(seed: int, scenario: Scenario, rep: int) -> np.random.Generator:
    key = zlib.crc32(f"{scenario.name}|{scenario.n_per_side}".encode())
    return np.random.default_rng([seed, key, rep])


def measure(scenario: Scenario, front_end: str, repeats: int, seed: int, tmp: Path) -> Row:
    runs: list[Run] = []
    for rep in range(repeats):
        ref, cur = scenario.make(seed_for(seed, scenario, rep))
        try:
            runs.append(RUNNERS[front_end](ref, cur, scenario.target, tmp))
        except Exception as exc:  # noqa: BLE001 - an error is a result here
            runs.append(Run(None, math.nan, error=f"{type(exc).__name__}: {exc}"[:300]))
    ok = [r for r in runs if r.drift is not None]
    alarms = sum(1 for r in ok if r.drift)
    low, high = wilson(alarms, len(ok))
    if scenario.family == "power":
        hits = [r.target_flagged for r in ok if r.target_flagged is not None]
        column_rate = sum(hits) / len(hits) if hits else math.nan
    else:
        shares = [r.column_share for r in ok if not math.isnan(r.column_share)]
        column_rate = float(np.mean(shares)) if shares else math.nan
    reasons = Counter(reason_kind(x) for r in ok if r.drift for x in r.reasons)
    seconds = [r.seconds for r in ok]
    return Row(
        scenario.name,
        scenario.family,
        front_end,
        scenario.n_per_side,
        scenario.columns,
        len(runs),
        alarms,
        len(runs) - len(ok),
        alarms / len(ok) if ok else math.nan,
        low,
        high,
        column_rate,
        float(np.median(seconds)) if seconds else math.nan,
        scenario.goal,
        dict(reasons),
        sorted({r.error for r in runs if r.error}),
    )


# --- output ----------------------------------------------------------------------------


def _num(v: float, digits: int = 3) -> str:
    return "-" if v is None or math.isnan(v) else f"{v:.{digits}f}"


def _reasons_cell(row: Row) -> str:
    if row.front_end != "cli":
        return ""
    labels = list(dict.fromkeys(label for _, label in REASON_KINDS))
    if row.reasons.get("other"):
        labels.append("other")
    return ", ".join(f"{label} {row.reasons.get(label, 0)}" for label in labels)


def markdown(rows: list[Row]) -> str:
    head = (
        "| scenario | front end | n/side | cols | repeats | rate | 95% CI | col rate "
        "| s/run | goal | errors | CLI failure reasons (runs) |"
    )
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.front_end} | {r.n_per_side:,} | {r.columns} | {r.repeats} "
            f"| {_num(r.rate)} | [{_num(r.ci_low)}, {_num(r.ci_high)}] | {_num(r.column_rate)} "
            f"| {_num(r.median_seconds)} | {r.goal} | {r.errors} | {_reasons_cell(r)} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="few repeats (about a minute)")
    p.add_argument("--repeats", type=int, metavar="N", help="repeats of every scenario")
    p.add_argument("--seed", type=int, default=0, help="seed of all data (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    p.add_argument("--only", metavar="TEXT", help="only scenarios whose name contains TEXT")
    return p.parse_args(argv)


def repeats_for(scenario: Scenario, args: argparse.Namespace) -> int:
    if args.repeats is not None:
        return args.repeats
    return (QUICK_REPEATS if args.quick else REPEATS)[scenario.tier]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    scenarios = [s for s in all_scenarios() if not args.only or args.only in s.name]
    jobs = [(s, fe) for s in scenarios for fe in FRONT_ENDS if fe in s.front_ends]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="driftcore-calibration-") as tmp:
        for i, (scenario, front_end) in enumerate(jobs, 1):
            t0 = time.perf_counter()
            row = measure(scenario, front_end, repeats_for(scenario, args), args.seed, Path(tmp))
            rows.append(row)
            print(
                f"[{i}/{len(jobs)}] {scenario.name}, {front_end}, n={scenario.n_per_side:,}: "
                f"rate {_num(row.rate)} ({row.alarms}/{row.repeats - row.errors}), "
                f"errors {row.errors}, {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )
    total = time.perf_counter() - started
    print(markdown(rows))
    print(
        f"\ndriftcore {driftcore.__version__}, seed {args.seed}, "
        f"{'quick' if args.quick else 'default'} repeats"
        f"{f' (--repeats {args.repeats})' if args.repeats is not None else ''}, "
        f"total {total:.0f} s"
    )
    for r in rows:
        for msg in r.error_messages:
            print(f"- error in {r.scenario} / {r.front_end}: {msg}")
    if args.json:
        doc = {
            "driftcore_version": driftcore.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "pyarrow": pa.__version__,
            "cpu_count": os.cpu_count(),
            "seed": args.seed,
            "quick": args.quick,
            "repeats_override": args.repeats,
            "total_seconds": total,
            "rows": [asdict(r) for r in rows],
        }
        Path(args.json).write_text(json.dumps(doc, indent=2, allow_nan=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
