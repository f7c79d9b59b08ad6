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
    "POLL_INTERVAL",
    "deadlocked",
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
#: Seconds between two looks for a deadlock while a run's threads are joined.
POLL_INTERVAL = 0.1

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


def _stuck_for_good() -> dict[int, object] | None:
    """Every other live thread's untimed instrumented wait, or None when some
    thread could still act (it runs, sleeps, or waits with a timeout or in a call
    the harness does not instrument).

    When every thread of the process waits like this, no thread is left to
    release, set or notify what the others wait for: a deadlock whether or not
    the waits form a cycle of held locks (a Condition wait has no holder). The
    threads an engine already gave up on (``context.abandoned``: stuck in an
    earlier run or call, on something it cannot unwind) do not count. The entries
    are the wait records themselves, so a second look can tell the same wait from
    a new one on the same object.
    """
    me = threading.get_ident()
    stuck: dict[int, object] = {}
    for thread in threading.enumerate():
        ident = thread.ident
        if ident is None or ident == me or not thread.is_alive() or thread in context.abandoned:
            continue
        entry = context.waiting_for.get(ident)
        if entry is None or ident not in context.waiting_forever:
            return None
        stuck[ident] = entry
    return stuck or None


def _some_wait_can_end(stuck: dict[int, object]) -> bool:
    """Whether what one of the ``stuck`` threads waits for is there already.

    A thread woken by a release or a notify stays in ``context.waiting_for``
    until the OS runs it again; on a loaded machine that can outlast both looks
    (a stress run of three threads sharing a lock was once reported as a
    deadlock after 0.5 s on 3.13t: the holder had released and ended, and the
    woken waiters had not been scheduled yet). So a lock that is free, or a
    Condition with fewer threads parked on it than are recorded waiting there
    (someone was notified), means a wait is ending, not stuck.
    """
    waiting_on: dict[int, tuple[object, int]] = {}
    for entry in stuck.values():
        obj = entry[0] if isinstance(entry, tuple) else entry
        if getattr(obj, "_waiters", None) is not None:  # a Condition
            _, count = waiting_on.get(id(obj), (obj, 0))
            waiting_on[id(obj)] = (obj, count + 1)
            continue
        locked = getattr(obj, "locked", None)
        if callable(locked) and not locked():
            return True
    return any(len(obj._waiters) < count for obj, count in waiting_on.values())  # type: ignore[attr-defined]


def _all_stuck_confirmed() -> bool:
    """:func:`_stuck_for_good`, seen twice with the very same waits, none of
    which can end now (:func:`_some_wait_can_end`)."""
    first = _stuck_for_good()
    if first is None or _some_wait_can_end(first):
        return False
    _sleep(CYCLE_CONFIRM_DELAY)
    again = _stuck_for_good()
    return (
        again is not None
        and again.keys() == first.keys()
        and all(again[ident] is entry for ident, entry in first.items())
        and not _some_wait_can_end(again)
    )


def deadlocked(run: Run) -> bool:
    """True when some of the run's threads wait, with no timeout, in a wait-for cycle,
    or every live thread waits with no timeout, and a second look finds the same:
    nothing can end those waits, so the run need not wait out its deadline (the
    report is then :func:`hang_failure`'s)."""
    alive = [t for t in run.threads() if t.is_alive()]
    cycle = find_cycle(_waiters(alive))
    if not cycle or any(w.ident not in context.waiting_forever for w in cycle):
        return _all_stuck_confirmed()
    key = _cycle_key(cycle)
    _sleep(CYCLE_CONFIRM_DELAY)
    again = find_cycle(_waiters(alive))
    return _cycle_key(again) == key and all(w.ident in context.waiting_forever for w in again)


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
    if cycle or _all_stuck_confirmed():
        # As in explore: a cycle of held locks, or every thread waiting with no
        # timeout (on a Condition, an Event, a Queue ...) and none left to wake it.
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
        for thread in alive:
            if thread.is_alive():
                stuck += 1
                context.abandoned.add(thread)
    for thread in run.threads():
        if thread.ident is not None:
            context.aborted.discard(thread.ident)
    return stuck
