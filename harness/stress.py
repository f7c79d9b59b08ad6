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
from harness._frames import format_exception, format_stack
from harness._program import Program, describe_exception
from harness._tracing import CodeFilter, make_backend
from harness._tracing.noise import NoiseHook, thread_rng
from harness.errors import UsageError
from harness.outcome import Failure, Result, Verdict

__all__ = ["DEFAULT_RUNS", "RunAborted", "stress"]

DEFAULT_RUNS = 200
MAX_RUNS = 10_000_000

_perf_counter = time.perf_counter  # the engine's own clock, never a patched one

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
    also one that failed or hung.
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
    engine = _StressEngine(program, noise, seed, timeout, code_filter)
    return engine.run_all(
        runs=runs,
        seconds=seconds,
        switch_interval=switch_interval,
        stop_on_failure=stop_on_failure,
        progress=progress,
        target=target,
    )


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
        self.lock = _thread.allocate_lock()

    def abort(self) -> None:
        """Ask every thread of this run to unwind at its next scheduling point."""
        for hook in self.hooks:
            hook.aborted = True

    def add(self, failure: Failure) -> None:
        with self.lock:
            self.failures.append(failure)


class _StressEngine:
    def __init__(
        self,
        program: Program,
        noise: float,
        seed: int,
        timeout: float,
        code_filter: CodeFilter | None,
    ) -> None:
        self.program = program
        self.noise = noise
        self.seed = seed
        self.timeout = timeout
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
        }
        started = _perf_counter()
        old_interval = sys.getswitchinterval()
        old_excepthook = threading.excepthook
        threading.excepthook = self._excepthook
        self.backend.start()
        sys.setswitchinterval(switch_interval)
        try:
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
            self.backend.stop()
            threading.excepthook = old_excepthook
            result.duration = _perf_counter() - started
        if self.abandoned:
            result.settings["abandoned_threads"] = self.abandoned
        return result

    # -- one run ----------------------------------------------------------
    def _one_run(self, index: int) -> tuple[str, Verdict, list[Failure]]:
        program = self.program
        run = self._run = _Run(index)
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
        workers = [
            threading.Thread(
                target=self._worker,
                args=(run, gate, i, fn),
                name=f"actor-{i}",
                daemon=True,
            )
            for i, fn in enumerate(callables)
        ]
        deadline = _perf_counter() + self.timeout
        for worker in workers:
            worker.start()
        if gate.wait_for_all(deadline - _perf_counter()):
            gate.open()
        for worker in workers:
            worker.join(max(deadline - _perf_counter(), 0.0))
        stuck = [w for w in workers if w.is_alive()]
        if stuck:
            run.add(self._hang(stuck, len(workers)))
        else:
            for failure in program.judge(state):
                run.add(failure)
        outcome = program.outcome(state, run.failures)
        # Teardown before unwinding: closing a server's socket is what frees a
        # thread stuck in accept().
        for failure in program.tear_down(state):
            run.add(failure)
        if stuck:
            self._abort(run, stuck)
        self._run = None
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
        run = self._run
        if args.exc_type is RunAborted or args.exc_value is None:
            return
        failure = Failure(
            "exception",
            describe_exception(args.exc_value),
            format_exception(args.exc_value),
            args.thread.name if args.thread is not None else None,
        )
        if run is not None:
            run.add(failure)

    def _hang(self, stuck: list[threading.Thread], total: int) -> Failure:
        frames = sys._current_frames()
        parts = []
        for thread in stuck:
            ident = thread.ident
            frame = frames.get(ident) if ident is not None else None
            parts.append(f"{thread.name}:\n{format_stack(frame)}")
        message = f"{len(stuck)} of {total} threads still running after {self.timeout:g}s"
        return Failure("hang", message, "\n".join(parts))

    def _abort(self, run: _Run, stuck: list[threading.Thread]) -> None:
        """Unwind what can be unwound; count the threads that stay stuck."""
        run.abort()
        grace = _perf_counter() + 0.5
        for thread in stuck:
            thread.join(max(grace - _perf_counter(), 0.0))
        self.abandoned += sum(1 for t in stuck if t.is_alive())
