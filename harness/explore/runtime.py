"""The controlled runtime: real threads, one running at a time, the strategy choosing.

Every thread of the code under test is a real thread, but it runs only while it
holds its *baton* (a raw lock). At each scheduling point (before an instruction
that touches shared state, and at every operation on an instrumented primitive)
the running thread asks the strategy who runs next; to switch, it releases the
chosen thread's baton and waits on its own. Waits never block for real: a
thread that cannot proceed is marked blocked with a *ready* predicate (the lock
is free, the condition was notified, the thread to join has ended) and,
optionally, a deadline on the virtual clock. When no thread can run:

* if some blocked thread has a deadline, the clock jumps to the earliest one and
  that wait times out (time passes only when every thread waits);
* else, if every actor has ended, the execution is over (threads still blocked
  are leaks);
* else it is a deadlock, detected at once, without any timeout.

An execution that exceeds its step limit is a livelock. A running thread that
stops reaching scheduling points for longer than the real-time ``timeout`` is
stuck outside the harness's control (a real socket, a real lock created before
patching): that is reported as a hang.
"""

from __future__ import annotations

import _thread
import functools
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from harness._abort import RunAborted
from harness._frames import current_frames, format_exception, format_stack
from harness._program import Program, describe_exception
from harness._tracing import Backend, Point
from harness.detect.futures import UnreadFutures
from harness.detect.lockorder import LockOrderGraph
from harness.detect.waitfor import Waiter, describe_waits
from harness.errors import UsageError
from harness.explore.strategies import Choice, Strategy, fire, run
from harness.explore.values import Probe, probe_for
from harness.outcome import Failure
from harness.sync import _state
from harness.sync._state import site_of_caller
from harness.sync.naming import Namer
from harness.trace import Step

__all__ = ["Execution", "Runtime", "ThreadRecord"]

RUNNABLE, BLOCKED, FINISHED = 0, 1, 2

#: Failure kinds that do not end a search: a lock-order inversion is a deadlock
#: that *could* happen, so exploration goes on looking for one that does.
SOFT_KINDS = frozenset({"lock-order"})

_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident
_perf_counter = time.perf_counter

#: Virtual clock readings start here in every execution (deterministic).
CLOCK_START = 1000.0
#: What time.time() reads at the start of every execution (2024-01-01 UTC).
WALL_START = 1_704_067_200.0


def _never() -> bool:
    return False


class Waiting:
    """Why a thread is blocked, and until when."""

    __slots__ = ("deadline", "fired", "kind", "obj", "ready", "site")

    def __init__(
        self,
        kind: str,
        obj: object,
        ready: Callable[[], bool],
        deadline: float | None,
        site: tuple[str, int] | None,
    ) -> None:
        self.kind = kind
        self.obj = obj
        self.ready = ready
        self.deadline = deadline
        self.site = site
        self.fired = False


class ThreadRecord:
    """One thread of an execution, as the runtime sees it."""

    __slots__ = (
        "baton",
        "hook",
        "ident",
        "index",
        "is_actor",
        "name",
        "pending",
        "runtime",
        "status",
        "steps",
        "thread",
        "waiting",
    )

    def __init__(self, runtime: Runtime, index: int, name: str, is_actor: bool) -> None:
        self.runtime = runtime
        self.index = index
        self.name = name
        self.is_actor = is_actor
        self.ident: int | None = None
        self.baton = _allocate_lock()
        self.baton.acquire()
        self.status = RUNNABLE
        self.waiting: Waiting | None = None
        self.steps = 0
        self.thread: threading.Thread | None = None
        self.hook: Callable[[Point], None] = functools.partial(runtime.point, self)
        #: A recorded write whose value is read at this thread's next step.
        self.pending: tuple[Step, Probe, Any] | None = None

    def __repr__(self) -> str:
        return f"<T{self.index} {self.name}>"


class Execution:
    """What one execution did: its failures, its end, its decisions."""

    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self.end = "complete"  # complete | deadlock | livelock | hang
        self.steps = 0
        #: (thread, thread step, code, preemptive) for every non-default decision
        self.deviations: list[tuple[int, int, int, bool]] = []
        self.trace: list[Step] | None = None
        self.outcome = ""
        self.threads: list[str] = []

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def kinds(self) -> list[str]:
        return [f.kind for f in self.failures]

    @property
    def hard(self) -> bool:
        """Failed for a reason other than a lock-order warning."""
        return any(f.kind not in SOFT_KINDS for f in self.failures)

    @property
    def preemptions(self) -> int:
        return sum(1 for d in self.deviations if d[3])


class Runtime:
    """Runs executions of one program under one strategy."""

    def __init__(
        self,
        program: Program,
        backend: Backend,
        *,
        max_steps: int,
        timeout: float,
        lockorder: bool = True,
        leaks: bool = True,
    ) -> None:
        self.program = program
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
        self.abandoned = 0
        self._reset()

    # -- per execution ---------------------------------------------------------
    def _reset(self) -> None:
        self.threads: list[ThreadRecord] = []
        self.by_thread: dict[int, ThreadRecord] = {}  # id(threading.Thread) -> record
        self.clock = CLOCK_START
        self.steps = 0
        self.epoch = 0
        self._options_epoch = -1
        self._runnable: tuple[int, ...] = ()
        self._timed: tuple[int, ...] = ()
        self.over = False
        self.aborting = False
        self.done = _allocate_lock()
        self.done.acquire()
        self.execution = Execution()
        self.recording = False
        self._inside = False

    def now(self) -> float:
        return self.clock

    def run_execution(self, strategy: Strategy, record: bool = False) -> Execution:
        """Run the program once under ``strategy``; leave nothing running."""
        self._reset()
        self.strategy = strategy
        execution = self.execution
        if record:
            execution.trace = []
            self.recording = True
        program = self.program
        main_ident = _get_ident()
        _state.clock_users[main_ident] = self
        state: Any = None
        try:
            try:
                state = program.setup()
            except Exception as exc:
                execution.failures.append(
                    Failure(
                        "exception",
                        f"setup raised {describe_exception(exc)}",
                        format_exception(exc),
                        "setup",
                    )
                )
                execution.outcome = f"setup raised {type(exc).__name__}"
                return execution
            self.namer = Namer(state)
            try:
                callables = program.make_actors(state)
            except UsageError:
                program.tear_down(state)
                raise
            except Exception as exc:
                execution.failures.append(
                    Failure(
                        "exception",
                        f"actors raised {describe_exception(exc)}",
                        format_exception(exc),
                        "actors",
                    )
                )
                execution.failures.extend(program.tear_down(state))
                execution.outcome = f"actors raised {type(exc).__name__}"
                return execution
            graph = LockOrderGraph() if self.lockorder else None
            if graph is not None:
                _state.monitors.append(graph)
            try:
                self._run_actors(callables)
            finally:
                if graph is not None:
                    _state.monitors.remove(graph)
            if execution.end == "complete":
                if self.leaks:
                    self._report_leaks()
                execution.failures.extend(program.judge(state))
            if graph is not None:
                execution.failures.extend(graph.failures(self.namer.name))
            execution.failures.extend(self.futures.collect())
            execution.outcome = program.outcome(state, execution.failures)
            # Threads left parked (deadlock, leak) cannot react to a teardown:
            # unwind them first, and let teardown run in real time.
            self._abort_remaining()
            _state.clock_users.pop(main_ident, None)
            execution.failures.extend(program.tear_down(state))
        finally:
            self._abort_remaining()
            _state.clock_users.pop(main_ident, None)
            execution.steps = self.steps
            execution.threads = [t.name for t in self.threads]
            strategy.end_execution(self.steps, execution.failed)
            self.strategy = None
            self.recording = False
        return execution

    def _run_actors(self, callables: list[Callable[[], object]]) -> None:
        arrived = _allocate_lock()
        arrived.acquire()
        pending = [len(callables)]
        count_lock = _allocate_lock()

        def arrive() -> None:
            with count_lock:
                pending[0] -= 1
                if pending[0] == 0:
                    arrived.release()

        for i, fn in enumerate(callables):
            record = self._new_record(f"T{i}", is_actor=True)
            thread = threading.Thread(
                target=self._actor_main, args=(record, fn, arrive), name=f"T{i}", daemon=True
            )
            record.thread = thread
            thread.start()
        if not arrived.acquire(True, self.timeout):
            raise RuntimeError("actor threads did not start")  # pragma: no cover
        first = self._decide(None)
        if first is None:  # pragma: no cover - actors always start runnable
            self._finish_execution()
        else:
            first.baton.release()
        if not self.done.acquire(True, self.timeout):
            self._hang()

    def _new_record(self, name: str, is_actor: bool) -> ThreadRecord:
        record = ThreadRecord(self, len(self.threads), name, is_actor)
        self.threads.append(record)
        self.epoch += 1
        assert self.strategy is not None
        self.strategy.on_thread(record.index)
        return record

    def _actor_main(
        self, record: ThreadRecord, fn: Callable[[], object], arrive: Callable[[], None]
    ) -> None:
        record.ident = _get_ident()
        _state._managed[record.ident] = record
        arrive()
        record.baton.acquire()
        if self.aborting:
            _state._managed.pop(record.ident, None)
            return
        self.backend.attach(record.hook)
        try:
            fn()
        except RunAborted:
            pass
        except BaseException as exc:
            self.execution.failures.append(
                Failure("exception", describe_exception(exc), format_exception(exc), record.name)
            )
        finally:
            self.backend.detach()
            self.finish(record)

    # -- threads started by the code under test --------------------------------
    def start_thread(
        self,
        parent: ThreadRecord,
        thread: threading.Thread,
        original_start: Callable[[threading.Thread], None],
    ) -> None:
        """``thread.start()`` called by a managed thread: the child is managed too."""
        from harness.sync.primitives import Event

        if not getattr(thread, "_initialized", False):
            raise RuntimeError("thread.__init__() not called")
        if thread._started.is_set():  # type: ignore[attr-defined]
            raise RuntimeError("threads can only be started once")
        self.sync_point(parent, "start", thread)
        child = self._new_record(thread.name, is_actor=False)
        child.thread = thread
        self.by_thread[id(thread)] = child
        # Thread.start() waits on thread._started; it must be an instrumented
        # Event so that the wait hands control to the child.
        if not isinstance(thread._started, Event):  # type: ignore[attr-defined]
            thread._started = Event()  # type: ignore[attr-defined]
        bootstrap = thread._bootstrap  # type: ignore[attr-defined]
        body = thread.run

        def managed_bootstrap() -> None:
            self._child_main(child, bootstrap, attach=False)

        def traced_run() -> None:
            # Attached here, not in the bootstrap: Thread._bootstrap_inner
            # installs threading.settrace's tracer (coverage's) first, and ours
            # must chain it rather than be replaced by it.
            self.backend.attach(child.hook)
            try:
                body()
            finally:
                self.backend.detach()

        thread._bootstrap = managed_bootstrap  # type: ignore[attr-defined]
        thread.run = traced_run  # type: ignore[method-assign]
        try:
            original_start(thread)
        finally:
            del thread._bootstrap  # type: ignore[attr-defined]

    def start_raw_thread(
        self,
        parent: ThreadRecord,
        function: Callable[..., object],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        original: Callable[..., int],
    ) -> int:
        """``_thread.start_new_thread`` called by a managed thread."""
        self.sync_point(parent, "start", function)
        child = self._new_record(getattr(function, "__name__", "thread"), is_actor=False)

        def body() -> None:
            try:
                function(*args, **kwargs)
            except SystemExit:
                pass

        return original(self._child_main, (child, body))

    def _child_main(
        self, record: ThreadRecord, body: Callable[[], object], attach: bool = True
    ) -> None:
        record.ident = _get_ident()
        _state._managed[record.ident] = record
        record.baton.acquire()
        if self.aborting:
            _state._managed.pop(record.ident, None)
            return
        if attach:
            self.backend.attach(record.hook)
        try:
            body()
        except RunAborted:
            pass
        except BaseException as exc:
            self.execution.failures.append(
                Failure("exception", describe_exception(exc), format_exception(exc), record.name)
            )
        finally:
            if attach:
                self.backend.detach()
            self.finish(record)

    def record_of(self, thread: threading.Thread) -> ThreadRecord | None:
        return self.by_thread.get(id(thread))

    def thread_exception(self, thread: threading.Thread | None, exc: BaseException) -> None:
        """An exception escaped a managed Thread's run() (from threading.excepthook)."""
        if isinstance(exc, RunAborted):
            return
        name = thread.name if thread is not None else None
        self.execution.failures.append(
            Failure("exception", describe_exception(exc), format_exception(exc), name)
        )

    # -- scheduling points -------------------------------------------------------
    def point(self, record: ThreadRecord, point: Point) -> None:
        """A data access of the code under test (called by the tracing hook)."""
        if self._inside:
            return  # code run by the runtime itself (a report being built)
        if self.over:
            raise RunAborted
        if record.pending is not None:
            self._settle(record)
        self._step(record)
        # Recorded once the thread really proceeds, i.e. after any switch.
        if self.recording:
            self._record_access(record, point, sys._getframe(2))

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
        if self.over:
            raise RunAborted
        if record.pending is not None:
            self._settle(record)
        self.epoch += 1
        self._step(record)
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
            return self.namer.name(shown, self._frames())
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
        if self.over:
            raise RunAborted
        if timeout is not None and timeout <= 0:
            # A zero timeout is a try, as in CPython: it never waits, not even
            # for the others to run out of work.
            return ready()
        deadline = None if timeout is None else self.clock + max(timeout, 0.0)
        waiting = Waiting(kind, obj, ready, deadline, site_of_caller())
        record.waiting = waiting
        record.status = BLOCKED
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
        if record.pending is not None:
            self._settle(record)
        record.status = FINISHED
        self.epoch += 1
        if record.ident is not None:
            _state._managed.pop(record.ident, None)
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
            runnable = []
            timed = []
            for t in self.threads:
                if t.status == RUNNABLE:
                    runnable.append(t.index)
                elif t.status == BLOCKED:
                    waiting = t.waiting
                    assert waiting is not None
                    if waiting.ready():
                        runnable.append(t.index)
                    elif waiting.deadline is not None:
                        timed.append((waiting.deadline, t.index))
            self._runnable = tuple(runnable)
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
        choice.current_runnable = record is not None and record.status == RUNNABLE
        choice.runnable = runnable
        choice.timed = timed
        if choice.current_runnable:
            choice.default = run(current)
        elif runnable:
            choice.default = run(runnable[0])
        else:
            choice.default = fire(timed[0])
        choice.step = self.steps
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
                (current, choice.thread_step, code, choice.is_preemption(code))
            )
        target = self.threads[index]
        if target.status == BLOCKED:
            waiting = target.waiting
            assert waiting is not None
            if timeout:
                waiting.fired = True
                assert waiting.deadline is not None
                self.clock = max(self.clock, waiting.deadline)
                strategy.on_yield(index)
            target.status = RUNNABLE
            self.epoch += 1
        return target

    def _handoff(self, record: ThreadRecord, target: ThreadRecord) -> None:
        target.baton.release()
        record.baton.acquire()
        if self.aborting:
            raise RunAborted

    # -- the end of an execution ---------------------------------------------------
    def _finish_execution(self) -> None:
        """Nobody can run: the execution is over. Decide how it ended."""
        if self.over:
            return
        self.over = True
        self._inside = True
        try:
            blocked_actors = [t for t in self.threads if t.is_actor and t.status != FINISHED]
            if blocked_actors:
                self.execution.end = "deadlock"
                self.execution.failures.append(self._deadlock_failure())
        finally:
            self._inside = False
            self.done.release()

    def _livelock(self) -> None:
        if not self.over:
            self.over = True
            self._inside = True
            try:
                self.execution.end = "livelock"
                self.execution.failures.append(
                    Failure(
                        "livelock",
                        f"no end after {self.max_steps:,} scheduling steps",
                        self._positions(),
                    )
                )
            finally:
                self._inside = False
                self.done.release()
        raise RunAborted

    def _hang(self) -> None:
        """The running thread stopped reaching scheduling points (real blocking)."""
        self.over = True
        self.execution.end = "hang"
        self.execution.failures.append(
            Failure(
                "hang",
                f"a thread blocked outside the harness's control for {self.timeout:g}s "
                "(real I/O, or a lock created before the harness patched threading)",
                self._positions(with_stacks=True),
            )
        )

    def _abort_remaining(self) -> None:
        """Unwind every thread that has not finished; count those that will not."""
        if self.aborting:
            return
        self.aborting = True
        self.over = True
        alive = [t for t in self.threads if t.status != FINISHED]
        for t in alive:
            if t.ident is not None:
                _state._managed.pop(t.ident, None)
                _state.aborted.add(t.ident)
            t.baton.release()
        deadline = _perf_counter() + 2.0
        for t in self.threads:
            if t.thread is not None and t.thread.ident is not None:
                t.thread.join(max(deadline - _perf_counter(), 0.0))
        for t in alive:
            if t.thread is not None and t.thread.is_alive():
                self.abandoned += 1
            if t.ident is not None:
                _state.aborted.discard(t.ident)

    # -- reports ------------------------------------------------------------------
    def _frames(self) -> list[Any]:
        """Current frames of the threads still in the execution (for naming locals)."""
        frames = current_frames()
        return [frames[t.ident] for t in self.threads if t.ident in frames]

    def _waiters(self, threads: list[ThreadRecord]) -> list[Waiter]:
        return [
            Waiter(t.name, t.ident, t.waiting.obj, t.waiting.site, t.waiting.kind)
            for t in threads
            if t.waiting is not None
        ]

    def _describe(self, threads: list[ThreadRecord]) -> tuple[str, str]:
        frames = self._frames()
        names = {t.ident: t.name for t in self.threads if t.ident is not None}
        return describe_waits(
            self._waiters(threads), lambda obj: self.namer.name(obj, frames), names.get
        )

    def _deadlock_failure(self) -> Failure:
        summary, details = self._describe([t for t in self.threads if t.status == BLOCKED])
        return Failure("deadlock", summary, details)

    def _report_leaks(self) -> None:
        for t in self.threads:
            if t.status == BLOCKED and not t.is_actor:
                daemon = " (daemon)" if t.thread is not None and t.thread.daemon else ""
                self.execution.failures.append(
                    Failure(
                        "leak",
                        f"thread {t.name}{daemon} still waiting after the actors finished",
                        self._describe([t])[1],
                        t.name,
                    )
                )

    def _positions(self, with_stacks: bool = False) -> str:
        """Where every unfinished thread is: its wait, or its stack."""
        lines = []
        frames = current_frames() if with_stacks else {}
        blocked = [t for t in self.threads if t.status == BLOCKED]
        if blocked:
            lines.append(self._describe(blocked)[1])
        for t in self.threads:
            if t.status == RUNNABLE:
                lines.append(f"{t.name}: running")
            if with_stacks and t.status != FINISHED and t.ident is not None:
                lines.append(f"{t.name}:\n{format_stack(frames.get(t.ident))}")
        return "\n".join(lines)
