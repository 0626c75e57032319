"""MinHash signatures, LSH indexes and near-duplicate leakage over Dask collections
(a Dask Series of strings, or a Bag of strings or token-id sequences).

The training index is built per partition and merged in partition order
(:meth:`LSHIndex.merge` numbers the documents after each other), so it is the index
one process would build, document numbers included. Each evaluation partition is
then queried against it (the scheduler ships the index once to each worker), and
the pairs get global evaluation numbers from the partition lengths: the same pairs,
scores and order as :func:`driftcore.find_leakage` on the whole collections.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..leakage import LeakageResult, check_settings, resolve_hasher, set_scores
from ..lsh import LSHIndex
from ..minhash import MinHasher
from . import _graph
from ._partition import text_values


def signatures(docs: Any, hasher: MinHasher | None = None, *, threads: int | None = 1) -> Any:
    """MinHash signatures of a Dask Series or Bag of documents: a lazy
    ``(n_docs, num_perm)`` uint32 Dask array, one block per partition (block lengths
    unknown until computed), equal to ``hasher.signatures`` of all the documents.

    Examples
    --------
    >>> import dask.bag as db, driftcore, driftcore.dask as dcd
    >>> docs = ["the cat sat on the mat", "a dog ran in the park", "the cat sat"]
    >>> sig = dcd.signatures(db.from_sequence(docs, npartitions=2))
    >>> (sig.compute() == driftcore.MinHasher().signatures(docs)).all()
    np.True_
    """
    import dask.array as da

    mh = MinHasher() if hasher is None else resolve_hasher(hasher)
    parts = _graph.per_partition(_signatures_part, _docs(docs, "docs"), mh, threads)
    blocks = [da.from_delayed(p, shape=(np.nan, mh.num_perm), dtype=np.uint32) for p in parts]
    return da.concatenate(blocks, axis=0)


def lsh_index(
    train: Any,
    hasher: MinHasher | None = None,
    threshold: float = 0.8,
    *,
    bands: int | None = None,
    rows: int | None = None,
    keep_signatures: bool = True,
    threads: int | None = 1,
    split_every: int = _graph.SPLIT_EVERY,
    scheduler: Any = None,
) -> LSHIndex:
    """The :class:`~driftcore.LSHIndex` of a Dask Series or Bag of documents, built per
    partition and tree-merged: equal to adding all the documents to one index.

    Examples
    --------
    >>> import dask.bag as db, driftcore.dask as dcd
    >>> index = dcd.lsh_index(db.from_sequence(["a b c d e f", "g h i j k l"], npartitions=2))
    >>> len(index), index.query(["g h i j k l"]).index.tolist()
    (2, [1])
    """
    empty = LSHIndex(hasher, threshold, bands=bands, rows=rows, keep_signatures=keep_signatures)
    (index,) = _graph.compute(_index_tree(train, empty, threads, split_every), scheduler=scheduler)
    return index


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
    threads: int | None = 1,
    split_every: int = _graph.SPLIT_EVERY,
    scheduler: Any = None,
) -> LeakageResult:
    """:func:`driftcore.find_leakage` over Dask collections: evaluation documents that
    near-duplicate a training document, with global indices into each collection.

    ``train`` and ``evaluation`` are Dask Series or Bags of documents; ``train`` may
    also be a prebuilt :class:`~driftcore.LSHIndex` (from :func:`lsh_index`; then
    only ``verify="signature"`` is possible, since the index keeps no text).
    ``verify="exact"`` fetches the shingle sets of the candidate training documents
    only. The other arguments are those of :func:`driftcore.find_leakage`.

    Examples
    --------
    >>> import dask.bag as db, driftcore.dask as dcd
    >>> train = db.from_sequence(["the cat sat on the mat today", "another sentence here"], npartitions=2)
    >>> test = db.from_sequence(["nothing like it", "the cat sat on the mat today!"], npartitions=2)
    >>> r = dcd.find_leakage(train, test, n=2)
    >>> r.eval_index.tolist(), r.train_index.tolist(), r.rate
    ([1], [0], 0.5)
    """
    import dask

    verify = check_settings(threshold, measure, verify)
    lsh_threshold = threshold if candidate_threshold is None else candidate_threshold
    if isinstance(train, LSHIndex):
        if verify == "exact":
            raise ValueError(
                "verify='exact' needs the training documents, not an LSHIndex "
                "(it keeps no text); use verify='signature' or pass the documents"
            )
        if hasher is not None and resolve_hasher(hasher) != train.hasher:
            raise ValueError("hasher differs from the one the training index was built with")
        empty, index = train, dask.delayed(train, pure=True)
        train_lengths = None
    else:
        mh = resolve_hasher(hasher, num_perm=num_perm, seed=seed, shingle=shingle, n=n)
        empty = LSHIndex(mh, lsh_threshold, bands=bands, rows=rows)
        index, train_lengths = _index_tree(train, empty, threads, split_every, lengths=True)
    eval_docs = _docs(evaluation, "evaluation")
    queries = _graph.per_partition(_query_part, eval_docs, index, threads)
    n_train_lazy = dask.delayed(len, pure=True)(index)
    found, n_train, lengths = _graph.compute(
        queries, n_train_lazy, train_lengths, scheduler=scheduler
    )
    sizes = np.array([f[0] for f in found], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    q = np.concatenate([f[1] + s for f, s in zip(found, starts)] or [np.zeros(0, np.int64)])
    i = np.concatenate([f[2] for f in found] or [np.zeros(0, np.int64)])
    agreement = np.concatenate([f[3] for f in found] or [np.zeros(0)])
    if verify == "exact":
        jac, cont = _exact(train, eval_docs, found, lengths, empty.hasher, threads, scheduler)
        score = jac if measure == "jaccard" else cont
    else:
        jac, cont, score = agreement, np.full(len(q), np.nan), agreement
    keep = score >= threshold
    if verify != "exact" and train_lengths is not None and np.any(keep):
        # As find_leakage: the pairs kept get their exact containment.
        kept = [(f[0], f[1][f[3] >= threshold], f[2][f[3] >= threshold]) for f in found]
        _, cont[keep] = _exact(train, eval_docs, kept, lengths, empty.hasher, threads, scheduler)
    return LeakageResult(
        eval_index=q[keep],
        train_index=i[keep],
        jaccard=jac[keep],
        containment=cont[keep],
        n_eval=int(sizes.sum()),
        n_train=int(n_train),
        threshold=float(threshold),
        measure=measure,
        verified=verify,
        bands=empty.bands,
        rows=empty.rows,
        settings=empty._settings(),
    )


# --- partition tasks -------------------------------------------------------------------


def _docs(docs: Any, side: str) -> Any:
    if _graph.kind_of(docs) not in ("series", "bag"):
        raise TypeError(
            f"{side} must be a Dask Series or Bag of documents, got {type(docs).__name__}"
        )
    return docs


def _signatures_part(part: Any, hasher: MinHasher, threads: int | None) -> np.ndarray:
    sig = hasher.signatures(text_values(part), threads=threads)
    return sig.get() if hasattr(sig, "__cuda_array_interface__") else sig  # cupy: to host


def _index_part(part: Any, empty: LSHIndex, threads: int | None) -> LSHIndex:
    index = LSHIndex(
        empty.hasher,
        empty.threshold,
        bands=empty.bands,
        rows=empty.rows,
        keep_signatures=empty.keep_signatures,
    )
    index.add(text_values(part), threads=threads)
    return index


def _index_tree(
    train: Any, empty: LSHIndex, threads: int | None, split_every: int, lengths: bool = False
) -> Any:
    import dask

    states = _graph.per_partition(_index_part, _docs(train, "train"), empty, threads)
    tree = _graph.tree_merge(states, merge_indexes, split_every)
    if not lengths:
        return tree
    return tree, [dask.delayed(_length, pure=True)(s) for s in states]


def _length(index: LSHIndex) -> int:
    return len(index)


def merge_indexes(states: list[LSHIndex]) -> LSHIndex:
    """Indexes merged in order (documents numbered after each other) into a new one.

    Examples
    --------
    >>> import driftcore
    >>> from driftcore.dask.leakage import merge_indexes
    >>> a, b = driftcore.LSHIndex(), driftcore.LSHIndex()
    >>> _ = a.add(["one two three four five"]); _ = b.add(["six seven eight nine ten"])
    >>> merge_indexes([a, b]).query(["six seven eight nine ten"]).index.tolist()
    [1]
    """
    out = states[0]
    for other in states[1:]:
        out = out.merge(other)  # a new index each time; the inputs are left as they are
    return out


def _query_part(part: Any, index: LSHIndex, threads: int | None) -> tuple:
    """(documents in the partition, local query numbers, global index numbers, share of
    equal signature positions) of every LSH candidate, as find_leakage queries them."""
    docs = text_values(part)
    pairs = index.query(docs, verify="none", threads=threads)
    return len(docs), pairs.query.astype(np.int64), pairs.index.astype(np.int64), pairs.agreement


def _exact(
    train: Any,
    eval_docs: Any,
    found: list[tuple],
    lengths: list[int],
    hasher: MinHasher,
    threads: int | None,
    scheduler: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Jaccard and containment of every candidate: the shingle sets of the
    candidate training documents are made where those documents live, sent to the
    evaluation partitions that need them, and intersected there."""
    import dask

    bounds = np.concatenate([[0], np.cumsum(lengths)])
    wanted = np.unique(np.concatenate([f[2] for f in found] or [np.zeros(0, np.int64)]))
    pieces = []
    for j, part in enumerate(_graph.partitions(train)):  # validated by _index_tree
        ids = wanted[(wanted >= bounds[j]) & (wanted < bounds[j + 1])]
        if ids.size:
            pieces.append(
                dask.delayed(_shingles_part, pure=True)(
                    part, ids - bounds[j], bounds[j], hasher, threads
                )
            )
    train_sets = dask.delayed(_join_sets, pure=True)(pieces)
    scores = [
        dask.delayed(_scores_part, pure=True)(p, f[1], f[2], train_sets, hasher, threads)
        for p, f in zip(_graph.partitions(eval_docs), found)
    ]
    (done,) = _graph.compute(scores, scheduler=scheduler)
    jac = np.concatenate([d[0] for d in done] or [np.zeros(0)])
    cont = np.concatenate([d[1] for d in done] or [np.zeros(0)])
    return jac, cont


def _shingles_part(
    part: Any, local: np.ndarray, start: int, hasher: MinHasher, threads: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(global numbers, shingle hashes, offsets) of some documents of one partition."""
    from ..leakage import take_docs

    hashes, offsets = hasher.shingle_sets(take_docs(text_values(part), local), threads=threads)
    return local + start, hashes, offsets


def _join_sets(pieces: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not pieces:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(1, np.int64)
    ids = np.concatenate([p[0] for p in pieces])
    hashes = np.concatenate([p[1] for p in pieces])
    sizes = np.concatenate([np.diff(p[2]) for p in pieces])
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(pieces[0][2].dtype)
    return ids, hashes, offsets


def _scores_part(
    part: Any,
    q: np.ndarray,
    i: np.ndarray,
    train_sets: tuple,
    hasher: MinHasher,
    threads: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    from ..leakage import take_docs

    if len(q) == 0:
        return np.zeros(0), np.zeros(0)
    ids, hb, ob = train_sets
    uq, iq = np.unique(q, return_inverse=True)
    ha, oa = hasher.shingle_sets(take_docs(text_values(part), uq), threads=threads)
    ib = np.searchsorted(ids, i)  # ids are sorted: pieces come in partition order
    t = 0 if threads is None else threads  # checked by shingle_sets; 0: every core
    return set_scores(ha, oa, hb, ob, iq.astype(np.int64), ib.astype(np.int64), t)
