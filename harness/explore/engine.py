"""``harness.explore`` and ``harness.replay``: the controlled-exploration engine.

Each call patches the threading primitives, time and thread start/join once,
then runs executions one after another, each under a schedule the strategy
picks, until one fails (or the budget runs out, or a bounded search is
exhausted). A failing schedule is shrunk, replayed once more with full
recording, and reported with its interleaving and a replay token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness import _validate
from harness._gil import GilWatch
from harness._program import Program
from harness._tracing import CodeFilter, make_backend
from harness._tracing.sight import check_interpreter, unexplored_reason
from harness.detect.excepthook import make_excepthook
from harness.errors import UsageError
from harness.explore import token as tokens
from harness.explore.execution import Runtime
from harness.explore.interleaving import Interleaving
from harness.explore.records import Execution
from harness.explore.shrink import shrink
from harness.explore.strategies import (
    STRATEGIES,
    NondeterminismError,
    Replay,
    Strategy,
    make_strategy,
)
from harness.explore.threads import install_thread_patches, record_of
from harness.outcome import Failure, Result, Verdict
from harness.sync.patching import Patcher, install_primitives, install_virtual_time

__all__ = ["DEFAULT_BUDGET", "DEFAULT_STRATEGY", "MAX_BUDGET", "explore", "replay"]

DEFAULT_BUDGET = 1000
#: Preemption bound of the bounded search (``dfs``) when none is given.
DEFAULT_BOUND = 2
DEFAULT_STRATEGY = "mixed"
MAX_BUDGET = 10_000_000
DEFAULT_MAX_STEPS = 100_000

_perf_counter = time.perf_counter
Progress = Callable[[int, "int | None", float], None]


def explore(
    setup: Callable[[], Any],
    actors: Callable[[Any], Sequence[Callable[[], object]]],
    check: Callable[[Any], object] | None = None,
    *,
    strategy: str = DEFAULT_STRATEGY,
    budget: int = DEFAULT_BUDGET,
    seed: int = 0,
    threads: int | None = None,
    observe: Callable[[Any], object] | None = None,
    teardown: Callable[[Any], object] | None = None,
    bound: int | None = None,
    depth: int = 3,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float = 10.0,
    lockorder: bool = True,
    leaks: bool = True,
    stop_on_failure: bool = True,
    shrink_failures: bool = True,
    progress: Progress | None = None,
    target: str | None = None,
    target_threads: int | None = None,
    code_filter: CodeFilter | None = None,
    races: bool = False,
    races_ignore: Sequence[str] = (),
) -> Result:
    """Explore interleavings of ``actors`` deterministically, one thread at a time.

    Only one thread runs at a time; before each access to shared state and each
    operation on a lock, condition, event, semaphore, barrier, queue or thread,
    ``strategy`` (``mixed``, ``random``, ``pct``, ``pos``, ``dfs`` or ``dpor``) picks who runs
    next.
    ``budget`` bounds the number of executions (schedules). ``dfs`` searches every
    schedule with at most ``bound`` preemptions (default 2) and says so when it has
    covered them all; ``dpor`` runs one schedule per class of equivalent
    interleavings, unbounded unless ``bound`` is given, and says so likewise.
    ``time.sleep`` and timeouts run on a virtual clock. Deadlocks are reported as
    soon as no thread can run; an execution longer than ``max_steps`` decisions
    is a livelock. ``lockorder`` reports locks taken in inconsistent orders (a
    deadlock that could happen); the search goes on after such a report, looking
    for a failure that does happen. ``leaks`` reports threads left waiting when
    the actors have finished. A failure is shrunk and comes with a replay token
    (``result.schedule``). ``target`` and ``target_threads`` label the result and
    the token (the catalogue sets them, so that ``harness replay`` knows what to
    run). ``races`` turns on the happens-before data race detector
    (:mod:`harness.detect.races`): two accesses to one attribute or global, one a
    write, from threads that no synchronization orders, fail as ``race`` in the
    first schedule that contains both; ``races_ignore`` names locations that are
    unsynchronized on purpose (``"Stats.hits"``, ``"global mod.flag"``, as the
    report names them).
    """
    program = Program.from_user(setup, actors, check, observe, threads, teardown)
    _validate.count("budget", budget, MAX_BUDGET)
    _validate.seed(seed)
    if strategy not in STRATEGIES:
        raise UsageError(
            f"unknown strategy {_validate.show(strategy)}; expected one of {', '.join(STRATEGIES)}"
        )
    if bound is not None:
        _validate.in_range("bound", bound, 0, 10)
    _validate.count("depth", depth, 10)
    _validate.count("max_steps", max_steps, 100_000_000)
    _validate.positive_seconds("timeout", timeout)
    _validate.callable_or_none("progress", progress)
    chosen = make_strategy(strategy, seed, bound=bound, depth=depth)
    check_interpreter()  # never a silent pass on bytecode the tables do not know
    ignore = frozenset(races_ignore)
    session = _Session(program, code_filter, max_steps, timeout, lockorder, leaks, races, ignore)
    result = Result(engine="explore", seed=seed, target=target)
    result.settings = {
        "lockorder": lockorder,
        "races": races,
        "leaks": leaks,
        "strategy": strategy,
        "budget": budget,
        "threads": threads,
        "max_steps": max_steps,
        "backend": session.backend.name,
        **chosen.describe(),
    }
    started = _perf_counter()
    # The watch is stopped also when the call ends by an exception (an interrupt,
    # a usage error in the program, nondeterminism): one left started keeps its
    # warnings hook, and every later call's hook would chain behind it.
    with GilWatch() as gil, session:
        # (index, execution) of the first real failure, and of the first with
        # only a lock-order report.
        failing: tuple[int, Execution] | None = None
        warned: tuple[int, Execution] | None = None
        for index in range(budget):
            if not _next_execution(chosen, result.runs):
                break
            execution = session.runtime.run_execution(chosen)
            verdict = Verdict.FORBIDDEN if execution.failed else Verdict.ACCEPTABLE
            result.histogram.add(execution.outcome, verdict, index)
            result.runs = index + 1
            if execution.failed:
                result.failing_runs.append(index)
                if execution.has_real_failure and failing is None:
                    failing = (index, execution)
                elif not execution.has_real_failure and warned is None:
                    warned = (index, execution)
            if progress is not None:
                progress(index + 1, budget, _perf_counter() - started)
            if execution.end == "hang" or (failing is not None and stop_on_failure):
                break
        if failing is None:
            failing = warned
        if failing is not None:
            session.shrink_and_describe(
                result, *failing, shrink_failures, target, target_threads or threads
            )
        elif chosen.exhausted:
            result.sections["verified"] = _verified(strategy, result.runs, bound)
        elif strategy in ("dfs", "dpor"):
            result.sections["explored"] = (
                f"{result.runs} schedules ran without a failure; the budget ran out before "
                "the search was exhausted, so nothing is proved"
            )
        if session.runtime.abandoned:
            result.settings["abandoned_threads"] = session.runtime.abandoned
    result.duration = _perf_counter() - started
    result.gil = gil.state
    result.unexplored = unexplored_reason(session.backend) if result.runs else None
    return result


def _next_execution(strategy: Strategy, runs: int) -> bool:
    """Start the strategy's next execution; False when its search is over.

    A systematic search (dfs, dpor) that saw a replayed prefix behave differently
    cannot go on: it stops with a :class:`NondeterminismError` saying how far it got.
    """
    try:
        return strategy.new_execution()
    except NondeterminismError as exc:
        raise NondeterminismError(
            f"{exc}; the {strategy.name} search stopped after {runs} schedules and proves nothing"
        ) from None


def _verified(strategy: str, runs: int, bound: int | None) -> str:
    """What an exhausted systematic search proved."""
    if strategy == "dpor":
        if bound is None:
            return f"all {runs} interleavings hold"
        return f"all {runs} interleavings hold with <= {bound} preemptions"
    limit = DEFAULT_BOUND if bound is None else bound
    return f"all {runs} schedules with <= {limit} preemptions hold"


def replay(
    token: str,
    setup: Callable[[], Any],
    actors: Callable[[Any], Sequence[Callable[[], object]]],
    check: Callable[[Any], object] | None = None,
    *,
    threads: int | None = None,
    observe: Callable[[Any], object] | None = None,
    teardown: Callable[[Any], object] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    timeout: float = 10.0,
    target: str | None = None,
    code_filter: CodeFilter | None = None,
    races: bool = False,
    races_ignore: Sequence[str] = (),
) -> Result:
    """Run the one schedule a replay token describes, and report it in full.

    ``races`` and ``races_ignore`` as for :func:`explore` (give the same to see a
    ``race`` failure again).
    """
    schedule = tokens.decode(token)
    schedule.check_interpreter()
    if threads is None and schedule.target is None:
        threads = schedule.threads  # recorded through the API with threads=N
    program = Program.from_user(setup, actors, check, observe, threads, teardown)
    _validate.count("max_steps", max_steps, 100_000_000)
    _validate.positive_seconds("timeout", timeout)
    session = _Session(
        program, code_filter, max_steps, timeout, True, True, races, frozenset(races_ignore)
    )
    result = Result(engine="explore", seed=0, target=target or schedule.target)
    result.settings = {"strategy": "replay", "threads": threads, "backend": session.backend.name}
    started = _perf_counter()
    with session:
        guide = Replay(schedule.deviations)
        guide.new_execution()
        execution = session.runtime.run_execution(guide, record=True)
        verdict = Verdict.FORBIDDEN if execution.failed else Verdict.ACCEPTABLE
        result.histogram.add(execution.outcome, verdict, 0)
        result.runs = 1
        if execution.failed:
            result.failing_runs.append(0)
        session.describe(result, execution, token)
        if guide.missed:
            result.sections["divergence"] = (
                f"{guide.missed} recorded decisions could not be taken: the program no longer "
                "behaves as when the token was recorded"
            )
    result.duration = _perf_counter() - started
    return result


class _Session:
    """One engine call's patches, tracing backend and runtime."""

    def __init__(
        self,
        program: Program,
        code_filter: CodeFilter | None,
        max_steps: int,
        timeout: float,
        lockorder: bool,
        leaks: bool,
        races: bool = False,
        races_ignore: frozenset[str] = frozenset(),
    ) -> None:
        self.program = program
        self.backend = make_backend(code_filter)
        self.runtime = Runtime(
            program,
            self.backend,
            max_steps=max_steps,
            timeout=timeout,
            lockorder=lockorder,
            leaks=leaks,
            races=races,
            races_ignore=races_ignore,
        )
        self._patcher = Patcher()

    def __enter__(self) -> _Session:
        try:
            install_primitives(self._patcher, self.backend.filter)  # type: ignore[attr-defined]
            install_virtual_time(self._patcher, self.backend.filter)  # type: ignore[attr-defined]
            install_thread_patches(self._patcher, make_excepthook(self._sink_for))
            self.runtime.futures.install(self._patcher)
            self.backend.start()
        except BaseException:
            self._patcher.restore()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.backend.stop()
        finally:
            self._patcher.restore()

    def _sink_for(self, thread: threading.Thread | None) -> Callable[[Failure], None] | None:
        """Uncaught exceptions of managed threads are failures of the execution."""
        if thread is not None and record_of(self.runtime, thread) is not None:
            return self.runtime.add
        return None

    def run_replay(
        self, deviations: Sequence[tuple[int, int, int]], record: bool = False
    ) -> Execution:
        guide = Replay(deviations)
        guide.new_execution()
        return self.runtime.run_execution(guide, record=record)

    def shrink_and_describe(
        self,
        result: Result,
        index: int,
        failing: Execution,
        shrink_it: bool,
        target: str | None,
        threads: int | None,
    ) -> None:
        """Shrink the failing schedule, replay it with recording, and describe it."""
        original = (failing.preemptions, failing.steps)
        best = failing
        tries = 0
        # A hang is not shrunk: every attempt that still hangs would wait for it
        # again (up to the whole timeout); its schedule is replayed once, below.
        if shrink_it and failing.end != "hang":
            best, tries = shrink(self.run_replay, failing)
        deviations = [d.plain() for d in best.deviations]
        final = self.run_replay(deviations, record=True)
        if not final.failed or final.failures[0].key != failing.failures[0].key:
            # Not reproducible under replay: report what the search saw.
            final = failing
            result.sections["warning"] = (
                "the failing schedule did not fail again when replayed; the program "
                "may depend on something the harness does not control"
            )
        here, magic = tokens.interpreter()
        token = tokens.encode(tokens.Schedule(tuple(deviations), target, threads, here, magic))
        result.sections["shrink"] = {
            "from": {"preemptions": original[0], "steps": original[1]},
            "to": {"preemptions": final.preemptions, "steps": final.steps},
            "executions": tries,
        }
        self.describe(result, final, token, index)

    def describe(self, result: Result, execution: Execution, token: str, run: int = 0) -> None:
        for failure in execution.failures:
            result.add_failure(failure, run)
        result.schedule = token if execution.failed else None
        if execution.trace is not None:
            result.sections["interleaving"] = Interleaving(
                execution.trace, execution.threads, execution.preemptions, execution.race_steps
            )
