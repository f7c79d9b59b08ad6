"""One controlled execution: the explorer's side of :mod:`harness._lifecycle`.

:class:`Runtime` is the :class:`~harness.explore.scheduler.Scheduler` plus what
the shared lifecycle asks of an engine: start the actors (parked until
scheduled), wait for the execution to end, find leaks, unwind what is left. A
running thread that stops reaching scheduling points for longer than the
real-time ``timeout`` is stuck outside the harness's control (a real socket, a
real lock created before patching): that is reported as a hang.
"""

from __future__ import annotations

import _thread
import time
from collections.abc import Callable

from harness._lifecycle import run_execution
from harness._rawsync import StartGate
from harness.explore.diagnose import hang_failure, leak_failures
from harness.explore.records import Execution, ThreadStatus
from harness.explore.scheduler import Scheduler
from harness.explore.strategies import Strategy
from harness.explore.threads import start_actor
from harness.outcome import Failure
from harness.sync import context
from harness.sync.naming import Namer

__all__ = ["Runtime"]

_get_ident = _thread.get_ident
_perf_counter = time.perf_counter

#: Seconds the threads of an execution get to unwind after they were aborted.
ABORT_GRACE = 2.0


class Runtime(Scheduler):
    """Runs executions of one program under one strategy."""

    abandoned = 0  # threads that did not unwind, over every execution

    def run_execution(self, strategy: Strategy, record: bool = False) -> Execution:
        """Run the program once under ``strategy``; leave nothing running."""
        self._reset()
        self.strategy = strategy
        execution = self.execution
        if record:
            execution.trace = []
            self.recording = True
        self._main_ident = _get_ident()
        # setup, check and teardown run on the main thread, on the virtual clock.
        context.clock_users[self._main_ident] = self
        try:
            execution.outcome = run_execution(
                self.program,
                self,
                futures=self.futures,
                lockorder=self.lockorder,
                leaks=self.leaks,
                teardown_first=False,
            )
        finally:
            execution.steps = self.steps
            execution.threads = [t.name for t in self.threads]
            strategy.end_execution(self.steps, execution.failed)
            self.strategy = None
            self.recording = False
        return execution

    # -- what harness._lifecycle asks of an engine ------------------------------
    def failures(self) -> list[Failure]:
        return list(self.execution.failures)

    def run_threads(self, callables: list[Callable[[], object]], namer: Namer) -> bool:
        self.namer = namer
        self._run_actors(callables)
        return self.execution.end == "complete"

    def find_leaks(self) -> list[Failure]:
        return leak_failures(self)

    def unwind(self) -> None:
        # Threads left parked (deadlock, leak) cannot react to a teardown:
        # unwind them first, and let teardown run in real time.
        self._abort_remaining()
        context.clock_users.pop(self._main_ident, None)

    # -- the threads ------------------------------------------------------------
    def _run_actors(self, callables: list[Callable[[], object]]) -> None:
        """Start every actor parked, let the strategy pick the first, wait for the end."""
        gate = StartGate(len(callables))
        for i, fn in enumerate(callables):
            start_actor(self, f"T{i}", fn, gate.arrive)
        if not gate.wait_for_all(self.timeout):
            raise RuntimeError("actor threads did not start")  # pragma: no cover
        first = self._decide(None)
        if first is None:  # pragma: no cover - actors always start runnable
            self._finish_execution()
        else:
            first.baton.release()
        if not self.done.acquire(True, self.timeout):
            self._hang()

    def _hang(self) -> None:
        """The running thread stopped reaching scheduling points (real blocking)."""
        self.over = True
        self.execution.end = "hang"
        self.execution.failures.append(hang_failure(self))

    def _abort_remaining(self) -> None:
        """Unwind every thread that has not finished; count those that will not."""
        if self.aborting:
            return
        self.aborting = True
        self.over = True
        alive = [t for t in self.threads if t.status is not ThreadStatus.FINISHED]
        for t in alive:
            if t.ident is not None:
                context.unregister_managed(t.ident)
                context.aborted.add(t.ident)
            t.baton.release()
        deadline = _perf_counter() + ABORT_GRACE
        for t in self.threads:
            if t.thread is not None and t.thread.ident is not None:
                t.thread.join(max(deadline - _perf_counter(), 0.0))
        for t in alive:
            if t.thread is not None and t.thread.is_alive():
                self.abandoned += 1
            if t.ident is not None:
                context.aborted.discard(t.ident)
