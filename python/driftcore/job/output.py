"""Output files written all or nothing.

A command's outputs (JSON report, HTML report, ``.dcp`` profile) are checked before
it reads anything, by :func:`check_targets`: each folder must exist and be writable,
no output may be one of the inputs (the same file after symlinks, or a Parquet file
inside an input folder), and no two outputs may be the same file. At the end,
:func:`write_all` writes each output to a temporary file beside its target, flushes
it to disk, and only when every one is complete renames them into place. On any
failure (a full disk, an interrupt) the temporary files are removed and outputs this
run already renamed are removed too: a failed run leaves no output, never a
truncated report that looks whole.

Examples
--------
>>> import os, tempfile
>>> from driftcore.job.output import write_all
>>> d = tempfile.mkdtemp()
>>> write_all([(os.path.join(d, "a.json"), b"{}"), (os.path.join(d, "b.html"), b"<p>")])
>>> sorted(os.listdir(d))
['a.json', 'b.html']
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from .errors import InputError

_CHUNK = 1 << 20


def check_targets(
    outputs: Sequence[tuple[str, str | Path | None]], inputs: Iterable[str | Path | None]
) -> None:
    """Refuse, before any reading, outputs that could not be written or would
    overwrite an input. ``outputs``: (option, path) pairs, path None for none.

    Examples
    --------
    >>> import os, tempfile
    >>> from driftcore.job.output import check_targets
    >>> data = os.path.join(tempfile.mkdtemp(), "data.csv")
    >>> open(data, "w").close()
    >>> check_targets([("-o", data)], [data])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftcore.job.errors.InputError: ...data.csv: -o names an input; choose another output file
    """
    ins = [Path(p) for p in inputs if p is not None]
    seen: dict[str, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        target = Path(os.path.realpath(path))
        if target.is_dir():
            raise InputError(path, f"{option} is a folder; give a file name")
        folder = target.parent
        if not folder.is_dir():
            raise InputError(path, f"{option}: no such folder {folder}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(path, f"{option}: folder {folder} is not writable")
        for p in ins:
            if _same(target, p):
                raise InputError(path, f"{option} names an input; choose another output file")
            if (
                p.is_dir()
                and target.suffix.lower() == ".parquet"
                and target.is_relative_to(os.path.realpath(p))
            ):
                raise InputError(
                    path,
                    f"{option} is inside the input folder {p} and would be "
                    "read as part of it; choose another output file",
                )
        if str(target) in seen:
            raise InputError(path, f"{option} and {seen[str(target)]} name the same file")
        seen[str(target)] = option


def write_all(files: Sequence[tuple[str | Path, bytes]]) -> None:
    """Write every ``(path, data)`` or none: temporary files beside the targets,
    renamed into place once all are written (see the module docstring). Raises the
    OSError of the first failure, with the output's path as its filename."""
    temps: list[tuple[str, Path, str | Path]] = []
    placed: list[Path] = []
    current: str | Path | None = None  # named in the error, as the user gave it
    try:
        for path, data in files:
            current, target = path, Path(os.path.realpath(path))
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            temps.append((tmp, target, path))
            with os.fdopen(fd, "wb") as f:
                _write(f, data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _mode(target))
        for tmp, target, path in temps:
            current = path
            os.replace(tmp, target)
            placed.append(target)
    except BaseException as exc:
        for tmp, _, _ in temps:
            _remove(Path(tmp))
        for target in placed:  # all or nothing
            _remove(target)
        if isinstance(exc, OSError):  # named by the path given, not the temporary file
            raise OSError(exc.errno, exc.strerror or str(exc), str(current)) from exc
        raise


def write_outputs(files: Sequence[tuple[str | Path, bytes]]) -> None:
    """:func:`write_all`, its failure an InputError naming the output."""
    try:
        write_all(files)
    except OSError as exc:
        raise InputError(exc.filename, f"cannot write: {exc.strerror or exc}") from exc


def _write(f: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    f.writelines(view[start : start + _CHUNK] for start in range(0, len(view), _CHUNK))


def _mode(target: Path) -> int:
    """The mode a plain write would give: the old file's, or 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _same(target: Path, p: Path) -> bool:
    try:
        return os.path.samefile(target, p)
    except OSError:  # either does not exist (yet)
        return target == Path(os.path.realpath(p))


def _remove(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass
