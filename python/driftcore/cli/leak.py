"""Leakage between the reference (training) and current (evaluation) data.

* **Near-duplicate texts**, per text column: the reference texts are indexed chunk
  by chunk in a MinHash LSH index (:class:`driftcore.LSHIndex`, 128 permutations,
  word 5-shingles, the settings of :func:`driftcore.find_leakage`), which keeps no
  text, about 680 bytes per reference text; each current batch is then queried and
  pairs whose signatures agree on at least ``similarity`` of positions count, as
  with ``find_leakage(..., verify="signature")``. A few pairs are kept as examples
  (their reference texts are fetched on a later pass over the reference).
* **Exact rows**: :func:`driftcore.exact_row_leakage` of a uniform sample of
  current rows (``--leak-rows``, all rows when there are fewer) against every
  reference row, streamed batch by batch.

Examples
--------
>>> import pyarrow as pa
>>> from driftcore.cli.leak import TextLeak
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

#: The column the current row sample carries its original row numbers in.
ROW_COLUMN = "__driftcore_row__"


def _texts(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    return values


class TextLeak:
    """Near-duplicate leakage of one text column, built from streamed batches."""

    def __init__(self, column: str, *, similarity: float = 0.8, examples: int = 5,
                 threads: int | None = None, device: str = "auto",
                 index: driftcore.LSHIndex | None = None) -> None:
        self.column = column
        self.similarity = float(similarity)
        self.index = index if index is not None else driftcore.LSHIndex(
            driftcore.MinHasher(), threshold=self.similarity
        )
        self.threads, self.device = threads, device
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
        if len(pairs):
            self.n_leaked += int(np.unique(pairs.query).size)
            self.n_pairs += len(pairs)
            for q, i, a in zip(pairs.query, pairs.index, pairs.agreement):
                if len(self.examples) >= self.max_examples:
                    break
                self.examples.append({
                    "current_index": int(self.n_current + q),
                    "reference_index": int(i),
                    "similarity": float(a),
                    "current": texts[int(q)].as_py(),
                    "reference": None,
                })
        self.n_current += len(texts)

    def wanted_reference_rows(self) -> set[int]:
        """Reference rows whose text the examples still need."""
        return {e["reference_index"] for e in self.examples if e["reference"] is None}

    def fill_reference(self, start: int, values: pa.Array) -> None:
        """Give the examples their reference text from a batch starting at row ``start``."""
        for e in self.examples:
            i = e["reference_index"] - start
            if e["reference"] is None and 0 <= i < len(values):
                e["reference"] = values[i].as_py()

    def section(self, threshold: float) -> dict[str, Any]:
        """This column's entry of the report's ``leakage.near_duplicates`` list."""
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


def exact_rows_section(
    reference_batches: Any, current_sample: pa.Table, columns: list[str], n_current: int,
    threshold: float, examples: int,
) -> dict[str, Any]:
    """Run :func:`driftcore.exact_row_leakage` of ``current_sample`` (with its row
    numbers in :data:`ROW_COLUMN`) on ``columns`` against the streamed reference and
    describe it for the report (``leakage.exact_rows``)."""
    res = driftcore.exact_row_leakage(reference_batches, current_sample, columns=columns)
    rows = []
    if examples and len(res.eval_index):
        order = np.argsort(current_sample.column(ROW_COLUMN).to_numpy()[res.eval_index],
                           kind="stable")[:examples]
        sub = current_sample.take(pa.array(res.eval_index[order]))
        for k, row in zip(order, sub.to_pylist()):
            row_number = row.pop(ROW_COLUMN)
            rows.append({
                "current_index": int(row_number),
                "reference_index": int(res.train_index[k]),
                "values": {c: _jsonable(v) for c, v in row.items()},
            })
    return {
        "status": "ok",
        "columns": list(res.columns),
        "n_reference": int(res.n_train),
        "n_current": int(n_current),
        "n_checked": int(res.n_eval),
        "sampled": bool(res.n_eval < n_current),
        "n_leaked": int(res.n_leaked),
        "rate": float(res.rate),
        "threshold": float(threshold),
        "exceeded": bool(res.rate > threshold),
        "examples": rows,
    }


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)
