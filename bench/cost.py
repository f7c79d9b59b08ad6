"""Section 1: the cost of one schedule, ours against frontrun and the untraced program.

The program is :mod:`bench.counter`: ``threads`` threads each doing
``c.value = c.value + 1`` ``iterations`` times, with no check, so that every
schedule runs to its end. Every tool is measured the same way, in a child
process of its own: one warm-up call of one schedule (not timed; it also sizes
frontrun's ``max_ops``), then one timed call of ``k`` schedules, where ``k`` is
what fits in the target time (at least 2, at most ``max_schedules``). The cost
is the call's wall time divided by the schedules it ran. Rounds alternate the
tools, and the median round is kept.

Besides the tools, three rungs split our cost into its parts:

* ``tracing-only``: the threads run with our tracing backend attached and a hook
  that does nothing (tracing = this minus untraced);
* ``explore-serial``: exploration that never preempts (PCT with depth 1: the
  highest-priority thread runs until it ends): tracing, plus a scheduling
  decision at every point, plus the runtime's bookkeeping, with a thread
  hand-off only where a thread ends;
* ``explore-random`` switches thread at most decisions: the difference to
  ``explore-serial`` is the cost of hand-offs (and of drawing random numbers).
"""

from __future__ import annotations

import importlib
import importlib.util
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.counter import Counter, actors_for, bump, run_untraced
from bench.jobs import run_job

__all__ = ["COST_TOOLS", "SIZES", "measure", "run"]

#: (threads, iterations): the reference size first, then the sizes around it.
SIZES = ((2, 1000), (2, 10), (2, 100), (2, 10_000), (4, 1000), (8, 1000))
QUICK_SIZES = ((2, 1000), (2, 100), (4, 1000))

OURS = ("explore-mixed", "explore-pct", "explore-random", "explore-dfs", "explore-serial")
PEERS = ("frontrun-random", "frontrun-dpor")
RUNGS = ("untraced", "tracing-only")
COST_TOOLS = (*RUNGS, *OURS, *PEERS)

#: frontrun's random strategy needs a max_ops of at least the program's length.
MAX_OPS_LADDER = (300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000)


class _MaxOpsTooSmall(Exception):
    pass


# -- in the child process ------------------------------------------------------


def _timed(call: Callable[[int], int], schedules: int) -> tuple[int, float]:
    started = time.perf_counter()
    ran = call(schedules)
    return ran, time.perf_counter() - started


def _untraced(threads: int, iterations: int) -> Callable[[int], int]:
    def call(schedules: int) -> int:
        for _ in range(schedules):
            run_untraced(threads, iterations)
        return schedules

    return call


def _tracing_only(threads: int, iterations: int) -> Callable[[int], int]:
    import threading

    from harness._tracing import make_backend

    def nothing(point: Any) -> None:
        pass

    def call(schedules: int) -> int:
        backend = make_backend()
        backend.start()
        try:
            for _ in range(schedules):
                counter = Counter()

                def body(counter: Counter = counter) -> None:
                    backend.attach(nothing)  # before the traced frame is entered
                    try:
                        bump(counter, iterations)
                    finally:
                        backend.detach()

                workers = [threading.Thread(target=body) for _ in range(threads)]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
        finally:
            backend.stop()
        return schedules

    return call


def _explore(strategy: str, threads: int, iterations: int) -> Callable[[int], int]:
    import harness

    depth = 1 if strategy == "serial" else 3
    name = "pct" if strategy == "serial" else strategy

    def call(schedules: int) -> int:
        result = harness.explore(
            Counter,
            actors_for(threads, iterations),
            None,
            strategy=name,
            budget=schedules,
            seed=1,
            depth=depth,
            max_steps=100_000_000,
        )
        return result.runs

    return call


def _frontrun(strategy: str, threads: int, iterations: int, max_ops: int) -> Callable[[int], int]:
    import os

    os.environ.setdefault("FRONTRUN_ACTIVE", "1")  # what the frontrun CLI sets
    frontrun = importlib.import_module("frontrun")  # installed by the bench session only

    workers = [lambda c: bump(c, iterations)] * threads

    def call(schedules: int) -> int:
        options: dict[str, Any] = {"reproduce_on_failure": 0}
        if strategy == "random":
            options.update(max_attempts=schedules, max_ops=max_ops, seed=1)
        else:
            # The default cap of 100,000 scheduling points per execution is
            # below the largest sizes; a cap is not what is being measured.
            options.update(max_executions=schedules, max_branches=10_000_000)
        result = frontrun.explore(
            setup=Counter,
            workers=workers,
            invariant=lambda c: True,
            strategy=strategy,
            **options,
        )
        if result.property_holds is None:
            reason = result.inconclusive_reason or ""
            if "max_ops" in reason:
                raise _MaxOpsTooSmall(reason)
            raise RuntimeError(f"frontrun inconclusive: {reason}")
        return int(result.num_explored)

    return call


def measure(
    tool: str, threads: int, iterations: int, target_seconds: float, max_schedules: int
) -> dict[str, Any]:
    """Milliseconds per schedule of ``tool`` on the counter program (child side).

    frontrun's random strategy is tried with each ``max_ops`` of the ladder in
    turn until every schedule of the warm-up and of the timed call completes.
    """
    note = ""
    for max_ops in MAX_OPS_LADDER:
        if tool == "untraced":
            call = _untraced(threads, iterations)
        elif tool == "tracing-only":
            call = _tracing_only(threads, iterations)
        elif tool.startswith("explore-"):
            call = _explore(tool.removeprefix("explore-"), threads, iterations)
        elif tool.startswith("frontrun-"):
            call = _frontrun(tool.removeprefix("frontrun-"), threads, iterations, max_ops)
            note = f"max_ops={max_ops}" if tool == "frontrun-random" else ""
        else:
            raise ValueError(f"unknown cost tool {tool!r}")
        try:
            _, warm = _timed(call, 2)
            schedules = max(2, min(max_schedules, int(target_seconds / max(warm / 2, 1e-6))))
            ran, seconds = _timed(call, schedules)
        except _MaxOpsTooSmall:
            continue
        return {
            "tool": tool,
            "schedules": ran,
            "seconds": round(seconds, 6),
            "ms_per_schedule": round(seconds / max(ran, 1) * 1000, 4),
            "warmup_ms": round(warm * 1000, 3),
            "note": note,
        }
    raise RuntimeError(f"frontrun random: max_ops={MAX_OPS_LADDER[-1]} still too small")


# -- in the parent ----------------------------------------------------------------


def _family(tool: str) -> str:
    return "frontrun" if tool.startswith("frontrun-") else "ours"


def run(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """Measure every size with every tool; the median of the rounds."""
    sizes = QUICK_SIZES if quick else SIZES
    rounds = 1 if quick else 2
    target = 1.0 if quick else 1.5
    max_schedules = 50 if quick else 200
    wall = 120.0 if quick else 240.0
    out: list[dict[str, Any]] = []
    # frontrun builds a Rust extension and has no free-threaded wheel: on 3.13t
    # the column has our tools and rungs only.
    peers = importlib.util.find_spec("frontrun") is not None
    cost_tools = COST_TOOLS if peers else (*RUNGS, *OURS)
    for threads, iterations in sizes:
        per_tool: dict[str, list[dict[str, Any]]] = {t: [] for t in cost_tools}
        for round_index in range(rounds):
            for tool in cost_tools:
                spec = {
                    "job": "cost",
                    "tool": tool,
                    "threads": threads,
                    "iterations": iterations,
                    "target_seconds": target,
                    "max_schedules": max_schedules,
                }
                job = run_job(spec, family=_family(tool), wall=wall)
                if job.records:
                    per_tool[tool].append(job.records[0])
                    ms = job.records[0].get("ms_per_schedule")
                    log(f"cost {threads}x{iterations} round {round_index + 1} {tool}: {ms} ms")
                else:
                    reason = "killed at the wall limit" if job.killed else job.stderr_tail[-300:]
                    per_tool[tool].append({"tool": tool, "error": reason})
                    log(f"cost {threads}x{iterations} {tool}: no result ({reason.strip()[:120]})")
        tools: dict[str, Any] = {}
        for tool, measured in per_tool.items():
            good = [m for m in measured if "ms_per_schedule" in m]
            if good:
                tools[tool] = {
                    "ms_per_schedule": statistics.median(m["ms_per_schedule"] for m in good),
                    "rounds": [m["ms_per_schedule"] for m in good],
                    "schedules": [m["schedules"] for m in good],
                    "note": good[0].get("note", ""),
                }
            else:
                tools[tool] = {"error": measured[0].get("error", "no result") if measured else ""}
        out.append({"threads": threads, "iterations": iterations, "tools": tools})
    return {
        "program": "threads x iterations of c.value = c.value + 1, no check",
        "rounds": rounds,
        "target_seconds": target,
        "max_schedules": max_schedules,
        "sizes": out,
    }
