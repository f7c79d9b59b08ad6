"""pytest-run-parallel as a benchmark tool: plain stress, the way that plugin runs a test.

The plugin's ``wrap_function_parallel`` is what it wraps every test with: it
starts one thread per worker, releases them together from a ``Barrier``, sets a
tiny switch interval for the duration and re-raises the first worker's
exception. The adapter hands it a body that runs the actor of the worker's
``thread_index``, builds fresh state for every run, and judges the run with the
program's check. A run that does not end within :data:`HANG_SECONDS` is a
``hang`` (the plugin itself would wait forever); its threads are left behind as
daemons, and the attempt ends there.

The plugin has no seed: repeated attempts are independent samples.
"""

from __future__ import annotations

import importlib
import threading
import time

from bench.programs import BenchProgram
from bench.tools.base import Attempt, Bounds, judge

__all__ = ["HANG_SECONDS", "attempt"]

#: Seconds before a run counts as hung (the stress engine's timeout here).
HANG_SECONDS = 2.0


def _one_run(program: BenchProgram) -> tuple[str | None, str]:
    """Run the program once; the failure kind (None if it passed) and a message."""
    # installed by the bench session only
    wrap_function_parallel = importlib.import_module(
        "pytest_run_parallel.plugin"
    ).wrap_function_parallel

    state = program.setup()
    try:
        actors = list(program.actors(state))

        def body(thread_index: int = 0) -> None:
            actors[thread_index]()

        parallel = wrap_function_parallel(body, len(actors), 1)
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                parallel(thread_index=0)
            except BaseException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call, name="run-parallel", daemon=True)
        caller.start()
        caller.join(HANG_SECONDS)
        if caller.is_alive():
            return "hang", f"no end after {HANG_SECONDS:g} s"
        if outcome:
            exc = outcome[0]
            return "exception", f"{type(exc).__name__}: {exc}"[:200]
        if program.check is not None:
            try:
                if program.check(state) is False:
                    return "assert", "check returned False"
            except AssertionError as exc:
                return "assert", str(exc)[:200]
            except Exception as exc:
                return "exception", f"check raised {type(exc).__name__}: {exc}"[:200]
        return None, ""
    finally:
        if program.teardown is not None:
            program.teardown(state)


def attempt(program: BenchProgram, seed: int, bounds: Bounds) -> Attempt:
    started = time.perf_counter()
    runs = 0
    while runs < bounds.schedules and time.perf_counter() - started < bounds.seconds:
        kind: str | None
        try:
            kind, message = _one_run(program)
        except Exception as exc:
            kind, message = "exception", f"{type(exc).__name__}: {exc}"[:200]
        runs += 1
        if kind is not None:
            status = judge(program.buggy, program.accepts(kind), True)
            return Attempt(seed, status, kind, runs, time.perf_counter() - started, message)
    seconds = time.perf_counter() - started
    note = "bound reached" if runs >= bounds.schedules else f"time bound ({bounds.seconds:g} s)"
    return Attempt(seed, judge(program.buggy, False, False), None, runs, seconds, note)
