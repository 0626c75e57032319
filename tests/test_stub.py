"""The hand-written stub of the compiled module names exactly what the module has."""

import ast
from pathlib import Path

from driftcore import _core

STUB = Path(__file__).resolve().parents[1] / "python" / "driftcore" / "_core.pyi"


def test_stub_and_module_name_the_same_things():
    tree = ast.parse(STUB.read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                if isinstance(t, ast.Name)}
    compiled = {n for n in dir(_core) if not n.startswith("__")}
    assert compiled - stubbed == set(), "in the module, missing from _core.pyi"
    assert stubbed - compiled == set(), "in _core.pyi, not in the module"
