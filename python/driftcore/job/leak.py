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
>>> import pyarrow as pa, driftcore
>>> from driftcore.job.leak import TextLeak
>>> index = driftcore.LSHIndex(driftcore.MinHasher(), threshold=0.8)
>>> _ = index.add(pa.array(["the cat sat on the mat all day long", "hello there"]))
>>> t = TextLeak("review", index, similarity=0.8, examples=2)
>>> t.update(pa.array(["the cat sat on the mat all day long", "something new"]))
>>> sec = t.section(threshold=0.01)
>>> sec["n_leaked"], sec["rate"], sec["exceeded"], sec["examples"][0]["reference_index"]
(1, 0.5, True, 0)
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pyarrow as pa

import driftcore

from .. import _validate, _wire
from .._locking import Guarded, locked_pair
from ..row_sample import RowSample
from .rowhash import HashSet, RowHasher, RowHashes, sorted_unique

#: Columns the candidate rows carry their row numbers and hashes in.
ROW_COLUMN = "__driftcore_row__"
HASH_COLUMN = "__driftcore_hash__"
_TEXT_KIND = b"TXLK"
_ROWS_KIND = b"XROW"
_EXAMPLE_KEYS = {"current_index", "reference_index", "similarity", "current", "reference"}


def as_texts(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A batch's text column as one plain string array (what the index reads)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return values


class TextLeak(Guarded):
    """Near-duplicate leakage of one text column: the current side's state, counted
    against the reference's LSH index. A state: :meth:`update` with the next batch of
    current texts, :meth:`merge` the state of the next part, :meth:`to_bytes` /
    :meth:`from_bytes` (without the index, which is the reference's; a state read back
    merges and reports, and counts further texts once given an index)."""

    def __init__(
        self,
        column: str,
        index: driftcore.LSHIndex | None,
        *,
        similarity: float = 0.8,
        examples: int = 5,
        threads: int | None = None,
        device: str = "auto",
        first_current_row: int = 0,
    ) -> None:
        self.column = column
        self.index = index
        # A saved index finds no pair below the threshold its bands were built for.
        self.similarity = max(float(similarity), index.threshold if index is not None else 0.0)
        self.threads, self.device = threads, device
        self.first_current_row = int(first_current_row)  # of a part of the current side
        self.n_reference = len(index) if index is not None else 0
        self.n_current = 0
        self.n_leaked = 0
        self.n_pairs = 0
        self.max_examples = int(examples)
        self.examples: list[dict[str, Any]] = []

    def update(self, values: pa.Array | pa.ChunkedArray) -> None:
        """Query one batch of current texts against the whole reference."""
        if self.index is None:
            raise ValueError("this state has no reference index to query (set .index)")
        texts = as_texts(values)
        pairs = self.index.query(
            texts, verify="signature", threads=self.threads, device=self.device
        )
        keep = pairs.agreement >= self.similarity  # an index built for a lower threshold
        query, ref, agree = pairs.query[keep], pairs.index[keep], pairs.agreement[keep]
        with self._lock:  # current row numbers follow the order of the batches
            if len(query):
                q = query  # sorted by query
                first = self.first_current_row + self.n_current
                self.n_leaked += int(1 + np.count_nonzero(q[1:] != q[:-1]))
                self.n_pairs += len(query)
                for q, i, a in zip(query, ref, agree):
                    if len(self.examples) >= self.max_examples:
                        break
                    self.examples.append(
                        {
                            "current_index": int(first + q),
                            "reference_index": int(i),
                            "similarity": float(a),
                            "current": texts[int(q)].as_py(),
                            "reference": None,
                        }
                    )
            self.n_current += len(texts)

    def merge(self, other: TextLeak) -> TextLeak:
        """Fold in the counts and examples of the next part of the current side."""
        with locked_pair(self, other):
            if self.column != other.column:
                raise ValueError(f"cannot merge leakage of {other.column!r} into {self.column!r}")
            self.n_reference = max(self.n_reference, other.n_reference)
            self.n_current += other.n_current
            self.n_leaked += other.n_leaked
            self.n_pairs += other.n_pairs
            self.examples += other.examples[: self.max_examples - len(self.examples)]
            return self

    _FIELDS = (
        "column",
        "similarity",
        "first_current_row",
        "n_reference",
        "n_current",
        "n_leaked",
        "n_pairs",
        "max_examples",
        "examples",
    )

    def to_bytes(self) -> bytes:
        """The counts and examples as checked bytes (driftcore framing)."""
        with self._lock:
            doc = {f: getattr(self, f) for f in self._FIELDS}
            return _wire.frame(_TEXT_KIND, json.dumps(doc).encode())

    @classmethod
    def from_bytes(cls, data: bytes) -> TextLeak:
        """Read a state written by :meth:`to_bytes`; refuses corrupt or foreign data."""
        payload = _wire.unframe(data, _TEXT_KIND)
        with _validate.corrupted("corrupted text leakage payload"):
            doc = _validate.fields(_validate.json_document(payload), "state", cls._FIELDS)
            if type(doc["column"]) is not str:
                raise ValueError("column must be a string")
            out = cls(
                doc["column"],
                None,
                similarity=_validate.number(doc["similarity"], "similarity"),
                examples=_validate.integer(doc["max_examples"], "max_examples"),
                first_current_row=_validate.integer(doc["first_current_row"], "first_current_row"),
            )
            for f in ("n_reference", "n_current", "n_leaked", "n_pairs"):
                setattr(out, f, _validate.integer(doc[f], f))
            if out.n_leaked > min(out.n_current, out.n_pairs):
                raise ValueError("more texts leaked than queried or paired")
            examples = _validate.list_of(doc["examples"], "examples")
            if len(examples) > out.max_examples:
                raise ValueError(f"{len(examples)} examples, at most {out.max_examples} kept")
            out.examples = [_example(e) for e in examples]
            return out

    def __reduce__(self) -> tuple:
        # pickle (Dask) through the checked wire format, without the index
        return (_wire.restore, (TextLeak, self.to_bytes()))

    def wanted_reference_rows(self) -> set[int]:
        """Reference rows whose text the examples still need."""
        with self._lock:
            return {e["reference_index"] for e in self.examples if e["reference"] is None}

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
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "n_leaked": self.n_leaked,
                "n_pairs": self.n_pairs,
                "rate": rate,
                "similarity": self.similarity,
                "threshold": float(threshold),
                "exceeded": bool(rate > threshold),
                "shingles": _shingles(self.index),
                "bands": self.index.bands if self.index is not None else None,
                "rows": self.index.rows if self.index is not None else None,
                "examples": self._scored_examples(),
                "reference_duplicates": self._reference_duplicates(),
            }

    def _reference_duplicates(self) -> dict[str, Any] | None:
        """Reference texts that near-duplicate an earlier reference text (the index's
        self-join, verified like the queries); None without the index."""
        if self.index is None or not self.index.keep_signatures:
            return None
        try:
            pairs = self.index.self_pairs(verify="signature", threads=self.threads)
        except ValueError as exc:  # one band holding a huge group of identical texts
            return {"status": "unavailable", "reason": str(exc)}
        n, dup = len(self.index), int(np.unique(pairs.index).size)
        return {
            "status": "ok",
            "n_texts": n,
            "n_near_duplicates": dup,
            "share": dup / n if n else 0.0,
        }

    def _scored_examples(self) -> list[dict[str, Any]]:
        """The examples with the exact Jaccard similarity of their shingle sets and the
        containment of the current text's shingles in the reference text's (None while
        the reference text is unknown)."""
        examples = [{**e, "jaccard": None, "containment": None} for e in self.examples]
        known = [e for e in examples if e["reference"] is not None and e["current"] is not None]
        if known and self.index is not None:
            from ..leakage import set_scores

            hasher = self.index.hasher
            ha, oa = hasher.shingle_sets([e["current"] for e in known], threads=1)
            hb, ob = hasher.shingle_sets([e["reference"] for e in known], threads=1)
            pairs = np.arange(len(known), dtype=np.int64)
            jaccard, containment = set_scores(ha, oa, hb, ob, pairs, pairs, 1)
            for e, j, c in zip(known, jaccard, containment):
                e["jaccard"], e["containment"] = float(j), float(c)
        return examples


def _shingles(index: driftcore.LSHIndex | None) -> str | None:
    """How an index's texts are shingled, for the report: "char 3-grams", ..."""
    if index is None:
        return None
    h = index.hasher
    punct = "" if h.fold_punctuation else ", punctuation kept"
    return f"{h.shingle} {h.n}-grams{punct}"


def _example(e: Any) -> dict[str, Any]:
    """A near-duplicate example read back: its fields, each of its type."""
    e = _validate.fields(e, "example", tuple(sorted(_EXAMPLE_KEYS)))
    _validate.integer(e["current_index"], "current_index")
    _validate.integer(e["reference_index"], "reference_index")
    if not 0.0 <= _validate.number(e["similarity"], "similarity") <= 1.0:
        raise ValueError(f"similarity must be in [0, 1], got {e['similarity']!r:.40}")
    for k in ("current", "reference"):
        if e[k] is not None and type(e[k]) is not str:
            raise ValueError(f"{k} must be a text or null, got {type(e[k]).__name__}")
    return e


class ExactRows(Guarded):
    """Exact-row leakage over every row: the current side's state, with memory bounded
    by at most ``cap`` candidate rows beside the reference's :class:`RowHashes`.

    Current rows whose hash is among the reference's are candidates, kept in a uniform
    :class:`~driftcore.RowSample` of at most ``cap`` rows; :meth:`verify` then streams
    the reference once more and runs :func:`driftcore.exact_row_leakage` of the
    candidates against the reference rows that share their hashes. The count is exact
    when the candidates fit in ``cap``, else estimated from the verified sample
    (``"estimated": true``). A state: :meth:`update` with current batches, :meth:`merge`
    the state of the next part, :meth:`to_bytes` / :meth:`from_bytes` (without the
    reference's hashes; a state read back merges and verifies).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from driftcore.job.leak import ExactRows
    >>> from driftcore.job.rowhash import RowHashes
    >>> ref = RowHashes(["x", "s"])
    >>> ref.update(pa.record_batch({"x": [1, 2, 3], "s": ["a", "b", "c"]}))
    >>> rows = ExactRows(ref, cap=100)
    >>> rows.update(pa.record_batch({"x": [2, 9], "s": ["b", "z"]}))
    >>> sec = rows.verify(iter([pa.record_batch({"x": [1, 2, 3], "s": ["a", "b", "c"]})]),
    ...                   threshold=0.0, examples=1)
    >>> sec["n_leaked"], sec["examples"][0]["reference_index"]
    (1, 1)
    """

    def __init__(
        self,
        reference: RowHashes | None,
        cap: int,
        seed: int = 0,
        *,
        columns: list[str] | None = None,
        first_current_row: int = 0,
    ) -> None:
        self.reference = reference
        self.columns = list(reference.columns if reference is not None else columns or [])
        self.hasher = RowHasher()
        self._scratch = np.zeros(0, np.uint64)  # the current batch's hashes
        # A part of the current side (a Dask partition) numbers its rows from its first
        # row and keys its candidates from there in the stream.
        self.first_current_row = int(first_current_row)
        self._candidates = RowSample(cap, seed, stream=3, start=self.first_current_row)
        self.n_reference = reference.n_rows if reference is not None else 0
        self.n_current = self.n_candidates = 0

    def update(self, batch: pa.RecordBatch) -> None:
        """Look the rows of the next current batch up among the reference's."""
        if self.reference is None:
            raise ValueError("this state has no reference hashes to look rows up in")
        lookup = self.reference.lookup()
        with self._lock:  # current row numbers follow the order of the batches
            n = batch.num_rows
            if self._scratch.size < n:
                self._scratch = np.empty(n, np.uint64)
            h = self.hasher.hashes(batch, self.columns, out=self._scratch[:n])
            idx = np.flatnonzero(lookup.member(h))
            if idx.size:
                rows = batch.select(self.columns).take(pa.array(idx))
                first = self.first_current_row + self.n_current
                rows = rows.append_column(ROW_COLUMN, pa.array(first + idx))
                rows = rows.append_column(HASH_COLUMN, pa.array(h[idx]))
                # Keyed by their current row numbers: the sample beyond ``cap`` is the same
                # whatever the parts the current side came in.
                self._candidates.update(rows, rows=first + idx)
                self.n_candidates += idx.size
            self.n_current += n

    def merge(self, other: ExactRows) -> ExactRows:
        """Fold in the counts and candidates of the next part of the current side."""
        with locked_pair(self, other):
            if self.columns != other.columns:
                raise ValueError(f"cannot merge exact rows of {other.columns} into {self.columns}")
            self.n_reference = max(self.n_reference, other.n_reference)
            self.n_current += other.n_current
            self.n_candidates += other.n_candidates
            self._candidates.merge(other._candidates)
            return self

    def to_bytes(self) -> bytes:
        """Counts and candidate rows as checked bytes (driftcore framing)."""
        with self._lock:
            head = {
                "columns": self.columns,
                "first_current_row": self.first_current_row,
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "n_candidates": self.n_candidates,
            }
            header = json.dumps(head).encode()
            body = struct.pack("<Q", len(header)) + header + self._candidates.to_bytes()
            return _wire.frame(_ROWS_KIND, body)

    @classmethod
    def from_bytes(cls, data: bytes) -> ExactRows:
        """Read a state written by :meth:`to_bytes`; refuses corrupt or foreign data."""
        payload = _wire.unframe(data, _ROWS_KIND)
        with _validate.corrupted("corrupted exact rows payload"):
            head, pos = _validate.header(payload)
            head = _validate.fields(
                head,
                "header",
                ("columns", "first_current_row", "n_reference", "n_current", "n_candidates"),
            )
            columns = _validate.list_of(head["columns"], "columns")
            if not all(type(c) is str for c in columns) or len(set(columns)) != len(columns):
                raise ValueError("columns must be distinct strings")
            candidates = RowSample.from_bytes(payload[pos:])
            out = cls(None, candidates.size, columns=columns)
            out.first_current_row = _validate.integer(
                head["first_current_row"], "first_current_row"
            )
            out.n_reference = _validate.integer(head["n_reference"], "n_reference")
            out.n_current = _validate.integer(head["n_current"], "n_current")
            out.n_candidates = _validate.integer(head["n_candidates"], "n_candidates")
            if out.n_candidates > out.n_current or candidates.seen != out.n_candidates:
                raise ValueError("candidate counts do not match the rows seen")
            table = candidates.table()
            if table.num_rows and table.column_names != [*columns, ROW_COLUMN, HASH_COLUMN]:
                raise ValueError("candidate rows do not hold the key columns")
            out._candidates = candidates
            return out

    def __reduce__(self) -> tuple:
        # pickle (Dask) through the checked wire format, without the reference hashes
        return (_wire.restore, (ExactRows, self.to_bytes()))

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
        cands = self._candidates.table()
        if cands.num_rows == 0:
            return np.zeros(0, np.uint64)
        return sorted_unique(cands.column(HASH_COLUMN).to_numpy())

    def verify_filtered(
        self, batches: Any, kept: list[np.ndarray], threshold: float, examples: int
    ) -> dict[str, Any]:
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
            order = np.argsort(cands.column(ROW_COLUMN).to_numpy()[res.eval_index], kind="stable")[
                :examples
            ]
            sub = cands.take(pa.array(res.eval_index[order]))
            for k, row in zip(order, sub.to_pylist()):
                row.pop(HASH_COLUMN)
                rows.append(
                    {
                        "current_index": int(row.pop(ROW_COLUMN)),
                        "reference_index": int(ref_rows[res.train_index[k]]),
                        "values": {c: jsonable(v) for c, v in row.items()},
                    }
                )
        return self._section(int(res.n_leaked), cands.num_rows, rows, threshold)

    def _section(self, verified: int, checked: int, rows: list, threshold: float) -> dict[str, Any]:
        estimated = checked < self.n_candidates
        n_leaked = round(verified * self.n_candidates / checked) if estimated else verified
        rate = n_leaked / self.n_current if self.n_current else 0.0
        out = {
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
        if self.reference is not None:
            n, d = self.reference.n_rows, self.reference.distinct().size
            out["reference_duplicates"] = {
                "n_rows": n,
                "n_distinct": d,
                "n_duplicate_rows": n - d,
                "share": (n - d) / n if n else 0.0,
            }
        return out


def jsonable(v: Any) -> Any:
    """A value of a row for the JSON report: numbers, text, booleans and None as they
    are (non-finite floats and anything else as text).

    Examples
    --------
    >>> import numpy as np
    >>> from driftcore.job.leak import jsonable
    >>> jsonable(np.int64(3)), jsonable(float("nan")), jsonable(np.datetime64("2024-01-02"))
    (3, 'nan', '2024-01-02')
    """
    if isinstance(v, np.generic) and not isinstance(v, (np.datetime64, np.timedelta64)):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)
