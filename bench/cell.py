"""Child-process side of :mod:`bench.jobs`: run one job spec, print what it measured.

``python -m bench.cell '<json spec>'``; every result is one line ``MARK + json``
on stdout, flushed at once, so that a parent that kills this process at its wall
limit still gets what was finished.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.jobs import MARK


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(MARK + json.dumps(record) + "\n")
    sys.stdout.flush()


def _detect(spec: dict[str, Any]) -> None:
    from bench.programs import get
    from bench.tools import Bounds, tool

    program = get(spec["program"])
    bounds = Bounds(spec["schedules"], spec["seconds"])
    for name in spec["tools"]:
        chosen = tool(name)
        for seed in spec["seeds"][name]:
            try:
                attempt = chosen.attempt(program, seed, bounds)
                record = attempt.to_dict()
            except Exception as exc:  # the adapter itself failed: report, go on
                record = {
                    "seed": seed,
                    "status": "error",
                    "kind": None,
                    "schedules": 0,
                    "seconds": 0.0,
                    "note": f"{type(exc).__name__}: {exc}"[:200],
                }
            emit({"tool": name, "attempt": record})


def _races_frontrun(spec: dict[str, Any]) -> None:
    from bench.programs import get
    from bench.tools import Bounds
    from bench.tools.frontrun_adapter import race_attempt

    program = get(spec["program"])
    bounds = Bounds(spec["schedules"], spec["seconds"])
    try:
        record = race_attempt(program, bounds).to_dict()
    except Exception as exc:  # the adapter itself failed: report it
        record = {
            "seed": 0,
            "status": "error",
            "kind": None,
            "schedules": 0,
            "seconds": 0.0,
            "note": f"{type(exc).__name__}: {exc}"[:200],
        }
    emit({"tool": "frontrun-dpor-races", "attempt": record})


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    job = spec["job"]
    if job == "cost":
        from bench.cost import measure

        emit(
            measure(
                spec["tool"],
                spec["threads"],
                spec["iterations"],
                spec["target_seconds"],
                spec["max_schedules"],
            )
        )
    elif job == "detect":
        _detect(spec)
    elif job == "races-cost":
        from bench.races import counter_cost

        emit(counter_cost(spec["rounds"], spec["schedules"]))
    elif job == "races-frontrun":
        _races_frontrun(spec)
    elif job == "throughput":
        from bench.throughput import measure_job

        for record in measure_job(spec):
            emit(record)
    elif job == "dpor":
        from bench.dpor import measure_job as dpor_job

        emit(dpor_job(spec))
    elif job == "profile-target":
        from bench.profile import profile_target

        emit(profile_target(spec))
    else:
        raise SystemExit(f"unknown job {job!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
