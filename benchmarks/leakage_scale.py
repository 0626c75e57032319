"""Near-duplicate leakage at scale: driftcore.find_leakage against rensa (R-MinHash +
RMinHashLSH), end to end, on synthetic documents with planted near-duplicates.

Usage (one-off script, not part of the pytest suite)::

    python benchmarks/leakage_scale.py --train 1000000 --eval 100000
    python benchmarks/leakage_scale.py --train 20000 --eval 2000      # quick debug run

Data: documents of 180-220 words drawn uniformly from a 20,000-word vocabulary of
random lowercase words (3-10 letters), built directly as a pyarrow LargeStringArray
from numpy bytes + offsets. 1% of evaluation documents are planted near-duplicates of
random training documents: the evaluation document keeps a contiguous run of ``k`` of
the training document's words (a prefix or a suffix) and replaces the rest with fresh
random words, with ``k`` chosen so that the Jaccard similarity of the word 5-gram sets
is a target value (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5). The exact Jaccard of
every planted pair and of every reported pair is computed in Python from the 5-gram
sets (independently of both tools). Random documents share no 5-gram by chance (about
1e-11 per pair).

Each tool runs in its own process (``--worker``) so that ``ru_maxrss`` is its own peak;
the corpus is written once to an Arrow IPC file and memory-mapped by the workers.
Workers report the RSS after loading the corpus too (the corpus is counted in both).

rensa needs Python lists of shingle strings: the script builds them in Python
(``" ".join`` of 5-word windows, the obvious user code) chunk by chunk, times that
separately, then ``RMinHash.digest_matrix_from_token_sets`` + ``RMinHashLSH.insert_matrix``
for training, ``RMinHash.from_token_sets`` + ``RMinHashLSH.query_all`` for evaluation,
and verifies candidates by signature agreement >= threshold in numpy (as driftcore
does). With ``--rensa-fraction f`` (default 1.0) rensa runs on the first ``f`` of both
sets (a tenth of the plants point into the first tenth of each set, so recall is still
measured); its times are those of the subset (rensa's ``insert_matrix`` grows faster
than linearly, so scaling by ``1/f`` underestimates it).

Workers (``--workers``, in the given order): ``driftcore1`` / ``driftcore2``
(``find_leakage`` with threads=1 / 2, ``--repeats`` times, plus one run split into
stages), ``rensa`` (= ``rensa16,rensa32``: 16 x 8 bands, rensa's benchmark setting, and
32 x 4, recall >= 0.99 at J=0.8; rensa needs bands dividing 128), and ``alternate``
(driftcore threads=1 and rensa 16 x 8 in turn in one process, ``--repeats`` times: the
fairest timing ratio on a shared machine). Results: ``benchmarks/RESULTS.md``, section
"MinHash and LSH".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

SEED = 20_251_127
VOCAB = 20_000
WORDS = (180, 220)  # inclusive range of words per document
N_GRAM = 5
NUM_PERM = 128
THRESHOLD = 0.8
TARGETS = [
    (0.95, 0.20),
    (0.90, 0.20),
    (0.85, 0.10),
    (0.80, 0.20),
    (0.75, 0.10),
    (0.70, 0.10),
    (0.60, 0.05),
    (0.50, 0.05),
]  # (target Jaccard, share of plants)
PLANT_RATE = 0.01


# --- corpus ------------------------------------------------------------------------------


def vocabulary(rng: np.random.Generator, size: int = VOCAB) -> tuple[np.ndarray, np.ndarray]:
    """``size`` distinct random lowercase words: (padded uint8 matrix with a trailing
    space after each word, lengths including the space)."""
    words: set[bytes] = set()
    while len(words) < size:
        lens = rng.integers(3, 11, size)
        letters = rng.integers(ord("a"), ord("z") + 1, (size, 10), dtype=np.uint8)
        for row, n in zip(letters, lens):
            words.add(row[:n].tobytes())
            if len(words) == size:
                break
    vocab = sorted(words)
    mat = np.zeros((size, 11), np.uint8)
    lens = np.empty(size, np.int64)
    for i, w in enumerate(vocab):
        mat[i, : len(w)] = np.frombuffer(w, np.uint8)
        mat[i, len(w)] = ord(" ")
        lens[i] = len(w) + 1
    return mat, lens


def to_arrow(
    tokens: np.ndarray, doc_offsets: np.ndarray, vmat: np.ndarray, vlen: np.ndarray
) -> Any:
    """Documents of word ids (flat ``tokens`` cut at ``doc_offsets``) as a pyarrow
    LargeStringArray: words separated (and followed) by one space."""
    import pyarrow as pa

    wl = vlen[tokens]
    byte_ends = np.cumsum(wl)
    offsets = np.zeros(len(doc_offsets), np.int64)
    offsets[1:] = byte_ends[doc_offsets[1:] - 1]
    data = np.empty(int(byte_ends[-1]) if len(byte_ends) else 0, np.uint8)
    step = 4_000_000  # tokens per block, bounds the padded temporary
    for s in range(0, len(tokens), step):
        t = tokens[s : s + step]
        block = vmat[t]
        mask = np.arange(vmat.shape[1]) < vlen[t][:, None]
        start = int(byte_ends[s - 1]) if s else 0
        data[start : int(byte_ends[min(s + step, len(tokens)) - 1])] = block[mask]
    return pa.LargeStringArray.from_buffers(
        len(doc_offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data)
    )


def random_docs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    lens = rng.integers(WORDS[0], WORDS[1] + 1, n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    return rng.integers(0, VOCAB, int(offsets[-1]), dtype=np.int32), offsets


def shingles(words: list[Any] | np.ndarray, n: int = N_GRAM) -> set[tuple]:
    w = list(words)
    if len(w) < n:
        return {tuple(w)} if w else set()
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def exact_jaccard(a: Any, b: Any) -> float:
    sa, sb = shingles(a), shingles(b)
    u = len(sa | sb)
    return len(sa & sb) / u if u else 0.0


def keep_for(target: float, la: int, lb: int, n: int = N_GRAM) -> int:
    """Words ``k`` kept from a training doc of ``la`` words in an eval doc of ``lb``
    words so that J = (k-n+1) / ((la-n+1) + (lb-n+1) - (k-n+1)) is just at or above
    the target when the target is >= THRESHOLD, just at or below it otherwise."""
    import math

    sa, sb = la - n + 1, lb - n + 1
    shared = target * (sa + sb) / (1 + target)
    shared = math.ceil(shared - 1e-9) if target >= THRESHOLD else math.floor(shared + 1e-9)
    return int(min(max(shared + n - 1, n), min(la, lb)))


def corpus(n_train: int, n_eval: int, seed: int = SEED) -> dict[str, Any]:
    """Training and evaluation documents (word ids, flat + offsets), with planted pairs.

    Returns a dict: train_tokens, train_offsets, eval_tokens, eval_offsets, vmat, vlen,
    plant_eval, plant_train, plant_target, plant_jaccard (exact).
    """
    rng = np.random.default_rng([seed, 1])
    vmat, vlen = vocabulary(rng)
    tt, to = random_docs(np.random.default_rng([seed, 2]), n_train)
    et, eo = random_docs(np.random.default_rng([seed, 3]), n_eval)
    prng = np.random.default_rng([seed, 4])
    n_plant = max(1, round(PLANT_RATE * n_eval))
    plant_eval = np.sort(prng.choice(n_eval, n_plant, replace=False))
    # Each plant copies a random training document of the same word count as its eval
    # slot. Plants in the first tenth of the eval set copy from the first tenth of the
    # training set, so a 10% subset (--rensa-fraction 0.1) still holds ~10% of plants.
    tlen = np.diff(to)
    plant_train = np.empty(n_plant, np.int64)
    for p, e in enumerate(plant_eval):
        pool = n_train // 10 if e < n_eval // 10 and n_train >= 10 * 50 else n_train
        same = np.flatnonzero(tlen[:pool] == eo[e + 1] - eo[e])
        if len(same) == 0:  # tiny corpora only
            same = np.flatnonzero(tlen == eo[e + 1] - eo[e])
        if len(same) == 0:
            raise ValueError("corpus too small to plant near-duplicates")
        plant_train[p] = same[prng.integers(0, len(same))]
    counts = [round(share * n_plant) for _, share in TARGETS]
    counts[0] += n_plant - sum(counts)
    plant_target = prng.permutation(np.repeat([t for t, _ in TARGETS], counts))
    plant_j = np.empty(n_plant)
    # Planted documents replace the random ones (same word count as the eval slot).
    for p, (e, tr, target) in enumerate(zip(plant_eval, plant_train, plant_target)):
        src = tt[to[tr] : to[tr + 1]]
        lb = int(eo[e + 1] - eo[e])
        k = keep_for(float(target), len(src), lb)
        fresh = prng.integers(0, VOCAB, lb - k, dtype=np.int32)
        if prng.random() < 0.5:  # keep a prefix of the training doc
            start = prng.integers(0, len(src) - k + 1)
            new = np.concatenate([src[start : start + k], fresh])
        else:  # keep a suffix-side run
            start = prng.integers(0, len(src) - k + 1)
            new = np.concatenate([fresh, src[start : start + k]])
        et[eo[e] : eo[e + 1]] = new
        plant_j[p] = exact_jaccard(src.tolist(), new.tolist())
    return {
        "train_tokens": tt,
        "train_offsets": to,
        "eval_tokens": et,
        "eval_offsets": eo,
        "vmat": vmat,
        "vlen": vlen,
        "plant_eval": plant_eval,
        "plant_train": plant_train,
        "plant_target": plant_target,
        "plant_jaccard": plant_j,
    }


def words_of(c: dict[str, Any], side: str, i: int) -> np.ndarray:
    t, o = c[f"{side}_tokens"], c[f"{side}_offsets"]
    return t[o[i] : o[i + 1]]


# --- evaluation of an answer ------------------------------------------------------------


def score(
    c: dict[str, Any],
    eval_idx: np.ndarray,
    train_idx: np.ndarray,
    n_eval: int,
    n_train: int,
) -> dict[str, Any]:
    """Recall of planted pairs by Jaccard bucket (plants inside the first ``n_eval`` /
    ``n_train`` documents), and the reported pairs' exact Jaccard."""
    got = set(zip(eval_idx.tolist(), train_idx.tolist()))
    inside = (c["plant_eval"] < n_eval) & (c["plant_train"] < n_train)
    pe, pt = c["plant_eval"][inside].tolist(), c["plant_train"][inside].tolist()
    j = c["plant_jaccard"][inside]
    planted = dict(zip(zip(pe, pt), j.tolist()))
    out: dict[str, Any] = {"reported": len(got), "planted in range": len(pe)}
    found = np.array([(e, t) in got for e, t in zip(pe, pt)], dtype=bool)
    for name, lo, hi in [
        ("J>=0.9", 0.9, 1.01),
        ("0.8<=J<0.9", 0.8, 0.9),
        ("0.7<J<0.8", 0.7, 0.8),
        ("J<=0.7", -1, 0.7 + 1e-12),
    ]:
        sel = (j >= lo) & (j < hi)
        out[f"found {name}"] = f"{int(found[sel].sum())}/{int(sel.sum())}"
    # Every reported pair that is not planted: exact Jaccard from the words.
    extra = [p for p in got if p not in planted]
    extra_j = [
        exact_jaccard(words_of(c, "eval", e).tolist(), words_of(c, "train", t).tolist())
        for e, t in extra[:10_000]
    ]
    reported_j = [planted[p] for p in got if p in planted] + extra_j
    out["reported not planted"] = len(extra)
    out["reported with exact J<=0.7 (false positives)"] = int(sum(x <= 0.7 for x in reported_j))
    out["reported with exact J<0.8"] = int(sum(x < 0.8 for x in reported_j))
    out["min exact J reported"] = float(min(reported_j)) if reported_j else None
    return out


# --- workers -------------------------------------------------------------------------------


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_rss() -> None:
    """Start the peak-RSS count afresh (Linux): a worker's ru_maxrss otherwise keeps the
    peak of the parent that generated the corpus, which survives fork + exec."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def save(path: str, arr: Any) -> None:
    import pyarrow as pa

    table = pa.table({"text": arr})
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)


def load(path: str) -> tuple[Any, Any]:
    """(train, eval) LargeStringArrays, memory-mapped from the corpus files."""
    import pyarrow as pa

    out = []
    for side in ("train", "eval"):
        src = pa.memory_map(f"{path}.{side}")
        out.append(pa.ipc.open_file(src).read_all().column("text").combine_chunks())
    return out[0], out[1]


def worker_driftcore(train: Any, ev: Any, threads: int, repeats: int) -> dict[str, Any]:
    import driftcore

    times, res = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = driftcore.find_leakage(train, ev, threshold=THRESHOLD, threads=threads)
        times.append(time.perf_counter() - t0)
    peak_find_leakage = rss_mib()
    # Stage split (one extra, untimed-overall run): signatures, index, query.
    mh = driftcore.MinHasher(num_perm=NUM_PERM, seed=1, shingle="word", n=N_GRAM)
    t0 = time.perf_counter()
    sig_t = mh.signatures(train, threads=threads)
    t1 = time.perf_counter()
    index = driftcore.LSHIndex(mh, threshold=THRESHOLD)
    index.add(signatures=sig_t, threads=threads)
    t2 = time.perf_counter()
    pairs = index.query(ev, threads=threads)
    t3 = time.perf_counter()
    return {
        "times": times,
        "median": float(np.median(times)),
        "eval_index": res.eval_index.tolist(),
        "train_index": res.train_index.tolist(),
        "bands": res.bands,
        "rows": res.rows,
        "stages": {
            "train signatures": t1 - t0,
            "index add": t2 - t1,
            "eval signatures + query + verify": t3 - t2,
        },
        "pairs_from_index_query": len(pairs),
        "peak_rss_find_leakage_mib": peak_find_leakage,
    }


def py_shingles(docs: list[str], n: int = N_GRAM) -> list[list[str]]:
    """What a rensa user writes: word n-grams joined with spaces."""
    out = []
    for d in docs:
        w = d.split()
        out.append(
            [" ".join(w[i : i + n]) for i in range(len(w) - n + 1)]
            if len(w) >= n
            else ([" ".join(w)] if w else [])
        )
    return out


def worker_rensa(train: Any, ev: Any, bands: int, chunk: int = 50_000) -> dict[str, Any]:
    import rensa

    seed = 42
    lsh = rensa.RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=bands)
    t_py = t_shingle = t_digest = t_insert = 0.0
    train_rows = []
    for s in range(0, len(train), chunk):
        t0 = time.perf_counter()
        docs = train.slice(s, chunk).to_pylist()
        t1 = time.perf_counter()
        sh = py_shingles(docs)
        t2 = time.perf_counter()
        m = rensa.RMinHash.digest_matrix_from_token_sets(sh, num_perm=NUM_PERM, seed=seed)
        t3 = time.perf_counter()
        lsh.insert_matrix(m, start_key=s)
        t4 = time.perf_counter()
        train_rows.append(np.array(m.to_rows(), dtype=np.uint32))  # for verification
        t_py += t1 - t0
        t_shingle += t2 - t1
        t_digest += t3 - t2
        t_insert += t4 - t3
        del docs, sh, m
    t0 = time.perf_counter()
    train_sig = np.concatenate(train_rows)
    del train_rows
    t_rows = time.perf_counter() - t0
    q_e, q_t = [], []
    t_qpy = t_qshingle = t_qhash = t_query = 0.0
    eval_rows = []
    for s in range(0, len(ev), chunk):
        t0 = time.perf_counter()
        docs = ev.slice(s, chunk).to_pylist()
        t1 = time.perf_counter()
        sh = py_shingles(docs)
        t2 = time.perf_counter()
        mhs = rensa.RMinHash.from_token_sets(sh, num_perm=NUM_PERM, seed=seed)
        t3 = time.perf_counter()
        cands = lsh.query_all(mhs)
        t4 = time.perf_counter()
        for i, c in enumerate(cands):
            if c:
                q_e.extend([s + i] * len(c))
                q_t.extend(c)
        eval_rows.append(np.array([m.digest() for m in mhs], dtype=np.uint32))
        t_qpy += t1 - t0
        t_qshingle += t2 - t1
        t_qhash += t3 - t2
        t_query += t4 - t3
    t0 = time.perf_counter()
    eval_sig = np.concatenate(eval_rows)
    qe, qt = np.array(q_e, np.int64), np.array(q_t, np.int64)
    agree = (eval_sig[qe] == train_sig[qt]).mean(axis=1) if len(qe) else np.zeros(0)
    keep = agree >= THRESHOLD
    t_verify = time.perf_counter() - t0 + t_rows
    stages = {
        "to_pylist (train+eval)": t_py + t_qpy,
        "python shingling (train+eval)": t_shingle + t_qshingle,
        "train digest_matrix_from_token_sets": t_digest,
        "train insert_matrix": t_insert,
        "eval from_token_sets": t_qhash,
        "eval query_all": t_query,
        "verify (to_rows + numpy agreement)": t_verify,
    }
    total = sum(stages.values())
    return {
        "median": total,
        "times": [total],
        "stages": stages,
        "without_python": total
        - stages["to_pylist (train+eval)"]
        - stages["python shingling (train+eval)"],
        "candidates": len(qe),
        "eval_index": qe[keep].tolist(),
        "train_index": qt[keep].tolist(),
        "bands": bands,
        "rows": NUM_PERM // bands,
    }


def _core_module() -> dict[str, Any]:
    """Which compiled driftcore module this process loaded (it may be rebuilt between
    workers while another engineer works in the tree)."""
    import hashlib

    from driftcore import _core

    with open(_core.__file__, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    mtime = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(os.path.getmtime(_core.__file__)))
    return {"sha256": digest, "mtime_utc": mtime}


def worker_alternate(train: Any, ev: Any, repeats: int) -> dict[str, Any]:
    """driftcore.find_leakage (threads=1) and the rensa 16 x 8 pipeline, alternately in
    this one process, ``repeats`` times each: the fairest timing on a shared machine
    (peak RSS is then the larger of the two)."""
    import driftcore

    dc, rs, rs_nopy = [], [], []
    res = r = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = driftcore.find_leakage(train, ev, threshold=THRESHOLD, threads=1)
        dc.append(time.perf_counter() - t0)
        r = worker_rensa(train, ev, 16)
        rs.append(r["median"])
        rs_nopy.append(r["without_python"])
    ratio = np.median(np.array(rs) / np.array(dc))
    ratio_nopy = np.median(np.array(rs_nopy) / np.array(dc))
    return {
        "driftcore_times": dc,
        "rensa16_times": rs,
        "rensa16_without_python_times": rs_nopy,
        "median": float(np.median(dc)),
        "rensa16_median": float(np.median(rs)),
        "rensa16_without_python_median": float(np.median(rs_nopy)),
        "ratio_rensa_over_driftcore": float(ratio),
        "ratio_rensa_without_python_over_driftcore": float(ratio_nopy),
        "eval_index": res.eval_index.tolist(),
        "train_index": res.train_index.tolist(),
        "rensa_pairs": len(r["eval_index"]),
    }


def run_worker(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    train, ev = load(args.corpus)
    load_s = time.perf_counter() - t0
    if args.worker.startswith(("rensa", "alternate")):
        f = args.rensa_fraction
        train = train.slice(0, round(len(train) * f))
        ev = ev.slice(0, round(len(ev) * f))
    rss_loaded = current_rss_mib()
    reset_peak_rss()  # the peak below is the work's, on top of the mapped corpus
    if args.worker == "driftcore1":
        out = worker_driftcore(train, ev, 1, args.repeats)
    elif args.worker == "driftcore2":
        out = worker_driftcore(train, ev, 2, args.repeats)
    elif args.worker.startswith("rensa"):
        out = worker_rensa(train, ev, int(args.worker[len("rensa") :]))
    elif args.worker == "alternate":
        out = worker_alternate(train, ev, args.repeats)
    else:
        raise SystemExit(f"unknown worker {args.worker}")
    out["driftcore_core"] = _core_module()
    out.update(
        worker=args.worker,
        n_train=len(train),
        n_eval=len(ev),
        load_s=load_s,
        rss_after_load_mib=rss_loaded,
        peak_rss_mib=rss_mib(),
    )
    json.dump(out, sys.stdout)


# --- driver ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=int, default=1_000_000)
    ap.add_argument("--eval", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3, help="driftcore find_leakage repeats")
    ap.add_argument("--rensa-fraction", type=float, default=1.0)
    ap.add_argument(
        "--rensa-bands",
        default="16,32",
        help="rensa num_bands to run (16 = rensa benchmark 16x8; 32 = 32x4, recall >= 0.99 at 0.8)",
    )
    ap.add_argument("--workers", default="driftcore1,driftcore2,rensa")
    ap.add_argument("--corpus", default="/tmp/driftcore_leakage_scale.arrow")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write all results here")
    args = ap.parse_args()
    if args.worker:
        run_worker(args)
        return

    t0 = time.perf_counter()
    c = corpus(args.train, args.eval)
    train = to_arrow(c["train_tokens"], c["train_offsets"], c["vmat"], c["vlen"])
    ev = to_arrow(c["eval_tokens"], c["eval_offsets"], c["vmat"], c["vlen"])
    gen_s = time.perf_counter() - t0
    save(f"{args.corpus}.train", train)
    save(f"{args.corpus}.eval", ev)
    del train, ev
    print(
        f"corpus: {args.train} train + {args.eval} eval docs, "
        f"{len(c['plant_eval'])} planted, generated in {gen_s:.1f} s",
        flush=True,
    )
    hist = np.histogram(c["plant_jaccard"], bins=[0, 0.7 + 1e-12, 0.8, 0.9, 1.01])[0]
    print(
        f"planted exact J: <=0.7: {hist[0]}, (0.7,0.8): {hist[1]}, [0.8,0.9): {hist[2]}, "
        f">=0.9: {hist[3]}",
        flush=True,
    )

    workers = []
    for w in args.workers.split(","):
        if w == "rensa":
            workers += [f"rensa{b}" for b in args.rensa_bands.split(",")]
        else:
            workers.append(w)
    results = {}
    for w in workers:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            w,
            "--corpus",
            args.corpus,
            "--repeats",
            str(args.repeats),
            "--rensa-fraction",
            str(args.rensa_fraction),
        ]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if p.returncode != 0:
            print(f"[{w}] failed ({p.returncode}):\n{p.stderr[-3000:]}", flush=True)
            continue
        r = json.loads(p.stdout)
        r["wall_process_s"] = time.perf_counter() - t0
        r["score"] = score(
            c,
            np.array(r["eval_index"], np.int64),
            np.array(r["train_index"], np.int64),
            r["n_eval"],
            r["n_train"],
        )
        r["loadavg"] = os.getloadavg()
        del r["eval_index"], r["train_index"]
        results[w] = r
        print(f"[{w}] " + json.dumps(r, indent=1, default=float), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"train": args.train, "eval": args.eval, "results": results},
                f,
                indent=1,
                default=float,
            )
    for side in ("train", "eval"):
        os.unlink(f"{args.corpus}.{side}")


if __name__ == "__main__":
    main()
