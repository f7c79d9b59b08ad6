"""What a stress run left behind: deadlocks, hangs, leaks, and the unwinding.

Stress threads are real, so the watchdog can only look at them from outside:
what each waits for in an instrumented wait (``context.waiting_for``), and
its stack.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness._frames import current_frames, format_stack
from harness._lifecycle import leak_failure
from harness.detect.waitfor import Waiter, describe_waits, find_cycle
from harness.outcome import Failure
from harness.sync import context
from harness.sync.naming import Namer

if TYPE_CHECKING:
    from harness.stress.engine import Run

__all__ = [
    "ABORT_GRACE",
    "CYCLE_CONFIRM_DELAY",
    "LEAK_GRACE",
    "hang_failure",
    "leak_failures",
    "unwind",
]

#: Seconds the threads the code under test started get to end after a run.
LEAK_GRACE = 1.0
#: Seconds the threads of a run get to unwind after they were aborted.
ABORT_GRACE = 0.5
#: Seconds between the two looks at a suspected wait-for cycle.
CYCLE_CONFIRM_DELAY = 0.05

_perf_counter = time.perf_counter  # the engine's own clock, never a patched one
_sleep = time.sleep


def _waiters(threads: Sequence[threading.Thread]) -> list[Waiter]:
    """What each of ``threads`` waits for in an instrumented wait, now."""
    waiters = []
    for thread in threads:
        entry = context.waiting_for.get(thread.ident) if thread.ident is not None else None
        if entry is not None:
            waiters.append(Waiter(thread.name, thread.ident, entry[0], entry[1]))
    return waiters


def _cycle_key(cycle: Sequence[Waiter]) -> frozenset[tuple[int | None, int, object]]:
    """A cycle as who waits for which lock held by whom, comparable across looks."""
    return frozenset((w.ident, id(w.obj), getattr(w.obj, "_owner", None)) for w in cycle)


def hang_failure(run: Run, namer: Namer, timeout: float) -> Failure:
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
    frames = current_frames()
    thread_frames = [frames[t.ident] for t in alive if t.ident in frames]
    summary, waits = describe_waits(waiters, lambda obj: namer.name(obj, thread_frames), names.get)
    stacks = "\n".join(
        f"{t.name}:\n{format_stack(frames.get(t.ident) if t.ident else None)}" for t in alive
    )
    stuck_actors = sum(1 for t in run.actors if t.is_alive())
    details = f"{waits}\n{stacks}" if waits else stacks
    if cycle:
        return Failure("deadlock", summary, details)
    message = f"{stuck_actors} of {len(run.actors)} threads still running after {timeout:g}s"
    return Failure("hang", message, details)


def leak_failures(run: Run) -> list[Failure]:
    """Threads of the code under test still alive after a short grace join."""
    grace = _perf_counter() + LEAK_GRACE
    for thread in run.spawned:
        thread.join(max(grace - _perf_counter(), 0.0))
    frames = current_frames()
    return [
        leak_failure(
            thread.name,
            thread.daemon,
            format_stack(frames.get(thread.ident) if thread.ident else None),
        )
        for thread in run.spawned
        if thread.is_alive()
    ]


def unwind(run: Run) -> int:
    """Unwind what is still running; return how many threads stay stuck."""
    alive = [t for t in run.threads() if t.is_alive()]
    stuck = 0
    if alive:
        run.abort()
        grace = _perf_counter() + ABORT_GRACE
        for thread in alive:
            thread.join(max(grace - _perf_counter(), 0.0))
        stuck = sum(1 for t in alive if t.is_alive())
    for thread in run.threads():
        if thread.ident is not None:
            context.aborted.discard(thread.ident)
    return stuck
