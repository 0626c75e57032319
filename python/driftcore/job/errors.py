"""The error of a check's input: a problem with what the user gave.

An :class:`InputError` (a ``ValueError``) names a file, a column or an option and
what is wrong with it. :func:`driftcore.check` raises it; the command line prints
``driftcore: <where>: <problem>`` on one line and exits with status 2.

Examples
--------
>>> from driftcore.job.errors import InputError
>>> str(InputError("data/ref.parquet", "file not found"))
'data/ref.parquet: file not found'
>>> str(InputError(None, "give --columns or --exclude, not both"))
'give --columns or --exclude, not both'
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
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
