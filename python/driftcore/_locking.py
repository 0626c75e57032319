"""The per-object lock behind driftcore's thread-safety contract (docs/threads.md).

Every mutable state (histogram, sketch, counts, profile, index, ...) carries its own
re-entrant lock, taken by every method that reads or changes the state, so that one
object used from several Python threads sees its operations one after another, while
different objects run in parallel. The lock lives in Python, not in the bindings,
because several states (profiles, indexes, category counts) are Python objects whose
invariants span many attributes, and one mechanism is easier to reason about than two.
Waiting for a ``threading`` lock releases the GIL, and the kernels release the GIL
while they run, so a thread holding an object's lock can always get the GIL back: no
GIL/lock deadlock. Locks are re-entrant because locked methods call each other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Guarded:
    """Mixin giving each instance its own lock, ``self._lock``.

    The lock is made in ``__new__``, so objects created without ``__init__`` (the
    ``_wrap`` constructors, unpickling) get one too; it is left out of pickled state.

    Examples
    --------
    >>> from driftcore._locking import Guarded
    >>> class Counter(Guarded):
    ...     def __init__(self) -> None:
    ...         self.n = 0
    ...     def add(self) -> None:
    ...         with self._lock:
    ...             self.n += 1
    >>> c = Counter(); c.add()
    >>> import copy; d = copy.copy(c)  # as pickle does: state without the lock
    >>> d.n, d._lock is c._lock
    (1, False)
    """

    __slots__ = ("_lock",)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__new__(cls)
        obj._lock = threading.RLock()
        return obj

    def __getstate__(self) -> Any:
        # For classes pickled by attributes (the others define __reduce__): pickle's
        # default state without the lock; the unpickled object gets a fresh one.
        attrs = dict(getattr(self, "__dict__", {}))
        slots = {
            name: getattr(self, name)
            for name in _slot_names(type(self))
            if name != "_lock" and hasattr(self, name)
        }
        return (attrs or None, slots) if slots else attrs


def _slot_names(cls: type) -> list[str]:
    names: list[str] = []
    for c in cls.__mro__:
        slots = c.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return names


@contextmanager
def locked_pair(a: Guarded, b: Guarded) -> Iterator[None]:
    """Hold the locks of ``a`` and ``b`` (one lock when they are the same object).

    Locks are taken in the order of ``id``, so ``a.merge(b)`` racing ``b.merge(a)``
    cannot deadlock.

    Examples
    --------
    >>> from driftcore._locking import Guarded, locked_pair
    >>> a, b = Guarded(), Guarded()
    >>> with locked_pair(a, b), locked_pair(b, a):  # re-entrant, either order
    ...     pass
    """
    first, second = (a, b) if id(a) <= id(b) else (b, a)
    with first._lock, second._lock:
        yield
