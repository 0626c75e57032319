"""The one error the command line reports without a traceback.

An :class:`InputError` is a problem with what the user gave (a file, a column, an
option): the command prints ``driftcore: <where>: <problem>`` on one line and exits
with status 2. Anything else is a bug and shows its traceback.

Examples
--------
>>> from driftcore.cli.errors import InputError
>>> str(InputError("data/ref.parquet", "file not found"))
'data/ref.parquet: file not found'
>>> str(InputError(None, "give --columns or --exclude, not both"))
'give --columns or --exclude, not both'
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A usage or input problem: exit status 2 and one line on stderr.

    Parameters
    ----------
    where
        The file (or option) the problem is about, or None.
    problem
        What is wrong, in a few words, ideally with what to do instead.
    """

    def __init__(self, where: str | Path | None, problem: str) -> None:
        self.where = None if where is None else str(where)
        self.problem = problem
        super().__init__(problem if where is None else f"{where}: {problem}")

    def __reduce__(self) -> tuple:
        # raised on a Dask worker, it is pickled back to the command
        return (InputError, (self.where, self.problem))
