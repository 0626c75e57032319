"""The hand-written stub of the compiled module names exactly what the module has, and
mypy's stubtest finds it consistent with the module (signatures, read-only properties)."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from driftcore import _core

STUB = Path(__file__).resolve().parents[1] / "python" / "driftcore" / "_core.pyi"
ALLOWLIST = Path(__file__).with_name("stubtest-allowlist.txt")


def test_stub_and_module_name_the_same_things():
    tree = ast.parse(STUB.read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {
        t.id
        for n in tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    compiled = {n for n in dir(_core) if not n.startswith("__")}
    assert compiled - stubbed == set(), "in the module, missing from _core.pyi"
    assert stubbed - compiled == set(), "in _core.pyi, not in the module"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_stubtest_finds_the_stub_consistent():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "driftcore._core", "--allowlist", str(ALLOWLIST)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
