"""The scheduler: real threads, one running at a time, the strategy choosing.

Every thread of the code under test is a real thread, but it runs only while it
holds its *baton* (a raw lock). At each scheduling point the running thread asks
the strategy who runs next; to switch, it releases the chosen thread's baton and
waits on its own. Waits never block for real: a thread that cannot proceed is
marked blocked with a *ready* predicate (the lock is free, the condition was
notified, the thread to join has ended) and, optionally, a deadline on the
virtual clock. When no thread can run:

* if some blocked thread has a deadline, the clock jumps to the earliest one and
  that wait times out (time passes only when every thread waits);
* else, if every actor has ended, the execution is over (threads still blocked
  are leaks);
* else it is a deadlock, detected at once, without any timeout.

An execution that exceeds its step limit is a livelock.

The entry points, each called by the thread that runs (never by another):

* :meth:`Scheduler.point`: a data access of the code under test (from the
  tracing hook, ``record.hook``);
* :meth:`Scheduler.sync_point`: an operation on an instrumented primitive or a
  thread (start, join) is about to happen;
* :meth:`Scheduler.block`: the operation cannot proceed; park until ready;
* :meth:`Scheduler.sleep`: ``time.sleep`` on the virtual clock;
* :meth:`Scheduler.finish`: the thread's body has ended.

Each counts one step, records what happened when the execution is recorded, and
goes through :meth:`Scheduler._decide`, the one place where the strategy is
asked (a new strategy or detector hooks in there). The execution around the
scheduler (setup, threads, judgement) is :mod:`harness.explore.execution`.

The module is one class, a little over 400 lines: the entry points share the
step count, the decision and the handoff, and are the hot path of every
execution (BENCHMARKS.md profiles it), so they stay side by side.
"""

from __future__ import annotations

import _thread
import sys
import threading
from collections.abc import Callable
from typing import Any

from harness._abort import RunAborted
from harness._program import Program
from harness._tracing import Backend, Point, importing
from harness.detect.futures import UnreadFutures
from harness.explore.diagnose import deadlock_failure, frames_of, livelock_failure
from harness.explore.racecheck import check_access, detector, race_failure
from harness.explore.records import Deviation, Execution, ThreadRecord, ThreadStatus, Waiting
from harness.explore.strategies import Choice, Strategy, fire, run
from harness.explore.values import probe_for
from harness.outcome import Failure
from harness.sync import context
from harness.sync.context import site_of_caller
from harness.sync.naming import Namer
from harness.trace import Step

__all__ = ["CLOCK_START", "WALL_START", "Scheduler"]

_allocate_lock = _thread.allocate_lock

#: Virtual clock readings start here in every execution (deterministic).
CLOCK_START = 1000.0
#: What time.time() reads at the start of every execution (2024-01-01 UTC).
WALL_START = 1_704_067_200.0


def _never() -> bool:
    return False


class Scheduler:
    """Decides, at every scheduling point of one execution, which thread runs."""

    def __init__(
        self,
        program: Program,
        backend: Backend,
        *,
        max_steps: int,
        timeout: float,
        lockorder: bool = True,
        leaks: bool = True,
        races: bool = False,
        races_ignore: frozenset[str] = frozenset(),
    ) -> None:
        self.program = program
        self.races = races
        self.races_ignore = races_ignore
        self.backend = backend
        self.max_steps = max_steps
        self.timeout = timeout
        self.lockorder = lockorder
        self.leaks = leaks
        #: Failed pool futures nobody read (installed by the engine's session).
        self.futures = UnreadFutures()
        self.wall_offset = WALL_START - CLOCK_START
        self._choice = Choice()
        self.strategy: Strategy | None = None
        self.namer = Namer(None)
        self._reset()

    def _reset(self) -> None:
        """Fresh per-execution state."""
        self.threads: list[ThreadRecord] = []
        #: What _options reads instead of scanning every thread (with 100 threads
        #: that scan was a tenth of a schedule): the indices of the threads whose
        #: status is RUNNABLE, and the BLOCKED threads by index. Kept in step with
        #: ``status`` by new_record, block, _decide and finish, its only writers.
        self._running: set[int] = set()
        self._blocked: dict[int, ThreadRecord] = {}
        self.by_thread: dict[int, ThreadRecord] = {}  # id(threading.Thread) -> record
        self.clock = CLOCK_START
        self.steps = 0
        #: Bumped whenever a thread's status or wait may have changed, so that
        #: _options recomputes only then.
        self.epoch = 0
        self._options_epoch = -1
        self._runnable: tuple[int, ...] = ()
        self._timed: tuple[int, ...] = ()
        self.over = False
        self.aborting = False
        #: Released once when the execution is over (the main thread waits on it).
        self.done = _allocate_lock()
        self.done.acquire()
        self.execution = Execution()
        self.recording = False
        self._inside = False
        #: The happens-before race detector of this execution (None: off).
        self.hb = detector(self.races_ignore) if self.races else None
        self._races_seen = 0
        #: What each thread will do when it next runs, by index: ``(kind, what)``
        #: with kind read/write/call (what: the point's target), sync (what: the
        #: primitive or thread), begin or end. Strategies that reason about
        #: dependence (dpor) read it through ``Choice.ops``.
        self.ops: list[tuple[str, object]] = []
        #: The frame of each thread's last data access (dpor tells a call into
        #: traced code, which does nothing by itself, from a call into C).
        self.frames: list[object] = []

    def now(self) -> float:
        """The virtual clock."""
        return self.clock

    def add(self, failure: Failure) -> None:
        """A failure of the current execution."""
        self.execution.failures.append(failure)

    def new_record(self, name: str, is_actor: bool) -> ThreadRecord:
        """Register a thread of the execution; it will run only when scheduled."""
        record = ThreadRecord(self, len(self.threads), name, is_actor)
        self.threads.append(record)
        self._running.add(record.index)
        self.ops.append(("begin", None))
        self.frames.append(None)
        self.epoch += 1
        assert self.strategy is not None
        self.strategy.on_thread(record.index)
        return record

    # -- scheduling points -------------------------------------------------------
    def point(self, record: ThreadRecord, point: Point) -> None:
        """A data access of the code under test (called by the tracing hook)."""
        if self._inside:
            return  # code run by the runtime itself (a report being built)
        if self.over or record.execution is not self.execution:
            raise RunAborted  # (or the thread outlived its execution)
        if importing():
            return  # under an import lock: a switch would leave importers blocked
        if record.pending is not None:
            self._settle(record)
        self.ops[record.index] = (point.kind, point.target)
        frame = self.frames[record.index] = sys._getframe(2)
        self._step(record)
        # Recorded once the thread really proceeds, i.e. after any switch.
        if self.hb is not None and point.kind != "call":
            self._check_race(record, point, frame)
        if self.recording:
            self._record_access(record, point, frame)

    def _check_race(self, record: ThreadRecord, point: Point, frame: Any) -> None:
        assert self.hb is not None
        trace = self.execution.trace
        step = len(trace) if trace is not None else None  # the step recorded next
        if check_access(self.hb, record.index, record.name, point, frame, step) > self._races_seen:
            self._races_seen = len(self.hb.races)
            if not any(f.kind == "race" for f in self.execution.failures):
                race = self.hb.races[-1]
                self.add(race_failure(race))
                self.execution.race_steps = frozenset(
                    s for s in (race.first.step, race.second.step) if s is not None
                )

    def acquired(self, record: ThreadRecord, obj: object) -> None:
        """A managed thread now holds the lock ``obj`` (for happens-before)."""
        if self.hb is not None:
            self.hb.acquire(record.index, obj)

    def _record_access(self, record: ThreadRecord, point: Point, frame: Any) -> None:
        step = Step(
            record.index, point.kind, point.target, point.file, point.line, offset=point.offset
        )
        assert self.execution.trace is not None
        self.execution.trace.append(step)
        probe = probe_for(frame.f_code, point)
        if probe is None:
            return
        step.owner = probe.owner_id(frame)
        if point.kind == "read":
            step.value = probe.value_text(frame)
        else:
            record.pending = (step, probe, frame)

    def _settle(self, record: ThreadRecord) -> None:
        """Fill in the value a recorded write wrote: the thread has moved on."""
        assert record.pending is not None
        step, probe, frame = record.pending
        record.pending = None
        step.value = probe.value_text(frame)

    def sync_point(self, record: ThreadRecord, op: str, obj: object) -> None:
        """An operation on a primitive is about to happen."""
        if self.over or record.execution is not self.execution:
            raise RunAborted
        if record.pending is not None:
            self._settle(record)
        self.epoch += 1
        self.ops[record.index] = ("sync", obj)
        if not importing():  # no switch under an import lock (see point)
            self._step(record)
        if self.hb is not None and op == "release":
            self.hb.release(record.index, obj)
        if self.recording:
            site = site_of_caller()
            assert self.execution.trace is not None
            self.execution.trace.append(
                Step(
                    record.index,
                    op,
                    self._name(obj),
                    site[0] if site else None,
                    site[1] if site else None,
                    obj,
                )
            )

    def _name(self, obj: object) -> str:
        """A report name for a primitive or thread (only while recording)."""
        if obj is None:
            return ""
        if isinstance(obj, threading.Thread):
            return obj.name
        self._inside = True  # naming may touch user properties: no scheduling
        try:
            shown = getattr(obj, "_outer", None) or obj
            return self.namer.name(shown, frames_of(self))
        except Exception:
            return type(obj).__name__
        finally:
            self._inside = False

    def _step(self, record: ThreadRecord) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            self._livelock()
        target = self._decide(record)
        if target is None:  # pragma: no cover - a running thread is always an option
            self._finish_execution()
            raise RunAborted
        if target is not record:
            self._handoff(record, target)

    def block(
        self,
        record: ThreadRecord,
        kind: str,
        obj: object,
        ready: Callable[[], bool],
        timeout: float | None,
    ) -> bool:
        """Park the calling thread until ``ready()`` or the timeout; False on timeout."""
        if self.over or record.execution is not self.execution:
            raise RunAborted
        if timeout is not None and timeout <= 0:
            # A zero timeout is a try, as in CPython: it never waits, not even
            # for the others to run out of work.
            return ready()
        deadline = None if timeout is None else self.clock + max(timeout, 0.0)
        waiting = Waiting(kind, obj, ready, deadline, site_of_caller())
        record.waiting = waiting
        record.status = ThreadStatus.BLOCKED
        self._running.discard(record.index)
        self._blocked[record.index] = record
        self.ops[record.index] = ("sync", obj)
        self.epoch += 1
        if self.recording:
            assert self.execution.trace is not None
            site = waiting.site
            self.execution.trace.append(
                Step(
                    record.index,
                    "block",
                    kind,
                    site[0] if site else None,
                    site[1] if site else None,
                    obj,
                )
            )
        self.steps += 1
        if self.steps > self.max_steps:
            self._livelock()
        target = self._decide(record)
        if target is None:
            self._finish_execution()
            record.baton.acquire()  # until the main thread aborts us
            raise RunAborted
        if target is not record:
            self._handoff(record, target)
        record.waiting = None
        return not waiting.fired

    def sleep(self, record: ThreadRecord, seconds: float) -> None:
        assert self.strategy is not None
        self.strategy.on_yield(record.index)
        if seconds <= 0:
            self.sync_point(record, "sleep", None)
        else:
            self.block(record, "sleep", None, _never, seconds)

    def finish(self, record: ThreadRecord) -> None:
        """The thread's body returned (or raised): it will not run again."""
        if record.execution is not self.execution:
            return  # an execution that is over, and unwound: nothing to tell
        if record.pending is not None:
            self._settle(record)
        record.status = ThreadStatus.FINISHED
        self._running.discard(record.index)
        self._blocked.pop(record.index, None)  # unwound out of a wait (an abort)
        self.ops[record.index] = ("end", record.thread)
        self.epoch += 1
        if record.ident is not None:
            context.unregister_managed(record.ident)
        if self.over:
            return
        if self.recording:
            assert self.execution.trace is not None
            self.execution.trace.append(Step(record.index, "end", "", None, None))
        self.steps += 1
        target = self._decide(record)
        if target is None:
            self._finish_execution()
        else:
            target.baton.release()

    # -- decisions ---------------------------------------------------------------
    def _options(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The threads that can run, and the timed waits that may time out now.

        Time is discrete-event: it passes only when no thread can run, and then
        jumps to the earliest deadline. So a timeout fires only when every
        thread waits; the waits sharing the earliest deadline are the options.
        A timeout that fired while other threads could run would mean they were
        kept off the processor for the whole timeout: a safety-net timeout such
        as ``join(timeout=60)`` would then "fail" a correct program.
        """
        if self._options_epoch != self.epoch:
            runnable = list(self._running)
            timed: list[tuple[float, int]] = []
            add = runnable.append
            for t in self._blocked.values():
                waiting = t.waiting
                assert waiting is not None
                if waiting.ready():
                    add(t.index)
                elif waiting.deadline is not None:
                    timed.append((waiting.deadline, t.index))
            runnable.sort()
            fresh = tuple(runnable)
            if fresh != self._runnable:
                # Unchanged, the same tuple: strategies may cache on its identity.
                self._runnable = fresh
            if runnable or not timed:
                self._timed = ()
            else:
                earliest = min(deadline for deadline, _ in timed)
                self._timed = tuple(sorted(i for d, i in timed if d == earliest))
            self._options_epoch = self.epoch
        return self._runnable, self._timed

    def _decide(self, record: ThreadRecord | None) -> ThreadRecord | None:
        """Ask the strategy who runs next; None when nobody can."""
        runnable, timed = self._options()
        if not runnable and not timed:
            return None
        choice = self._choice
        current = -1 if record is None else record.index
        choice.current = current
        choice.current_runnable = record is not None and record.status is ThreadStatus.RUNNABLE
        choice.runnable = runnable
        choice.timed = timed
        if choice.current_runnable:
            choice.default = run(current)
        elif runnable:
            choice.default = run(runnable[0])
        else:
            choice.default = fire(timed[0])
        choice.step = self.steps
        choice.ops = self.ops
        choice.frames = self.frames
        if record is not None:
            choice.thread_step = record.steps
            record.steps += 1
        else:
            choice.thread_step = 0
        strategy = self.strategy
        assert strategy is not None
        code = strategy.choose(choice)
        index = code >> 1
        timeout = code & 1
        if index not in (timed if timeout else runnable):
            raise RuntimeError(f"strategy {strategy.name} chose an impossible option {code}")
        if code != choice.default:
            self.execution.deviations.append(
                Deviation(current, choice.thread_step, code, choice.is_preemption(code))
            )
        target = self.threads[index]
        if target.status is ThreadStatus.BLOCKED:
            waiting = target.waiting
            assert waiting is not None
            if timeout:
                waiting.fired = True
                assert waiting.deadline is not None
                self.clock = max(self.clock, waiting.deadline)
                strategy.on_yield(index)
            target.status = ThreadStatus.RUNNABLE
            del self._blocked[index]
            self._running.add(index)
            self.epoch += 1
        return target

    def _handoff(self, record: ThreadRecord, target: ThreadRecord) -> None:
        target.baton.release()
        record.baton.acquire()
        if self.aborting or record.execution is not self.execution:
            raise RunAborted

    # -- the end of an execution ---------------------------------------------------
    def _finish_execution(self) -> None:
        """Nobody can run: the execution is over. Decide how it ended."""
        if self.over:
            return
        self.over = True
        self._inside = True
        try:
            blocked_actors = [
                t for t in self.threads if t.is_actor and t.status is not ThreadStatus.FINISHED
            ]
            if blocked_actors:
                self.execution.end = "deadlock"
                self.execution.failures.append(deadlock_failure(self))
        finally:
            self._inside = False
            self.done.release()

    def _livelock(self) -> None:
        if not self.over:
            self.over = True
            self._inside = True
            try:
                self.execution.end = "livelock"
                self.execution.failures.append(livelock_failure(self))
            finally:
                self._inside = False
                self.done.release()
        raise RunAborted
