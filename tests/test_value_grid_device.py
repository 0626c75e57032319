"""The value grid's device algorithm (a scan of binade sums, then dense counting passes
that find the grid's shift) against the CPU's update_summarized: the same grid bytes,
counts, extremes and exact sums. Run here through its host replay (the kernels'
per-value code and chunks, one value at a time); the ``gpu`` tests run the same cases
on a card."""

from __future__ import annotations

import numpy as np
import pytest

from driftcore import _core


def _cases() -> dict[str, tuple[int, list[np.ndarray]]]:
    """name -> (max_cells, chunks fed one after the other)."""
    rng = np.random.default_rng(11)
    normal = rng.normal(size=200_000)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1.7e308, -1.7e308])
    f32_tiny = np.array([1e-45, -1e-45, 1e-40, 1.1754942e-38, 3.4e38], dtype=np.float32)
    return {
        "normal": (4096, [normal]),
        "normal float32": (4096, [normal.astype(np.float32)]),
        "normal in chunks": (4096, np.array_split(normal, 7)),
        "few integers": (4096, [rng.integers(0, 50, 100_000)]),
        "integers then wide values": (64, [rng.integers(0, 50, 1000), rng.normal(size=5000) * 1e6]),
        "specials": (4096, [specials]),
        "only NaN and inf": (4096, [np.array([np.nan, np.inf, np.nan, -np.inf])]),
        "empty": (4096, [np.array([], dtype=np.float64)]),
        "one value": (16, [np.array([3.25])]),
        "float32 subnormals": (4096, [f32_tiny]),
        "cauchy": (4096, [rng.standard_cauchy(200_000)]),
        "every binade": (4096, [np.exp(rng.uniform(-700, 700, 200_000))]),
        "every binade, 16 cells": (
            16,
            [np.exp(rng.uniform(-700, 700, 50_000)) * rng.choice([-1, 1], 50_000)],
        ),
        "a shift above 52": (16, [rng.normal(size=3000), rng.normal(size=3000) * 1e100]),
        "final shift 52": (16, [np.ldexp(np.array([1.0, 1.75] * 16), np.repeat(np.arange(16), 2))]),
        "close values": (16, [1.0 + rng.integers(0, 1 << 20, 10_000) * 2.0**-52]),
        "near ties at shift 0": (4096, [1.0 + rng.integers(0, 4096, 50_000) * 2.0**-52]),
        "timestamps": (4096, [1.7e9 + rng.integers(0, 86_400, 100_000).astype(np.float64)]),
        "a million cells": (1 << 20, [rng.normal(size=300_000)]),
        "int8": (4096, [rng.integers(-128, 128, 10_000).astype(np.int8)]),
        "uint16": (4096, [rng.integers(0, 1 << 16, 100_000).astype(np.uint16)]),
        "uint64 extremes": (4096, [np.array([0, 1, 2**64 - 1, 2**63], dtype=np.uint64)]),
        "int64 large": (256, [rng.integers(-(2**62), 2**62, 50_000)]),
        "grid refined then coarsened": (
            256,
            [rng.integers(0, 100, 1000).astype(np.float64), rng.normal(size=20_000) * 1e3],
        ),
        "coarse grid, then narrow values": (
            64,
            [rng.standard_cauchy(10_000), rng.normal(size=10_000) * 1e-3],
        ),
    }


CASES = _cases()


def _same(a, b) -> None:
    (ma, a1, a2), (mb, b1, b2) = a, b
    for field in ("count", "nan", "pos_inf", "neg_inf"):
        assert getattr(ma, field) == getattr(mb, field), field
    if ma.count:
        # Equal (the sign of a zero extreme is not kept: a profile stores +0.0).
        assert (ma.min, ma.max) == (mb.min, mb.max)
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2), "exact sums"


@pytest.mark.parametrize("name", list(CASES))
def test_replay_gives_the_cpu_grid_counts_and_sums(name):
    cap, chunks = CASES[name]
    cpu, replay = _core.ValueGrid(cap), _core.ValueGrid(cap)
    for chunk in chunks:
        _same(cpu.update_summarized(chunk, 1), replay.update_summarized_replay(chunk))
        assert replay.to_bytes() == cpu.to_bytes(), (replay.shift, cpu.shift)


@pytest.mark.parametrize("seed", range(40))
def test_replay_on_random_mixtures(seed):
    rng = np.random.default_rng(seed)
    cap = int(rng.choice([16, 64, 1000, 4096]))
    cpu, replay = _core.ValueGrid(cap), _core.ValueGrid(cap)
    for _ in range(int(rng.integers(1, 4))):
        n = int(rng.integers(0, 20_000))
        parts = [
            rng.normal(size=n) * 10.0 ** rng.integers(-20, 20),
            rng.integers(-(10 ** int(rng.integers(1, 12))), 100, n).astype(np.float64),
            np.round(rng.normal(size=n), int(rng.integers(0, 6))),
            rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0], n),
        ]
        x = np.concatenate([parts[k] for k in rng.choice(4, int(rng.integers(1, 4)))])
        x = x.astype(rng.choice([np.float64, np.float32]))
        _same(cpu.update_summarized(x, 1), replay.update_summarized_replay(x))
        assert replay.to_bytes() == cpu.to_bytes(), (replay.shift, cpu.shift)


def _carrying() -> np.ndarray:
    """5e6 values of the largest mantissa in two binades: their m^2 sums pass 2^128,
    while each scan chunk's 2^20 values stay below 2^126."""
    x = np.full(5_000_000, np.nextafter(2.0, 0.0))
    x[::2] = -x[::2]
    return x


def test_replay_sums_carry_into_the_third_word():
    x = _carrying()
    cpu, replay = _core.ValueGrid(), _core.ValueGrid()
    _same(cpu.update_summarized(x, 0), replay.update_summarized_replay(x))
    assert replay.to_bytes() == cpu.to_bytes()


def test_replay_leaves_the_grid_unchanged_on_bad_input():
    g = _core.ValueGrid(64)
    g.update(np.arange(10.0), 1)
    before = g.to_bytes()
    with pytest.raises((TypeError, ValueError)):
        g.update_summarized_replay(np.array(["a", "b"]))
    assert g.to_bytes() == before


@pytest.mark.gpu
@pytest.mark.parametrize("name", list(CASES))
def test_device_gives_the_cpu_grid_counts_and_sums(name):
    cp = pytest.importorskip("cupy")
    from driftcore.value_grid import ValueGrid

    cap, chunks = CASES[name]
    cpu, gpu = ValueGrid(cap), ValueGrid(cap)
    for chunk in chunks:
        _same(cpu._update_summarized(chunk, 1), gpu._update_summarized(cp.asarray(chunk), 0))
        assert gpu == cpu


@pytest.mark.gpu
def test_device_sums_carry_into_the_third_word():
    cp = pytest.importorskip("cupy")
    from driftcore.value_grid import ValueGrid

    x = _carrying()
    cpu, gpu = ValueGrid(), ValueGrid()
    _same(cpu._update_summarized(x, 0), gpu._update_summarized(cp.asarray(x), 0))
    assert gpu == cpu


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["normal", "normal float32", "every binade", "specials"])
def test_device_scan_with_its_counters_in_global_memory(name):
    # The path of cards whose blocks cannot have 144 KiB of shared memory.
    cp = pytest.importorskip("cupy")
    from driftcore.value_grid import ValueGrid

    cap, chunks = CASES[name]
    cpu, gpu = ValueGrid(cap), ValueGrid(cap)
    _core._set_small_shared_memory(True)
    try:
        for chunk in chunks:
            _same(cpu._update_summarized(chunk, 1), gpu._update_summarized(cp.asarray(chunk), 0))
    finally:
        _core._set_small_shared_memory(False)
    assert gpu == cpu
