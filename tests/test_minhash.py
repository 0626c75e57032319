"""MinHash signatures: the documented definition, accuracy, determinism, edge cases."""

import minhash_reference as ref
import numpy as np
import pyarrow as pa
import pytest

import driftcore
from driftcore import _core

TEXTS = [
    "The quick brown fox jumps over the lazy dog",
    "Hello, world! Hello again -- and again; and again.",
    "  leading and trailing   whitespace\t\nruns  ",
    "Ünïcödé wörds, “quotes” — dashes… and CJK：中文，标点。",
    "short",
    "a b",
    "",
    "punctuation-only: !!! ??? ...",
    "averyveryverylongwordthatislongerthansixtyfourbytesforsurebecauseitkeepsgoingandgoing end",
]


@pytest.mark.parametrize("unit", ["word", "char"])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_text_signatures_match_the_reference(unit, n):
    mh = driftcore.MinHasher(num_perm=32, seed=12345, shingle=unit, n=n)
    sig = mh.signatures(TEXTS)
    for text, row in zip(TEXTS, sig):
        assert row.tolist() == ref.text_signature(text, unit=unit, n=n, num_perm=32, seed=12345), (
            text
        )


def test_without_punctuation_folding_matches_the_reference():
    mh = driftcore.MinHasher(num_perm=16, n=2, fold_punctuation=False)
    for text, row in zip(TEXTS, mh.signatures(TEXTS)):
        assert row.tolist() == ref.text_signature(text, n=2, num_perm=16, fold_punct=False)


def test_token_signatures_match_the_reference():
    docs = [[1, 2, 3, 4, 5, 6], [-1, 2**40, 7], [], [9], list(range(100))]
    mh = driftcore.MinHasher(num_perm=48, seed=7, shingle="token", n=3)
    for ids, row in zip(docs, mh.signatures(docs)):
        assert row.tolist() == ref.token_signature(ids, n=3, num_perm=48, seed=7)


def test_pinned_signatures():
    # Stored indexes depend on these values: a change here breaks every saved index.
    mh = driftcore.MinHasher(num_perm=16, seed=1, n=3)
    sig = mh.signatures(["the quick brown fox jumps over the lazy dog"])
    assert sig[0, :4].tolist() == PINNED_WORD
    tok = driftcore.MinHasher(num_perm=16, seed=42, shingle="token", n=2).signatures([[1, 2, 3]])
    assert tok[0, :4].tolist() == PINNED_TOKEN
    ch = driftcore.MinHasher(num_perm=16, seed=3, shingle="char", n=4).signatures(["Grüße"])
    assert ch[0, :4].tolist() == PINNED_CHAR


PINNED_WORD = [2126746519, 2370909575, 2296079030, 859874634]  # filled and fallback slots
PINNED_TOKEN = [724548707, 2280244495, 2433964728, 2789224311]
PINNED_CHAR = [2435235750, 3961202749, 2407728505, 1688542704]


def _random_texts(rng, count):
    alphabet = list("abcdefghij  .,;!?-'\"\t\n") + ["é", "ß", "中", "—", "\u00a0", "\u3000", "ﬁ"]
    out = []
    for _ in range(count):
        length = int(rng.integers(0, 400))
        out.append("".join(rng.choice(alphabet, size=length)))
    return out


def test_simd_and_portable_paths_agree(rng):
    texts = _random_texts(rng, 300)
    texts += ["x" * k + " " + "y" * (64 - k) for k in range(70)]  # words across 64-byte blocks
    mh = driftcore.MinHasher(num_perm=144, n=3)
    fast = mh.signatures(texts)
    try:
        _core.set_simd(False)
        slow = mh.signatures(texts)
    finally:
        _core.set_simd(True)
    np.testing.assert_array_equal(fast, slow)


def test_vectorized_word_hashes_match_portable(rng):
    # Word lengths around every 8-byte step of the hash, upper case, non-ASCII blocks
    # between ASCII ones, and short words at the very end of the buffer (the vector
    # path hashes those with scalar loads, as 8-byte loads there would overrun).
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    docs = []
    for _ in range(200):
        lengths = rng.integers(1, 40, size=int(rng.integers(0, 60)))
        words = ["".join(rng.choice(letters, size=int(k))) for k in lengths]
        if rng.random() < 0.3:
            words.insert(int(rng.integers(0, len(words) + 1)), "Ünïcödé—x")
        docs.append(" ".join(words))
    docs += ["A" * k for k in range(1, 30)] + ["ab cd", "x", "Q"]
    for tail in range(1, 10):  # the last word's length, at the end of the buffer
        _assert_paths_agree(docs + ["a" * 200 + " B " + "c" * tail])


def _assert_paths_agree(docs):
    data = np.frombuffer("".join(docs).encode(), dtype=np.uint8).copy()
    offsets = np.cumsum([0] + [len(d.encode()) for d in docs]).astype(np.int64)
    args = (data, offsets, 0, 3, True, True, 64, 7, 1)
    fast, fast_counts = _core.minhash_text(*args)
    _core.set_simd(False)
    try:
        slow, slow_counts = _core.minhash_text(*args)
    finally:
        _core.set_simd(True)
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast_counts, slow_counts)


def test_invalid_utf8_is_read_deterministically():
    # Raw buffers bypass Python's decoding: the kernel reads bad bytes one at a time.
    data = np.frombuffer(b"ab\xff\xfe cd \xc3( ef \xe2\x82 gh", dtype=np.uint8)
    offsets = np.array([0, len(data)], dtype=np.int64)
    a, _ = _core.minhash_text(data, offsets, 0, 1, True, True, 16, 1, 1)
    _core.set_simd(False)
    try:
        b, _ = _core.minhash_text(data, offsets, 0, 1, True, True, 16, 1, 1)
    finally:
        _core.set_simd(True)
    np.testing.assert_array_equal(a, b)
    # Through the Python API, invalid bytes become U+FFFD.
    mh = driftcore.MinHasher(num_perm=16, n=1)
    got = mh.signatures([b"caf\xff latte", "caf\ufffd latte"])
    np.testing.assert_array_equal(got[0], got[1])
    chunked = pa.chunked_array([pa.array([b"caf\xff latte"]), pa.array([b"x"])])
    np.testing.assert_array_equal(mh.signatures(chunked)[0], got[1])


def test_thread_count_does_not_change_signatures(rng):
    texts = _random_texts(rng, 2000)
    mh = driftcore.MinHasher()
    np.testing.assert_array_equal(mh.signatures(texts, threads=1), mh.signatures(texts, threads=2))


def test_input_kinds_agree():
    texts = ["alpha beta gamma delta", None, "epsilon zeta eta theta iota"]
    mh = driftcore.MinHasher(n=2)
    base = mh.signatures(texts)
    np.testing.assert_array_equal(base, mh.signatures(pa.array(texts, pa.large_string())))
    np.testing.assert_array_equal(base, mh.signatures(pa.chunked_array([texts[:1], texts[1:]])))
    np.testing.assert_array_equal(base, mh.signatures(np.array(texts, dtype=object)))
    np.testing.assert_array_equal(base[[0, 2]], mh.signatures(np.array([texts[0], texts[2]])))
    np.testing.assert_array_equal(base, mh.signatures(tuple(texts)))
    np.testing.assert_array_equal(base, mh.signatures(pa.array(texts)[0:3]))
    np.testing.assert_array_equal(base[1:], mh.signatures(pa.array(texts).slice(1)))


def test_normalization():
    mh = driftcore.MinHasher(n=2)
    nfc, nfd = "caf\u00e9 au lait", "cafe\u0301 au lait"
    s = mh.signatures([nfc, nfd, "CAFÉ AU LAIT", "café, au... lait!", "café au  lait"])
    for row in s[1:]:
        np.testing.assert_array_equal(s[0], row)
    raw = driftcore.MinHasher(n=2, lowercase=False, normalize=None, fold_punctuation=False)
    s = raw.signatures([nfc, nfd, "CAFÉ AU LAIT", "café, au lait"])
    for row in s[1:]:
        assert not np.array_equal(s[0], row)


def test_empty_and_short_documents():
    mh = driftcore.MinHasher(num_perm=32, n=5)
    s = mh.signatures(["", None, "   ", "...", "one two", "one two"])
    empty = np.uint32(0xFFFFFFFF)
    assert (s[:4] == empty).all()
    assert not (s[4] == empty).all()  # shorter than n: one shingle of all its words
    np.testing.assert_array_equal(s[4], s[5])
    assert mh.jaccard(s[0], s[1]) == 0.0  # empty documents match nothing
    assert mh.signatures([]).shape == (0, 32)
    assert mh.signatures(["single"]).shape == (1, 32)


def test_jaccard_estimate_meets_the_binomial_error(rng):
    # Pairs of token sets with exactly known Jaccard similarity, many sizes.
    num_perm = 128
    mh = driftcore.MinHasher(num_perm=num_perm, seed=99, shingle="token", n=1)
    docs, truth = [], []
    for size in (8, 40, 400, 4000):
        for _ in range(600):
            union = rng.choice(2**40, size=size, replace=False)
            both = int(rng.integers(1, size))
            rest = union[both:]
            half = int(rng.integers(0, len(rest) + 1))
            docs += [
                np.concatenate([union[:both], rest[:half]]),
                np.concatenate([union[:both], rest[half:]]),
            ]
            truth.append(both / size)
    sig = mh.signatures(docs)
    est = mh.jaccard(sig[0::2], sig[1::2])
    truth = np.array(truth)
    sizes = np.repeat([8, 40, 400, 4000], 600)
    for size in (8, 40, 400, 4000):
        part = (sizes == size) & (truth > 0) & (truth < 1)
        z = (est[part] - truth[part]) / np.sqrt(truth[part] * (1 - truth[part]) / num_perm)
        assert abs(z.mean()) < 0.15, (size, z.mean())  # unbiased
        assert z.var() < 1.2, (size, z.var())  # the sqrt(J(1-J)/num_perm) error or better
        assert np.mean(np.abs(z) > 3) < 0.015


def test_word_shingle_jaccard_against_exact_sets(rng):
    vocab = np.array([f"w{i}" for i in range(5000)])
    mh = driftcore.MinHasher(num_perm=256, n=3)
    a_docs, b_docs = [], []
    for _ in range(300):
        words = list(rng.choice(vocab, 120))
        edited = list(words)
        for pos in rng.choice(120, int(rng.integers(0, 40)), replace=False):
            edited[pos] = str(rng.choice(vocab))
        a_docs.append(" ".join(words))
        b_docs.append(" ".join(edited))
    ha, oa = mh.shingle_sets(a_docs)
    hb, ob = mh.shingle_sets(b_docs)
    exact = []
    for i in range(len(a_docs)):
        sa, sb = set(ha[oa[i] : oa[i + 1]]), set(hb[ob[i] : ob[i + 1]])
        exact.append(len(sa & sb) / len(sa | sb))
    exact = np.array(exact)
    est = mh.jaccard(mh.signatures(a_docs), mh.signatures(b_docs))
    err = np.sqrt(exact * (1 - exact) / 256) + 1e-9
    assert np.mean(np.abs(est - exact) <= 3 * err) > 0.98


def test_shingle_sets_match_python_shingling():
    text = "one two three two three four one two three"
    hashes, offsets = driftcore.MinHasher(n=2).shingle_sets([text, ""])
    expected = {ref.fold(ref.units(text, "word")[i : i + 2]) for i in range(8)}
    assert set(hashes[: offsets[1]].tolist()) == expected
    assert offsets.tolist() == [0, len(expected), len(expected)]
    assert np.all(np.diff(hashes[: offsets[1]].astype(np.float64)) > 0)


def test_token_inputs_agree(rng):
    docs = [rng.integers(-5, 50, size=int(rng.integers(0, 30))) for _ in range(50)]
    mh = driftcore.MinHasher(shingle="token", n=3, num_perm=32)
    base = mh.signatures(docs)
    flat = np.concatenate(docs)
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])])
    np.testing.assert_array_equal(base, mh.signatures((flat, offsets)))
    np.testing.assert_array_equal(base, mh.signatures((flat.astype(np.int32), offsets)))
    np.testing.assert_array_equal(base, mh.signatures(pa.array([d.tolist() for d in docs])))
    np.testing.assert_array_equal(base, mh.signatures([d.tolist() for d in docs]))


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"num_perm": 100}, ValueError),
        ({"num_perm": 0}, ValueError),
        ({"num_perm": 128.0}, TypeError),
        ({"n": 0}, ValueError),
        ({"n": 33}, ValueError),
        ({"seed": -1}, ValueError),
        ({"shingle": "sentence"}, ValueError),
        ({"normalize": "NFX"}, ValueError),
    ],
)
def test_bad_settings(kwargs, error):
    with pytest.raises(error):
        driftcore.MinHasher(**kwargs)


def test_bad_documents():
    mh = driftcore.MinHasher()
    with pytest.raises(TypeError, match="single str"):
        mh.signatures("just one string")
    with pytest.raises(TypeError, match="strings"):
        mh.signatures(np.arange(3))
    with pytest.raises(TypeError):
        mh.signatures([1, 2, 3])
    with pytest.raises(ValueError, match="1-D"):
        mh.signatures(np.array([["a", "b"]]))
    tok = driftcore.MinHasher(shingle="token")
    with pytest.raises(ValueError, match="offsets do not fit"):
        tok.signatures((np.arange(5), np.array([0, 3, 9])))
    with pytest.raises(ValueError, match="offsets do not fit"):
        tok.signatures((np.arange(5), np.array([0, 3, 2])))
    with pytest.raises(TypeError, match="integers"):
        tok.signatures((np.arange(5.0), np.array([0, 5])))
    with pytest.raises(TypeError, match="token ids"):
        tok.text_buffers(["a"])
    with pytest.raises(ValueError, match="offsets"):
        _core.minhash_text(
            np.zeros(3, np.uint8), np.array([0, 5], np.int64), 0, 5, True, False, 16, 1, 1
        )


def test_signatures_from_buffers_checks_its_input():
    mh = driftcore.MinHasher(n=1, num_perm=16)
    data = np.frombuffer(b"abc def", dtype=np.uint8)
    np.testing.assert_array_equal(
        mh.signatures_from_buffers(data, [0, 3, 7]), mh.signatures(["abc", " def"])
    )
    with pytest.raises(TypeError, match="uint8"):
        mh.signatures_from_buffers(np.zeros(3, np.int32), [0, 3])
    with pytest.raises(ValueError, match="past the end"):
        mh.signatures_from_buffers(data, [0, 30])
    with pytest.raises(ValueError, match="decrease"):
        mh.signatures_from_buffers(data, [0, 5, 3])
    with pytest.raises(TypeError, match="token ids"):
        driftcore.MinHasher(shingle="token").signatures_from_buffers(data, [0, 7])


def test_ascii_folding_in_the_kernel_equals_arrow_lowercasing(rng):
    # Mixed ASCII and Unicode documents: ASCII ones are folded by the kernel, the others
    # by Arrow; both must equal lowercasing everything up front.
    import pyarrow.compute as pc

    letters = list("AbCdEfGhIjKlMnOpQrStUvWxYz  .,") + ["É", "Ü", "ẞ", "Σ"]
    texts = ["".join(rng.choice(letters[: 30 if i % 2 else None], size=200)) for i in range(400)]
    lowered = pc.utf8_lower(pc.utf8_normalize(pa.array(texts), "NFC")).to_pylist()
    for unit in ("word", "char"):
        mh = driftcore.MinHasher(n=3, shingle=unit)
        raw = driftcore.MinHasher(n=3, shingle=unit, lowercase=False)
        np.testing.assert_array_equal(mh.signatures(texts), raw.signatures(lowered))
        ha, oa = mh.shingle_sets(texts)
        hb, ob = raw.shingle_sets(lowered)
        np.testing.assert_array_equal(ha, hb)
        np.testing.assert_array_equal(oa, ob)
    flags = _core.non_ascii_documents(np.frombuffer(b"abe\xcc", np.uint8), np.array([0, 2, 4, 4]))
    assert flags.tolist() == [0, 1, 0]


@pytest.mark.parametrize("unit", ["word", "char"])
@pytest.mark.parametrize("num_perm", [16, 128, 144, 272])
def test_gpu_warp_algorithm_equals_the_cpu(rng, unit, num_perm):
    # The CUDA kernels' algorithms run lane by lane on the CPU: a lane a document up to
    # 4096 bytes, a warp (slots owned per lane, a fallback walk) a longer one. Checks
    # the GPU algorithms here, though not their compiled form.
    texts = _random_texts(rng, 150) + ["", "x", "word " * 3000, "ab c" * 1024, "ab c" * 1024 + "d"]
    mh = driftcore.MinHasher(num_perm=num_perm, shingle=unit, n=3)
    buf = mh.text_buffers(texts)
    lanes = _core.minhash_text_lanes(
        buf.data,
        buf.offsets,
        0 if unit == "word" else 1,
        3,
        True,
        buf.lower_ascii,
        num_perm,
        mh.seed,
    )
    np.testing.assert_array_equal(lanes, mh.signatures(texts))


def test_non_ascii_scan_matches_portable():
    # Documents of every length around the 64-byte steps, one high byte anywhere or none.
    docs = [b"a" * n for n in range(140)]
    for n in (0, 1, 62, 63, 64, 65, 130):
        docs += [b"a" * k + b"\xc3\xa9" + b"b" * (n - k) for k in range(n + 1)]
    data = np.frombuffer(b"".join(docs), dtype=np.uint8).copy()
    offsets = np.cumsum([0] + [len(d) for d in docs]).astype(np.int64)
    fast = _core.non_ascii_documents(data, offsets, 1)
    _core.set_simd(False)
    try:
        slow = _core.non_ascii_documents(data, offsets, 1)
    finally:
        _core.set_simd(True)
    expected = np.array([any(b >= 0x80 for b in d) for d in docs], dtype=np.uint8)
    np.testing.assert_array_equal(fast, expected)
    np.testing.assert_array_equal(slow, expected)
