"""Writes the golden serialized states read back by tests/test_golden.py.

Run only when the wire format changes on purpose (and bump _wire.VERSION then)."""

from pathlib import Path

import numpy as np

import driftcore

HERE = Path(__file__).parent


def states():
    x = np.random.default_rng(7).normal(size=20_000)
    h = driftcore.Histogram(bins=8, range=(-2, 2))
    h.update(x)
    s = driftcore.QuantileSketch(k=64, seed=11)
    s.update(x)
    c = driftcore.CategoryCounts()
    c.update(["a", "b", "b", None])
    g = driftcore.ValueGrid(max_cells=256)
    g.update(x)
    return {"histogram": h, "quantile_sketch": s, "category_counts": c, "value_grid": g}


if __name__ == "__main__":
    # profile.v1.bin (a profile of the first layout, with quantile sketches) is kept
    # as written: loading it must fail with a message saying how to rebuild it.
    for name, state in states().items():
        path = HERE / f"{name}.v1.bin"
        if not path.exists():
            path.write_bytes(state.to_bytes())
