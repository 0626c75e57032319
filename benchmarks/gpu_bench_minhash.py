"""GPU MinHash benchmark: signatures and band keys of Arrow-layout text on the device
against the CPU path on all cores, in the same run, with a parity check; then
``find_leakage`` end to end on the GPU (--leak-train x --leak-eval texts).

Usage: python benchmarks/gpu_bench_minhash.py [--docs 1e7] [--words 200] [--json out.json]
       [--leak-train 1e6] [--leak-eval 1e5]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def corpus(n_docs: int, words: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n_docs documents of `words` random 6-letter words: a 1M-document block, tiled."""
    rng = np.random.default_rng(seed)
    vocab = np.frombuffer("".join(f"w{i:05d}" for i in range(20000)).encode(), np.uint8).reshape(
        -1, 6
    )
    block = min(n_docs, 1_000_000)
    text = np.empty((block, words, 7), np.uint8)
    text[:, :, :6] = vocab[rng.integers(0, len(vocab), (block, words))]
    text[:, :, 6] = 32
    reps = -(-n_docs // block)
    data = np.tile(text.reshape(-1), reps)[: n_docs * words * 7]
    offsets = np.arange(n_docs + 1, dtype=np.int64) * (words * 7)
    return data, offsets


def main() -> None:
    import cupy as cp

    import driftcore

    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=float, default=1e7)
    ap.add_argument("--words", type=int, default=200)
    ap.add_argument("--json", default=None)
    ap.add_argument("--leak-train", type=float, default=1e6)
    ap.add_argument("--leak-eval", type=float, default=1e5)
    args = ap.parse_args()
    n_docs = int(args.docs)
    data, offsets = corpus(n_docs, args.words)
    mh = driftcore.MinHasher(num_perm=128, n=5)
    shingles = n_docs * (args.words - 4)
    rows = []

    # CPU on all cores, on a slice (the full 10M would take minutes), scaled per document.
    cpu_docs = min(n_docs, 1_000_000)
    t = time.perf_counter()
    cpu = mh.signatures_from_buffers(data[: offsets[cpu_docs]], offsets[: cpu_docs + 1])
    cpu_s = (time.perf_counter() - t) * n_docs / cpu_docs
    rows.append(
        {
            "case": f"CPU signatures ({os.cpu_count()} threads, scaled)",
            "s": cpu_s,
            "Mshingles/s": shingles / cpu_s / 1e6,
        }
    )

    d_data, d_offsets = cp.asarray(data), cp.asarray(offsets)
    mh.signatures_from_buffers(d_data[: 1000 * args.words * 7], d_offsets[:1001])  # warm-up
    cp.cuda.Device().synchronize()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        sig = mh.signatures_from_buffers(d_data, d_offsets)
        cp.cuda.Device().synchronize()
        times.append(time.perf_counter() - t)
    gpu_s = float(np.median(times))
    parity = bool((sig[:cpu_docs].get() == cpu).all())
    rows.append(
        {
            "case": "GPU signatures",
            "s": gpu_s,
            "Mshingles/s": shingles / gpu_s / 1e6,
            "speedup": cpu_s / gpu_s,
            "parity": parity,
        }
    )
    from driftcore.lsh import _band_keys_device

    t = time.perf_counter()
    sig = mh.signatures_from_buffers(d_data, d_offsets)
    keys = _band_keys_device(sig, 21, 6)
    cp.cuda.Device().synchronize()
    both_s = time.perf_counter() - t
    rows.append(
        {
            "case": "GPU text -> band keys",
            "s": both_s,
            "GB/s": data.nbytes / both_s / 1e9,
            "parity": bool(
                (keys[:1000].get() == driftcore.lsh._core.band_keys(cpu[:1000], 21, 6)).all()
            ),
        }
    )

    print(f"{'case':<44} {'s':>8} {'Msh/s':>9} {'GB/s':>6} {'x CPU':>6} parity")
    for r in rows:
        print(
            f"{r['case']:<44} {r['s']:>8.3f} {r.get('Mshingles/s', float('nan')):>9.0f} "
            f"{r.get('GB/s', float('nan')):>6.2f} {r.get('speedup', float('nan')):>6.1f} {r.get('parity', '')}"
        )
    rows.append(leakage_row(driftcore, args.leak_train, args.leak_eval, args.words))
    print(f"{rows[-1]['case']:<44} {rows[-1]['s']:>8.3f}  parity {rows[-1]['parity']}")
    if args.json:
        gpu = rows[1]
        out = {
            "minhash": {
                "text_to_band_keys_GBps": rows[2]["GB/s"],
                "signatures_vs_cpu": gpu["speedup"],
                "cpu_threads": os.cpu_count(),
                "docs": n_docs,
                "words": args.words,
                "leakage_seconds": rows[3]["s"],
                "leakage_train_eval": [int(args.leak_train), int(args.leak_eval)],
                "parity": all(r.get("parity", True) for r in rows),
                "rows": rows,
            }
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


def leakage_row(driftcore, n_train: float, n_eval: float, words: int) -> dict:
    """find_leakage end to end on the GPU (from Python strings), pairs as on the CPU for
    a slice."""
    rng = np.random.default_rng(3)
    vocab = np.array([f"w{i}" for i in range(50_000)])
    train = [" ".join(rng.choice(vocab, words)) for _ in range(int(n_train))]
    ev = [train[i].replace(" w1", " w2", 1) for i in range(0, int(n_eval), 2)]
    ev += [" ".join(rng.choice(vocab, words)) for _ in range(int(n_eval) - len(ev))]
    t = time.perf_counter()
    gpu = driftcore.find_leakage(train, ev, 0.8, device="gpu")
    seconds = time.perf_counter() - t
    cpu = driftcore.find_leakage(train[:20_000], ev[:2_000], 0.8, device="cpu")
    part = driftcore.find_leakage(train[:20_000], ev[:2_000], 0.8, device="gpu")
    parity = bool(
        np.array_equal(cpu.eval_index, part.eval_index)
        and np.array_equal(cpu.train_index, part.train_index)
        and gpu.n_leaked > 0
    )
    return {
        "case": f"GPU find_leakage {n_train:.0e} x {n_eval:.0e}",
        "s": seconds,
        "parity": parity,
    }


if __name__ == "__main__":
    main()
