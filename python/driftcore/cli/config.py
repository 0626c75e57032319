r"""The ``driftcore`` command's config file. Settings come from the defaults
(:class:`driftcore.job.settings.Settings`), then a TOML config file, then the options
given on the command line, in that order of precedence (the command line wins).

The config file holds the same settings as the options, under a ``[driftcore]``
table (or at the top level), with thresholds in ``[driftcore.thresholds]``
(or ``[thresholds]``)::

    [driftcore]
    columns = ["temp_max", "temp_min"]     # or exclude = [...]
    leak_columns = ["date", "temp_max"]    # the exact-row key (default: every column)
    ids = ["station_id"]                   # identifier columns: no drift metrics
    target = ["rain_tomorrow"]             # label columns: drift reported apart
    prediction = ["rain_score"]            # model outputs: drift reported apart
    text_columns = ["comment"]
    mmd_sample = 2000
    seed = 0
    threads = 2                            # 1 to MAX_THREADS (4096)
    device = "cpu"

    [driftcore.thresholds]
    psi = 0.25
    near_duplicates = 0.0

    [driftcore.column_thresholds.temp_max]  # one column's own thresholds
    psi = 0.3

Examples
--------
>>> import os, tempfile
>>> from driftcore.cli.config import load_toml
>>> path = os.path.join(tempfile.mkdtemp(), "driftcore.toml")
>>> with open(path, "w") as f:
...     _ = f.write("[driftcore]\nseed = 3\n[driftcore.thresholds]\npsi = 0.3\n")
>>> load_toml(path)
{'seed': 3, 'thresholds': {'psi': 0.3}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..job.errors import InputError


def load_toml(path: str | Path) -> dict[str, Any]:
    """The settings table of a TOML config file (``[driftcore]`` or top level)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise InputError(
                path, "reading TOML needs Python >= 3.11 or the tomli package"
            ) from None
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise InputError(p, "no such config file") from None
    except OSError as exc:
        raise InputError(p, f"cannot open: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(p, f"not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(p, "not a text file (a TOML config is UTF-8 text)") from None
    table = data.get("driftcore", data)
    if not isinstance(table, dict):
        raise InputError(p, "[driftcore] must be a table")
    if "thresholds" not in table and isinstance(data.get("thresholds"), dict):
        table = {**table, "thresholds": data["thresholds"]}
    return table
