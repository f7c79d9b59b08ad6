"""The many-thread shape (issue 15): cost per schedule at 10-100 threads, and time to a bug.

Two measurements, on the ``many_slots`` corpus program (every thread takes one
lock for a short critical section, then bumps its own slot outside it; the
first and the last thread share a slot, so the bug needs exactly those two):

* cost: the median wall time per schedule of the fixed twin at 10, 50 and 100
  threads (``mixed``, every schedule runs to its end; median of ``rounds`` calls);
* find: schedules and seconds until the 100-thread bug is caught, per strategy,
  seed 0, bounded by a schedule budget and a wall-clock cap; and the same on
  every buggy program of the detection corpus, median over seeds 0-4.

``python -m bench.many [--quick] [--strategies pos,pct,mixed] [--baseline TREE] [--json F]``
prints the figures and writes ``bench/sections/many.md`` (BENCHMARKS.md's
section on many threads, wired in ``bench.report.ELSEWHERE``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import harness
from bench.corpus import CorpusProgram, corpus, many_slots

__all__ = ["cost_per_schedule", "find", "main"]

OUT = Path(__file__).with_name("sections") / "many.md"
COST_THREADS = (10, 50, 100)
SEEDS = (0, 1, 2, 3, 4)


class _OutOfTime(Exception):
    pass


def cost_per_schedule(threads: int, schedules: int, rounds: int) -> float:
    """Median milliseconds per schedule of the fixed ``many_slots`` program."""
    fixed = many_slots.make(threads)[1]
    harness.explore(fixed.setup, fixed.actors, fixed.check, budget=1)  # warm-up: imports
    costs = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = harness.explore(
            fixed.setup, fixed.actors, fixed.check, budget=schedules, seed=0, shrink_failures=False
        )
        assert not result.failed, f"{fixed.id} failed:\n{result}"
        costs.append((time.perf_counter() - started) * 1000 / result.runs)
    return statistics.median(costs)


_COST_CHILD = """
import sys, time
import harness
from bench.corpus import many_slots
threads, schedules = int(sys.argv[1]), int(sys.argv[2])
fixed = many_slots.make(threads)[1]
harness.explore(fixed.setup, fixed.actors, fixed.check, budget=1)  # warm-up: imports
started = time.perf_counter()
result = harness.explore(
    fixed.setup, fixed.actors, fixed.check, budget=schedules, seed=0, shrink_failures=False
)
assert not result.failed, str(result)
print((time.perf_counter() - started) * 1000 / result.runs)
"""


def cost_in_child(source: Path, threads: int, schedules: int) -> float:
    """Milliseconds per schedule, measured in a fresh interpreter on the tree ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", _COST_CHILD, str(threads), str(schedules)],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def cost_against(baseline: Path, rounds: int, quick: bool) -> dict[str, dict[int, float]]:
    """Median ms per schedule on ``baseline`` and on this tree, rounds alternating."""
    here = Path(__file__).resolve().parent.parent
    costs: dict[str, dict[int, list[float]]] = {"before": {}, "after": {}}
    for n in COST_THREADS:
        schedules = 2 if quick else max(5, 600 // n)
        for _ in range(rounds):
            for label, tree in (("before", baseline), ("after", here)):
                costs[label].setdefault(n, []).append(cost_in_child(tree, n, schedules))
    return {
        label: {n: statistics.median(values) for n, values in by_n.items()}
        for label, by_n in costs.items()
    }


def find(
    program: CorpusProgram, strategy: str, seed: int, budget: int, seconds: float
) -> dict[str, Any]:
    """Schedules and seconds until ``strategy`` catches ``program`` (or the caps)."""
    started = time.perf_counter()
    seen = 0

    def progress(done: int, total: int | None, elapsed: float) -> None:
        nonlocal seen
        seen = done
        if elapsed > seconds:
            raise _OutOfTime

    try:
        result = harness.explore(
            program.setup,
            program.actors,
            program.check,
            strategy=strategy,
            budget=budget,
            seed=seed,
            shrink_failures=False,
            progress=progress,
        )
        caught = any(g.failure.kind in program.kinds for g in result.failures)
        runs = result.runs
    except _OutOfTime:
        caught, runs = False, seen
    return {
        "strategy": strategy,
        "seed": seed,
        "caught": caught,
        "schedules": runs,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _cell(found: dict[str, Any]) -> str:
    if found["caught"]:
        return f"{found['schedules']:,} ({found['seconds']:.1f} s)"
    return f"not in {found['schedules']:,} ({found['seconds']:.0f} s)"


def _median_cell(rows: list[dict[str, Any]]) -> str:
    caught = sum(r["caught"] for r in rows)
    # A miss counts as its whole budget: the median is then a lower bound.
    schedules = statistics.median(r["schedules"] for r in rows)
    seconds = statistics.median(r["seconds"] for r in rows)
    mark = "" if caught == len(rows) else ">="
    return f"{mark}{schedules:g} ({seconds:.1f} s), {caught}/{len(rows)}"


def measure(args: argparse.Namespace) -> dict[str, Any]:
    strategies = args.strategies.split(",")
    quick = args.quick
    out: dict[str, Any] = {"python": sys.version.split()[0], "strategies": strategies}
    if args.baseline:
        both = cost_against(Path(args.baseline), 1 if quick else args.rounds, quick)
        out["cost"], out["cost_before"] = both["after"], both["before"]
        print("cost before ms/schedule:", {n: round(c, 1) for n, c in both["before"].items()})
    else:
        out["cost"] = {
            n: cost_per_schedule(
                n, max(5, 600 // n) if not quick else 2, 1 if quick else args.rounds
            )
            for n in COST_THREADS
        }
    print("cost ms/schedule:", {n: round(c, 1) for n, c in out["cost"].items()}, flush=True)
    big = many_slots.make(100)[0]
    out["find100"] = []
    for strategy in strategies:
        found = find(big, strategy, 0, args.budget, args.seconds)
        print("many_slots_100:", found, flush=True)
        out["find100"].append(found)
    out["corpus"] = {}
    if not args.no_corpus:
        for program in [p for p in corpus() if p.buggy]:
            row = {}
            for strategy in strategies:
                row[strategy] = [
                    find(program, strategy, seed, args.corpus_budget, args.corpus_seconds)
                    for seed in (SEEDS[:2] if quick else SEEDS)
                ]
            out["corpus"][program.id] = row
            print(program.id, {s: _median_cell(rows) for s, rows in row.items()}, flush=True)
    return out


def _by_threads(costs: dict[Any, float]) -> dict[int, float]:
    return {int(n): c for n, c in costs.items()}  # JSON keys are strings


def markdown(data: dict[str, Any], command: str, before: dict[str, Any] | None) -> str:
    """The section: cost per schedule, the 100-thread bug, the corpus."""
    lines = [
        f"Measured with `{command}` (CPython {data['python']}, 2 cores shared with other "
        "jobs: ratios are what to read). The program is `bench/corpus/many_slots.py`: every "
        "thread takes one lock to count itself in, then bumps its own slot outside the lock; "
        "the first and the last thread share slot 0, so the bug needs exactly those two of "
        "the N threads.",
        "",
    ]
    after = _by_threads(data["cost"])
    was = _by_threads(data.get("cost_before") or (before or {}).get("cost") or {})
    if was:
        source = "the engine before this change" if data.get("cost_before") else "an earlier run"
        lines += [
            f"Cost per schedule of the fixed twin (`mixed`, ms, median of {data['rounds']} calls, "
            f"each in a fresh interpreter, alternating with {source}):",
            "",
            "| threads | before | after | before / after |",
            "|---|---|---|---|",
        ]
        for n, cost in after.items():
            lines.append(f"| {n} | {was[n]:.1f} | {cost:.1f} | {was[n] / cost:.1f}x |")
    else:
        lines += ["Cost per schedule of the fixed twin (`mixed`, ms):", ""]
        lines += ["| threads | ms |", "|---|---|"]
        lines += [f"| {n} | {cost:.1f} |" for n, cost in after.items()]
    lines += [
        "",
        f"The 100-thread bug, seed 0: schedules (seconds) until it is caught, bounded by "
        f"{data['budget']:,} schedules or {data['seconds']:g} s:",
        "",
    ]
    was_by = {f["strategy"]: f for f in (before or {}).get("find100", [])}
    if was_by:
        lines += ["| strategy | before | after |", "|---|---|---|"]
    else:
        lines += ["| strategy | caught |", "|---|---|"]
    for found in data["find100"]:
        cells = [_cell(found)]
        if was_by:
            old = was_by.get(found["strategy"])
            cells.insert(0, _cell(old) if old else "(no such strategy)")
        lines.append(f"| {found['strategy']} | " + " | ".join(cells) + " |")
    ran = {f["strategy"] for f in data["find100"]}
    for strategy, old in was_by.items():
        if strategy not in ran:
            lines.append(f"| {strategy} | {_cell(old)} | (not run) |")
    lines += [
        "",
        "Before: the engine at the commit this work started from, measured in the same run "
        "(`--baseline`: a copy of that tree with `bench/corpus/many_slots.py` added, e.g. "
        "`git archive baa24aa | tar -x -C /tmp/base && cp bench/corpus/many_slots.py "
        "/tmp/base/bench/corpus/`); the before column of the 100-thread search comes from "
        "an earlier run of the same command on that tree (`--before`, its `--json`). The "
        "same seed gives the same schedules before and after (the change is in cost only), "
        "so only the seconds move.",
    ]
    if data["corpus"]:
        strategies = data["strategies"]
        lines += [
            "",
            "Buggy corpus programs: median schedules (seconds) until caught over seeds "
            f"{SEEDS[0]}-{SEEDS[-1]}, and on how many seeds it was caught (a miss counts as "
            f"its whole budget, {data['corpus_budget']:,} schedules or "
            f"{data['corpus_seconds']:g} s, so `>=` marks a lower bound):",
            "",
            "| program | " + " | ".join(strategies) + " |",
            "|---|" + "---|" * len(strategies),
        ]
        for program, row in data["corpus"].items():
            lines.append(
                f"| {program} | " + " | ".join(_median_cell(row[s]) for s in strategies) + " |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.many", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--strategies", default="pos,pct,mixed")
    parser.add_argument("--budget", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--corpus-budget", type=int, default=1000)
    parser.add_argument("--corpus-seconds", type=float, default=60.0)
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--rounds", type=int, default=5, help="cost: calls per size (median)")
    parser.add_argument("--json", help="also store the figures here")
    parser.add_argument("--before", help="figures of an earlier run (--json), shown side by side")
    parser.add_argument(
        "--baseline",
        help="a source tree of the engine before the change (with bench/corpus/many_slots.py "
        "copied in): its cost per schedule is measured alternating with this tree's",
    )
    parser.add_argument("--no-markdown", action="store_true")
    parser.add_argument(
        "--render", help="only write the section from the figures of an earlier run (--json)"
    )
    args = parser.parse_args(argv)
    if args.render:
        stored = json.loads(Path(args.render).read_text())
        before = json.loads(Path(args.before).read_text()) if args.before else None
        OUT.write_text(markdown(stored, stored["command"], before))
        return 0
    data = measure(args)
    data["budget"], data["seconds"], data["rounds"] = args.budget, args.seconds, args.rounds
    data["corpus_budget"], data["corpus_seconds"] = args.corpus_budget, args.corpus_seconds
    data["command"] = " ".join(
        ["python -m bench.many", *(argv if argv is not None else sys.argv[1:])]
    )
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1))
    if not args.no_markdown:
        before = json.loads(Path(args.before).read_text()) if args.before else None
        OUT.write_text(markdown(data, data["command"], before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
