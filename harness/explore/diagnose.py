"""What went wrong in an execution, in words: deadlocks, leaks, livelocks, hangs.

Each function reads the scheduler's thread records and returns a
:class:`Failure`; none of them schedules anything. They run while the threads
are parked (or stuck), with the scheduler's ``inside`` flag set by the caller
where naming may touch user code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness._frames import current_frames, format_stack
from harness._lifecycle import leak_failure
from harness.detect.waitfor import Waiter, describe_waits
from harness.explore.records import ThreadRecord, ThreadStatus
from harness.outcome import Failure

if TYPE_CHECKING:
    from harness.explore.scheduler import Scheduler

__all__ = [
    "deadlock_failure",
    "frames_of",
    "hang_failure",
    "leak_failures",
    "livelock_failure",
    "positions",
]


def frames_of(scheduler: Scheduler) -> list[Any]:
    """Current frames of the threads still in the execution (for naming locals)."""
    frames = current_frames()
    return [frames[t.ident] for t in scheduler.threads if t.ident in frames]


def _waiters(threads: list[ThreadRecord]) -> list[Waiter]:
    return [
        Waiter(t.name, t.ident, t.waiting.obj, t.waiting.site, t.waiting.kind)
        for t in threads
        if t.waiting is not None
    ]


def describe(scheduler: Scheduler, threads: list[ThreadRecord]) -> tuple[str, str]:
    """A one-line summary and the details of what ``threads`` wait for."""
    frames = frames_of(scheduler)
    names = {t.ident: t.name for t in scheduler.threads if t.ident is not None}
    return describe_waits(
        _waiters(threads), lambda obj: scheduler.namer.name(obj, frames), names.get
    )


def deadlock_failure(scheduler: Scheduler) -> Failure:
    """Nobody can run while some actor has not ended."""
    blocked = [t for t in scheduler.threads if t.status is ThreadStatus.BLOCKED]
    summary, details = describe(scheduler, blocked)
    return Failure("deadlock", summary, details)


def leak_failures(scheduler: Scheduler) -> list[Failure]:
    """Threads the code under test started, still waiting when the actors ended."""
    return [
        leak_failure(t.name, t.thread is not None and t.thread.daemon, describe(scheduler, [t])[1])
        for t in scheduler.threads
        if t.status is ThreadStatus.BLOCKED and not t.is_actor
    ]


def livelock_failure(scheduler: Scheduler) -> Failure:
    """The execution reached its step limit (shuttle's MaxSteps)."""
    return Failure(
        "livelock",
        f"no end after {scheduler.max_steps:,} scheduling steps",
        positions(scheduler),
    )


def hang_failure(scheduler: Scheduler, reason: str | None = None) -> Failure:
    """The running thread stopped reaching scheduling points (real blocking).

    ``reason``: what it was seen blocking on, when known (harness.explore.stall),
    found without waiting for the whole timeout.
    """
    if reason is not None:
        message = f"a thread {reason}"
    else:
        message = (
            f"a thread blocked outside the harness's control for {scheduler.timeout:g}s "
            "(real I/O, or a lock created before the harness patched threading)"
        )
    return Failure("hang", message, positions(scheduler, with_stacks=True))


def positions(scheduler: Scheduler, with_stacks: bool = False) -> str:
    """Where every unfinished thread is: its wait, or its stack."""
    lines = []
    frames = current_frames() if with_stacks else {}
    blocked = [t for t in scheduler.threads if t.status is ThreadStatus.BLOCKED]
    if blocked:
        lines.append(describe(scheduler, blocked)[1])
    for t in scheduler.threads:
        if t.status is ThreadStatus.RUNNABLE:
            lines.append(f"{t.name}: running")
        if with_stacks and t.status is not ThreadStatus.FINISHED and t.ident is not None:
            lines.append(f"{t.name}:\n{format_stack(frames.get(t.ident))}")
    return "\n".join(lines)
