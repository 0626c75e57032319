import numpy as np
import pyarrow as pa
import pytest

from driftcore import CategoryCounts


@pytest.mark.parametrize(
    "values",
    [
        ["x", "y", "x", None],
        np.array(["x", "y", "x", None], dtype=object),
        pa.array(["x", "y", "x", None]),
        pa.array(["x", "y", "x", None], type=pa.large_string()),
        pa.array(["x", "y", "x", None]).dictionary_encode(),
        pa.chunked_array([["x", "y"], ["x", None]]),
    ],
)
def test_string_inputs_agree(values):
    c = CategoryCounts()
    c.update(values)
    assert c.counts == {"x": 2, "y": 1} and c.nulls == 1 and c.total == 3


def test_numpy_unicode_and_integer_codes(rng):
    c = CategoryCounts()
    c.update(np.array(["b", "a", "b"]))
    assert c.counts == {"a": 1, "b": 2}
    codes = rng.integers(0, 5, 10_000)
    d = CategoryCounts()
    d.update(codes)
    assert d.counts == dict(zip(*np.unique(codes, return_counts=True)))


def test_merge_unseen_and_serialization():
    a, b = CategoryCounts(), CategoryCounts()
    a.update(["a", "b"])
    b.update(["b", "c", "é"])
    assert b.unseen_in(a) == ["c", "é"]
    whole = CategoryCounts()
    whole.update(["a", "b", "b", "c", "é"])
    assert a.copy().merge(b) == whole
    assert CategoryCounts.from_bytes(whole.to_bytes()) == whole
    with pytest.raises(ValueError):
        CategoryCounts.from_bytes(whole.to_bytes()[:-1])


def test_bad_input_leaves_state_unchanged():
    c = CategoryCounts()
    c.update(["a"])
    with pytest.raises(TypeError, match="str categories"):
        c.update([1, 2])
    with pytest.raises(TypeError, match="strings or integers"):
        c.update(np.array([1.5, 2.5]))
    with pytest.raises(TypeError):
        c.update("abc")
    with pytest.raises(TypeError, match="cannot read"):
        c.update(np.array(["a", 1.5], dtype=object))
    assert c.counts == {"a": 1}
