"""Misaligned buffers (np.frombuffer at an odd offset) reach the C++ kernels only as
aligned copies: reading them through typed pointers would be undefined behaviour.
The sanitizer build (.ci/sanitize.sh) turns any such read into a failure."""

import numpy as np
import pytest

import driftcore
from driftcore import _core


def _misaligned(a: np.ndarray) -> np.ndarray:
    """The same values as ``a`` in a view one byte off its natural alignment."""
    raw = np.zeros(a.nbytes + 1, np.uint8)
    raw[1:] = a.reshape(-1).view(np.uint8)
    out = np.frombuffer(raw.data, a.dtype, a.size, 1).reshape(a.shape)
    assert not out.flags.aligned
    return out


def test_misaligned_values_give_the_same_histogram(rng):
    x = rng.normal(size=1001)
    w = rng.random(1001)
    h1 = driftcore.Histogram(bins=16, range=(-3, 3), weighted=True)
    h2 = driftcore.Histogram(bins=16, range=(-3, 3), weighted=True)
    h1.update(_misaligned(x), weights=_misaligned(w))
    h2.update(x, weights=w)
    assert h1 == h2


def test_the_binding_refuses_a_misaligned_view_it_cannot_copy():
    h = _core.Histogram(np.linspace(0.0, 1.0, 5), False)
    with pytest.raises(ValueError, match="aligned"):
        h.update(_misaligned(np.full(9, 0.5)))


def test_misaligned_signatures_give_the_same_band_keys(rng):
    sig = rng.integers(0, 2**32, size=(5, 12), dtype=np.uint32)
    assert np.array_equal(_core.band_keys(_misaligned(sig), 4, 3, 1), _core.band_keys(sig, 4, 3, 1))


@pytest.mark.parametrize("keep", [True, False])
def test_loaded_lsh_index_holds_aligned_arrays(keep):
    # Three documents: the signatures follow 3 validity bytes, an odd offset.
    docs = ["the quick brown fox jumps", "the quick brown fox jumped", "lorem ipsum dolor"]
    index = driftcore.LSHIndex(driftcore.MinHasher(), 0.5, keep_signatures=keep)
    index.add(docs)
    loaded = driftcore.LSHIndex.from_bytes(index.to_bytes())
    assert loaded == index
    arrays = loaded._keys + loaded._valid + (loaded._sigs if keep else [])
    assert all(a.flags.aligned for a in arrays)
    verify = "signature" if keep else "none"
    got, want = loaded.query(docs, verify=verify), index.query(docs, verify=verify)
    assert got.query.tolist() == want.query.tolist()
    assert got.index.tolist() == want.index.tolist()
