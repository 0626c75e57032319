"""Collect one GPU check into benchmarks/results/gpu-check.json.

``python benchmarks/gpu_check.py OUT_DIR SECTION...`` reads what benchmarks/gpu_check.sh
left in OUT_DIR (``smi.csv``, ``nvcc.txt``, ``build_info.json``, ``junit-<section>.xml``,
``sanitizer-<section>-<tool>.log``, ``bench-<section>.json``) and rewrites the results
file: ``card``, ``driver``,
``cuda``, ``commit``, ``date`` and, for each section run, ``pytest`` {passed, failed,
skipped}, ``sanitizer`` [{tool, errors}] and ``benchmarks``. Sections not run keep
what the file had. ``--results PATH`` writes elsewhere (a dry run writes under
OUT_DIR).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "gpu-check.json"


def pytest_counts(path: Path) -> dict | None:
    """{passed, failed, skipped} of a junit XML file (None when it is missing)."""
    if not path.exists():
        return None
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return {"passed": total - failed - skipped, "failed": failed, "skipped": skipped}


def sanitizer_errors(path: Path) -> dict | None:
    """{tool, errors} from compute-sanitizer's ``ERROR SUMMARY: N errors`` line."""
    if not path.exists():
        return None
    tool = path.stem.rsplit("-", 1)[-1]
    found = re.findall(r"ERROR SUMMARY: (\d+) error", path.read_text(errors="replace"))
    return {"tool": tool, "errors": int(found[-1]) if found else None}


def machine(out: Path) -> dict:
    """card, driver (nvidia-smi's CSV line), cuda (nvcc's release) and the build."""
    info: dict = {"card": None, "driver": None, "cuda": None, "build": None}
    smi = out / "smi.csv"
    lines = smi.read_text().splitlines() if smi.exists() else []
    if lines and lines[0].count(",") >= 2:
        card, driver, memory = (p.strip() for p in lines[0].split(",", 2))
        info.update(card=card, driver=driver, memory=memory)
    nvcc = out / "nvcc.txt"
    m = re.search(r"release ([\d.]+)", nvcc.read_text()) if nvcc.exists() else None
    info["cuda"] = m.group(1) if m else None
    build = out / "build_info.json"
    if build.exists() and build.read_text().strip():
        info["build"] = json.loads(build.read_text())
    return info


def commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("sections", nargs="+")
    ap.add_argument("--results", type=Path, default=RESULTS)
    a = ap.parse_args()
    doc = json.loads(a.results.read_text()) if a.results.exists() else {}
    doc.update(machine(a.out))
    doc["commit"] = commit()
    doc["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    sections = doc.setdefault("sections", {})
    for name in a.sections:
        bench_path = a.out / f"bench-{name}.json"
        bench = json.loads(bench_path.read_text()) if bench_path.exists() else {}
        sections[name] = {
            "pytest": pytest_counts(a.out / f"junit-{name}.xml"),
            "sanitizer": [
                s
                for tool in ("memcheck", "racecheck")
                if (s := sanitizer_errors(a.out / f"sanitizer-{name}-{tool}.log")) is not None
            ],
            "benchmarks": bench.get(name),
        }
    a.results.parent.mkdir(parents=True, exist_ok=True)
    a.results.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {a.results}")
    for name in a.sections:
        s = sections[name]
        print(f"  {name}: pytest {s['pytest']}, sanitizer {s['sanitizer']}")


if __name__ == "__main__":
    main()
