"""The stress engine: many real threads, released together, many times over.

Each run builds fresh state, starts one real thread per actor, holds them at a
start gate until all have arrived, then releases them at once. Two amplifiers
make races show up far more often than in production:

* a tiny ``sys.setswitchinterval`` for the duration of the call;
* noise injection: at a random fraction ``noise`` of the scheduling points of
  the code under test (reads and writes of shared state, calls), a thread
  yields with ``time.sleep(0)``. Plain stress never catches ``x = x + 1`` on
  CPython >= 3.10, because the eval loop only switches threads at backward jumps
  and calls; noise puts a switch between the read and the write.

A watchdog gives every run a deadline. A run that misses it is reported as a
``hang`` with every stuck thread's stack; the harness then tries to abort the
stuck threads and carries on with the next run, so a deadlock never hangs the
harness. Exceptions from every thread are kept with their tracebacks, counted
per distinct failure, and every run's outcome goes into a histogram.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness import _validate
from harness._abort import RunAborted
from harness._frames import current_frames, format_exception, format_stack
from harness._program import Program, describe_exception
from harness._tracing import CodeFilter, make_backend
from harness._tracing.noise import NoiseHook, thread_rng
from harness.detect.futures import UnreadFutures
from harness.detect.lockorder import LockOrderGraph
from harness.detect.waitfor import Waiter, describe_waits, find_cycle
from harness.errors import UsageError
from harness.outcome import Failure, Result, Verdict
from harness.sync import _state
from harness.sync.naming import Namer
from harness.sync.patching import Patcher, install_primitives
from harness.sync.primitives import Event as _InstrumentedEvent

__all__ = ["DEFAULT_RUNS", "RunAborted", "stress"]

DEFAULT_RUNS = 200
MAX_RUNS = 10_000_000
#: Seconds the threads the code under test started get to end after a run.
LEAK_GRACE = 1.0
#: Seconds the threads of a run get to unwind after they were aborted.
ABORT_GRACE = 0.5

_perf_counter = time.perf_counter  # the engine's own clock, never a patched one
_sleep = time.sleep
#: Seconds between the two looks at a suspected wait-for cycle.
CYCLE_CONFIRM_DELAY = 0.05


def _waiters(threads: Sequence[threading.Thread]) -> list[Waiter]:
    """What each of ``threads`` waits for in an instrumented wait, now."""
    waiters = []
    for thread in threads:
        entry = _state.waiting_for.get(thread.ident) if thread.ident is not None else None
        if entry is not None:
            waiters.append(Waiter(thread.name, thread.ident, entry[0], entry[1]))
    return waiters


def _cycle_key(cycle: Sequence[Waiter]) -> frozenset[tuple[int | None, int, object]]:
    """A cycle as who waits for which lock held by whom, comparable across looks."""
    return frozenset((w.ident, id(w.obj), getattr(w.obj, "_owner", None)) for w in cycle)


#: Progress callback: ``(runs done, runs planned or None, seconds elapsed)``.
Progress = Callable[[int, "int | None", float], None]


def stress(
    setup: Callable[[], Any],
    actors: Callable[[Any], Sequence[Callable[[], object]]],
    check: Callable[[Any], object] | None = None,
    *,
    runs: int | None = None,
    seconds: float | None = None,
    threads: int | None = None,
    noise: float = 0.001,
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
    noise injection off. ``timeout`` is each run's deadline in seconds.
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
    _validate.probability("noise", noise)
    _validate.seed(seed)
    _validate.positive_seconds("timeout", timeout)
    _validate.positive_seconds("switch_interval", switch_interval, maximum=1.0)
    _validate.callable_or_none("progress", progress)
    engine = _StressEngine(program, noise, seed, timeout, code_filter, lockorder, leaks)
    return engine.run_all(
        runs=runs,
        seconds=seconds,
        switch_interval=switch_interval,
        stop_on_failure=stop_on_failure,
        progress=progress,
        target=target,
    )


class _StartedFlag:
    """What ``Thread`` needs of its private "started" Event, on a raw lock.

    (``threading.Event`` itself would pick up the patched Condition and Lock.)
    """

    __slots__ = ("_flag", "_lock")

    def __init__(self) -> None:
        self._flag = False
        self._lock = _thread.allocate_lock()
        self._lock.acquire()

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        if not self._flag:
            self._flag = True
            self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        if self._flag:
            return True
        if self._lock.acquire(True, -1 if timeout is None else max(timeout, 0.0)):
            self._lock.release()  # let any other waiter through
        return self._flag

    def _at_fork_reinit(self) -> None:
        self._lock = _thread.allocate_lock()
        if not self._flag:
            self._lock.acquire()


class _StartGate:
    """Holds ``n`` threads until every one has arrived, then lets them all go.

    Built on raw ``_thread`` locks so that it works whatever the code under test
    (or the harness) has patched in the ``threading`` module.
    """

    def __init__(self, n: int) -> None:
        self._n = n
        self._arrived = 0
        self._mutex = _thread.allocate_lock()
        self._all_in = _thread.allocate_lock()
        self._all_in.acquire()
        self._go = _thread.allocate_lock()
        self._go.acquire()

    def arrive_and_wait(self) -> None:
        with self._mutex:
            self._arrived += 1
            if self._arrived == self._n:
                self._all_in.release()
        self._go.acquire()
        self._go.release()  # pass it on: every waiter goes through in turn

    def wait_for_all(self, timeout: float) -> bool:
        return self._all_in.acquire(True, max(timeout, 0.0))

    def open(self) -> None:
        self._go.release()


class _Run:
    """The mutable record of one run."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.failures: list[Failure] = []
        self.hooks: list[NoiseHook] = []
        self.actors: list[threading.Thread] = []
        #: Threads that the code under test started during the run.
        self.spawned: list[threading.Thread] = []
        self.lock = _thread.allocate_lock()
        self.aborted = False

    def add(self, failure: Failure) -> None:
        with self.lock:
            self.failures.append(failure)

    def threads(self) -> list[threading.Thread]:
        return [*self.actors, *self.spawned]

    def abort(self) -> None:
        """Ask every thread of this run to unwind at its next scheduling point
        or instrumented wait."""
        self.aborted = True
        for hook in self.hooks:
            hook.aborted = True
        for thread in self.threads():
            if thread.ident is not None:
                _state.aborted.add(thread.ident)


class _StressEngine:
    def __init__(
        self,
        program: Program,
        noise: float,
        seed: int,
        timeout: float,
        code_filter: CodeFilter | None,
        lockorder: bool = True,
        leaks: bool = True,
    ) -> None:
        self.program = program
        self.noise = noise
        self.seed = seed
        self.timeout = timeout
        self.lockorder = lockorder
        self.leaks = leaks
        self.futures = UnreadFutures()
        self.backend = make_backend(code_filter)
        self._run: _Run | None = None
        self.abandoned = 0

    # -- the whole call ---------------------------------------------------
    def run_all(
        self,
        *,
        runs: int | None,
        seconds: float | None,
        switch_interval: float,
        stop_on_failure: bool,
        progress: Progress | None,
        target: str | None,
    ) -> Result:
        result = Result(engine="stress", seed=self.seed, target=target)
        result.settings = {
            "runs": runs,
            "seconds": seconds,
            "threads": self.program.threads,
            "noise": self.noise,
            "timeout": self.timeout,
            "switch_interval": switch_interval,
            "backend": self.backend.name,
            "lockorder": self.lockorder,
            "leaks": self.leaks,
        }
        started = _perf_counter()
        old_interval = sys.getswitchinterval()
        patcher = Patcher()
        try:
            install_primitives(patcher, self.backend.filter)  # type: ignore[attr-defined]
            patcher.set(threading.Thread, "start", self._thread_start())
            patcher.set(threading, "excepthook", self._excepthook)
            self.futures.install(patcher)
            self.backend.start()
            sys.setswitchinterval(switch_interval)
            index = 0
            while True:
                elapsed = _perf_counter() - started
                if runs is not None and index >= runs:
                    break
                if seconds is not None and index > 0 and elapsed >= seconds:
                    break
                outcome, verdict, failures = self._one_run(index)
                result.histogram.add(outcome, verdict, index)
                result.record(index, failures)
                index += 1
                result.runs = index
                if progress is not None:
                    progress(index, runs, _perf_counter() - started)
                if failures and stop_on_failure:
                    break
        finally:
            sys.setswitchinterval(old_interval)
            try:
                self.backend.stop()
            finally:
                patcher.restore()
            result.duration = _perf_counter() - started
        if self.abandoned:
            result.settings["abandoned_threads"] = self.abandoned
        return result

    # -- threads the code under test starts ---------------------------------
    def _thread_start(self) -> Callable[[threading.Thread], None]:
        original = threading.Thread.start
        engine = self

        def start(thread: threading.Thread) -> None:
            run = engine._run
            # A Thread whose __init__ never ran is left to the original, which
            # raises the standard RuntimeError.
            initialized = getattr(thread, "_initialized", False)
            started = getattr(thread, "_started", None)
            if type(started) is _InstrumentedEvent and not started.is_set():
                # Thread.__init__ built its private "started" flag while the
                # primitives were patched; no user code can hold it yet, and a
                # raw one spares every start an instrumented wait and set.
                thread._started = _StartedFlag()  # type: ignore[attr-defined]
            if run is not None and initialized and thread not in run.actors:
                engine._adopt(run, thread)
            original(thread)

        return start

    def _adopt(self, run: _Run, thread: threading.Thread) -> None:
        """Track a thread started during the run, and give it noise of its own."""
        with run.lock:
            run.spawned.append(thread)
            index = len(run.actors) + len(run.spawned) - 1
        if self.noise <= 0:
            return
        body = thread.run
        hook = NoiseHook(thread_rng(self.seed, run.index, index), self.noise)
        with run.lock:
            run.hooks.append(hook)
        if run.aborted:
            hook.aborted = True

        def run_with_noise() -> None:
            self.backend.attach(hook)
            try:
                body()
            finally:
                self.backend.detach()

        thread.run = run_with_noise  # type: ignore[method-assign]

    # -- one run ----------------------------------------------------------
    def _one_run(self, index: int) -> tuple[str, Verdict, list[Failure]]:
        program = self.program
        run = _Run(index)
        try:
            state = program.setup()
        except Exception as exc:
            failure = Failure(
                "exception",
                f"setup raised {describe_exception(exc)}",
                format_exception(exc),
                "setup",
            )
            return f"setup raised {type(exc).__name__}", Verdict.FORBIDDEN, [failure]
        try:
            callables = program.make_actors(state)
        except UsageError:
            program.tear_down(state)
            raise
        except Exception as exc:
            failures = [
                Failure(
                    "exception",
                    f"actors raised {describe_exception(exc)}",
                    format_exception(exc),
                    "actors",
                ),
                *program.tear_down(state),
            ]
            return f"actors raised {type(exc).__name__}", Verdict.FORBIDDEN, failures

        gate = _StartGate(len(callables))
        run.actors = [
            threading.Thread(
                target=self._worker,
                args=(run, gate, i, fn),
                name=f"actor-{i}",
                daemon=True,
            )
            for i, fn in enumerate(callables)
        ]
        deadline = _perf_counter() + self.timeout
        self._run = run
        graph = LockOrderGraph() if self.lockorder else None
        if graph is not None:
            _state.monitors.append(graph)
        try:
            for worker in run.actors:
                worker.start()
            if not gate.wait_for_all(deadline - _perf_counter()):
                run.aborted = True  # some actor never arrived: release the others to exit
            gate.open()
            for worker in run.actors:
                worker.join(max(deadline - _perf_counter(), 0.0))
            stuck = [w for w in run.actors if w.is_alive()]
            if stuck:
                run.add(self._hang(run, state, len(run.actors)))
            else:
                for failure in program.judge(state):
                    run.add(failure)
            if graph is not None:
                _state.monitors.remove(graph)
                namer = Namer(state)
                for failure in graph.failures(namer.name):
                    run.add(failure)
                graph = None
            outcome = program.outcome(state, run.failures)
            # Teardown before unwinding: closing a server's socket is what frees
            # a thread stuck in accept().
            for failure in program.tear_down(state):
                run.add(failure)
            if not stuck and self.leaks:
                self._check_leaks(run)
            for failure in self.futures.collect():
                run.add(failure)
        finally:
            if graph is not None:
                _state.monitors.remove(graph)
            self._run = None
            self._finish(run)
        failures = list(run.failures)
        verdict = Verdict.FORBIDDEN if failures else Verdict.ACCEPTABLE
        return outcome, verdict, failures

    def _worker(self, run: _Run, gate: _StartGate, index: int, fn: Callable[[], object]) -> None:
        hook = None
        if self.noise > 0:
            hook = NoiseHook(thread_rng(self.seed, run.index, index), self.noise)
            with run.lock:
                run.hooks.append(hook)
            self.backend.attach(hook)
        try:
            gate.arrive_and_wait()
            if run.aborted:
                return
            fn()
        except RunAborted:
            pass
        except BaseException as exc:
            run.add(
                Failure(
                    "exception",
                    describe_exception(exc),
                    format_exception(exc),
                    threading.current_thread().name,
                )
            )
        finally:
            if hook is not None:
                self.backend.detach()

    def _excepthook(self, args: Any) -> None:
        """Exceptions of threads that the code under test started itself."""
        # SystemExit ends a thread quietly, as Python's own excepthook has it.
        if args.exc_type in (RunAborted, SystemExit) or args.exc_value is None:
            return
        failure = Failure(
            "exception",
            describe_exception(args.exc_value),
            format_exception(args.exc_value),
            args.thread.name if args.thread is not None else None,
        )
        run = self._run
        if run is not None:
            run.add(failure)
        else:
            threading.__excepthook__(args)

    # -- hangs, deadlocks and leaks ----------------------------------------------
    def _hang(self, run: _Run, state: Any, actors: int) -> Failure:
        """A missed deadline: a deadlock when the waits form a cycle, else a hang."""
        alive = [t for t in run.threads() if t.is_alive()]
        names = {t.ident: t.name for t in run.threads() if t.ident is not None}
        waiters = _waiters(alive)
        cycle = _cycle_key(find_cycle(waiters))
        if cycle:
            # The threads run on while we look: a lock can change hands between
            # reading one thread's wait and the next. A real deadlock stays put,
            # so a cycle counts only when a second look finds the same one.
            _sleep(CYCLE_CONFIRM_DELAY)
            waiters = _waiters(alive)
            if _cycle_key(find_cycle(waiters)) != cycle:
                cycle = frozenset()
        namer = Namer(state)
        frames = current_frames()
        thread_frames = [frames[t.ident] for t in alive if t.ident in frames]
        summary, waits = describe_waits(
            waiters, lambda obj: namer.name(obj, thread_frames), names.get
        )
        stacks = "\n".join(
            f"{t.name}:\n{format_stack(frames.get(t.ident) if t.ident else None)}" for t in alive
        )
        stuck_actors = sum(1 for t in run.actors if t.is_alive())
        details = f"{waits}\n{stacks}" if waits else stacks
        if cycle:
            return Failure("deadlock", summary, details)
        message = f"{stuck_actors} of {actors} threads still running after {self.timeout:g}s"
        return Failure("hang", message, details)

    def _check_leaks(self, run: _Run) -> None:
        """Threads of the code under test still alive after a short grace join."""
        grace = _perf_counter() + LEAK_GRACE
        for thread in run.spawned:
            thread.join(max(grace - _perf_counter(), 0.0))
        frames = current_frames()
        for thread in run.spawned:
            if thread.is_alive():
                daemon = " (daemon)" if thread.daemon else ""
                run.add(
                    Failure(
                        "leak",
                        f"thread {thread.name}{daemon} still alive after the run ended",
                        format_stack(frames.get(thread.ident) if thread.ident else None),
                        thread.name,
                    )
                )

    def _finish(self, run: _Run) -> None:
        """Unwind what is still running; count the threads that stay stuck."""
        alive = [t for t in run.threads() if t.is_alive()]
        if alive:
            run.abort()
            grace = _perf_counter() + ABORT_GRACE
            for thread in alive:
                thread.join(max(grace - _perf_counter(), 0.0))
            self.abandoned += sum(1 for t in alive if t.is_alive())
        for thread in run.threads():
            if thread.ident is not None:
                _state.aborted.discard(thread.ident)
