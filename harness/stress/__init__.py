"""``harness.stress``: many real threads, released together, many times over.

Each run builds fresh state, starts one real thread per actor, holds them at a
start gate until all have arrived, then releases them at once. Two amplifiers
make races show up far more often than in production:

* a tiny ``sys.setswitchinterval`` for the duration of the call;
* noise injection: at a random fraction ``noise`` of the scheduling points of
  the code under test (reads and writes of shared state, calls), a thread
  yields with ``time.sleep(1e-6)`` (:mod:`harness._tracing.noise` says why not
  ``sleep(0)``). Plain stress never catches ``x = x + 1`` on CPython >= 3.10,
  because the eval loop only switches threads at backward jumps and calls;
  noise puts a switch between the read and the write.

A watchdog gives every run a deadline. A run that misses it is reported as a
``deadlock`` when the stuck threads' waits form a cycle that a second look
confirms, else as a ``hang``, with every stuck thread's stack; the harness then
tries to abort the stuck threads and carries on with the next run, so a
deadlock never hangs the harness. Exceptions from every thread are kept with
their tracebacks, counted per distinct failure, and every run's outcome goes
into a histogram.

The package mirrors :mod:`harness.explore`: :mod:`.engine` runs the runs (each
one through :mod:`harness._lifecycle`), :mod:`.threads` adopts the threads the
code under test starts, :mod:`.watchdog` diagnoses what missed the deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness import _validate
from harness._abort import RunAborted
from harness._program import Program
from harness._tracing import CodeFilter
from harness._tracing.noise import DEFAULT_NOISE
from harness.outcome import Result
from harness.stress.engine import Progress, StressEngine

__all__ = ["DEFAULT_NOISE", "DEFAULT_RUNS", "MAX_RUNS", "Progress", "RunAborted", "stress"]

DEFAULT_RUNS = 200
#: More runs than this in one call is taken for a typo.
MAX_RUNS = 10_000_000


def stress(
    setup: Callable[[], Any],
    actors: Callable[[Any], Sequence[Callable[[], object]]],
    check: Callable[[Any], object] | None = None,
    *,
    runs: int | None = None,
    seconds: float | None = None,
    threads: int | None = None,
    noise: float | str = DEFAULT_NOISE,
    seed: int = 0,
    timeout: float = 10.0,
    switch_interval: float = 1e-6,
    observe: Callable[[Any], object] | None = None,
    teardown: Callable[[Any], object] | None = None,
    lockorder: bool = True,
    leaks: bool = True,
    stop_on_failure: bool = False,
    progress: Progress | None = None,
    target: str | None = None,
    code_filter: CodeFilter | None = None,
) -> Result:
    """Run ``actors`` in real threads, ``runs`` times, and report what was observed.

    ``setup()`` builds fresh state per run; ``actors(state)`` returns the
    callables, one per thread (repeated round-robin up to ``threads`` when that is
    given); ``check(state)`` judges the final state. ``runs`` (default 200) and
    ``seconds`` bound the call; with both, whichever is reached first ends it.
    ``noise`` is the probability of a yield at each scheduling point; 0 turns
    noise injection off. The default, ``"auto"``, starts each thread at 0.5 and
    lowers it as the thread reaches more points (``10 / k`` at its k-th point)
    down to 0.001 (0.05 on a free-threaded build): short bodies get preempted
    often, long ones pay little (:mod:`harness._tracing.noise` has the figures).
    ``timeout`` is each run's deadline in seconds.
    ``observe(state)`` names a run's outcome for the histogram;
    ``teardown(state)`` releases what a run holds and is called after every run,
    also one that failed or hung. ``lockorder`` reports locks taken in
    inconsistent orders (a deadlock waiting to happen) even from runs that did
    not deadlock; ``leaks`` reports threads still alive after a run.
    """
    program = Program.from_user(setup, actors, check, observe, threads, teardown)
    if runs is None and seconds is None:
        runs = DEFAULT_RUNS
    if runs is not None:
        _validate.count("runs", runs, MAX_RUNS)
    if seconds is not None:
        _validate.positive_seconds("seconds", seconds)
    _validate.noise(noise)
    _validate.seed(seed)
    _validate.positive_seconds("timeout", timeout)
    _validate.positive_seconds("switch_interval", switch_interval, maximum=1.0)
    _validate.callable_or_none("progress", progress)
    engine = StressEngine(program, noise, seed, timeout, code_filter, lockorder, leaks)
    return engine.run_all(
        runs=runs,
        seconds=seconds,
        switch_interval=switch_interval,
        stop_on_failure=stop_on_failure,
        progress=progress,
        target=target,
    )
