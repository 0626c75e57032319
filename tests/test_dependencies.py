"""The runtime needs numpy and pyarrow only: scipy is a test reference, never imported
by the library or the command line."""

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data"

# Any import of scipy fails in the child process.
_NO_SCIPY = "import sys; sys.modules['scipy'] = None; "


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _NO_SCIPY + code], capture_output=True, text=True, check=False
    )


def test_compare_leakage_and_tests_run_without_scipy():
    out = _run(
        "import numpy as np, driftcore\n"
        "rng = np.random.default_rng(0)\n"
        "r = driftcore.compare({'x': rng.normal(size=20_000), 'c': rng.choice(list('ab'), 20_000)},\n"
        "                      {'x': rng.normal(0.3, 1, 20_000), 'c': rng.choice(list('ab'), 20_000)})\n"
        "texts = ['the quick brown fox jumps over the lazy dog', 'a b c d e f g h i j']\n"
        "lk = driftcore.find_leakage(texts, texts[:1], threshold=0.8)\n"
        "dups = driftcore.find_duplicates(texts * 2, threshold=0.8)\n"
        "m = driftcore.mmd_test(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)),\n"
        "                       estimator='linear')\n"
        "print(r['x'].drifted, r['c'].drifted, lk.rate, dups.representative.tolist(),\n"
        "      0 <= m.pvalue <= 1)\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "1.0", "[0,", "1,", "0,", "1]", "True"]


def test_the_command_line_runs_without_scipy():
    out = _run(
        "from driftcore.cli import main; import sys; sys.exit(main(["
        f"'check', {str(EXAMPLE / 'reference.parquet')!r}, "
        f"{str(EXAMPLE / 'current.parquet')!r}, '-q', '--json', '-']))"
    )
    assert out.returncode == 1, out.stderr
    assert '"exit_code": 1' in out.stdout
