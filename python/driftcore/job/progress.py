"""A one-line progress bar on stderr for long runs.

Shown only when stderr is a terminal and ``--quiet`` is not given, and only after
the first second, so short runs and pipelines print nothing.

Examples
--------
>>> from driftcore.job.progress import Progress
>>> p = Progress(100, "reference", quiet=True)
>>> p.advance(60); p.advance(40); p.done
100
>>> p.close()
"""

from __future__ import annotations

import sys
import time


class Progress:
    """Rows read so far out of ``total`` (None when unknown, as for CSV)."""

    def __init__(self, total: int | None, label: str, quiet: bool = False) -> None:
        self.total, self.label = total, label
        self.enabled = not quiet and sys.stderr.isatty()
        self.done = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._shown = False

    def advance(self, rows: int) -> None:
        self.done += rows
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._start < 1.0 or now - self._last < 0.2:
            return
        self._last = now
        elapsed = now - self._start
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            line = f"{self.label:<22} [{bar:<30}] {frac:6.1%}  {self.done:,} rows  {elapsed:5.1f} s"
        else:
            line = f"{self.label:<22} {self.done:,} rows  {elapsed:5.1f} s"
        sys.stderr.write("\r" + line)
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * 90 + "\r")
            sys.stderr.flush()
            self._shown = False
