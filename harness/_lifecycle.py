"""One execution of a program, in one order, for both engines.

An execution is one pass of the program: ``setup``, the actors in their
threads, the judgement, the detectors, the histogram label, ``teardown``. The
stress engine (real threads, released together) and the explorer (one thread
at a time, the strategy choosing) differ only in how the threads run; what
happens around them is written here once, so that a failure gets the same kind,
label and verdict whichever engine saw it, and a new detector is a one-place
change. The order:

1. ``setup()``: its exception ends the execution (label ``setup raised X``).
2. ``actors(state)``: a :class:`UsageError` (not a list of callables) tears
   down and propagates; any other exception ends the execution.
3. the engine runs the threads while a lock-order graph watches every acquire;
   it reports hangs and deadlocks itself and says whether the actors all ended.
4. if they did: the leak check (explore: threads still waiting), then the
   check (``judge``).
5. lock-order inversions the graph saw.
6. with ``teardown_first`` (stress): ``teardown`` now, because closing a
   server's socket is what frees a thread stuck in ``accept()``, then the leak
   check, which gives the threads a grace period to end.
7. failed pool futures that nobody read.
8. the histogram label, from every failure found so far.
9. without ``teardown_first`` (explore): the engine unwinds its threads (parked
   threads cannot react to a teardown), then ``teardown``.

The engine unwinds whatever still runs in every case, even when a step raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from harness._abort import RunAborted
from harness._frames import format_exception
from harness._program import Program, describe_exception
from harness.detect.excepthook import exception_failure
from harness.detect.futures import UnreadFutures
from harness.detect.lockorder import LockOrderGraph
from harness.errors import UsageError
from harness.outcome import Failure
from harness.sync import context
from harness.sync.naming import Namer

__all__ = ["Host", "leak_failure", "run_body", "run_execution"]


class Host(Protocol):
    """What an engine supplies to :func:`run_execution` for one execution."""

    def add(self, failure: Failure) -> None:
        """Record a failure of this execution (may be called from any thread)."""

    def failures(self) -> list[Failure]:
        """The failures recorded so far, in the order they were added."""

    def run_threads(self, callables: list[Callable[[], object]], namer: Namer) -> bool:
        """Run one thread per callable; True when every actor ended.

        False means the execution ended otherwise (a hang, a deadlock, a
        livelock, already reported with :meth:`add`): the final state is not
        judged and nothing is a leak.
        """

    def find_leaks(self) -> list[Failure]:
        """Threads the code under test started that did not end."""

    def unwind(self) -> None:
        """Unwind every thread still running (idempotent)."""


def run_body(
    body: Callable[[], object], thread: str | None, add: Callable[[Failure], None]
) -> None:
    """Run a thread's body; an exception that escapes it is a failure of the execution.

    :class:`RunAborted` is the harness unwinding the thread, not a failure.
    """
    try:
        body()
    except RunAborted:
        pass
    except BaseException as exc:
        add(exception_failure(exc, thread))


def _stage_failure(stage: str, exc: BaseException) -> Failure:
    return Failure(
        "exception", f"{stage} raised {describe_exception(exc)}", format_exception(exc), stage
    )


def run_execution(
    program: Program,
    host: Host,
    *,
    futures: UnreadFutures,
    lockorder: bool,
    leaks: bool,
    teardown_first: bool,
) -> str:
    """Run ``program`` once on ``host``'s threads; return the histogram label.

    The failures go to ``host.add``; the steps follow the module's order.
    """
    try:
        try:
            state: Any = program.setup()
        except Exception as exc:
            host.add(_stage_failure("setup", exc))
            return f"setup raised {type(exc).__name__}"
        namer = Namer(state)
        try:
            callables = program.make_actors(state)
        except UsageError:
            program.tear_down(state)
            raise
        except Exception as exc:
            host.add(_stage_failure("actors", exc))
            for failure in program.tear_down(state):
                host.add(failure)
            return f"actors raised {type(exc).__name__}"
        graph = LockOrderGraph() if lockorder else None
        with context.watching(graph) if graph is not None else contextlib.nullcontext():
            completed = host.run_threads(callables, namer)
        found: list[Failure] = []
        if completed:
            if leaks and not teardown_first:
                found.extend(host.find_leaks())
            found.extend(program.judge(state))
        if graph is not None:
            found.extend(graph.failures(namer.name))
        if teardown_first:
            found.extend(program.tear_down(state))
            if completed and leaks:
                found.extend(host.find_leaks())
        found.extend(futures.collect())
        for failure in found:
            host.add(failure)
        label = program.outcome(state, host.failures())
        if not teardown_first:
            host.unwind()
            for failure in program.tear_down(state):
                host.add(failure)
        return label
    finally:
        host.unwind()


def leak_failure(thread: str, daemon: bool, details: str) -> Failure:
    """A thread of the code under test that outlived the actors (both engines' words)."""
    shown = f"{thread} (daemon)" if daemon else thread
    return Failure("leak", f"thread {shown} still alive after the actors finished", details, thread)
