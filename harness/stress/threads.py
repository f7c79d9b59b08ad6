"""Threads the code under test starts during a stress run are adopted by the run.

The engine patches ``Thread.start``: a thread started while a run is on is
tracked by the run (for the leak check and for aborting), and gets noise of its
own, from its own seeded generator, so that races in it show up too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness._rawsync import StartedFlag
from harness._tracing.noise import NoiseHook, noise_on, thread_rng
from harness.sync.event import Event as _InstrumentedEvent

if TYPE_CHECKING:
    from harness.stress.engine import Run, StressEngine

__all__ = ["adopt", "thread_start"]


def thread_start(engine: StressEngine) -> Callable[[threading.Thread], None]:
    """A replacement for ``Thread.start`` that adopts threads into the current run."""
    original = threading.Thread.start

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
            thread._started = StartedFlag()  # type: ignore[attr-defined]
        if run is not None and initialized and thread not in run.actors:
            adopt(engine, run, thread)
        original(thread)

    return start


def adopt(engine: StressEngine, run: Run, thread: threading.Thread) -> None:
    """Track a thread started during the run, and give it noise of its own."""
    with run.lock:
        run.spawned.append(thread)
        index = len(run.actors) + len(run.spawned) - 1
    if not noise_on(engine.noise):
        return
    body = thread.run
    hook = NoiseHook(thread_rng(engine.seed, run.index, index), engine.noise)
    with run.lock:
        run.hooks.append(hook)
    if run.aborted:
        hook.aborted = True

    def run_with_noise() -> None:
        engine.backend.attach(hook)
        try:
            body()
        finally:
            engine.backend.detach()

    thread.run = run_with_noise  # type: ignore[method-assign]
