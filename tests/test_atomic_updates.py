"""Every failing update, add or merge of a state raises a clear error and leaves the
state byte for byte as it was."""

import numpy as np
import pyarrow as pa
import pytest

import driftcore
from driftcore import (
    CategoryCounts,
    Histogram,
    LSHIndex,
    MinHasher,
    Profile,
    QuantileSketch,
    RowSample,
    StreamingMMD,
    ValueGrid,
)

rng = np.random.default_rng(0)


def _histogram(weighted=False, bins=4):
    h = Histogram(bins=bins, range=(0.0, 1.0), weighted=weighted)
    x = rng.random(50)
    h.update(x, np.full(50, 0.5) if weighted else None)
    return h


def _sketch(k=64, seed=0):
    s = QuantileSketch(k, seed=seed)
    s.update(rng.normal(size=500))
    return s


def _categories(values=("a", "b", "a")):
    c = CategoryCounts()
    c.update(list(values))
    return c


def _profile(bins=4, max_cells=64, table=None):
    p = Profile(bins=bins, max_cells=max_cells)
    p.update(table or {"x": rng.normal(size=100), "c": np.array(["u", "v"] * 50)})
    return p


def _grid(max_cells=64):
    g = ValueGrid(max_cells)
    g.update(rng.normal(size=500))
    return g


def _mmd(d=3, n_features=32, seed=1, bandwidth=1.0):
    m = StreamingMMD(bandwidth, n_features=n_features, seed=seed)
    m.update(rng.normal(size=(20, d)), rng.normal(size=(20, d)))
    return m


def _row_sample(seed=0):
    r = RowSample(5, seed=seed)
    r.update(pa.record_batch({"x": rng.normal(size=40)}))
    return r


def _index(num_perm=64, seed=1, threshold=0.5):
    idx = LSHIndex(MinHasher(num_perm=num_perm, seed=seed), threshold)
    idx.add(["a b c d", "e f g h", "a b c x"])
    return idx


def _nan_at(shape, where):
    a = rng.normal(size=shape)
    a[where] = np.nan
    return a


def _chunks_then_fail():
    yield {"x": rng.normal(size=5), "new": rng.normal(size=5)}
    raise OSError("the disk went away")


# (name, state factory, the failing call, the exception, a word of its message)
CASES = [
    # Histogram
    ("hist 2-D values", _histogram, lambda h: h.update(np.zeros((3, 2))), ValueError, ""),
    ("hist strings", _histogram, lambda h: h.update(np.array(["a", "b"])), TypeError, ""),
    ("hist objects", _histogram, lambda h: h.update(np.array([1.0, None])), TypeError, ""),
    (
        "hist weights unweighted",
        _histogram,
        lambda h: h.update(np.ones(3), np.ones(3)),
        ValueError,
        "unweighted",
    ),
    (
        "hist NaN weight",
        lambda: _histogram(True),
        lambda h: h.update(np.ones(3), np.array([1.0, np.nan, 1.0])),
        ValueError,
        "finite",
    ),
    (
        "hist weights length",
        lambda: _histogram(True),
        lambda h: h.update(np.ones(3), np.ones(4)),
        ValueError,
        "entries",
    ),
    ("hist merge other bins", _histogram, lambda h: h.merge(_histogram(bins=5)), ValueError, ""),
    ("hist merge weighting", _histogram, lambda h: h.merge(_histogram(True)), ValueError, ""),
    ("hist merge non-state", _histogram, lambda h: h.merge(_sketch()), TypeError, "Histogram"),
    # RowSample
    ("row sample list", _row_sample, lambda r: r.update([1.0, 2.0]), TypeError, "RecordBatch"),
    (
        "row sample other columns",
        _row_sample,
        lambda r: r.update(pa.record_batch({"y": [1.0, 2.0]})),
        ValueError,
        "cannot join",
    ),
    (
        "row sample other type",
        _row_sample,
        lambda r: r.update(pa.record_batch({"x": ["a", "b"]})),
        ValueError,
        "cannot join",
    ),
    (
        "row sample merge seed",
        _row_sample,
        lambda r: r.merge(_row_sample(seed=1)),
        ValueError,
        "seed",
    ),
    (
        "row sample merge non-state",
        _row_sample,
        lambda r: r.merge(_sketch()),
        TypeError,
        "RowSample",
    ),
    # QuantileSketch
    ("sketch 2-D", _sketch, lambda s: s.update(np.zeros((2, 2))), ValueError, ""),
    ("sketch strings", _sketch, lambda s: s.update(np.array(["a"])), TypeError, ""),
    ("sketch merge k", _sketch, lambda s: s.merge(_sketch(k=32)), ValueError, ""),
    (
        "sketch merge non-state",
        _sketch,
        lambda s: s.merge(_histogram()),
        TypeError,
        "QuantileSketch",
    ),
    # CategoryCounts
    ("categories int into str", _categories, lambda c: c.update([1, 2]), TypeError, ""),
    ("categories 2-D", _categories, lambda c: c.update(np.array([["a", "b"]])), ValueError, ""),
    ("categories floats", _categories, lambda c: c.update(np.array([0.5, 1.5])), TypeError, ""),
    ("categories merge kinds", _categories, lambda c: c.merge(_categories((1, 2))), TypeError, ""),
    (
        "categories merge non-state",
        _categories,
        lambda c: c.merge({"a": 1}),
        TypeError,
        "CategoryCounts",
    ),
    # Profile
    (
        "profile kind change",
        _profile,
        lambda p: p.update({"x": np.array(["a", "b"])}),
        TypeError,
        "numeric",
    ),
    (
        "profile second column fails",
        _profile,
        lambda p: p.update({"x": rng.normal(size=5), "c": rng.normal(size=5)}),
        TypeError,
        "",
    ),
    (
        "profile ragged columns",
        _profile,
        lambda p: p.update({"x": rng.normal(size=5), "c": np.array(["a"])}),
        ValueError,
        "",
    ),
    (
        "profile second chunk fails",
        _profile,
        lambda p: p.update(
            [{"x": rng.normal(size=5), "c": np.array(["w"] * 5)}, {"x": np.array(["a"])}]
        ),
        TypeError,
        "numeric",
    ),
    (
        "profile chunks then the source fails",
        _profile,
        lambda p: p.update(_chunks_then_fail()),
        OSError,
        "disk",
    ),
    ("profile merge bins", _profile, lambda p: p.merge(_profile(bins=5)), ValueError, "bins"),
    (
        "profile merge max_cells",
        _profile,
        lambda p: p.merge(_profile(max_cells=32)),
        ValueError,
        "max_cells",
    ),
    (
        "profile merge columns",
        _profile,
        lambda p: p.merge(_profile(table={"x": rng.normal(size=10)})),
        ValueError,
        "columns",
    ),
    (
        "profile merge kinds",
        _profile,
        lambda p: p.merge(_profile(table={"x": rng.normal(size=10), "c": rng.normal(size=10)})),
        TypeError,
        "numeric",
    ),
    ("profile merge non-state", _profile, lambda p: p.merge(_sketch()), TypeError, "Profile"),
    ("grid 2-D values", _grid, lambda g: g.update(np.zeros((2, 2))), ValueError, "1-D"),
    ("grid strings", _grid, lambda g: g.update(np.array(["a"])), TypeError, "dtype"),
    (
        "grid merge max_cells",
        _grid,
        lambda g: g.merge(_grid(max_cells=128)),
        ValueError,
        "max_cells",
    ),
    ("grid merge non-state", _grid, lambda g: g.merge(_sketch()), TypeError, "ValueGrid"),
    # StreamingMMD
    (
        "mmd NaN in y",
        _mmd,
        lambda m: m.update(rng.normal(size=(5, 3)), _nan_at((5, 3), (2, 1))),
        ValueError,
        "NaN",
    ),
    ("mmd other d", _mmd, lambda m: m.update(rng.normal(size=(5, 4))), ValueError, "features"),
    (
        "mmd y other d than x",
        _mmd,
        lambda m: m.update(rng.normal(size=(5, 3)), rng.normal(size=(5, 2))),
        ValueError,
        "features",
    ),
    ("mmd 1-D", _mmd, lambda m: m.update(rng.normal(size=5)), ValueError, "2-D"),
    ("mmd strings", _mmd, lambda m: m.update(np.array([["a", "b", "c"]])), TypeError, "dtype"),
    ("mmd merge seed", _mmd, lambda m: m.merge(_mmd(seed=2)), ValueError, "seed"),
    ("mmd merge features", _mmd, lambda m: m.merge(_mmd(n_features=16)), ValueError, "n_features"),
    ("mmd merge d", _mmd, lambda m: m.merge(_mmd(d=4)), ValueError, "d"),
    ("mmd merge non-state", _mmd, lambda m: m.merge(_sketch()), TypeError, "StreamingMMD"),
    # LSHIndex
    (
        "index signatures num_perm",
        _index,
        lambda i: i.add(signatures=np.zeros((2, 32), np.uint32)),
        ValueError,
        "",
    ),
    (
        "index signatures floats",
        _index,
        lambda i: i.add(signatures=np.zeros((2, 64))),
        TypeError,
        "",
    ),
    (
        "index signatures 1-D",
        _index,
        lambda i: i.add(signatures=np.zeros(64, np.uint32)),
        ValueError,
        "",
    ),
    (
        "index docs and signatures",
        _index,
        lambda i: i.add(["a"], signatures=np.zeros((1, 64), np.uint32)),
        TypeError,
        "either",
    ),
    ("index non-text docs", _index, lambda i: i.add([1, 2]), TypeError, ""),
    ("index 2-D docs", _index, lambda i: i.add(np.array([["a", "b"]])), ValueError, "1-D"),
    ("index a float among docs", _index, lambda i: i.add(["a b", 3.5]), TypeError, "str"),
    ("index merge seed", _index, lambda i: i.merge(_index(seed=2)), ValueError, "seed"),
    (
        "index merge threshold",
        _index,
        lambda i: i.merge(_index(threshold=0.7)),
        ValueError,
        "threshold",
    ),
    ("index merge non-state", _index, lambda i: i.merge(_sketch()), TypeError, "LSHIndex"),
]


@pytest.mark.parametrize(
    "make, call, error, word", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_failing_call_leaves_the_state_unchanged(make, call, error, word):
    state = make()
    before = state.to_bytes()
    with pytest.raises(error, match=word or None) as info:
        call(state)
    assert str(info.value)  # says what was wrong
    assert state.to_bytes() == before


def test_every_public_state_is_covered():
    states = {
        name
        for name in driftcore.__all__
        if isinstance(getattr(driftcore, name), type)
        and hasattr(getattr(driftcore, name), "to_bytes")
    }
    covered = {type(make()).__name__ for _, make, *_ in CASES}
    assert states <= covered, states - covered


def test_a_first_update_that_fails_in_the_kernel_leaves_the_state_empty(monkeypatch):
    # The number of features is taken only with the first sums (a Ctrl-C in the
    # kernel used to leave d set on an empty state).
    m = StreamingMMD(1.0, n_features=32, seed=1)
    before = m.to_bytes()

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(driftcore._core, "rff_accumulate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        m.update(rng.normal(size=(5, 3)))
    assert m.to_bytes() == before and m.d == 0
    monkeypatch.undo()
    m.update(rng.normal(size=(5, 4)))  # another d is still welcome
    assert m.d == 4
