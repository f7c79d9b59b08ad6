"""Section 2: detection power, and section 4: scale of exploration.

Detection: every buggy program (the corpus and the explorable catalogue
variants) is searched by every tool, once per seed, until a failure of an
accepted kind or a bound (schedules or runs, and seconds). Deterministic tools
without a seed (our bounded DFS, frontrun's DPOR) run once. Fixed twins run with
the same tools under a smaller bound, seed 0: any failure is a false alarm.

Scale: the large programs (reorder with 10 and 20 threads, two-stage with 10
and 100) under the exploring tools, bounded by 100,000 schedules and a time
bound.

Each (program, tool family) runs in a child process of its own (frontrun's under
its CLI), so that a tool that leaves threads behind cannot disturb the next.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.jobs import run_job
from bench.programs import BenchProgram, catalogue_programs, corpus_programs, scale_programs
from bench.tools import TOOLS
from bench.tools.base import FOUND

__all__ = ["DETECTION_TOOLS", "SCALE_TOOLS", "median_to_detection", "run", "run_scale"]

DETECTION_TOOLS = tuple(TOOLS)
SCALE_TOOLS = (
    "explore-mixed",
    "explore-pct",
    "explore-random",
    "explore-dfs",
    "frontrun-random",
    "frontrun-dpor",
)


@dataclass(frozen=True)
class Plan:
    seeds: int
    buggy_schedules: int
    buggy_seconds: float
    fixed_schedules: int
    fixed_seconds: float
    scale_schedules: int
    scale_seconds: float


FULL = Plan(5, 10_000, 3.0, 300, 3.0, 100_000, 20.0)
QUICK = Plan(2, 1_000, 3.0, 100, 2.0, 100_000, 5.0)


def _families(tools: Sequence[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in tools:
        grouped.setdefault(TOOLS[name].family, []).append(name)
    return grouped


def _search(
    program: BenchProgram,
    tools: Sequence[str],
    seeds: int,
    schedules: int,
    seconds: float,
    log: Callable[[str], None],
) -> dict[str, list[dict[str, Any]]]:
    """Every tool's attempts on one program, by tool name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for family, names in _families(tools).items():
        plan = {name: _seeds_for(name, seeds) for name in names}
        spec = {
            "job": "detect",
            "program": program.id,
            "tools": names,
            "seeds": {name: plan[name] for name in names},
            "schedules": schedules,
            "seconds": seconds,
        }
        # Every attempt gets its bound, plus time to start and to unwind.
        attempts_planned = sum(len(s) for s in plan.values())
        wall = attempts_planned * (seconds + 15.0) + 30.0
        job = run_job(spec, family=family, wall=wall)
        reason = "killed at the wall limit" if job.killed else _last_line(job.stderr_tail)
        for name in names:
            attempts = [r["attempt"] for r in job.records if r["tool"] == name]
            done = {a["seed"] for a in attempts}
            for seed in plan[name]:
                if seed not in done:
                    attempts.append(
                        {
                            "seed": seed,
                            "status": "error",
                            "kind": None,
                            "schedules": 0,
                            "seconds": 0.0,
                            "note": reason,
                        }
                    )
            found[name] = attempts
            statuses = ", ".join(a["status"] for a in attempts)
            log(f"{program.id} {name}: {statuses}")
    return found


def _seeds_for(name: str, seeds: int) -> list[int]:
    """Seeds 0..seeds-1, or just 0 for a tool whose runs cannot differ."""
    tool = TOOLS[name]
    return list(range(seeds)) if (tool.seeded or not tool.deterministic) else [0]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "the child process ended without a result"


def median_to_detection(attempts: list[dict[str, Any]], key: str) -> float | None:
    """Median of ``key`` (schedules or seconds) over attempts; misses count as infinite.

    None when at least half the attempts missed: the median is then beyond the bound.
    """
    values = [a[key] if a["status"] == FOUND else float("inf") for a in attempts]
    if not values:
        return None
    median = statistics.median_low(values) if len(values) % 2 == 0 else statistics.median(values)
    return None if median == float("inf") else float(median)


def _summarise(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for a in attempts:
        statuses[a["status"]] = statuses.get(a["status"], 0) + 1
    return {
        "attempts": attempts,
        "statuses": statuses,
        "found": statuses.get(FOUND, 0),
        "median_schedules": median_to_detection(attempts, "schedules"),
        "median_seconds": median_to_detection(attempts, "seconds"),
    }


def run(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    programs = [*corpus_programs(), *catalogue_programs()]
    rows = []
    for program in programs:
        if program.buggy:
            seeds, schedules, seconds = plan.seeds, plan.buggy_schedules, plan.buggy_seconds
        else:
            seeds, schedules, seconds = 1, plan.fixed_schedules, plan.fixed_seconds
        attempts = _search(program, DETECTION_TOOLS, seeds, schedules, seconds, log)
        rows.append(
            {
                "program": program.id,
                "source": program.source,
                "buggy": program.buggy,
                "summary": program.summary,
                "threads": program.threads,
                "kinds": list(program.kinds) if program.kinds else None,
                "tools": {name: _summarise(a) for name, a in attempts.items()},
            }
        )
    return {
        "tools": {name: TOOLS[name].label for name in DETECTION_TOOLS},
        "bounds": {
            "seeds": plan.seeds,
            "buggy": {"schedules": plan.buggy_schedules, "seconds": plan.buggy_seconds},
            "fixed": {"schedules": plan.fixed_schedules, "seconds": plan.fixed_seconds},
        },
        "programs": rows,
    }


def run_scale(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    rows = []
    for program in scale_programs():
        if not program.buggy:
            continue
        attempts = _search(program, SCALE_TOOLS, 1, plan.scale_schedules, plan.scale_seconds, log)
        rows.append(
            {
                "program": program.id,
                "threads": program.threads,
                "summary": program.summary,
                "tools": {name: _summarise(a) for name, a in attempts.items()},
            }
        )
    return {
        "tools": {name: TOOLS[name].label for name in SCALE_TOOLS},
        "bounds": {"schedules": plan.scale_schedules, "seconds": plan.scale_seconds, "seed": 0},
        "programs": rows,
    }
