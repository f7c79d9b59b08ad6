"""The tools the detection benchmark compares, behind one call shape.

Every tool is run as ``attempt(program, seed, bounds) -> Attempt``: search the
program for a failure until one of an accepted kind is found or a bound (on
schedules or runs, and on seconds) is reached, and say how many schedules and
how many seconds it took. Ours: the exploration engine with each strategy
(mixed, the engine's default; pct; random; bounded dfs), the stress engine
without and with noise. Peers: frontrun 0.7 (random and DPOR) and
pytest-run-parallel (plain stress). Peers are imported only when their tool runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.programs import BenchProgram
from bench.tools.base import Attempt, Bounds

__all__ = ["TOOLS", "Attempt", "Bounds", "Tool", "tool"]

AttemptFn = Callable[[BenchProgram, int, Bounds], Attempt]


@dataclass(frozen=True)
class Tool:
    name: str
    #: "ours" or "frontrun": which child process runs it (frontrun's starts
    #: under frontrun's CLI).
    family: str
    #: Whether the seed changes what the tool does (else one attempt is enough).
    seeded: bool
    #: Whether runs of the same seed can differ (real threads, real time).
    deterministic: bool
    label: str
    attempt: AttemptFn


def _ours(name: str) -> AttemptFn:
    def attempt(program: BenchProgram, seed: int, bounds: Bounds) -> Attempt:
        from bench.tools import ours

        found: Attempt = ours.ATTEMPTS[name](program, seed, bounds)
        return found

    return attempt


def _frontrun(strategy: str) -> AttemptFn:
    def attempt(program: BenchProgram, seed: int, bounds: Bounds) -> Attempt:
        from bench.tools import frontrun_adapter

        return frontrun_adapter.attempt(program, strategy, seed, bounds)

    return attempt


def _run_parallel(program: BenchProgram, seed: int, bounds: Bounds) -> Attempt:
    from bench.tools import run_parallel

    return run_parallel.attempt(program, seed, bounds)


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "explore-mixed", "ours", True, True, "explore mixed (default)", _ours("explore-mixed")
        ),
        Tool("explore-pct", "ours", True, True, "explore pct", _ours("explore-pct")),
        Tool("explore-random", "ours", True, True, "explore random", _ours("explore-random")),
        Tool("explore-dfs", "ours", False, True, "explore dfs (bound 2)", _ours("explore-dfs")),
        Tool("stress", "ours", True, False, "stress, no noise", _ours("stress")),
        Tool(
            "stress-noise",
            "ours",
            True,
            False,
            "stress, default noise",
            _ours("stress-noise"),
        ),
        Tool(
            "stress-noise-high",
            "ours",
            True,
            False,
            "stress, noise 0.05",
            _ours("stress-noise-high"),
        ),
        # In our tools' process, after them: a run it leaves hung is a daemon
        # thread that nothing of ours waits for.
        Tool("run-parallel", "ours", False, False, "pytest-run-parallel", _run_parallel),
        Tool("frontrun-random", "frontrun", True, True, "frontrun random", _frontrun("random")),
        Tool("frontrun-dpor", "frontrun", False, True, "frontrun dpor", _frontrun("dpor")),
    )
}


def tool(name: str) -> Tool:
    try:
        return TOOLS[name]
    except KeyError:
        raise KeyError(f"unknown tool {name!r}; expected one of {', '.join(TOOLS)}") from None
