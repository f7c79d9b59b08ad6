"""Helpers shared by the thread-lifecycle scenarios (lifecycle, join_order,
daemon_exit, stoppable, naming_liveness, low_level).

Private (leading underscore): the catalogue does not discover it as a scenario.

Each of those scenarios runs one or more *programs* per execution: an actor plays
the article's main thread, and the threads it starts are the article's threads.
The helpers here give every program the same plumbing: a transcript standing in
for the terminal, a record of the threads it started so that teardown can wait
for them, and a way to run a whole Python program in a subprocess with a timeout.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "LONG",
    "SAY_SECONDS",
    "Finished",
    "Tracked",
    "join_all",
    "latency_bucket",
    "run_python",
    "say",
    "still_running",
]

#: The timeout of every join and wait that a correct program never reaches. It is
#: there so that nothing can block for ever; the harness's own deadline (the
#: ``timeout`` setting, a second or two) ends a stuck run long before it expires.
LONG = 10.0

#: ``print`` in the articles writes to a terminal, and a write gives up the
#: interpreter while the operating system takes the bytes. :func:`say` keeps that
#: property with a short sleep (a virtual one when explored), so that "the thread
#: is still printing" is as real here as in the article.
SAY_SECONDS = 0.001


def say(transcript: list[str], line: str, seconds: float = SAY_SECONDS) -> None:
    """Print ``line`` to the program's terminal (its transcript).

    ``seconds`` is bound once, as a default: a module global read in the body
    would be one more scheduling point for the exploration engine at every line.
    """
    transcript.append(line)  # list.append is atomic: lines are never torn
    time.sleep(seconds)


class Tracked:
    """Per-execution state that remembers the threads and processes it started.

    Scenario code registers every thread with :meth:`track` before calling
    ``start()``, and every subprocess right after it was spawned; :meth:`release`
    is the variant's teardown: it wakes what a stuck program waits on (``wake``
    events), kills subprocesses and joins the threads that were started, so that
    nothing outlives the run.
    """

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.processes: list[subprocess.Popen[str]] = []
        #: Events that teardown sets to unblock a program stuck waiting on them.
        self.wake: list[threading.Event] = []
        #: Raw ``_thread`` threads: locks that each one releases as it ends.
        self.raw_done: list[threading.Lock] = []

    def track(self, *threads: threading.Thread) -> None:
        """Register threads that are about to be started.

        Before ``start()``, not after: once a thread runs, every step the
        program takes is an interleaving point with it, and bookkeeping there
        only multiplies the schedules an exhaustive search must run. A thread
        whose ``start()`` failed was never started and is not joined.
        """
        self.threads.extend(threads)

    def release(self, timeout: float = 5.0) -> None:
        for event in self.wake:
            event.set()
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:  # pragma: no cover - kill failed
                pass
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        deadline = time.monotonic() + timeout
        for done in self.raw_done:
            if done.acquire(True, max(deadline - time.monotonic(), 0.0)):
                done.release()
        started = [t for t in self.threads if t.ident is not None]  # None: never started
        stuck = join_all(started, max(deadline - time.monotonic(), 0.0))
        if stuck:
            raise RuntimeError(f"threads still running after teardown: {stuck}")
        undone = [lock for lock in self.raw_done if lock.locked()]
        if undone:
            raise RuntimeError(f"{len(undone)} _thread threads still running after teardown")


def join_all(threads: Iterable[threading.Thread], timeout: float) -> list[str]:
    """Join every thread within ``timeout`` in all; the names of those still alive."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    return [t.name for t in threads if t.is_alive()]


def still_running(threads: Iterable[threading.Thread]) -> list[str]:
    return [t.name for t in threads if t.is_alive()]


def latency_bucket(seconds: float) -> str:
    """A coarse bucket for the outcome histogram (exact values go in messages)."""
    for limit, label in ((0.001, "1 ms"), (0.01, "10 ms"), (0.1, "100 ms"), (1.0, "1 s")):
        if seconds < limit:
            return f"< {label}"
    return ">= 1 s"


@dataclass(frozen=True)
class Finished:
    """What a Python program run in a subprocess left behind."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def last_error_line(self) -> str:
        """The last non-blank stderr line (the exception, for a traceback)."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_python(tracked: Tracked, source: str, timeout: float) -> Finished:
    """Run ``source`` with this interpreter in a subprocess, with a timeout.

    The process is registered with ``tracked`` so that teardown kills it if the
    run is abandoned; on timeout it is killed here and ``timed_out`` is set.
    """
    began = time.monotonic()
    process = subprocess.Popen(
        # -I (isolated): the program's own behaviour is under test, so outside
        # settings (PYTHONWARNINGS, PYTHONPATH, user site-packages) stay out of it.
        [sys.executable, "-I", "-c", source],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tracked.processes.append(process)
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        process.kill()
        stdout, stderr = process.communicate(timeout=timeout)
    return Finished(process.returncode, stdout, stderr, time.monotonic() - began, timed_out)
