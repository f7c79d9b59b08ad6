"""What the explorer knows about one execution: its threads, their waits, its end.

Plain records, no behaviour: the scheduler (:mod:`harness.explore.scheduler`)
updates them, the execution (:mod:`harness.explore.execution`) reads them when
it judges the end, and the engine reports from :class:`Execution`.
"""

from __future__ import annotations

import _thread
import enum
import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from harness._tracing import Point
from harness.explore.values import Probe
from harness.outcome import Failure
from harness.trace import Step

if TYPE_CHECKING:
    from harness.explore.scheduler import Scheduler

__all__ = ["SOFT_KINDS", "Deviation", "Execution", "ThreadRecord", "ThreadStatus", "Waiting"]

#: Failure kinds that do not end a search: a lock-order inversion is a deadlock
#: that *could* happen, so exploration goes on looking for one that does.
SOFT_KINDS = frozenset({"lock-order"})


class ThreadStatus(enum.Enum):
    """Where a thread of an execution is, as the scheduler sees it."""

    RUNNABLE = "runnable"  # may be chosen to run (or is running)
    BLOCKED = "blocked"  # parked in a wait, with a ready predicate
    FINISHED = "finished"  # its body returned or raised: it will not run again


class Deviation(NamedTuple):
    """One decision that differs from the non-preemptive default.

    A replay token stores deviations keyed by the deciding thread's own progress
    (``thread``, ``thread_step``), so removing or moving one while shrinking leaves
    the meaning of the others intact.
    """

    thread: int  # the deciding thread's index; -1 for the first decision
    thread_step: int  # how many decisions that thread had made before this one
    decision: int  # the strategy's code (see harness.explore.strategies.base)
    preemptive: bool  # it switched away from a thread that could go on

    def plain(self) -> tuple[int, int, int]:
        """The ``(thread, thread_step, decision)`` a replay token stores."""
        return (self.thread, self.thread_step, self.decision)


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
    """One thread of an execution, as the scheduler sees it.

    ``runtime`` is the scheduler that runs the thread: the instrumented
    primitives reach it as ``record.runtime`` (``sync_point``, ``block``,
    ``sleep``, ``now``).
    """

    __slots__ = (
        "baton",
        "execution",
        "exited",
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

    def __init__(self, runtime: Scheduler, index: int, name: str, is_actor: bool) -> None:
        self.runtime = runtime
        self.index = index
        self.name = name
        self.is_actor = is_actor
        self.ident: int | None = None
        #: Held by everybody but the one thread that runs; see the scheduler.
        self.baton = _thread.allocate_lock()
        self.baton.acquire()
        #: The execution the thread belongs to: a thread still running after its
        #: execution ended (unwinding, or abandoned) must not act on the next one.
        self.execution: Execution = runtime.execution
        #: Released when the thread's main function returns: a ``_thread`` thread
        #: has no Thread to join, and the execution waits on this instead.
        self.exited = _thread.allocate_lock()
        self.exited.acquire()
        self.status = ThreadStatus.RUNNABLE
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
        #: Every non-default decision, in order.
        self.deviations: list[Deviation] = []
        self.trace: list[Step] | None = None
        self.outcome = ""
        self.threads: list[str] = []
        #: Trace indices of the two accesses of the reported data race (if recorded).
        self.race_steps: frozenset[int] = frozenset()

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def kinds(self) -> list[str]:
        return [f.kind for f in self.failures]

    @property
    def has_real_failure(self) -> bool:
        """Failed for a reason other than a lock-order warning (see SOFT_KINDS)."""
        return any(f.kind not in SOFT_KINDS for f in self.failures)

    @property
    def preemptions(self) -> int:
        return sum(1 for d in self.deviations if d.preemptive)
