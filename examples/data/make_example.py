"""Regenerate the driftcore example data (reference/current CSV + Parquet).

Source: the ``seattle-weather.csv`` file bundled inside the PyPI package
``vega_datasets`` (version 0.9.0). The file ships in the wheel, so nothing
is downloaded at run time.

Requirements::

    pip install vega_datasets==0.9.0 pandas pyarrow

Usage::

    python examples/data/make_example.py

Split: calendar year 2012 -> reference, calendar year 2015 -> current.
The ``date`` column is dropped (it would drift trivially); all other columns
are kept unchanged. Files are written next to this script.
"""

from __future__ import annotations

import io
import sys
from importlib import metadata, resources
from pathlib import Path

import pandas as pd

PACKAGE = "vega_datasets"
EXPECTED_VERSION = "0.9.0"
DATA_FILE = ("_data", "seattle-weather.csv")
REFERENCE_YEAR = 2012
CURRENT_YEAR = 2015
COLUMNS = ["precipitation", "temp_max", "temp_min", "wind", "weather"]
NUMERIC = ["precipitation", "temp_max", "temp_min", "wind"]

OUT_DIR = Path(__file__).resolve().parent


def load_source() -> pd.DataFrame:
    version = metadata.version("vega-datasets")
    if version != EXPECTED_VERSION:
        print(
            f"warning: {PACKAGE} {version} installed, files were made with "
            f"{EXPECTED_VERSION}; output may differ",
            file=sys.stderr,
        )
    src = resources.files(PACKAGE).joinpath(*DATA_FILE)
    text = src.read_text(encoding="utf-8")
    df = pd.read_csv(io.StringIO(text))
    df["date"] = pd.to_datetime(df["date"], format="%Y/%m/%d")
    return df


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    year = df["date"].dt.year
    out = []
    for y in (REFERENCE_YEAR, CURRENT_YEAR):
        part = df.loc[year == y, COLUMNS].reset_index(drop=True)
        part[NUMERIC] = part[NUMERIC].astype("float64")
        part["weather"] = part["weather"].astype(str)
        out.append(part)
    return out[0], out[1]


def write(name: str, df: pd.DataFrame) -> None:
    df.to_csv(OUT_DIR / f"{name}.csv", index=False, lineterminator="\n")
    df.to_parquet(OUT_DIR / f"{name}.parquet", engine="pyarrow", index=False)
    # CSV and Parquet must hold the same content.
    back_csv = pd.read_csv(OUT_DIR / f"{name}.csv")
    back_pq = pd.read_parquet(OUT_DIR / f"{name}.parquet", engine="pyarrow")
    pd.testing.assert_frame_equal(back_csv, df)
    pd.testing.assert_frame_equal(back_pq, df)


def summary(ref: pd.DataFrame, cur: pd.DataFrame) -> None:
    print(f"rows: reference={len(ref)} current={len(cur)}")
    means = pd.DataFrame(
        {"reference": ref[NUMERIC].mean(), "current": cur[NUMERIC].mean()}
    ).round(2)
    print("numeric means:\n" + means.to_string())
    shares = pd.DataFrame(
        {
            "reference": ref["weather"].value_counts(normalize=True),
            "current": cur["weather"].value_counts(normalize=True),
        }
    ).fillna(0.0).round(3)
    print("weather shares:\n" + shares.to_string())


def main() -> None:
    ref, cur = split(load_source())
    write("reference", ref)
    write("current", cur)
    summary(ref, cur)


if __name__ == "__main__":
    main()
