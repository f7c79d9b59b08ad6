"""DPOR against bounded DFS and frontrun: schedules and seconds to exhaustion, schedules to a bug.

Runs every program of ``bench.programs`` (the catalogue variants the explorer
runs, and the corpus) under ``dpor`` (unbounded), ``dpor --bound 2`` and ``dfs
--bound 2``, and under frontrun 0.7's DPOR (``frontrun.explore(strategy="dpor")``
with its defaults, preemption bound 2; see ``bench/tools/frontrun_adapter.py``)
when frontrun is installed. On a fixed program it reports the schedules and
seconds each needs to exhaust its space (or that the budget ran out first); on
a buggy one, the schedules until the first detection. frontrun never claims
exhaustion for threads (its ``result.exhausted`` stays unset), so its column
gives the executions it ran before its search ended, or the budget.

Every search runs in a child process of its own (``bench.jobs``), killed at a
wall-clock cap (``--cap`` seconds, default 300; frontrun also gets the cap as
its ``total_timeout``), so that one hung or runaway search cannot stop the
bench. Writes ``bench/dpor.md`` and the raw records to ``bench/dpor.json``::

    python -m bench.dpor [--budget N] [--cap SECONDS] [--only SUB[,SUB...]] [--no-frontrun]
    python -m bench.dpor --render-only   # bench/dpor.md again from bench/dpor.json
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.jobs import run_job
from bench.programs import BenchProgram, catalogue_programs, corpus_programs

__all__ = ["CONFIGS", "FRONTRUN", "main", "measure"]

#: (label, strategy, bound)
CONFIGS: tuple[tuple[str, str, int | None], ...] = (
    ("dpor", "dpor", None),
    ("dpor b2", "dpor", 2),
    ("dfs b2", "dfs", 2),
)
#: The label of frontrun's column.
FRONTRUN = "frontrun dpor"
OUT = Path(__file__).with_name("dpor.md")
RAW = Path(__file__).with_name("dpor.json")


def measure(program: BenchProgram, strategy: str, bound: int | None, budget: int) -> dict[str, Any]:
    """One search of ``program``: runs, seconds, exhausted, caught (in the child)."""
    import harness

    settings = {k: v for k, v in program.explore_settings.items() if k != "bound"}
    started = time.perf_counter()
    result = harness.explore(
        program.setup,
        program.actors,
        program.check,
        teardown=program.teardown,
        threads=program.threads,
        strategy=strategy,
        bound=bound,
        budget=budget,
        shrink_failures=False,
        **settings,
    )
    seconds = time.perf_counter() - started
    kinds = [g.failure.kind for g in result.failures]
    return {
        "runs": result.runs,
        "seconds": seconds,
        "verified": "verified" in result.sections,
        "caught": any(program.accepts(k) for k in kinds),
        "first": (result.failing_runs[0] + 1) if result.failing_runs else None,
        "kinds": kinds,
    }


def measure_job(spec: dict[str, Any]) -> dict[str, Any]:
    """Child side of a ``dpor`` job (``bench.cell``): one configuration on one program."""
    from bench.programs import get

    return measure(get(spec["program"]), spec["strategy"], spec["bound"], spec["budget"])


# -- in the parent ----------------------------------------------------------------


def _ours(program: BenchProgram, strategy: str, bound: int | None, budget: int, cap: float) -> Any:
    spec = {
        "job": "dpor",
        "program": program.id,
        "strategy": strategy,
        "bound": bound,
        "budget": budget,
    }
    job = run_job(spec, family="ours", wall=cap)
    if job.records:
        return job.records[0]
    if job.killed:
        return {"killed": cap}
    return {"error": job.stderr_tail.strip().splitlines()[-1:] or [f"exit {job.returncode}"]}


def _frontrun(program: BenchProgram, budget: int, cap: float) -> dict[str, Any]:
    spec = {
        "job": "detect",
        "program": program.id,
        "tools": ["frontrun-dpor"],
        "seeds": {"frontrun-dpor": [0]},
        "schedules": budget,
        "seconds": cap,
    }
    # frontrun stops itself at total_timeout=cap; the wall limit is for a hang.
    job = run_job(spec, family="frontrun", wall=cap + 60.0)
    if job.records:
        attempt: dict[str, Any] = job.records[0]["attempt"]
        return attempt
    if job.killed:
        return {"killed": cap + 60.0}
    return {"error": job.stderr_tail.strip().splitlines()[-1:] or [f"exit {job.returncode}"]}


def _cell(m: dict[str, Any], buggy: bool) -> str:
    if "killed" in m:
        return f"killed at the {m['killed']:.0f}s cap"
    if "error" in m:
        return f"error: {' '.join(m['error'])[:80]}"
    if buggy:
        return f"{m['first']}" if m["caught"] else f"lost ({m['runs']:,})"
    if m["verified"]:
        return f"{m['runs']:,} ({m['seconds']:.1f}s)"
    if m["kinds"]:
        return f"failed: {m['kinds'][0]}"
    return f">{m['runs']:,} ({m['seconds']:.1f}s, not exhausted)"


def _frontrun_cell(a: dict[str, Any], budget: int, cap: float) -> str:
    if "killed" in a:
        return f"killed at the {a['killed']:.0f}s wall limit"
    if "error" in a:
        return f"error: {' '.join(a['error'])[:80]}"
    n, s, status = a["schedules"], a["seconds"], a["status"]
    if status == "found":
        return f"{n:,} ({s:.1f}s)"
    if status == "held":
        if s >= cap:
            return f"{n:,} ({s:.1f}s, stopped at the time cap)"
        if n >= budget:
            return f"{n:,} ({s:.1f}s, budget)"
        return f"{n:,} ({s:.1f}s)"
    if status == "missed":
        return f"missed ({n:,}, {s:.1f}s)"
    if status in ("other failure", "false alarm"):
        return f"{status}: {a['kind']} at {n:,}"
    note = str(a.get("note", "")).split(". ")[0].removeprefix("DPOR ")
    return f"{status}: {note[:90]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dpor")
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--cap", type=float, default=300.0, help="seconds per search")
    parser.add_argument("--only", default="", help="comma-separated substrings of program ids")
    parser.add_argument("--no-frontrun", action="store_true")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite bench/dpor.md from bench/dpor.json"
    )
    args = parser.parse_args(argv)
    if args.render_only:
        OUT.write_text(render(json.loads(RAW.read_text())))
        return 0
    only = [s for s in args.only.split(",") if s] or [""]
    programs = [p for p in catalogue_programs() + corpus_programs() if any(s in p.id for s in only)]
    with_frontrun = not args.no_frontrun and importlib.util.find_spec("frontrun") is not None
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for program in programs:
        found = [_ours(program, s, b, args.budget, args.cap) for _, s, b in CONFIGS]
        peer = _frontrun(program, args.budget, args.cap) if with_frontrun else None
        rows.append(
            {"program": program.id, "buggy": program.buggy, "ours": found, "frontrun": peer}
        )
        cells = [_cell(m, program.buggy) for m in found]
        if peer is not None:
            cells.append(_frontrun_cell(peer, args.budget, args.cap))
        print(f"[{time.perf_counter() - started:7.1f}s]", program.id, *cells, sep=" | ", flush=True)
    elapsed = time.perf_counter() - started
    command = "python -m bench.dpor " + " ".join(argv if argv is not None else sys.argv[1:])
    python = f"{sys.implementation.name} {sys.version.split()[0]}"
    if args.only:
        # A partial run must not replace the stored full one.
        print("\n".join(_summary(rows, args.budget, args.cap)))
        return 0
    raw = {
        "command": command.strip(),
        "date": started_at,
        "python": python,
        "seconds": round(elapsed, 1),
        "budget": args.budget,
        "cap": args.cap,
        "rows": rows,
    }
    RAW.write_text(json.dumps(raw, indent=1) + "\n")
    OUT.write_text(render(raw))
    print("\n".join(_summary(rows, args.budget, args.cap)))
    return 0


def render(raw: dict[str, Any]) -> str:
    """``bench/dpor.md`` from a run's raw records (``bench/dpor.json``)."""
    rows, budget, cap = raw["rows"], raw["budget"], raw["cap"]
    with_frontrun = any(row["frontrun"] is not None for row in rows)
    labels = [label for label, _, _ in CONFIGS] + ([FRONTRUN] if with_frontrun else [])
    lines = [
        "# DPOR against bounded DFS and frontrun",
        "",
        f"`{raw['command']}` ({raw['python']}, {raw['date']}, {raw['seconds'] / 60:.0f} min). "
        "Fixed programs: schedules (seconds) to exhaust the space; `>N` when the budget ran "
        "out first. Buggy programs: schedules until the first detection; `lost` when the "
        f"search ended without it. Each search ran in a child process killed at a {cap:.0f}s "
        "cap. frontrun dpor is frontrun 0.7's DPOR (preemption bound 2, its default): on a "
        "fixed program the executions it ran before its search ended (it never claims "
        "exhaustion for threads), on a buggy one the executions (seconds) to the first "
        "detection.",
        "",
        "| program | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for row in rows:
        buggy = row["buggy"]
        cells = [_cell(m, buggy) for m in row["ours"]]
        if row["frontrun"] is not None:
            cells.append(_frontrun_cell(row["frontrun"], budget, cap))
        lines.append(f"| {row['program']}{'' if buggy else ' (fixed)'} | {' | '.join(cells)} |")
    lines += ["", *_summary(rows, budget, cap)]
    return "\n".join(lines) + "\n"


def _ok(m: dict[str, Any]) -> bool:
    return "killed" not in m and "error" not in m


def _summary(rows: list[dict[str, Any]], budget: int, cap: float) -> list[str]:
    fixed = [r for r in rows if not r["buggy"]]
    both = [
        r["ours"]
        for r in fixed
        if all(_ok(m) for m in r["ours"][1:])
        and r["ours"][1]["verified"]
        and r["ours"][2]["verified"]
    ]
    ratios = [f[1]["runs"] / f[2]["runs"] for f in both]
    exhausted = [r["program"] for r in fixed if _ok(r["ours"][0]) and r["ours"][0]["verified"]]
    not_exhausted = [r["program"] for r in fixed if r["program"] not in exhausted]
    buggy = [r for r in rows if r["buggy"]]

    def caught(m: dict[str, Any]) -> bool:
        return _ok(m) and bool(m["caught"])

    lost = [
        r["program"]
        for r in buggy
        if caught(r["ours"][2]) and not (caught(r["ours"][0]) and caught(r["ours"][1]))
    ]
    median = f"{statistics.median(ratios):.3f}" if ratios else "n/a"
    out = [
        f"- fixed programs: {len(fixed)}; unbounded dpor exhausted {len(exhausted)} of them"
        + (f" (not: {', '.join(not_exhausted)})" if not_exhausted else ""),
        f"- dpor b2 / dfs b2 schedules, median over the {len(both)} fixed programs both "
        f"exhaust: {median}",
        f"- buggy programs: {len(buggy)}; caught by dfs b2 but lost by a dpor run: "
        f"{', '.join(lost) if lost else 'none'}",
    ]
    peers = [r for r in rows if r["frontrun"] is not None]
    if peers:
        fixed_peer = [r["frontrun"] for r in peers if not r["buggy"]]
        held = [a for a in fixed_peer if a.get("status") == "held"]
        ended = [a for a in held if a["schedules"] < budget and a["seconds"] < cap]
        alarms = [
            r["program"] for r in peers if not r["buggy"] and r["frontrun"].get("status") != "held"
        ]
        found = [r for r in peers if r["buggy"] and r["frontrun"].get("status") == "found"]
        not_found = [
            r["program"] for r in peers if r["buggy"] and r["frontrun"].get("status") != "found"
        ]
        dfs_only = [
            r["program"]
            for r in peers
            if r["buggy"] and caught(r["ours"][2]) and r["frontrun"].get("status") != "found"
        ]
        executions = [a["schedules"] for a in ended]
        out += [
            f"- frontrun dpor, fixed programs: {len(held)} of {len(fixed_peer)} held, "
            f"{len(ended)} of them with its search ending before the budget and the cap "
            f"(after a median of {statistics.median(executions) if executions else 'n/a'} "
            "executions)"
            + (f"; no verdict or a failure on: {', '.join(alarms)}" if alarms else ""),
            f"- frontrun dpor, buggy programs: found {len(found)} of "
            f"{len(found) + len(not_found)}"
            + (f"; not found: {', '.join(not_found)}" if not_found else "")
            + (f" (of which dfs b2 caught: {', '.join(dfs_only)})" if dfs_only else ""),
        ]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
