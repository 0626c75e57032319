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


@pytest.mark.parametrize("shingle", ["word", "char"])
def test_a_10_mb_document(cp, rng, shingle):
    # One warp walks the whole document: long loops, positions past 2^23.
    words = np.array(["alpha", "beta", "gamma", "délta", "中文", "x", "yy,", "zzz."])
    big = " ".join(rng.choice(words, 2_000_000))
    assert len(big.encode()) > 10_000_000
    texts = [big, "short one", big[: len(big) // 2]]
    mh = driftcore.MinHasher(num_perm=128, shingle=shingle, n=5)
    np.testing.assert_array_equal(
        mh.signatures(texts, device="cpu"), mh.signatures(texts, device="gpu").get()
    )


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


@pytest.mark.parametrize("num_perm", [512, 1024])
def test_more_than_256_permutations(cp, rng, num_perm):
    texts = _texts(rng, 800)
    mh = driftcore.MinHasher(num_perm=num_perm, shingle="word", n=2)
    np.testing.assert_array_equal(mh.signatures(texts), mh.signatures(texts, device="gpu").get())


@pytest.mark.parametrize(("shingle", "n"), [("char", 9), ("char", 16), ("word", 12)])
def test_shingles_longer_than_8(cp, rng, shingle, n):
    texts = _texts(rng, 1500)
    mh = driftcore.MinHasher(shingle=shingle, n=n)
    np.testing.assert_array_equal(mh.signatures(texts), mh.signatures(texts, device="gpu").get())


def test_token_ids_of_every_width(cp, rng):
    docs = [rng.integers(0, 2**31, size=int(rng.integers(1, 200))) for _ in range(1000)]
    mh = driftcore.MinHasher(shingle="token", n=3)
    for dtype in (np.uint64, np.int16, np.uint8):
        typed = [(d % np.iinfo(dtype).max).astype(dtype) for d in docs]
        np.testing.assert_array_equal(
            mh.signatures(typed), mh.signatures(typed, device="gpu").get()
        )


def test_only_empty_documents(cp):
    mh = driftcore.MinHasher(num_perm=64)
    texts = ["", None, "   ", ""]
    np.testing.assert_array_equal(mh.signatures(texts), mh.signatures(texts, device="gpu").get())
    assert mh.signatures([], device="gpu").shape == (0, 64)


def test_signatures_on_a_non_default_stream(cp, rng):
    texts = _texts(rng, 1000)
    mh = driftcore.MinHasher(n=3)
    with cp.cuda.Stream(non_blocking=True):
        gpu = mh.signatures(texts, device="gpu")
        keys = driftcore.LSHIndex(mh, 0.8)
        keys.add(texts, device="gpu")
    np.testing.assert_array_equal(mh.signatures(texts), gpu.get())
    cpu = driftcore.LSHIndex(mh, 0.8)
    cpu.add(texts)
    np.testing.assert_array_equal(cpu.keys, keys.keys)


def test_find_duplicates_same_clusters(cp, rng):
    vocab = np.array([f"w{i}" for i in range(500)])
    base = [" ".join(rng.choice(vocab, 60)) for _ in range(1500)]
    texts = base + [t.replace("w1 ", "w2 ", 1) for t in base[:300]]
    cpu = driftcore.find_duplicates(texts, 0.8, device="cpu")
    gpu = driftcore.find_duplicates(texts, 0.8, device="gpu")
    np.testing.assert_array_equal(cpu.representative, gpu.representative)


def test_signature_throughput_is_printed(cp, rng, capsys):
    import time

    vocab = np.array([f"word{i}" for i in range(5000)])
    texts = [" ".join(rng.choice(vocab, 200)) for _ in range(20_000)]
    mh = driftcore.MinHasher()
    mh.signatures(texts[:10], device="gpu")
    t0 = time.perf_counter()
    sig = mh.signatures(texts, device="gpu")
    cp.cuda.get_current_stream().synchronize()
    gpu_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    mh.signatures(texts, device="cpu")
    cpu_s = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\nsignatures of 20,000 200-word texts: GPU {gpu_s:.3f} s, CPU {cpu_s:.3f} s")
    assert sig.shape == (20_000, 128)
