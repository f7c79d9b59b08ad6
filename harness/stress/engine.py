"""The stress engine's loop: patches once, then one run after another.

Each run goes through :func:`harness._lifecycle.run_execution` with
``teardown_first=True``: a server's teardown is what frees a thread stuck in
``accept()``, so the leak check comes after it.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time
from collections.abc import Callable

from harness._gil import GilWatch
from harness._lifecycle import run_body, run_execution
from harness._program import Program
from harness._rawsync import StartGate
from harness._tracing import CodeFilter, make_backend
from harness._tracing.noise import Noise, NoiseHook, noise_on, thread_rng
from harness._tracing.sight import check_interpreter, unexplored_reason
from harness.detect.excepthook import make_excepthook
from harness.detect.futures import UnreadFutures
from harness.outcome import Failure, Result, Verdict
from harness.stress import threads, watchdog
from harness.sync import context
from harness.sync.naming import Namer
from harness.sync.patching import Patcher, install_primitives

__all__ = ["Progress", "Run", "StressEngine"]

_perf_counter = time.perf_counter  # the engine's own clock, never a patched one

#: Progress callback: ``(runs done, runs planned or None, seconds elapsed)``.
Progress = Callable[[int, "int | None", float], None]


class Run:
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
                context.aborted.add(thread.ident)


class StressEngine:
    """Runs one program many times in real threads."""

    def __init__(
        self,
        program: Program,
        noise: Noise,
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
        self._run: Run | None = None
        self.abandoned = 0
        #: Runs ended at a confirmed deadlock instead of at their deadline.
        self.ended_early = 0

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
        check_interpreter()  # never a silent pass on bytecode the tables do not know
        started = _perf_counter()
        old_interval = sys.getswitchinterval()
        patcher = Patcher()
        gil = GilWatch().start()
        try:
            install_primitives(patcher, self.backend.filter)  # type: ignore[attr-defined]
            patcher.set(threading.Thread, "start", threads.thread_start(self))
            patcher.set(threading, "excepthook", make_excepthook(self._sink_for))
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
                if self.abandoned:
                    # Threads blocked in something the harness cannot unwind (a
                    # real lock, a C call) stay blocked; each further run would
                    # leave more of them behind.
                    result.sections["stopped"] = (
                        f"after run {index - 1}: {self.abandoned} thread(s) of that run "
                        "could not be unwound (blocked outside the harness's primitives; "
                        "see the hang's stacks), so no further run was started"
                    )
                    break
        finally:
            sys.setswitchinterval(old_interval)
            try:
                self.backend.stop()
            finally:
                patcher.restore()
            result.duration = _perf_counter() - started
            result.gil = gil.stop()
        if self.abandoned:
            result.settings["abandoned_threads"] = self.abandoned
        if self.ended_early:
            result.settings["deadlocks_ended_early"] = self.ended_early
            result.sections["ended early"] = (
                f"{self.ended_early} deadlocked run(s) ended as soon as the deadlock was "
                f"confirmed, not at the {self.timeout:g}s deadline"
            )
        if result.runs and noise_on(self.noise):  # without noise nothing is traced
            result.unexplored = unexplored_reason(self.backend)
        return result

    # -- one run ----------------------------------------------------------
    def _one_run(self, index: int) -> tuple[str, Verdict, list[Failure]]:
        run = Run(index)
        outcome = run_execution(
            self.program,
            _RunHost(self, run),
            futures=self.futures,
            lockorder=self.lockorder,
            leaks=self.leaks,
            teardown_first=True,
        )
        failures = list(run.failures)
        verdict = Verdict.FORBIDDEN if failures else Verdict.ACCEPTABLE
        return outcome, verdict, failures

    def _run_threads(self, run: Run, callables: list[Callable[[], object]], namer: Namer) -> bool:
        """Start one thread per actor, release them together, wait for the deadline."""
        gate = StartGate(len(callables))
        run.actors = [
            threading.Thread(
                target=self._worker,
                args=(run, gate, i, fn),
                name=f"T{i}",
                daemon=True,
            )
            for i, fn in enumerate(callables)
        ]
        deadline = _perf_counter() + self.timeout
        self._run = run
        for worker in run.actors:
            worker.start()
        if not gate.wait_for_all(deadline - _perf_counter()):
            run.aborted = True  # some actor never arrived: release the others to exit
        gate.open()
        # Joined in slices: a deadlock that no timeout can end is reported as soon as
        # it is confirmed, not at the deadline (300 such runs would cost 300 deadlines).
        while _perf_counter() < deadline:
            alive = [w for w in run.actors if w.is_alive()]
            if not alive:
                break
            alive[0].join(min(watchdog.POLL_INTERVAL, max(deadline - _perf_counter(), 0.0)))
            if alive[0].is_alive() and watchdog.deadlocked(run):
                self.ended_early += 1
                break
        if any(w.is_alive() for w in run.actors):
            run.add(watchdog.hang_failure(run, namer, self.timeout))
            return False
        return True

    def _worker(self, run: Run, gate: StartGate, index: int, fn: Callable[[], object]) -> None:
        hook = None
        if noise_on(self.noise):
            hook = NoiseHook(thread_rng(self.seed, run.index, index), self.noise)
            with run.lock:
                run.hooks.append(hook)
            self.backend.attach(hook)
        try:
            gate.arrive_and_wait()
            if run.aborted:
                return
            run_body(fn, threading.current_thread().name, run.add)
        finally:
            if hook is not None:
                self.backend.detach()

    def _sink_for(self, thread: threading.Thread | None) -> Callable[[Failure], None] | None:
        """Exceptions of threads that the code under test started go to the run."""
        run = self._run
        return run.add if run is not None else None


class _RunHost:
    """One stress run seen from harness._lifecycle."""

    def __init__(self, engine: StressEngine, run: Run) -> None:
        self.engine = engine
        self.run = run
        self._unwound = False

    def add(self, failure: Failure) -> None:
        self.run.add(failure)

    def failures(self) -> list[Failure]:
        with self.run.lock:
            return list(self.run.failures)

    def run_threads(self, callables: list[Callable[[], object]], namer: Namer) -> bool:
        return self.engine._run_threads(self.run, callables, namer)

    def find_leaks(self) -> list[Failure]:
        return watchdog.leak_failures(self.run)

    def unwind(self) -> None:
        if not self._unwound:
            self._unwound = True
            self.engine._run = None
            self.engine.abandoned += watchdog.unwind(self.run)
