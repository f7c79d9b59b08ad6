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
from harness.explore import stall
from harness.explore.diagnose import hang_failure, leak_failures
from harness.explore.records import Execution, ThreadStatus
from harness.explore.scheduler import Scheduler
from harness.explore.stall import STALL
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
        self._wait_for_end()

    def _wait_for_end(self) -> None:
        """Wait for the execution to end; a hang after ``timeout``, or sooner.

        Sooner when the running thread stopped reaching points for
        :data:`~harness.explore.stall.STALL` seconds, its stack did not move,
        and it is seen blocking on a real primitive (:func:`stall.culprit`).
        """
        deadline = _perf_counter() + self.timeout
        # (steps, where the running thread was) at the last look
        still: tuple[int, tuple[int, int] | None] = (-1, None)
        since = _perf_counter()
        while True:
            remaining = deadline - _perf_counter()
            if remaining <= 0:
                self._hang()
                return
            if self.done.acquire(True, min(STALL / 2, remaining)):
                return
            alive = [
                t.ident
                for t in self.threads
                if t.status is not ThreadStatus.FINISHED and t.ident is not None
            ]
            ident = stall.running(alive)
            now = (self.steps, stall.sample(ident))
            if now != still:
                still, since = now, _perf_counter()
            elif _perf_counter() - since >= STALL:
                reason = stall.culprit(ident)
                if reason is not None:
                    self._hang(reason)
                    return

    def _hang(self, reason: str | None = None) -> None:
        """The running thread stopped reaching scheduling points (real blocking)."""
        self.over = True
        self.execution.end = "hang"
        self.execution.failures.append(hang_failure(self, reason))

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
            elif t.thread is None and t.exited.acquire(True, max(deadline - _perf_counter(), 0)):
                # A _thread thread has no Thread to join: wait until it has left
                # the scheduler (thread_main returned), finished or unwound, so
                # that it cannot run on into the next execution.
                t.exited.release()
        for t in alive:
            running = t.thread.is_alive() if t.thread is not None else t.exited.locked()
            if running:
                self.abandoned += 1
                if t.thread is not None:  # a raw thread has no Thread to remember
                    context.abandoned.add(t.thread)
            if t.ident is not None:
                context.aborted.discard(t.ident)
