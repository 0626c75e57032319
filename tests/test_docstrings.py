"""Every example in the public docstrings runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import driftcore

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(driftcore.__path__, "driftcore.")
    if m.name not in ("driftcore._core", "driftcore.__main__")
)


@pytest.mark.parametrize("name", ["driftcore", *MODULES])
def test_examples(name):
    if name.startswith(("driftcore.dask", "driftcore.job.dask_passes")):
        pytest.importorskip("dask.dataframe")
        pytest.importorskip("distributed")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"
