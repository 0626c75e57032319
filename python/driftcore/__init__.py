"""driftcore: fast, mergeable data-drift statistics on CPU and GPU.

Examples
--------
>>> import numpy as np, driftcore
>>> rng = np.random.default_rng(0)
>>> report = driftcore.compare({"x": rng.normal(size=2000)}, {"x": rng.normal(1, 1, 2000)})
>>> report["x"].drifted
True
"""

from __future__ import annotations

from . import metrics
from ._build import build_info
from ._dispatch import gpu_available
from .categories import CategoryCounts
from .compare import ColumnDrift, DriftReport, compare
from .exact_rows import RowLeakage, exact_row_leakage
from .histogram import Histogram
from .job.check import CheckReport, check
from .job.errors import InputError
from .leakage import DuplicateResult, LeakageResult, find_duplicates, find_leakage
from .lsh import LSHIndex
from .minhash import MinHasher
from .mmd import MMDResult, mmd2, mmd_test
from .profile import CategoricalColumn, NumericColumn, Profile
from .quantile_sketch import QuantileSketch
from .row_sample import RowSample
from .streaming_mmd import StreamingMMD
from .value_grid import ValueGrid

__version__ = build_info()["version"]

__all__ = [
    "CategoricalColumn",
    "CategoryCounts",
    "CheckReport",
    "ColumnDrift",
    "DriftReport",
    "DuplicateResult",
    "Histogram",
    "InputError",
    "LSHIndex",
    "LeakageResult",
    "MMDResult",
    "MinHasher",
    "NumericColumn",
    "Profile",
    "QuantileSketch",
    "RowLeakage",
    "RowSample",
    "StreamingMMD",
    "ValueGrid",
    "build_info",
    "check",
    "compare",
    "exact_row_leakage",
    "find_duplicates",
    "find_leakage",
    "gpu_available",
    "metrics",
    "mmd2",
    "mmd_test",
]
