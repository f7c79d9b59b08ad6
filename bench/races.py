"""The race detector, measured: detection with it on and off, false alarms, cost.

Every buggy program (the corpus and the explorable catalogue variants) is
explored with the default strategy, seeds 0-4, until the first failure, three
ways: the detector off (the check and the other detectors only), on, and on with
``check=None`` (what only the race detector can find). Reported: schedules and
milliseconds to the first detection, median and worst over the seeds (no
shrinking, so the time is the search's). Every fixed twin and fixed variant is
explored with the detector on for ``FIXED_BUDGET`` schedules, seed 0: any
``race`` is a false alarm and is listed; the same runs with the detector off
give the cost per schedule.

The peer, in the same run: frontrun 0.7's DPOR with ``error_on_any_race=True``
(frontrun accepts that option with DPOR only, so it is deterministic and runs
once per program) on the same buggy and fixed programs, with the same schedule
budgets, each program in a child process of its own under frontrun's CLI,
capped at ``FRONTRUN_SECONDS`` of search (``total_timeout``) and
``FRONTRUN_WALL`` seconds of wall time.

The cost on the 2 x 1,000 counter (:mod:`bench.counter`, no check): in a child
process, one warm-up call, then ``COUNTER_ROUNDS`` rounds that each time one
call of ``COUNTER_SCHEDULES`` schedules with the detector off and one with it
on (alternating which goes first), default strategy, ``stop_on_failure=False``
so that every schedule runs although each one reports the counter's race. The
cost of a call is the time to the end of its last schedule (from the
``progress`` callback, so that the one-off report of the first failure is left
out) divided by its schedules; the medians over the rounds and their ratio are
reported, with the median of the per-round ratios.

Run ``python -m bench.races`` (about five minutes on a shared 2-core machine;
``--no-frontrun`` leaves the peer out, ``--counter-only`` measures only the
counter); it writes ``bench/races.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
from bench.jobs import run_job
from bench.programs import BenchProgram, catalogue_programs, corpus_programs

__all__ = [
    "BUGGY_BUDGET",
    "COUNTER_ROUNDS",
    "COUNTER_SCHEDULES",
    "FIXED_BUDGET",
    "SEEDS",
    "counter_cost",
    "main",
    "measure",
]

SEEDS = 5
BUGGY_BUDGET = 300
FIXED_BUDGET = 300
FRONTRUN_SECONDS = 30.0
FRONTRUN_WALL = 90.0
COUNTER_SIZE = (2, 1000)
COUNTER_ROUNDS = 7
COUNTER_SCHEDULES = 10
OUT = Path(__file__).with_name("races.md")


def _explore(program: BenchProgram, *, races: bool, check: bool, seed: int, budget: int) -> Any:
    return harness.explore(
        program.setup,
        program.actors,
        program.check if check else None,
        teardown=program.teardown,
        races=races,
        races_ignore=program.races_ignore,
        budget=budget,
        seed=seed,
        shrink_failures=False,
        **program.explore_settings,
    )


def _first(program: BenchProgram, result: Any, races: bool) -> int | None:
    """Schedules to the first detection (1-based), or None."""
    runs = [
        g.first_run + 1
        for g in result.failures
        if program.accepts(g.failure.kind) or (races and g.failure.kind == "race")
    ]
    return min(runs) if runs else None


def _detect(program: BenchProgram, races: bool, check: bool) -> dict[str, Any]:
    found: list[tuple[int, float]] = []
    for seed in range(SEEDS):
        started = time.perf_counter()
        result = _explore(program, races=races, check=check, seed=seed, budget=BUGGY_BUDGET)
        first = _first(program, result, races)
        if first is not None:
            found.append((first, (time.perf_counter() - started) * 1000))
    return {
        "found": len(found),
        "median": statistics.median(f for f, _ in found) if found else None,
        "worst": max(f for f, _ in found) if found else None,
        "median_ms": statistics.median(ms for _, ms in found) if found else None,
        "worst_ms": max(ms for _, ms in found) if found else None,
    }


def _fixed(program: BenchProgram) -> dict[str, Any]:
    cost = {}
    alarms: list[str] = []
    for races in (False, True):
        started = time.perf_counter()
        result = _explore(program, races=races, check=True, seed=0, budget=FIXED_BUDGET)
        cost[races] = (time.perf_counter() - started) * 1000 / max(result.runs, 1)
        if races:
            alarms = [g.failure.message for g in result.failures if g.failure.kind == "race"]
            runs = result.runs
    return {"runs": runs, "alarms": alarms, "off_ms": cost[False], "on_ms": cost[True]}


def _frontrun(program: BenchProgram) -> dict[str, Any]:
    """frontrun's DPOR with error_on_any_race on ``program``, in a child process."""
    budget = BUGGY_BUDGET if program.buggy else FIXED_BUDGET
    spec = {
        "job": "races-frontrun",
        "program": program.id,
        "schedules": budget,
        "seconds": FRONTRUN_SECONDS,
    }
    job = run_job(spec, family="frontrun", wall=FRONTRUN_WALL)
    if job.records:
        attempt: dict[str, Any] = job.records[0]["attempt"]
        return attempt
    reason = "killed at the wall limit" if job.killed else job.stderr_tail.strip()[-200:]
    return {"status": "error", "kind": None, "schedules": 0, "seconds": 0.0, "note": reason}


def counter_cost(
    rounds: int = COUNTER_ROUNDS, schedules: int = COUNTER_SCHEDULES
) -> dict[str, Any]:
    """ms per schedule on the 2 x 1,000 counter with the detector off and on (child side)."""
    from bench.counter import Counter, actors_for

    threads, iterations = COUNTER_SIZE

    def call(races: bool, budget: int) -> dict[str, Any]:
        ends: list[float] = []
        started = time.perf_counter()
        result = harness.explore(
            Counter,
            actors_for(threads, iterations),
            None,
            races=races,
            budget=budget,
            seed=1,
            max_steps=100_000_000,
            stop_on_failure=False,
            shrink_failures=False,
            progress=lambda done, total, elapsed: ends.append(elapsed),
        )
        wall = time.perf_counter() - started
        runs = max(result.runs, 1)
        return {
            "ms": ends[-1] * 1000 / runs if ends else wall * 1000 / runs,
            "wall_ms": wall * 1000 / runs,
            "runs": result.runs,
            "races": sum(1 for g in result.failures if g.failure.kind == "race"),
        }

    call(False, 2)  # warm-up, not timed
    call(True, 2)
    off: list[dict[str, Any]] = []
    on: list[dict[str, Any]] = []
    for index in range(rounds):
        order = (False, True) if index % 2 == 0 else (True, False)
        for races in order:
            (on if races else off).append(call(races, schedules))
    off_ms = statistics.median(c["ms"] for c in off)
    on_ms = statistics.median(c["ms"] for c in on)
    return {
        "threads": threads,
        "iterations": iterations,
        "rounds": rounds,
        "schedules": schedules,
        "off_ms": [round(c["ms"], 3) for c in off],
        "on_ms": [round(c["ms"], 3) for c in on],
        "off_wall_ms": [round(c["wall_ms"], 3) for c in off],
        "on_wall_ms": [round(c["wall_ms"], 3) for c in on],
        "on_reported_race": all(c["races"] for c in on),
        "off_median_ms": round(off_ms, 3),
        "on_median_ms": round(on_ms, 3),
        "ratio": round(on_ms / off_ms, 3),
        "median_round_ratio": round(
            statistics.median(b["ms"] / a["ms"] for a, b in zip(off, on, strict=True)), 3
        ),
        "ratio_range": [
            round(min(b["ms"] / a["ms"] for a, b in zip(off, on, strict=True)), 3),
            round(max(b["ms"] / a["ms"] for a, b in zip(off, on, strict=True)), 3),
        ],
    }


def _counter(rounds: int, schedules: int) -> dict[str, Any]:
    spec = {"job": "races-cost", "rounds": rounds, "schedules": schedules}
    job = run_job(spec, family="ours", wall=600.0)
    if job.records:
        record: dict[str, Any] = job.records[0]
        return record
    reason = "killed at the wall limit" if job.killed else job.stderr_tail.strip()[-300:]
    return {"error": reason}


def measure(
    log: Callable[[str], None] = print,
    *,
    frontrun: bool = True,
    programs_too: bool = True,
    counter_rounds: int = COUNTER_ROUNDS,
    counter_schedules: int = COUNTER_SCHEDULES,
) -> dict[str, Any]:
    # The counter first, in a child process, before this process has run anything.
    counter = _counter(counter_rounds, counter_schedules)
    log(f"counter 2x1000: {counter}")
    buggy: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    peer = programs_too and frontrun and importlib.util.find_spec("frontrun") is not None
    programs = [*corpus_programs(), *catalogue_programs()] if programs_too else []
    for program in programs:
        if program.buggy:
            buggy[program.id] = {
                mode: _detect(program, races, check)
                for mode, races, check in (
                    ("off", False, True),
                    ("on", True, True),
                    ("on, check=None", True, False),
                )
            }
            if peer:
                buggy[program.id]["frontrun"] = _frontrun(program)
        else:
            fixed[program.id] = _fixed(program)
            if peer:
                fixed[program.id]["frontrun"] = _frontrun(program)
        log(program.id)
    return {"buggy": buggy, "fixed": fixed, "counter": counter, "frontrun": peer}


def _cell(d: dict[str, Any]) -> str:
    if not d["found"]:
        return "not found"
    return f"{d['median']:g} / {d['worst']} ({d['median_ms']:.0f} / {d['worst_ms']:.0f} ms)" + (
        "" if d["found"] == SEEDS else f", {d['found']}/{SEEDS} seeds"
    )


def _peer_cell(attempt: dict[str, Any] | None) -> str:
    """frontrun's outcome on one program: schedules (and ms) to its first report."""
    if attempt is None:
        return "not run"
    status = attempt["status"]
    ms = attempt["seconds"] * 1000
    if status in ("found", "other failure", "false alarm"):
        shown = f"{attempt['schedules']} ({ms:.0f} ms), {attempt['kind']}"
        return shown if status != "other failure" else f"{shown} (not its bug)"
    if status in ("missed", "held"):
        return f"none in {attempt['schedules']} ({attempt['note']})"
    return f"{status} after {attempt['schedules']}: {_short(attempt['note'])}"


def _short(note: str) -> str:
    text = note.replace("|", "/")
    if "timed out before all worker threads completed" in text:
        return "a run timed out (timeout_per_run 5 s)"
    return text[:90]


def _counter_lines(counter: dict[str, Any]) -> list[str]:
    if "error" in counter:
        return [f"Not measured: {counter['error']}"]
    return [
        f"{counter['threads']} threads x {counter['iterations']:,} iterations of "
        "`c.value = c.value + 1`, no check, default strategy, seed 1, "
        f"{counter['rounds']} rounds of one call of {counter['schedules']} schedules each "
        "way (alternating which goes first), after a warm-up; time to the end of the last "
        "schedule over the schedules.",
        "",
        "| | median ms/schedule | per round |",
        "|---|---|---|",
        f"| races off | {counter['off_median_ms']:.2f} | "
        + ", ".join(f"{v:.1f}" for v in counter["off_ms"])
        + " |",
        f"| races on | {counter['on_median_ms']:.2f} | "
        + ", ".join(f"{v:.1f}" for v in counter["on_ms"])
        + " |",
        "",
        f"Ratio of the medians: **{counter['ratio']:.2f}x** (median of the per-round ratios "
        f"{counter['median_round_ratio']:.2f}x, range {counter['ratio_range'][0]:.2f}x-"
        f"{counter['ratio_range'][1]:.2f}x); the goal is at most 1.5x. Every schedule with "
        f"the detector on reported the counter's race: {counter['on_reported_race']}.",
    ]


def _python() -> str:
    from harness._gil import free_threaded_build

    return sys.version.split()[0] + ("t" if free_threaded_build() else "")


def render(data: dict[str, Any]) -> str:
    peer = data.get("frontrun", False)
    lines = [
        "# The race detector, measured",
        "",
        f"Generated by `python -m bench.races` (CPython {_python()}). Default "
        f"strategy, seeds 0-{SEEDS - 1}, at most {BUGGY_BUDGET} schedules, no shrinking."
        + (
            " frontrun 0.7: DPOR with `error_on_any_race=True`, one run per program "
            f"(deterministic), same budgets, `total_timeout={FRONTRUN_SECONDS:g}`, its other "
            "settings at their defaults but `reproduce_on_failure=0`."
            if peer
            else ""
        ),
        "",
        "## Cost per schedule on the 2 x 1,000 counter, races on vs off",
        "",
        *_counter_lines(data["counter"]),
        "",
    ]
    if not data["buggy"] and not data["fixed"]:
        return "\n".join(lines) + "\n"
    peer_head = " frontrun dpor, error_on_any_race |" if peer else ""
    lines += [
        "## Schedules to the first detection (median / worst over seeds, and ms)",
        "",
        "| program | races off | races on | races on, check=None |" + peer_head,
        "|---|---|---|---|" + ("---|" if peer else ""),
    ]
    for pid, modes in data["buggy"].items():
        cells = " | ".join(_cell(modes[m]) for m in ("off", "on", "on, check=None"))
        peer_cell = f" {_peer_cell(modes.get('frontrun'))} |" if peer else ""
        lines.append(f"| {pid} | {cells} |" + peer_cell)
    total_alarms = sum(len(f["alarms"]) for f in data["fixed"].values())
    lines += [
        "",
        f"## False alarms on the fixed programs ({FIXED_BUDGET} schedules, seed 0, races on)",
        "",
        f"{total_alarms} race reports on {len(data['fixed'])} fixed programs.",
    ]
    if peer:
        attempts = [f.get("frontrun") or {} for f in data["fixed"].values()]
        alarms = sum(1 for a in attempts if a.get("status") == "false alarm")
        races = sum(1 for a in attempts if a.get("kind") == "race")
        unsure = sum(1 for a in attempts if a.get("status") in ("inconclusive", "error"))
        lines.append(
            f"frontrun (error_on_any_race): {alarms} fixed programs reported ({races} as a "
            f"race), {unsure} inconclusive or failed to run."
        )
    lines += [
        "",
        "| program | schedules | race reports | ms/schedule off | on | ratio |"
        + (" frontrun dpor, error_on_any_race |" if peer else ""),
        "|---|---|---|---|---|---|" + ("---|" if peer else ""),
    ]
    for pid, f in data["fixed"].items():
        shown = "; ".join(f["alarms"]) or "0"
        ratio = f["on_ms"] / f["off_ms"] if f["off_ms"] else float("nan")
        peer_cell = f" {_peer_cell(f.get('frontrun'))} |" if peer else ""
        lines.append(
            f"| {pid} | {f['runs']} | {shown} | {f['off_ms']:.2f} | {f['on_ms']:.2f} "
            f"| {ratio:.2f}x |" + peer_cell
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.races", description=__doc__)
    parser.add_argument("--no-frontrun", action="store_true", help="leave frontrun out")
    parser.add_argument(
        "--counter-only", action="store_true", help="measure only the 2 x 1,000 counter"
    )
    parser.add_argument("--counter-rounds", type=int, default=COUNTER_ROUNDS)
    parser.add_argument("--counter-schedules", type=int, default=COUNTER_SCHEDULES)
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT.name}")
    args = parser.parse_args(argv)
    data = measure(
        lambda text: print(text, file=sys.stderr, flush=True),
        frontrun=not args.no_frontrun,
        programs_too=not args.counter_only,
        counter_rounds=args.counter_rounds,
        counter_schedules=args.counter_schedules,
    )
    args.out.write_text(render(data))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
