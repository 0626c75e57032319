"""States written by version 1 of the format must still load, equal and answer the same."""

import importlib.util
from pathlib import Path

import pytest

import driftcore

GOLDEN = Path(__file__).parent / "data" / "golden"
spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
make_golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_golden)

CLASSES = {
    "histogram": driftcore.Histogram,
    "quantile_sketch": driftcore.QuantileSketch,
    "category_counts": driftcore.CategoryCounts,
    "value_grid": driftcore.ValueGrid,
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_golden_files_load_and_match_fresh_states(name):
    data = (GOLDEN / f"{name}.v1.bin").read_bytes()
    loaded = CLASSES[name].from_bytes(data)
    assert loaded == make_golden.states()[name]
    assert loaded.to_bytes() == data


def test_a_profile_of_the_first_layout_says_how_to_rebuild_it():
    data = (GOLDEN / "profile.v1.bin").read_bytes()
    with pytest.raises(ValueError, match="older layout .quantile sketches.*rebuild it"):
        driftcore.Profile.from_bytes(data)
