"""Our engines as benchmark tools: ``harness.explore`` per strategy, ``harness.stress``.

Detection is timed from the engine's own clock: the ``progress`` callback is
called after every schedule (or run) with the seconds elapsed, so the time to the
first detection excludes what comes after it (the replay that records the
failing schedule for the report). ``explore`` has no time budget of its own, so
the callback raises :class:`OutOfTime` once the bound is passed; the engine
restores its patches on the way out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import harness
from bench.programs import BenchProgram
from bench.tools.base import MISSED, Attempt, Bounds, judge
from harness.explore.records import SOFT_KINDS

__all__ = ["ATTEMPTS", "DEFAULT_NOISE", "HIGH_NOISE", "STRESS_TIMEOUT", "OutOfTime"]

#: The one failure kind after which exploration keeps searching (a lock-order warning).
(SOFT_KIND,) = SOFT_KINDS
#: The stress engine's default noise, and the one the catalogue tunes short
#: programs with (scenarios/thevar.py).
DEFAULT_NOISE = 0.001
HIGH_NOISE = 0.05
#: Seconds before a stress run counts as hung. The corpus programs run in
#: milliseconds; the engine's default (10 s) would make every hang cost 10 s.
STRESS_TIMEOUT = 2.0


class OutOfTime(Exception):
    """Raised from the progress callback when the time bound is passed."""


class _Clock:
    """Seconds elapsed after each schedule, from the engine's progress calls."""

    def __init__(self, bound: float) -> None:
        self.bound = bound
        self.elapsed: list[float] = []

    def __call__(self, done: int, planned: int | None, elapsed: float) -> None:
        self.elapsed.append(elapsed)
        if elapsed > self.bound:
            raise OutOfTime

    def at(self, index: int) -> float:
        return self.elapsed[index] if index < len(self.elapsed) else self.elapsed[-1]


def _first_accepted(program: BenchProgram, result: harness.Result) -> tuple[str | None, int | None]:
    """The kind and schedule index of the earliest failure that catches the bug."""
    best: tuple[str | None, int | None] = (None, None)
    for group in result.failures:
        kind = group.failure.kind
        if program.accepts(kind) and (best[1] is None or group.first_run < best[1]):
            best = (kind, group.first_run)
    soft = _soft_failure_run(result)
    if soft is not None and program.accepts(SOFT_KIND) and (best[1] is None or soft < best[1]):
        best = (SOFT_KIND, soft)
    return best


def _soft_failure_run(result: harness.Result) -> int | None:
    """The first schedule that failed with only a lock-order warning, if any.

    Exploration reports the failures of one execution, but goes on searching
    after a lock-order warning (the only kind that does not stop it), so an
    earlier failing schedule than the reported one can only be such a warning.
    """
    if result.engine != "explore" or not result.failing_runs:
        return None
    reported = min((g.first_run for g in result.failures), default=None)
    first = result.failing_runs[0]
    if reported is None or first < reported:
        return first
    return None


def _finish(
    program: BenchProgram,
    seed: int,
    result: harness.Result,
    clock: _Clock,
    bounds: Bounds,
    cut: bool = False,
) -> Attempt:
    """The attempt's outcome; ``cut``: the search stopped at the time bound."""
    kind, index = _first_accepted(program, result)
    if program.buggy and index is not None:
        return Attempt(seed, judge(True, True, True), kind, index + 1, clock.at(index))
    first = result.failures[0].failure if result.failures else None
    status = judge(program.buggy, False, first is not None)
    spent = clock.elapsed[-1] if clock.elapsed else result.duration
    if first is not None:
        run = result.failures[0].first_run
        note = f"{first.kind}: {first.message}"[:200]
        return Attempt(seed, status, first.kind, run + 1, clock.at(run), note)
    note = "bound reached" if result.runs >= bounds.schedules else "search exhausted"
    if "verified" in result.sections:
        note = str(result.sections["verified"])
    if cut:
        note = f"time bound ({bounds.seconds:g} s)"
    return Attempt(seed, status, None, result.runs, spent, note)


def _explore(strategy: str) -> Callable[[BenchProgram, int, Bounds], Attempt]:
    def attempt(program: BenchProgram, seed: int, bounds: Bounds) -> Attempt:
        clock = _Clock(bounds.seconds)

        def _run(budget: int, progress: Callable[..., None] | None = None) -> harness.Result:
            return harness.explore(
                program.setup,
                program.actors,
                program.check,
                teardown=program.teardown,
                strategy=strategy,
                budget=budget,
                seed=seed,
                progress=progress,
                shrink_failures=False,
                **program.explore_settings,
            )

        started = time.perf_counter()
        try:
            result = _run(bounds.schedules, clock)
        except OutOfTime:
            spent = time.perf_counter() - started
            if program.accepts(SOFT_KIND) or not program.buggy:
                # The call was cut short, and with it the report of any
                # lock-order warning seen on the way: the same seed replays
                # the same schedules, so run exactly those again, untimed.
                replayed = _run(len(clock.elapsed))
                return _finish(program, seed, replayed, clock, bounds, cut=True)
            return Attempt(
                seed, MISSED, None, len(clock.elapsed), spent, f"time bound ({bounds.seconds:g} s)"
            )
        return _finish(program, seed, result, clock, bounds)

    return attempt


def _stress(noise: float) -> Callable[[BenchProgram, int, Bounds], Attempt]:
    def attempt(program: BenchProgram, seed: int, bounds: Bounds) -> Attempt:
        clock = _Clock(float("inf"))  # stress bounds itself with seconds=
        result = harness.stress(
            program.setup,
            program.actors,
            program.check,
            teardown=program.teardown,
            runs=bounds.schedules,
            seconds=bounds.seconds,
            noise=noise,
            seed=seed,
            timeout=STRESS_TIMEOUT,
            stop_on_failure=True,
            progress=clock,
        )
        return _finish(program, seed, result, clock, bounds)

    return attempt


ATTEMPTS: dict[str, Callable[[BenchProgram, int, Bounds], Any]] = {
    "explore-mixed": _explore("mixed"),
    "explore-pct": _explore("pct"),
    "explore-random": _explore("random"),
    "explore-dfs": _explore("dfs"),
    "stress": _stress(0.0),
    "stress-noise": _stress(DEFAULT_NOISE),
    "stress-noise-high": _stress(HIGH_NOISE),
}
