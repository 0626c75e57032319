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
    # Version 1 profiles held a histogram on the sketch's 10 quantile edges; a profile
    # built today holds fine bins, so the golden one is put together that way.
    p = driftcore.Profile.build(iter([{"x": x[:1000], "c": np.array(["u", "v"] * 500)}]))
    p["x"].histogram = driftcore.Histogram(p["x"].sketch.quantile_edges(10))
    p["x"].histogram.update(x[:1000])
    return {"histogram": h, "quantile_sketch": s, "category_counts": c, "profile": p}


if __name__ == "__main__":
    for name, state in states().items():
        (HERE / f"{name}.v1.bin").write_bytes(state.to_bytes())
