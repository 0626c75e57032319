"""Counts of categorical values (strings or integer codes), mergeable."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import _dispatch, _validate, _wire
from ._locking import Guarded, locked_pair

_KIND = b"CATS"


class CategoryCounts(Guarded):
    """How often each category occurs, plus nulls, fed chunk by chunk.

    Accepts integer codes and strings: numpy integer, bool, str or object arrays,
    Python lists, pyarrow arrays (string, large_string, dictionary, integer, bool)
    and cupy integer arrays. Counting runs in Arrow's hash kernels (or cupy's on the
    GPU); the state is a small dict of category -> count. One state holds one key
    type: strings or integers. Updates from several threads are serialized; the
    counting itself runs outside the lock, so only the small dict update waits.

    Examples
    --------
    >>> import driftcore
    >>> c = driftcore.CategoryCounts()
    >>> c.update(["a", "b", "a", None])
    >>> c.counts, c.nulls
    ({'a': 2, 'b': 1}, 1)
    """

    __slots__ = ("_counts", "_key", "_nulls")

    def __init__(self) -> None:
        self._counts: dict[Any, int] = {}
        self._nulls = 0
        self._key: str | None = None  # "str" or "int" once set

    def update(self, values: Any) -> None:
        """Count a chunk. The state is unchanged when this raises."""
        keys, counts, nulls, key = _count_chunk(values)
        with self._lock:
            if self._key is not None and key is not None and key != self._key:
                raise TypeError(
                    f"this CategoryCounts holds {self._key} categories, got {key} values"
                )
            # Everything that can fail has run: update in place (copying the dict per
            # chunk made high-cardinality columns quadratic).
            counts_ = self._counts
            for k, c in zip(keys, counts):
                counts_[k] = counts_.get(k, 0) + int(c)
            self._nulls += int(nulls)
            self._key = self._key or key

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        """Add ``other``'s counts into this one; returns self."""
        if not isinstance(other, CategoryCounts):
            raise TypeError(f"can only merge CategoryCounts, got {type(other).__name__}")
        with locked_pair(self, other):
            if self._key and other._key and self._key != other._key:
                raise TypeError(f"cannot merge {self._key} categories with {other._key} ones")
            _validate.total(
                (self.total, self._nulls, other.total, other._nulls),
                "cannot merge: the count of values",
            )
            for k, c in list(other._counts.items()):  # a copy: other may be self
                self._counts[k] = self._counts.get(k, 0) + c
            self._nulls += other._nulls
            self._key = self._key or other._key
        return self

    @property
    def counts(self) -> dict[Any, int]:
        """Category -> count, sorted by category."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    @property
    def nulls(self) -> int:
        with self._lock:
            return self._nulls

    @property
    def total(self) -> int:
        """Non-null values seen."""
        with self._lock:
            return sum(self._counts.values())

    @property
    def categories(self) -> list[Any]:
        with self._lock:
            return sorted(self._counts)

    def unseen_in(self, reference: CategoryCounts) -> list[Any]:
        """Categories present here but absent from ``reference``.

        Examples
        --------
        >>> import driftcore
        >>> ref, cur = driftcore.CategoryCounts(), driftcore.CategoryCounts()
        >>> ref.update(["a", "b"]); cur.update(["a", "c"])
        >>> cur.unseen_in(ref)
        ['c']
        """
        with locked_pair(self, reference):
            return sorted(set(self._counts) - set(reference._counts))

    def aligned(self, other: CategoryCounts) -> tuple[list[Any], np.ndarray, np.ndarray]:
        """Union of categories and both count vectors over it (int64)."""
        with locked_pair(self, other):
            cats = sorted(set(self._counts) | set(other._counts))
            a = np.array([self._counts.get(c, 0) for c in cats], dtype=np.int64)
            b = np.array([other._counts.get(c, 0) for c in cats], dtype=np.int64)
        return cats, a, b

    def to_bytes(self) -> bytes:
        """Serialize (versioned, checksummed)."""
        with self._lock:
            counts = self.counts
            body = {
                "key": self._key,
                "categories": list(counts),
                "counts": list(counts.values()),
                "nulls": self._nulls,
            }
        return _wire.frame(_KIND, json.dumps(body, ensure_ascii=False).encode())

    @classmethod
    def from_bytes(cls, data: bytes) -> CategoryCounts:
        """Inverse of :meth:`to_bytes`; raises ValueError on corrupted data.

        Examples
        --------
        >>> import driftcore
        >>> c = driftcore.CategoryCounts(); c.update([1, 2, 2])
        >>> driftcore.CategoryCounts.from_bytes(c.to_bytes()) == c
        True
        """
        payload = _wire.unframe(data, _KIND)
        with _validate.corrupted("corrupted category counts payload"):
            key, cats, counts, nulls = _read_body(_validate.json_document(payload))
        obj = cls()
        obj._counts = dict(zip(cats, counts))
        obj._nulls = nulls
        obj._key = key
        return obj

    def copy(self) -> CategoryCounts:
        new = CategoryCounts()
        with self._lock:
            new._counts = dict(self._counts)
            new._nulls = self._nulls
            new._key = self._key
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CategoryCounts):
            return False
        with locked_pair(self, other):
            return self._counts == other._counts and self._nulls == other._nulls

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        with self._lock:
            return f"CategoryCounts({len(self._counts)} categories, total={self.total})"


def _read_body(body: Any) -> tuple[str | None, list[Any], list[int], int]:
    """(key type, categories, counts, nulls) of a payload, every field checked: one key
    type, no category twice, counts >= 0 whose sum with the nulls stays below 2**63."""
    body = _validate.fields(body, "payload", ("key", "categories", "counts", "nulls"))
    key = body["key"]
    if key not in (None, "str", "int"):
        raise ValueError(f"key must be null, 'str' or 'int', got {key!r:.40}")
    cats = _validate.list_of(body["categories"], "categories")
    counts = _validate.list_of(body["counts"], "counts", len(cats))
    if key is None and cats:
        raise ValueError("categories without a key type")
    for c in cats:
        if key == "str" and type(c) is not str:
            raise ValueError(f"category {c!r:.40} is not a string")
        if key == "int":
            _validate.integer(c, "an integer category", -(2**63), 2**64 - 1)
    if len(set(cats)) != len(cats):
        raise ValueError("a category appears twice")
    for n in counts:
        _validate.integer(n, "a category count")
    nulls = _validate.integer(body["nulls"], "nulls")
    _validate.total((*counts, nulls), "the count of values")
    return key, cats, counts, nulls


def _count_chunk(values: Any) -> tuple[list[Any], list[int], int, str | None]:
    """(keys, counts, nulls, key type) of one chunk."""
    if _dispatch.is_device_array(values):
        return _count_device(values)
    # Arrow is imported where host data is counted, so that a GPU-only environment
    # without pyarrow can still import driftcore.
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _to_arrow(values)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_boolean(arr.type):
        arr = arr.cast(pa.int64())
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_string(arr.type):
        key = "str"
    elif pa.types.is_integer(arr.type):
        key = "int"
    elif pa.types.is_null(arr.type):
        return [], [], len(arr), None
    else:
        raise TypeError(f"categorical values must be strings, integers or booleans, got {arr.type}")
    nulls = arr.null_count
    vc = pc.value_counts(arr.drop_null() if nulls else arr)
    keys = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    return keys, counts, nulls, (key if keys else None)


def _to_arrow(values: Any) -> Any:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"categorical values must be 1-D, got shape {values.shape}")
        if values.dtype.kind in "fc":
            raise TypeError(
                f"categorical values must be strings or integers, got dtype {values.dtype}"
            )
    elif isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"expected an array of categories, got {type(values).__name__}")
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise TypeError(f"cannot read categories: {exc}") from None


def _count_device(values: Any) -> tuple[list[Any], list[int], int, str | None]:
    import cupy as cp

    arr = cp.asarray(values)
    if arr.ndim != 1 or arr.dtype.kind not in "iub":
        raise TypeError("GPU categories must be a 1-D integer or bool cupy array")
    keys, counts = cp.unique(arr.astype(cp.int64), return_counts=True)
    return keys.get().tolist(), counts.get().tolist(), 0, ("int" if keys.size else None)
