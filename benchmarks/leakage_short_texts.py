"""Recall and precision of near-duplicate leakage on short and long texts, by shingling.

Short texts are the first sentences of the docstrings of Python's standard library
(8 to 30 words: what a docstring or product-title dataset looks like); long texts are
paragraphs of the licence corpus in ``tests/data/licenses`` (40 words and more). For
each, the reference holds every text, and the current side holds ``--planted`` edited
copies of reference texts (one word replaced, and one word dropped for texts over 20
words: what a paraphrased or re-scraped copy looks like) plus as many held-out texts
that are not in the reference (``--edit typo``: one letter changed and the final
punctuation dropped instead). Recall is the share of planted copies found; precision
the share of pairs found that are near-copies by a judge that does not shingle
(difflib's ratio of the two strings >= 0.8), so the corpus's own near-copies (the GPL
and LGPL share paragraphs) count as right. Run::

    python benchmarks/leakage_short_texts.py [--planted 120] [--threshold 0.8] [--edit typo]

It prints, per corpus and shingling, recall, precision, the pairs found and the time
of ``driftcore.find_leakage``; the check's automatic choice is marked ``auto``.
"""

from __future__ import annotations

import argparse
import inspect
import pkgutil
import re
import sys
import time
from pathlib import Path

import numpy as np

import driftcore
from driftcore.job.plan import auto_shingle

LICENSES = Path(__file__).resolve().parents[1] / "tests" / "data" / "licenses"


def short_texts() -> list[str]:
    """First sentences of standard-library docstrings, 8 to 30 words, distinct."""
    import importlib

    seen, out = set(), []
    names = sorted(
        m.name for m in pkgutil.iter_modules() if m.module_finder.path.startswith(sys.base_prefix)
    )
    for name in names:
        if name.startswith(("_", "test", "idlelib", "tkinter", "turtle", "antigravity", "this")):
            continue
        try:
            mod = importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - platform modules that do not import here
            continue
        for obj in vars(mod).values():
            doc = inspect.getdoc(obj) if callable(obj) else None
            if not doc:
                continue
            first = " ".join(doc.split("\n\n")[0].split())
            if 8 <= len(first.split()) <= 30 and first not in seen:
                seen.add(first)
                out.append(first)
    return out


def long_texts() -> list[str]:
    """Paragraphs of the licence corpus with at least 40 words, distinct."""
    seen, out = set(), []
    for path in sorted(LICENSES.glob("*.txt")):
        for para in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            text = " ".join(para.split())
            if len(text.split()) >= 40 and text not in seen:
                seen.add(text)
                out.append(text)
    return out


def similar(a: str, b: str) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= 0.8


def typo(text: str, rng: np.random.Generator, vocabulary: list[str]) -> str:
    """One letter changed and the final punctuation dropped: a re-typed copy."""
    chars = list(text.rstrip(".!?;:"))
    letters = [i for i, ch in enumerate(chars) if ch.isalpha()] or [0]
    i = letters[int(rng.integers(len(letters)))]
    chars[i] = "x" if chars[i] != "x" else "y"
    return "".join(chars)


def edited(text: str, rng: np.random.Generator, vocabulary: list[str]) -> str:
    """One word replaced (and one dropped from texts over 20 words): a reworded copy."""
    words = text.split()
    i = int(rng.integers(len(words)))
    words[i] = vocabulary[int(rng.integers(len(vocabulary)))]
    if len(words) > 20:
        del words[int(rng.integers(len(words)))]
    return " ".join(words)


SHINGLES = (("word", 5), ("word", 3), ("word", 1), ("char", 5), ("char", 4), ("char", 3))


def measure(texts: list[str], planted: int, threshold: float, seed: int, edit: str) -> list[dict]:
    rng = np.random.default_rng(seed)
    planted = min(planted, len(texts) // 3)
    order = rng.permutation(len(texts))
    held_out = [texts[i] for i in order[:planted]]
    reference = [texts[i] for i in order[planted:]]
    sources = rng.choice(len(reference), planted, replace=False)
    vocabulary = sorted({w for t in reference for w in t.split()})
    change = {"word": edited, "typo": typo}[edit]
    copies = [change(reference[s], rng, vocabulary) for s in sources]
    current = copies + held_out
    auto = auto_shingle(reference[:2000])
    rows = []
    for shingle, n in SHINGLES:
        hasher = driftcore.MinHasher(shingle=shingle, n=n)
        t0 = time.perf_counter()
        found = driftcore.find_leakage(reference, current, threshold, hasher=hasher)
        seconds = time.perf_counter() - t0
        pairs = set(zip(found.eval_index.tolist(), found.train_index.tolist()))
        hits = sum((q, int(s)) in pairs for q, s in enumerate(sources))
        # Judged apart from any shingling: a pair is a near-copy when difflib's ratio of
        # the two strings is >= 0.8 (natural near-copies in the corpus count as found).
        judged = [similar(current[q], reference[r]) for q, r in pairs]
        rows.append(
            {
                "shingles": f"{shingle} {n}-grams" + ("  (auto)" if (shingle, n) == auto else ""),
                "recall": hits / planted,
                "precision": sum(judged) / len(judged) if judged else 1.0,
                "pairs": len(pairs),
                "seconds": seconds,
            }
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--planted", type=int, default=120)
    p.add_argument("--threshold", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--edit", choices=("word", "typo"), default="word")
    a = p.parse_args()
    print(
        f"driftcore {driftcore.__version__}, Jaccard >= {a.threshold}, {a.planted} planted "
        f"copies, edit: {a.edit}"
    )
    for name, texts in (("short (docstrings)", short_texts()), ("long (licences)", long_texts())):
        words = np.median([len(t.split()) for t in texts])
        print(f"\n{name}: {len(texts)} texts, median {words:.0f} words")
        print(f"{'shingles':<22}{'recall':>8}{'precision':>11}{'pairs':>8}{'seconds':>9}")
        for r in measure(texts, a.planted, a.threshold, a.seed, a.edit):
            print(
                f"{r['shingles']:<22}{r['recall']:>8.2f}{r['precision']:>11.2f}"
                f"{r['pairs']:>8}{r['seconds']:>9.3f}"
            )


if __name__ == "__main__":
    main()
