"""frontrun 0.7 as a benchmark tool: ``frontrun.explore`` with its random and DPOR strategies.

frontrun passes the shared state to each worker (``worker(state)``) and judges
the end with ``invariant(state) -> bool``; our programs return zero-argument
actors from ``actors(state)``. The adapter's setup builds the state and its
actors together, each worker runs its own actor, and the invariant runs the
program's check (an ``AssertionError`` or ``False`` is a violation, as frontrun
itself treats them) and then its teardown.

Settings are frontrun's defaults (preemption bound 2, 5 s deadlock and per-run
timeouts) except: ``reproduce_on_failure=0``, so that the time to the first
detection is not followed by ten replays (our engine's replay is excluded the same
way), ``total_timeout`` set to the time bound, and, for the random strategy, a
``max_ops`` large enough for the program (see :func:`calibrate_max_ops`).

frontrun's random strategy refuses to run outside its CLI (``frontrun python
...``), which the benchmark uses to start every frontrun process.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from collections.abc import Callable
from typing import Any

from bench.programs import BenchProgram
from bench.tools.base import ERROR, INCONCLUSIVE, Attempt, Bounds, judge

__all__ = ["MAX_OPS_LADDER", "attempt", "calibrate_max_ops", "frontrun_kind", "race_attempt"]

#: frontrun's default ``max_ops`` first, then larger ones: the first that lets a
#: schedule run to its end is used.
MAX_OPS_LADDER = (300, 3_000, 30_000, 300_000)

_max_ops_cache: dict[str, int] = {}


def _frontrun() -> Any:
    return importlib.import_module("frontrun")  # installed by the bench session only


Workers = list[Callable[[Any], None]]


def _workers_for(program: BenchProgram) -> tuple[Callable[[], Any], Workers, int]:
    """frontrun's setup and workers for one of our programs."""

    def setup() -> tuple[Any, list[Callable[[], object]]]:
        state = program.setup()
        return state, list(program.actors(state))

    probe_state, probe_actors = setup()
    count = len(probe_actors)
    if program.teardown is not None:
        program.teardown(probe_state)

    def run_actor(index: int, pair: tuple[Any, list[Callable[[], object]]]) -> None:
        pair[1][index]()

    workers: Workers = [functools.partial(run_actor, i) for i in range(count)]
    return setup, workers, count


def _invariant_for(program: BenchProgram) -> Callable[[Any], bool]:
    def invariant(pair: tuple[Any, list[Callable[[], object]]]) -> bool:
        state = pair[0]
        try:
            if program.check is None:
                return True
            return program.check(state) is not False
        finally:
            if program.teardown is not None:
                program.teardown(state)

    return invariant


def frontrun_kind(explanation: str | None) -> str:
    """Our failure kind for a frontrun explanation."""
    text = (explanation or "").lstrip()
    if text.startswith("Unsynchronized race"):  # error_on_any_race
        return "race"
    if text.startswith("Deadlock"):
        return "deadlock"
    if text.startswith("Worker crash"):
        return "exception"
    return "assert"


def calibrate_max_ops(program: BenchProgram) -> int:
    """The smallest ``max_ops`` of the ladder with which one random schedule completes.

    frontrun's random strategy draws a schedule of at most ``max_ops`` turns and
    calls the attempt inconclusive when the program needs more. Calibration runs
    the program with an always-true invariant (and is not timed); a program that
    never completes (it deadlocks) keeps the default.
    """
    cached = _max_ops_cache.get(program.id)
    if cached is not None:
        return cached
    frontrun = _frontrun()
    setup, workers, _ = _workers_for(program)
    chosen = MAX_OPS_LADDER[0]
    for max_ops in MAX_OPS_LADDER:
        try:
            result = frontrun.explore(
                setup=setup,
                workers=workers,
                invariant=lambda pair: True,
                strategy="random",
                max_attempts=3,
                max_ops=max_ops,
                seed=0,
                reproduce_on_failure=0,
                total_timeout=30.0,
            )
        except Exception:
            break
        reason = result.inconclusive_reason or ""
        if result.property_holds is not None or "max_ops" not in reason:
            chosen = max_ops
            break
    _max_ops_cache[program.id] = chosen
    return chosen


def attempt(program: BenchProgram, strategy: str, seed: int, bounds: Bounds) -> Attempt:
    """Search ``program`` with frontrun's ``strategy`` ("random" or "dpor")."""
    options: dict[str, Any] = {}
    note = ""
    if strategy == "random":
        max_ops = calibrate_max_ops(program)
        options.update(max_attempts=bounds.schedules, seed=seed, max_ops=max_ops)
        note = f"max_ops={max_ops}"
    else:
        options.update(max_executions=bounds.schedules)
    return _search(program, strategy, seed, bounds, options, note, races=False)


def race_attempt(program: BenchProgram, bounds: Bounds) -> Attempt:
    """frontrun's DPOR with ``error_on_any_race=True``: any unsynchronized race fails.

    frontrun accepts the option with its DPOR strategy only (its random strategy
    rejects it), so the search is deterministic and the seed is 0. It checks for
    races after each execution, before the invariant; a buggy program counts as
    found when the first report is a race or a failure of a kind it accepts, a
    fixed program as a false alarm on any report. frontrun has no way to mark a
    location benign, so ``program.races_ignore`` is not passed on.
    """
    options = {"error_on_any_race": True, "max_executions": bounds.schedules}
    return _search(program, "dpor", 0, bounds, options, "", races=True)


def _search(
    program: BenchProgram,
    strategy: str,
    seed: int,
    bounds: Bounds,
    options: dict[str, Any],
    note: str,
    *,
    races: bool,
) -> Attempt:
    """One ``frontrun.explore`` call and its verdict; with ``races`` a race report
    counts as a detection whatever kinds the program accepts."""
    os.environ.setdefault("FRONTRUN_ACTIVE", "1")  # what the frontrun CLI sets
    frontrun = _frontrun()
    setup, workers, _ = _workers_for(program)
    started = time.perf_counter()
    try:
        result = frontrun.explore(
            setup=setup,
            workers=workers,
            invariant=_invariant_for(program),
            strategy=strategy,
            reproduce_on_failure=0,
            total_timeout=bounds.seconds,
            **options,
        )
    except Exception as exc:
        seconds = time.perf_counter() - started
        if _is_frontrun_error(exc):
            return Attempt(seed, ERROR, None, 0, seconds, f"{type(exc).__name__}: {exc}"[:200])
        # The program's own exception, re-raised by frontrun: a test would fail with it.
        status = judge(program.buggy, program.accepts("exception"), True)
        return Attempt(seed, status, "exception", 1, seconds, f"{type(exc).__name__}: {exc}"[:200])
    seconds = time.perf_counter() - started
    explored = result.num_explored
    if result.property_holds is None:
        reason = (result.inconclusive_reason or "").splitlines()[0][:200]
        return Attempt(seed, INCONCLUSIVE, None, explored, seconds, reason)
    if result.property_holds is False:
        kind = frontrun_kind(result.explanation)
        accepted = (races and kind == "race") or program.accepts(kind)
        status = judge(program.buggy, accepted, True)
        first_line = (result.explanation or "").splitlines()[0][:150]
        return Attempt(seed, status, kind, explored, seconds, f"{note} {first_line}".strip())
    status = judge(program.buggy, False, False)
    bound_note = "time bound" if seconds >= bounds.seconds else "bound reached"
    if strategy == "dpor" and explored < bounds.schedules and seconds < bounds.seconds:
        bound_note = "search exhausted"
    return Attempt(seed, status, None, explored, seconds, f"{note} {bound_note}".strip())


def _is_frontrun_error(exc: BaseException) -> bool:
    """Whether frontrun (not the program under test) raised ``exc``."""
    module = type(exc).__module__ or ""
    if module.startswith("frontrun"):
        return True
    # Usage errors of frontrun's own API are ValueErrors raised from its frames.
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and f"{os.sep}frontrun{os.sep}" in last
