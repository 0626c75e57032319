"""The JSON report: writing it and checking it against its schema.

Every report carries ``"schema_version"`` (2); its layout is the JSON Schema
``driftcore/job/schema/report.v2.json`` shipped in the package (draft 2020-12).
A new field may appear within a version; removing or changing one bumps it, so a
reader checks the version first. Version 2 added ``findings`` (data-quality findings,
each failing the gate on its own) and ``summary.n_findings_failed``, and the
report's numeric histograms are read off the profiles' value grids;
``report.v1.json`` describes version 1 reports. NaN and infinities are written as
``null``.

Examples
--------
>>> from driftcore.job.report_json import load_schema
>>> load_schema()["properties"]["schema_version"]["const"]
2
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from .output import write_all

SCHEMA_FILE = "report.v2.json"


def load_schema() -> dict[str, Any]:
    """The report's JSON Schema (a dict)."""
    text = resources.files("driftcore.job").joinpath("schema", SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


def dumps(doc: dict[str, Any]) -> str:
    """The report as indented JSON text (strict: no NaN)."""
    return json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def write(doc: dict[str, Any], path: str | Path) -> None:
    """Write the report to ``path`` (``-`` for stdout), all or nothing."""
    text = dumps(doc)
    if str(path) == "-":
        import sys

        sys.stdout.write(text)
    else:
        write_all([(path, text.encode())])


def validate(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``doc`` does not follow the schema
    (needs the ``jsonschema`` package, in the ``test`` extra)."""
    import jsonschema

    jsonschema.validate(doc, load_schema())
