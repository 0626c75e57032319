"""Near-duplicate leakage between a training and an evaluation set, and duplicate
clusters within one set, by MinHash + LSH.

Which score to use:

* **Jaccard** (``measure="jaccard"``, the default): shared shingles over all shingles
  of the pair. Right for near-duplicate documents of similar length (a test item that
  is a lightly edited copy of a training item).
* **Containment** (``measure="containment"``): the share of the evaluation item's
  shingles found in the training document. Right when short evaluation items may be
  copied *inside* long training documents: such a pair has low Jaccard (a 50-word
  item inside a 2,000-word document has Jaccard about 0.025) but containment 1.
  Containment needs the exact shingle sets (``verify="exact"``, the default for it);
  candidates still come from Jaccard LSH, so lower ``candidate_threshold`` towards
  the Jaccard such pairs have (about item length / document length).

Verification: ``verify="signature"`` keeps candidates whose signatures agree on at
least ``threshold`` of positions (an estimate with standard error
``sqrt(J (1 - J) / num_perm)``: pairs far from the threshold are decided right, pairs
near it either way), and gives the pairs it keeps their exact containment;
``verify="exact"`` computes the exact Jaccard and containment of the 64-bit
shingle-hash sets of each candidate, so precision is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _core, _dispatch
from ._tables import index_labels
from .lsh import LSHIndex
from .minhash import MinHasher, nonempty

_MEASURES = ("jaccard", "containment")
_VERIFY = ("signature", "exact")


@dataclass
class LeakageResult:
    """Evaluation items that near-duplicate training items.

    ``eval_index``, ``train_index``: one row per leaked pair, sorted; ``jaccard``:
    exact or estimated (see ``verified``); ``containment``: share of the evaluation
    item's shingles in the training item, exact for the pairs found (NaN only when
    ``train`` was a one-pass iterable that cannot be read again);
    ``eval_labels``, ``train_labels``: the pandas index labels of the pair's items
    when the input was a Series whose index is not its positions (else None).
    """

    eval_index: np.ndarray
    train_index: np.ndarray
    jaccard: np.ndarray
    containment: np.ndarray
    n_eval: int
    n_train: int
    threshold: float
    measure: str
    verified: str
    bands: int
    rows: int
    settings: dict[str, Any] = field(repr=False, default_factory=dict)
    eval_labels: np.ndarray | None = field(repr=False, default=None)
    train_labels: np.ndarray | None = field(repr=False, default=None)

    @property
    def leaked(self) -> np.ndarray:
        """Evaluation items with at least one near-duplicate in training (sorted)."""
        e = np.sort(self.eval_index)  # np.unique without return_* is hash-based and slow
        return e[np.concatenate([[True], e[1:] != e[:-1]])] if len(e) else e

    @property
    def n_leaked(self) -> int:
        return len(self.leaked)

    @property
    def rate(self) -> float:
        """Share of evaluation items that leak (0 for an empty evaluation set)."""
        return self.n_leaked / self.n_eval if self.n_eval else 0.0

    def __len__(self) -> int:
        return len(self.eval_index)

    def __repr__(self) -> str:
        return (
            f"LeakageResult({self.n_leaked} of {self.n_eval} evaluation items leak "
            f"({self.rate:.2%}), {len(self)} pairs, {self.measure} >= {self.threshold}, "
            f"verified by {self.verified})"
        )

    def to_pandas(self) -> Any:
        """The pairs as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self._columns())

    def to_arrow(self) -> Any:
        """The pairs as a pyarrow Table (labels as text)."""
        import pyarrow as pa

        cols = self._columns()
        for k in ("eval_label", "train_label"):
            if k in cols:
                cols[k] = [str(v) for v in cols[k]]
        return pa.table(cols)

    def _columns(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "eval_index": self.eval_index,
            "train_index": self.train_index,
            "jaccard": self.jaccard,
            "containment": self.containment,
        }
        if self.eval_labels is not None:
            out["eval_label"] = self.eval_labels
        if self.train_labels is not None:
            out["train_label"] = self.train_labels
        return out


@dataclass
class DuplicateResult:
    """Near-duplicate pairs within one set and the clusters they form.

    ``representative[i]`` is the smallest document number in document ``i``'s cluster
    (``i`` itself for a document without near-duplicates), so clusters are the same
    whatever the thread count or input chunking.
    """

    left: np.ndarray
    right: np.ndarray
    jaccard: np.ndarray
    representative: np.ndarray
    threshold: float
    verified: str

    @property
    def n_docs(self) -> int:
        return len(self.representative)

    @property
    def duplicates(self) -> np.ndarray:
        """Documents that are not their cluster's representative (the ones to drop)."""
        return np.flatnonzero(self.representative != np.arange(self.n_docs))

    @property
    def n_clusters(self) -> int:
        """Clusters of two or more documents."""
        _, counts = np.unique(self.representative, return_counts=True)
        return int(np.count_nonzero(counts > 1))

    def __len__(self) -> int:
        return len(self.left)

    def __repr__(self) -> str:
        return (
            f"DuplicateResult({len(self)} pairs, {self.n_clusters} clusters, "
            f"{len(self.duplicates)} of {self.n_docs} documents are duplicates)"
        )

    def to_pandas(self) -> Any:
        """The pairs as a pandas DataFrame (left, right, jaccard)."""
        import pandas as pd

        return pd.DataFrame({"left": self.left, "right": self.right, "jaccard": self.jaccard})

    def to_arrow(self) -> Any:
        """The pairs as a pyarrow Table."""
        import pyarrow as pa

        return pa.table({"left": self.left, "right": self.right, "jaccard": self.jaccard})


def resolve_hasher(hasher: MinHasher | None, **kwargs: Any) -> MinHasher:
    """``hasher`` when given (checked), else a MinHasher of ``kwargs``; shared with
    :mod:`driftcore.dask`.

    Examples
    --------
    >>> from driftcore.leakage import resolve_hasher
    >>> resolve_hasher(None, num_perm=32).num_perm
    32
    """
    if hasher is not None:
        if not isinstance(hasher, MinHasher):
            raise TypeError(f"hasher must be a MinHasher, got {type(hasher).__name__}")
        return hasher
    return MinHasher(**kwargs)


def _exact_scores(
    hasher: MinHasher, a_docs: Any, b_docs: Any, left: np.ndarray, right: np.ndarray, t: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Jaccard and containment (of left in right) for the given pairs, computing
    shingle sets only of the documents that occur in a pair."""
    if len(left) == 0:
        return np.zeros(0), np.zeros(0)
    ua, ia = np.unique(left, return_inverse=True)
    ub, ib = np.unique(right, return_inverse=True)
    ha, oa = hasher.shingle_sets(take_docs(a_docs, ua), threads=t or None)
    hb, ob = hasher.shingle_sets(take_docs(b_docs, ub), threads=t or None)
    return set_scores(ha, oa, hb, ob, ia.astype(np.int64), ib.astype(np.int64), t)


def set_scores(
    ha: np.ndarray,
    oa: np.ndarray,
    hb: np.ndarray,
    ob: np.ndarray,
    ia: np.ndarray,
    ib: np.ndarray,
    t: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Jaccard and containment (of a in b) of the pairs (``ia[j]``, ``ib[j]``)
    of two collections of shingle-hash sets (``MinHasher.shingle_sets`` output).

    Examples
    --------
    >>> import numpy as np, driftcore
    >>> from driftcore.leakage import set_scores
    >>> mh = driftcore.MinHasher(n=1)
    >>> ha, oa = mh.shingle_sets(["a b"]); hb, ob = mh.shingle_sets(["a b c d"])
    >>> j, c = set_scores(ha, oa, hb, ob, np.array([0]), np.array([0]), 1)
    >>> float(j[0]), float(c[0])
    (0.5, 1.0)
    """
    both = _core.set_intersections(ha, oa, hb, ob, ia, ib, t).astype(np.float64)
    size_a = np.diff(oa)[ia].astype(np.float64)
    size_b = np.diff(ob)[ib].astype(np.float64)
    union = size_a + size_b - both
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, both / union, 0.0)
        containment = np.where(size_a > 0, both / size_a, 0.0)
    return jaccard, containment


def take_docs(docs: Any, rows: np.ndarray) -> Any:
    """Rows of a document collection of any supported kind.

    Examples
    --------
    >>> import numpy as np
    >>> from driftcore.leakage import take_docs
    >>> take_docs(["a", "b", "c"], np.array([2, 0]))
    ['c', 'a']
    """
    import pyarrow as pa

    if isinstance(docs, tuple) and len(docs) == 2:  # (ids, offsets) token buffers
        ids, offsets = np.asarray(docs[0]), np.asarray(docs[1])
        return [ids[offsets[r] : offsets[r + 1]] for r in rows]
    if isinstance(docs, (pa.Array, pa.ChunkedArray)):
        return docs.take(pa.array(rows))
    if isinstance(docs, np.ndarray):
        return docs[rows]
    if type(docs).__module__.startswith("pandas"):
        return docs.iloc[rows]
    if not hasattr(docs, "__getitem__"):
        docs = list(docs)
    return [docs[int(r)] for r in rows]


def check_settings(threshold: float, measure: str, verify: str | None) -> str:
    """The verification a leakage search runs, after checking its settings.

    Examples
    --------
    >>> from driftcore.leakage import check_settings
    >>> check_settings(0.8, "jaccard", None), check_settings(0.8, "containment", None)
    ('signature', 'exact')
    """
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}, got {measure!r}")
    if verify is None:
        verify = "exact" if measure == "containment" else "signature"
    if verify not in _VERIFY:
        raise ValueError(f"verify must be one of {_VERIFY}, got {verify!r}")
    if measure == "containment" and verify != "exact":
        raise ValueError("measure='containment' needs verify='exact' (it uses the shingle sets)")
    return verify


def find_leakage(
    train: Any,
    evaluation: Any,
    threshold: float = 0.8,
    *,
    measure: str = "jaccard",
    verify: str | None = None,
    candidate_threshold: float | None = None,
    num_perm: int = 128,
    seed: int = 1,
    shingle: str = "word",
    n: int = 5,
    hasher: MinHasher | None = None,
    bands: int | None = None,
    rows: int | None = None,
    threads: int | None = None,
    device: str = "auto",
) -> LeakageResult:
    """Evaluation items that near-duplicate a training item.

    Builds an LSH index over ``train`` (tuned so a pair at ``candidate_threshold``,
    default ``threshold``, is found with probability >= 0.99), queries it with
    ``evaluation``, and verifies the candidates (see the module documentation for
    ``measure`` and ``verify``). Documents are text (list/array/pyarrow strings; None
    is an empty document) or, with ``shingle="token"``, token-id sequences. With
    ``device="gpu"`` signatures, band keys and the candidate join run on the GPU
    (the same pairs as on the CPU).

    Examples
    --------
    >>> import driftcore
    >>> train = ["the cat sat on the mat today", "a completely different sentence here"]
    >>> test = ["the cat sat on the mat today!", "nothing like the training data at all"]
    >>> result = driftcore.find_leakage(train, test, threshold=0.8, n=2)
    >>> result.eval_index.tolist(), result.train_index.tolist(), result.rate
    ([0], [0], 0.5)
    """
    verify = check_settings(threshold, measure, verify)
    mh = resolve_hasher(hasher, num_perm=num_perm, seed=seed, shingle=shingle, n=n)
    t = _dispatch.resolve_threads(threads)
    lsh_threshold = threshold if candidate_threshold is None else candidate_threshold
    index = LSHIndex(mh, lsh_threshold, bands=bands, rows=rows)
    index.add(train, threads=threads, device=device)
    pairs = index.query(evaluation, verify="none", threads=threads, device=device)
    n_eval = _count(evaluation)
    if verify == "exact":
        jac, cont = _exact_scores(mh, evaluation, train, pairs.query, pairs.index, t)
        score = jac if measure == "jaccard" else cont
    else:
        jac, cont = pairs.agreement, np.full(len(pairs), np.nan)
        score = jac
    keep = score >= threshold
    if verify != "exact" and hasattr(train, "__getitem__") and np.any(keep):
        # The pairs found get their exact containment (their Jaccard stays the
        # signatures' estimate): it says which side holds the copy.
        cont = cont.copy()
        _, cont[keep] = _exact_scores(
            mh, evaluation, train, pairs.query[keep], pairs.index[keep], t
        )
    return LeakageResult(
        eval_index=pairs.query[keep],
        train_index=pairs.index[keep],
        jaccard=jac[keep],
        containment=cont[keep],
        n_eval=n_eval,
        n_train=len(index),
        threshold=float(threshold),
        measure=measure,
        verified=verify,
        bands=index.bands,
        rows=index.rows,
        settings=index._settings(),
        eval_labels=_labels(evaluation, pairs.query[keep]),
        train_labels=_labels(train, pairs.index[keep]),
    )


def _labels(docs: Any, rows: np.ndarray) -> np.ndarray | None:
    """The index labels of ``rows`` of a pandas Series with a labelled index."""
    labels = index_labels(docs)
    return None if labels is None else labels[rows]


def find_duplicates(
    docs: Any,
    threshold: float = 0.8,
    *,
    verify: str = "signature",
    num_perm: int = 128,
    seed: int = 1,
    shingle: str = "word",
    n: int = 5,
    hasher: MinHasher | None = None,
    bands: int | None = None,
    rows: int | None = None,
    threads: int | None = None,
    device: str = "auto",
) -> DuplicateResult:
    """Near-duplicate pairs within ``docs`` (Jaccard >= ``threshold``) and their clusters
    (connected components of the verified pairs).

    Documents with identical signatures are grouped before the LSH join: each copy is
    paired with the group's first document only (a star, not every pair of copies),
    which gives the same clusters at a fraction of the pairs.

    Examples
    --------
    >>> import driftcore
    >>> docs = ["one two three four", "one two three four!", "five six seven eight"]
    >>> dups = driftcore.find_duplicates(docs, threshold=0.8, n=2)
    >>> dups.representative.tolist(), dups.duplicates.tolist()
    ([0, 0, 2], [1])
    """
    verify = check_settings(threshold, "jaccard", verify)
    mh = resolve_hasher(hasher, num_perm=num_perm, seed=seed, shingle=shingle, n=n)
    t = _dispatch.resolve_threads(threads)
    sig = mh.signatures(docs, threads=threads, device=device)
    if _dispatch.is_device_array(sig):
        sig = sig.get()
    # Documents with identical signatures join their first occurrence up front, so a
    # corpus with thousands of copies of one text does not make millions of LSH pairs.
    first = _identical_rows(sig)
    unique = np.flatnonzero(first == np.arange(len(sig)))
    index = LSHIndex(mh, threshold, bands=bands, rows=rows)
    index.add(signatures=sig[unique], threads=threads)
    pairs = index.self_pairs(verify="none", threads=threads)
    copies = np.flatnonzero((first != np.arange(len(sig))) & nonempty(sig))
    left = np.concatenate([unique[pairs.query], first[copies]])
    right = np.concatenate([unique[pairs.index], copies])
    if verify == "exact":
        jac, _ = _exact_scores(mh, docs, docs, left, right, t)
    else:
        jac = np.concatenate([pairs.agreement, np.ones(len(copies))])
    order = np.lexsort((right, left))
    left, right, jac = left[order], right[order], jac[order]
    keep = jac >= threshold
    left, right, jac = left[keep], right[keep], jac[keep]
    return DuplicateResult(
        left, right, jac, _representatives(len(sig), left, right), float(threshold), verify
    )


def _identical_rows(sig: np.ndarray) -> np.ndarray:
    """For each row, the first row with the same signature (itself if none earlier)."""
    n = len(sig)
    if n == 0:
        return np.zeros(0, np.int64)
    h = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        for j in range(sig.shape[1]):
            h *= np.uint64(_core.GOLDEN_GAMMA)
            h ^= sig[:, j]
    _, first_of_hash, inverse = np.unique(h, return_index=True, return_inverse=True)
    first = first_of_hash[inverse.ravel()].astype(np.int64)
    # A 64-bit collision between different signatures must not merge them.
    same = np.all(sig == sig[first], axis=1)
    return np.where(same, first, np.arange(n))


def _representatives(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Smallest member of each document's connected component: every edge hooks the
    larger of its two labels onto the smaller, then pointer jumping flattens the trees,
    until both ends of every edge share a label (the smallest member, since a label
    never grows)."""
    label = np.arange(n, dtype=np.int64)
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    while True:
        a, b = label[left], label[right]
        if np.array_equal(a, b):
            return label
        low = np.minimum(a, b)
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped


def _count(docs: Any) -> int:
    if isinstance(docs, tuple) and len(docs) == 2 and not isinstance(docs[0], (list, tuple)):
        return len(docs[1]) - 1
    return len(docs)
