"""Where our time per schedule goes: a py-spy profile of every thread of an exploration.

py-spy samples all threads of a child process from outside (pyinstrument sees
only the thread that started it, and the work of an exploration happens in the
actor threads). The child explores the cost program (2 threads x 1000
increments) with mixed (the default), pct and random, and the 100-thread
two-stage program with mixed; the samples taken while exploring (import and start-up excluded) are
grouped by the function on top of the stack (self time) and by part of the
engine. Only the thread holding the GIL is sampled (``--gil``): that is where
the interpreter's time goes, one thread at a time; wall time lost between two
threads (a hand-off waking the next thread) shows up in the cost section's rungs
instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.jobs import ROOT

__all__ = ["categorise", "profile_target", "run"]

#: (part of the engine, test on a py-spy frame "function (path:line)"), first match wins.
_PARTS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("program under test", lambda f: "bench/counter.py" in f or "bench/corpus/" in f),
    ("hand-offs (baton release/acquire)", lambda f: f.startswith("Runtime._handoff ")),
    ("tracing (settrace / sys.monitoring callbacks)", lambda f: "harness/_tracing/" in f),
    ("strategy (choose)", lambda f: "harness/explore/strategies/" in f),
    ("runtime bookkeeping (decide, options, steps)", lambda f: "harness/explore/scheduler.py" in f),
    ("instrumented primitives, patches", lambda f: "harness/sync/" in f),
    ("thread start, join, bootstrap", lambda f: "threading.py" in f),
    ("stress engine: gate, watchdog, judging", lambda f: "harness/stress.py" in f),
    ("detectors (lock order, leaks, futures)", lambda f: "harness/detect/" in f),
    ("engine loop, setup, check", lambda f: "harness/" in f),
)


def categorise(frame: str) -> str:
    for part, test in _PARTS:
        if test(frame):
            return part
    return "other"


def profile_target(spec: dict[str, Any]) -> dict[str, Any]:
    """Child side: explore the cost program (or a corpus program); py-spy watches."""
    import harness
    from bench.counter import Counter, actors_for
    from bench.programs import get

    if spec.get("engine") == "stress":
        started = time.perf_counter()
        stressed = harness.stress(
            object, lambda state: [_nothing], threads=spec["threads"], runs=spec["runs"], noise=0.0
        )
        seconds = time.perf_counter() - started
        per_second = spec["threads"] * stressed.runs / seconds
        return {"runs": stressed.runs, "threads_per_second": round(per_second, 1)}
    if "program" in spec:
        program = get(spec["program"])
        setup, actors, check = program.setup, program.actors, program.check
    else:
        setup, actors, check = Counter, actors_for(spec["threads"], spec["iterations"]), None
    started = time.perf_counter()
    result = harness.explore(
        setup,
        actors,
        check,
        strategy=spec["strategy"],
        budget=spec["schedules"],
        seed=1,
        max_steps=100_000_000,
        stop_on_failure=False,
        shrink_failures=False,
    )
    seconds = time.perf_counter() - started
    return {"schedules": result.runs, "ms_per_schedule": round(seconds / result.runs * 1000, 3)}


def _nothing() -> None:
    pass


def _in_exploration(stack: list[str]) -> bool:
    """Samples taken inside an engine call (imports and start-up excluded)."""
    return any(
        f.startswith(
            ("explore (harness/explore/engine.py", "stress (harness/stress.py", "Runtime.")
        )
        or "_worker (harness/stress.py" in f
        for f in stack
    )


def _aggregate(raw: str, top: int) -> dict[str, Any]:
    own: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        stack = stack_text.split(";")
        if not _in_exploration(stack):
            continue
        count = int(count_text)
        total += count
        # The thread's name is the first frame py-spy writes when it has one.
        leaf = stack[-1]
        own[leaf] += count
        parts[categorise(leaf)] += count
    return {
        "samples": total,
        "parts": [{"part": part, "share": round(n / total, 4)} for part, n in parts.most_common()]
        if total
        else [],
        "top": [
            {"function": frame, "share": round(n / total, 4)} for frame, n in own.most_common(top)
        ]
        if total
        else [],
    }


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


def run(quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    py_spy = _py_spy()
    if py_spy is None:
        return {"error": "py-spy is not installed"}
    out: dict[str, Any] = {"tool": "py-spy record --rate 1000 --gil --format raw", "profiles": []}
    targets: list[dict[str, Any]] = [
        {"strategy": s, "threads": 2, "iterations": 1000, "schedules": 40 if quick else 150}
        for s in ("mixed", "pct", "random")
    ]
    # How the engine's own work grows with the thread count: 100 threads.
    targets.append(
        {
            "strategy": "mixed",
            "program": "corpus/twostage_100:buggy",
            "schedules": 5 if quick else 20,
        }
    )
    # Where the stress engine's time per run goes, with threads that do nothing.
    targets.append(
        {"strategy": "stress", "engine": "stress", "threads": 100, "runs": 10 if quick else 40}
    )
    for target in targets:
        strategy = target["strategy"]
        spec = {"job": "profile-target", **target}
        label = target.get("program", "counter 2 x 1,000")
        if target.get("engine") == "stress":
            label = f"harness.stress, {target['threads']} threads doing nothing"
        with tempfile.TemporaryDirectory() as tmp:
            raw_path = Path(tmp) / "profile.txt"
            command = [
                py_spy,
                "record",
                "--rate",
                "1000",
                "--gil",
                "--format",
                "raw",
                "--output",
                str(raw_path),
                "--",
                sys.executable,
                "-m",
                "bench.cell",
                json.dumps(spec),
            ]
            try:
                done = subprocess.run(
                    command, cwd=ROOT, capture_output=True, text=True, timeout=600
                )
            except subprocess.TimeoutExpired:
                out["profiles"].append(
                    {"strategy": strategy, "program": label, "error": "py-spy timed out"}
                )
                continue
            if done.returncode != 0 or not raw_path.exists():
                tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
                out["profiles"].append(
                    {"strategy": strategy, "program": label, "error": tail[0][:200]}
                )
                log(f"profile {strategy}: py-spy failed: {tail[0][:200]}")
                continue
            summary = _aggregate(raw_path.read_text(), top=12)
        measured = [line for line in done.stdout.splitlines() if line.startswith("@@bench@@ ")]
        if measured:
            summary.update(json.loads(measured[-1].split(" ", 1)[1]))
        summary["strategy"] = strategy
        summary["program"] = label
        out["profiles"].append(summary)
        parts = ", ".join(f"{p['part']} {p['share']:.0%}" for p in summary["parts"][:4])
        log(f"profile {label} {strategy}: {parts}")
    return out
