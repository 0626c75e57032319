"""MinHash on the GPU: signatures bit-identical to the CPU's, the same leaked pairs.
Marked ``gpu``: skipped where no CUDA device is usable."""

import numpy as np
import pytest

import driftcore

pytestmark = pytest.mark.gpu


@pytest.fixture
def cp():
    return pytest.importorskip("cupy")


def _texts(rng, count):
    alphabet = list("abcdefgh  .,;!?-\t\n") + ["é", "ß", "中", "—", "\u00a0"]
    texts = ["".join(rng.choice(alphabet, size=int(rng.integers(0, 300)))) for _ in range(count)]
    return texts + ["", None, "x", "word " * 20000, "y" * 5000]  # empty, short and very long


@pytest.mark.parametrize("shingle", ["word", "char"])
@pytest.mark.parametrize("num_perm", [16, 128, 144, 256])
def test_text_signatures_bit_identical(cp, rng, shingle, num_perm):
    texts = _texts(rng, 3000)
    mh = driftcore.MinHasher(num_perm=num_perm, shingle=shingle, n=3)
    gpu = mh.signatures(texts, device="gpu")
    assert isinstance(gpu, cp.ndarray)
    np.testing.assert_array_equal(mh.signatures(texts, device="cpu"), gpu.get())


def test_token_signatures_bit_identical(cp, rng):
    docs = [rng.integers(-(2**40), 2**40, size=int(rng.integers(0, 500))) for _ in range(3000)]
    docs.append(np.arange(100_000))
    for dtype in (np.int64, np.int32, np.uint32):
        typed = [d.astype(dtype) for d in docs]
        mh = driftcore.MinHasher(shingle="token", n=4)
        np.testing.assert_array_equal(
            mh.signatures(typed), mh.signatures(typed, device="gpu").get()
        )


def test_band_keys_and_pairs_identical(cp, rng):
    vocab = np.array([f"v{i}" for i in range(2000)])
    train = [" ".join(rng.choice(vocab, 80)) for _ in range(5000)]
    evaluation = [t.replace("v1", "w1") for t in train[:800]] + [
        " ".join(rng.choice(vocab, 80)) for _ in range(200)
    ]
    cpu = driftcore.find_leakage(train, evaluation, 0.7, device="cpu")
    gpu = driftcore.find_leakage(train, evaluation, 0.7, device="gpu")
    np.testing.assert_array_equal(cpu.eval_index, gpu.eval_index)
    np.testing.assert_array_equal(cpu.train_index, gpu.train_index)
    np.testing.assert_array_equal(cpu.jaccard, gpu.jaccard)
    a = driftcore.LSHIndex(driftcore.MinHasher(), 0.7)
    a.add(train[:1000], device="gpu")
    b = driftcore.LSHIndex(driftcore.MinHasher(), 0.7)
    b.add(train[:1000], device="cpu")
    np.testing.assert_array_equal(a.keys, b.keys)


def test_device_buffers_without_copy(cp, rng):
    texts = [t for t in _texts(rng, 500) if t is not None]
    mh = driftcore.MinHasher(n=2, lowercase=False, normalize=None)
    buf = mh.text_buffers(texts)
    on_gpu = mh.signatures_from_buffers(cp.asarray(buf.data), cp.asarray(buf.offsets))
    np.testing.assert_array_equal(mh.signatures(texts), on_gpu.get())
    with pytest.raises(ValueError, match="offsets do not fit"):
        mh.signatures_from_buffers(cp.asarray(buf.data), cp.asarray(buf.offsets[::-1].copy()))
