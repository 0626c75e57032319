"""CSV input: one set of column types for the whole file.

Arrow types a CSV column from the first block it reads, so readers with different
block sizes (the column plan's sample, the passes at each ``--batch-size``) could type
one column differently. Here a file's types are inferred once, from its first
:data:`INFER_BYTES` (1 MiB, Arrow's rules), and every reader of the file converts
with those types.

A later value that does not fit widens its column for the whole file: an all-empty
column to int64 or float64 when the value is a number, an integer column to float64
when it is a non-integer number, anything else to string. The source's schema then
holds the wider type and :class:`Widened` is raised; :func:`retry_widened` starts the
command over with it (a column widens at most three times: null, int64, float64,
string). An empty field is a missing value in every column, strings included.
Invalid UTF-8 cannot be widened: an InputError names the column, the row
region and what to do. The same file on both sides of a check shares its types
(:func:`share_types`); two different files are typed each on its own, and a column
of different kinds on the two sides is the usual schema error, which then names the
row that widened it.

Examples
--------
>>> import pyarrow as pa
>>> from driftcore.job.read_csv import wider
>>> wider(pa.int64(), "1.5"), wider(pa.int64(), "word"), wider(pa.null(), "7")
(DataType(double), DataType(string), DataType(int64))
>>> wider(pa.string(), "x") is None
True
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from .errors import InputError

#: Bytes of a CSV file its column types are inferred from (tests lower it).
INFER_BYTES = 1 << 20

_ERROR = re.compile(
    r"In CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to [^:]+: (.*)", re.DOTALL
)
_VALUE = re.compile(r"invalid value '(.*)'\s*$", re.DOTALL)
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE)

T = TypeVar("T")


class Widened(Exception):
    """A CSV column met a value its inferred type cannot hold and was widened; the
    command starts over with the wider type (see :func:`retry_widened`)."""

    def __init__(
        self, path: Path, column: str, old: pa.DataType, new: pa.DataType, value: str, row: int
    ) -> None:
        self.path, self.column, self.old, self.new = path, column, old, new
        self.value, self.row = value, row
        super().__init__(
            f"{path}: column {column!r} holds {value[:40]!r} at row {row:,}, beyond the "
            f"first {INFER_BYTES:,} bytes that typed it {old}: read as {new}"
        )


def infer_schema(path: Path) -> pa.Schema:
    """The file's column types, from its first :data:`INFER_BYTES`."""
    reader = _reader(path, None, INFER_BYTES, None)
    schema = reader.schema
    reader.close()
    return schema


def batches(src: Any, columns: list[str], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Record batches of ``columns`` of the CSV source ``src`` with its schema's types;
    raises :class:`Widened` (after widening ``src.schema``) on a value that does not fit."""
    types = {f.name: f.type for f in src.schema}
    rows = 0
    try:
        # Blocks are sized in bytes; about 64 bytes a row keeps batches near batch_size.
        reader = _reader(src.path, columns, max(1 << 16, min(batch_size * 64, 1 << 26)), types)
        for batch in reader:
            for start in range(0, batch.num_rows, batch_size):
                yield batch.slice(start, batch_size)
            rows += batch.num_rows
    except pa.ArrowInvalid as exc:
        m = _ERROR.match(str(exc))
        if m is None or int(m[1]) >= len(src.schema):
            raise
        raise _widen(src, int(m[1]), m[2], rows) from None


def wider(old: pa.DataType, value: str) -> pa.DataType | None:
    """The type ``old`` widens to for a ``value`` it cannot hold (None: string already)."""
    v = value.strip()
    if pa.types.is_null(old) and _INT.fullmatch(v) and len(v) < 20 and -(2**63) <= int(v) < 2**63:
        return pa.int64()
    if (pa.types.is_null(old) or pa.types.is_integer(old)) and _FLOAT.fullmatch(v):
        return pa.float64()
    if pa.types.is_string(old) or pa.types.is_large_string(old):
        return None
    return pa.string()


def retry_widened(run: Callable[[], T], quiet: bool = False) -> T:
    """``run()``, started over each time a CSV column is widened (a note on stderr
    unless ``quiet``). Every start over widens a column, so this ends."""
    while True:
        try:
            return run()
        except Widened as w:
            if not quiet:
                print(f"driftcore: note: {w}; starting over", file=sys.stderr)


def share_types(a: Any, b: Any) -> None:
    """When sources ``a`` and ``b`` are the same CSV file (both sides of a check), give
    both the types either has learned: the file has one set of types."""
    if not all(getattr(x, "format", None) == "csv" for x in (a, b)) or a is b:
        return
    try:
        if not a.path.samefile(b.path):
            return
    except OSError:
        return
    for i, (fa, fb) in enumerate(zip(a.schema, b.schema)):
        if fa.type != fb.type:
            wide = max((fa, fb), key=lambda f: _rank(f.type))
            a.schema, b.schema = a.schema.set(i, wide), b.schema.set(i, wide)
    merged = {**a.widened, **b.widened}
    a.widened.update(merged)
    b.widened.update(merged)


def _rank(t: pa.DataType) -> int:
    """Steps up the widening ladder (types that only widen to string are 0)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return 3
    return 2 if pa.types.is_floating(t) else 1 if pa.types.is_integer(t) else 0


def _widen(src: Any, index: int, detail: str, rows: int) -> Exception:
    field = src.schema.field(index)
    m = _VALUE.match(detail)
    new = wider(field.type, m[1]) if m else None
    if new is None or new == field.type:
        what = "invalid UTF-8" if "UTF8" in detail else f"a value Arrow cannot read ({detail})"
        return InputError(
            src.path,
            f"column {field.name!r} holds {what} in the rows after row "
            f"{rows:,}; leave it out with --exclude {field.name} or "
            "convert the file (UTF-8 text)",
        )
    row = _locate(src.path, field.name, m[1], rows)
    src.schema = src.schema.set(index, pa.field(field.name, new))
    src.widened[field.name] = f"it holds {m[1][:40]!r} at row {row:,}"
    return Widened(src.path, field.name, field.type, new, m[1], row)


def _locate(path: Path, name: str, value: str, start: int) -> int:
    """The row (1 = the first after the header) from ``start`` on where column ``name``
    holds ``value``: the block that failed is known, not the row."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    row = start
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 20, skip_rows_after_names=start),
            convert_options=pacsv.ConvertOptions(
                include_columns=[name], column_types={name: pa.string()}
            ),
        )
        for batch in reader:
            hit = pc.index(batch.column(0), value).as_py()
            if hit >= 0:
                return row + hit + 1
            row += batch.num_rows
    except (pa.ArrowException, OSError):
        pass
    return start + 1  # not found: the first row of the block


def _reader(
    path: Path, columns: list[str] | None, block_size: int, types: dict[str, pa.DataType] | None
) -> Any:
    import pyarrow.csv as pacsv

    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=block_size),
        # An empty field is a missing value in every column (as pandas reads it), not
        # the category "" of a string column.
        convert_options=pacsv.ConvertOptions(
            include_columns=columns, column_types=types, strings_can_be_null=True
        ),
    )
