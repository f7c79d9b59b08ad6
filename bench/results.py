"""``bench/results.json``: one entry per Python version, each section the latest run of it.

The file keeps the runs of every interpreter the benchmark ran on (``nox -s
bench`` runs it on 3.11, with ``sys.settrace``, and on 3.12, with
``sys.monitoring``), so that ``BENCHMARKS.md`` can set them side by side. A run
of some sections replaces those sections and keeps the others; each section
records when, how (full or quick) and by which command it was measured.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "describe_machine", "load", "save_run", "versions"]

RESULTS = Path(__file__).resolve().parent / "results.json"
SCHEMA = 1


def load(path: Path = RESULTS) -> dict[str, Any]:
    if not path.exists():
        return {"schema": SCHEMA, "runs": {}}
    data: dict[str, Any] = json.loads(path.read_text())
    if data.get("schema") != SCHEMA:
        return {"schema": SCHEMA, "runs": {}}
    return data


def save_run(run: dict[str, Any], path: Path = RESULTS) -> dict[str, Any]:
    """Store ``run`` under its Python version, keeping other versions and sections."""
    data = load(path)
    previous = data["runs"].get(run["python"])
    if previous is not None:
        run = {**run, "sections": {**previous.get("sections", {}), **run["sections"]}}
    data["runs"][run["python"]] = run
    data["runs"] = dict(sorted(data["runs"].items()))
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    return data


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def describe_machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def versions() -> dict[str, str]:
    found = {}
    for dist in ("thread-harness", "frontrun", "pytest-run-parallel", "py-spy"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found
