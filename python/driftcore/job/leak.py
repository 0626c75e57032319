"""Leakage between the reference (training) and current (evaluation) data.

* **Near-duplicate texts**, per text column: the reference texts are indexed chunk
  by chunk in a MinHash LSH index (:class:`driftcore.LSHIndex`, 128 permutations,
  word 5-shingles, the settings of :func:`driftcore.find_leakage`), which keeps no
  text, about 680 bytes per reference text; each current batch is then queried and
  pairs whose signatures agree on at least ``similarity`` of positions count, as
  with ``find_leakage(..., verify="signature")``. A few pairs are kept as examples
  (their reference texts are fetched on a later pass over the reference).
* **Exact rows** (:class:`ExactRows`): every row of both sides is hashed; current
  rows whose hash matches a reference row's are verified with
  :func:`driftcore.exact_row_leakage` against the reference rows of the same hash,
  streamed batch by batch (at most ``--leak-rows`` candidates are kept; beyond, the
  count is estimated from a uniform sample of them).

Examples
--------
>>> import pyarrow as pa
>>> from driftcore.job.leak import TextLeak
>>> t = TextLeak("review", similarity=0.8, examples=2)
>>> t.add_reference(pa.array(["the cat sat on the mat all day long", "hello there"]))
>>> t.query_current(pa.array(["the cat sat on the mat all day long", "something new"]))
>>> sec = t.section(threshold=0.01)
>>> sec["n_leaked"], sec["rate"], sec["exceeded"], sec["examples"][0]["reference_index"]
(1, 0.5, True, 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

import driftcore

from .._locking import Guarded, locked_pair
from .rowhash import HashSet, sorted_unique

#: Columns the candidate rows carry their row numbers and hashes in.
ROW_COLUMN = "__driftcore_row__"
HASH_COLUMN = "__driftcore_hash__"


def _texts(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return values


class TextLeak(Guarded):
    """Near-duplicate leakage of one text column, built from streamed batches."""

    def __init__(self, column: str, *, similarity: float = 0.8, examples: int = 5,
                 threads: int | None = None, device: str = "auto",
                 index: driftcore.LSHIndex | None = None, first_current_row: int = 0) -> None:
        self.column = column
        self.similarity = float(similarity)
        self.index = index if index is not None else driftcore.LSHIndex(
            driftcore.MinHasher(), threshold=self.similarity
        )
        self.threads, self.device = threads, device
        self.first_current_row = int(first_current_row)  # of a part of the current side
        self.n_current = 0
        self.n_leaked = 0
        self.n_pairs = 0
        self.max_examples = examples
        self.examples: list[dict[str, Any]] = []

    def add_reference(self, values: pa.Array) -> None:
        """Index one batch of reference texts."""
        self.index.add(_texts(values), threads=self.threads, device=self.device)

    def query_current(self, values: pa.Array) -> None:
        """Query one batch of current texts against the whole reference."""
        texts = _texts(values)
        pairs = self.index.query(texts, verify="signature", threads=self.threads,
                                 device=self.device)
        with self._lock:  # current row numbers follow the order of the batches
            if len(pairs):
                q = pairs.query  # sorted by query
                first = self.first_current_row + self.n_current
                self.n_leaked += int(1 + np.count_nonzero(q[1:] != q[:-1]))
                self.n_pairs += len(pairs)
                for q, i, a in zip(pairs.query, pairs.index, pairs.agreement):
                    if len(self.examples) >= self.max_examples:
                        break
                    self.examples.append({
                        "current_index": int(first + q),
                        "reference_index": int(i),
                        "similarity": float(a),
                        "current": texts[int(q)].as_py(),
                        "reference": None,
                    })
            self.n_current += len(texts)

    def merge_current(self, other: TextLeak) -> TextLeak:
        """Fold in the query counts and examples of the next part of the current side."""
        with locked_pair(self, other):
            self.n_current += other.n_current
            self.n_leaked += other.n_leaked
            self.n_pairs += other.n_pairs
            self.examples += other.examples[: self.max_examples - len(self.examples)]
            return self

    def wanted_reference_rows(self) -> set[int]:
        """Reference rows whose text the examples still need."""
        with self._lock:
            return {e["reference_index"] for e in self.examples
                    if e["reference"] is None}

    def fill_reference(self, start: int, values: pa.Array) -> None:
        """Give the examples their reference text from a batch starting at row ``start``."""
        with self._lock:
            for e in self.examples:
                i = e["reference_index"] - start
                if e["reference"] is None and 0 <= i < len(values):
                    e["reference"] = values[i].as_py()

    def section(self, threshold: float) -> dict[str, Any]:
        """This column's entry of the report's ``leakage.near_duplicates`` list."""
        with self._lock:
            rate = self.n_leaked / self.n_current if self.n_current else 0.0
            return {
                "column": self.column,
                "n_reference": len(self.index),
                "n_current": self.n_current,
                "n_leaked": self.n_leaked,
                "n_pairs": self.n_pairs,
                "rate": rate,
                "similarity": self.similarity,
                "threshold": float(threshold),
                "exceeded": bool(rate > threshold),
                "bands": self.index.bands,
                "rows": self.index.rows,
                "examples": self.examples,
            }


_BLOCK = 1 << 22  # rows of reference hashes a block holds at most


class ExactRows(Guarded):
    """Exact-row leakage over every row, with memory bounded by about 10 bytes per
    reference row plus at most ``cap`` candidate rows.

    Every reference row's hash is kept, in a :class:`~driftcore.job.rowhash.HashSet`
    (:mod:`driftcore.job.rowhash`: 8 bytes a distinct hash, 1-2 of index); current rows
    whose hash is among them are candidates, kept in a uniform sample of at most
    ``cap`` rows; :meth:`verify` then streams the reference once more and runs
    :func:`driftcore.exact_row_leakage` of the candidates against the reference rows
    that share their hashes. The count is exact when the candidates fit in ``cap``,
    else estimated from the verified sample (``"estimated": true``).
    """

    def __init__(self, columns: list[str], cap: int, seed: int = 0, *,
                 first_current_row: int = 0) -> None:
        from .rowhash import RowHasher
        from .sample import Reservoir

        self.columns = list(columns)
        self.hasher = RowHasher()
        self._parts: list[np.ndarray] = []  # reference hashes, in blocks
        self._used = 0  # hashes in the last block
        self._scratch = np.zeros(0, np.uint64)  # the current batch's hashes
        self._ref_set = HashSet(np.zeros(0, np.uint64))
        # A part of the current side (a Dask partition) numbers its rows from its first
        # row and keys its candidates from there in the stream.
        self.first_current_row = int(first_current_row)
        self._candidates = Reservoir(cap, seed, stream=3, start=self.first_current_row)
        self.n_reference = self.n_current = self.n_candidates = 0

    def add_reference(self, batch: pa.RecordBatch) -> None:
        with self._lock:  # the hasher draws its weights lazily: it runs alone too
            n = batch.num_rows
            # Hashes go into blocks that double up to 4Mi rows, filled in place: a
            # fresh array a batch would cost a page fault every 512 rows.
            if not self._parts or self._used + n > self._parts[-1].size:
                self._trim()
                size = min(_BLOCK, 2 * self.n_reference) if self._parts else 1 << 16
                self._parts.append(np.empty(max(n, size), np.uint64))
                self._used = 0
            self.hasher.hashes(batch, self.columns, out=self._parts[-1][self._used : self._used + n])
            self._used += n
            self.n_reference += n

    def _trim(self) -> None:
        if self._parts:
            self._parts[-1] = self._parts[-1][: self._used]

    def finish_reference(self) -> None:
        with self._lock:
            self._trim()
            parts, self._parts = self._parts, []
            if len(parts) == 1:
                hashes = parts[0]
            else:
                hashes = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
            # Sorted in place: the rows' order is not kept (verify hashes again).
            self._ref_set = HashSet(sorted_unique(hashes, in_place=True), distinct_ascending=True)

    def reference_hashes(self) -> np.ndarray:
        """The distinct hashes of the reference rows, ascending: what the current side
        is looked up in (a part of the reference on Dask contributes its own)."""
        with self._lock:
            return self._ref_set.values

    def use_reference_hashes(self, distinct_ascending: np.ndarray) -> None:
        """Look the current rows up in these reference hashes (the whole reference's,
        merged from its parts)."""
        with self._lock:
            self._ref_set = HashSet(distinct_ascending, distinct_ascending=True)

    def add_current(self, batch: pa.RecordBatch) -> None:
        with self._lock:  # current row numbers follow the order of the batches
            n = batch.num_rows
            if self._scratch.size < n:
                self._scratch = np.empty(n, np.uint64)
            h = self.hasher.hashes(batch, self.columns, out=self._scratch[:n])
            idx = np.flatnonzero(self._ref_set.member(h))
            if idx.size:
                rows = batch.select(self.columns).take(pa.array(idx))
                first = self.first_current_row + self.n_current
                rows = rows.append_column(ROW_COLUMN, pa.array(first + idx))
                rows = rows.append_column(HASH_COLUMN, pa.array(h[idx]))
                self._candidates.add(rows)
                self.n_candidates += idx.size
            self.n_current += batch.num_rows

    def merge_current(self, other: ExactRows) -> ExactRows:
        """Fold in the current-side counts and candidates of the next part."""
        with locked_pair(self, other):
            self.n_current += other.n_current
            self.n_candidates += other.n_candidates
            self._candidates.merge(other._candidates)
            return self

    def verify(self, reference_batches: Any, threshold: float, examples: int) -> dict[str, Any]:
        """Stream the reference (the same batches, in the same order, as it was hashed)
        and return the report's ``leakage.exact_rows`` section."""
        want = HashSet(self.candidate_hashes(), distinct_ascending=True)
        kept: list[np.ndarray] = []

        def filtered() -> Any:
            start = 0
            for b in reference_batches:
                keep = np.flatnonzero(want.member(self.hasher.hashes(b, self.columns)))
                kept.append(start + keep)
                start += b.num_rows
                yield b.select(self.columns).take(pa.array(keep))

        return self.verify_filtered(filtered(), kept, threshold, examples)

    def candidate_hashes(self) -> np.ndarray:
        """Sorted distinct hashes of the candidate rows: the reference rows to verify."""
        from .rowhash import sorted_unique

        cands = self._candidates.table()
        if cands.num_rows == 0:
            return np.zeros(0, np.uint64)
        return sorted_unique(cands.column(HASH_COLUMN).to_numpy())

    def verify_filtered(self, batches: Any, kept: list[np.ndarray], threshold: float,
                        examples: int) -> dict[str, Any]:
        """:meth:`verify` on the reference rows whose hash is a candidate's, already
        filtered (``batches``, in reference order); ``kept`` holds (or fills, as the
        batches are read) their reference row numbers."""
        cands = self._candidates.table()
        if cands.num_rows == 0:
            for _ in batches:
                pass
            return self._section(0, 0, [], threshold)
        res = driftcore.exact_row_leakage(batches, cands, columns=self.columns)
        ref_rows = np.concatenate(kept) if kept else np.zeros(0, np.int64)
        rows = []
        if examples and len(res.eval_index):
            order = np.argsort(cands.column(ROW_COLUMN).to_numpy()[res.eval_index],
                               kind="stable")[:examples]
            sub = cands.take(pa.array(res.eval_index[order]))
            for k, row in zip(order, sub.to_pylist()):
                row.pop(HASH_COLUMN)
                rows.append({
                    "current_index": int(row.pop(ROW_COLUMN)),
                    "reference_index": int(ref_rows[res.train_index[k]]),
                    "values": {c: _jsonable(v) for c, v in row.items()},
                })
        return self._section(int(res.n_leaked), cands.num_rows, rows, threshold)

    def _section(self, verified: int, checked: int, rows: list, threshold: float) -> dict[str, Any]:
        estimated = checked < self.n_candidates
        n_leaked = round(verified * self.n_candidates / checked) if estimated else verified
        rate = n_leaked / self.n_current if self.n_current else 0.0
        return {
            "status": "ok",
            "columns": self.columns,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "n_candidates": self.n_candidates,
            "n_checked": checked,
            "sampled": estimated,
            "estimated": estimated,
            "n_leaked": n_leaked,
            "rate": rate,
            "threshold": float(threshold),
            "exceeded": bool(rate > threshold),
            "examples": rows,
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)
