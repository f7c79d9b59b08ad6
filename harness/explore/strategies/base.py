"""What every scheduling strategy implements, and the choice it is asked to make.

A decision is encoded as one integer: ``2*i`` runs thread ``i``; ``2*i + 1`` makes
thread ``i``'s timed wait time out now (the virtual clock jumps to its deadline).
Threads are numbered in creation order, actors first, so the numbers mean the
same thing in every execution of the same program.
"""

from __future__ import annotations

from harness.errors import HarnessError

__all__ = ["Choice", "NondeterminismError", "Strategy", "SystematicSearch", "fire", "run"]


def run(index: int) -> int:
    """The code of "let thread ``index`` run"."""
    return index * 2


def fire(index: int) -> int:
    """The code of "time out thread ``index``'s timed wait now"."""
    return index * 2 + 1


class Choice:
    """The options at one decision. One instance is reused for every decision."""

    __slots__ = (
        "current",
        "current_runnable",
        "default",
        "frames",
        "ops",
        "runnable",
        "step",
        "thread_step",
        "timed",
    )

    def __init__(self) -> None:
        #: Index of the thread that is deciding (it reached a point, blocked or
        #: finished); -1 at the start of an execution.
        self.current = -1
        self.current_runnable = False
        #: Indices of the threads that can run now, ascending.
        self.runnable: tuple[int, ...] = ()
        #: When no thread can run: the timed waits with the earliest deadline,
        #: one of which times out now. Empty while some thread can run.
        self.timed: tuple[int, ...] = ()
        #: The non-preemptive choice: keep running the current thread if it can
        #: run, else the lowest-numbered runnable thread, else the earliest timeout.
        self.default = 0
        #: Decisions made so far in this execution, and by the current thread.
        self.step = 0
        self.thread_step = 0
        #: What each thread will do when it next runs, by index (see
        #: ``Scheduler.ops``): ``(kind, what)``. Only dependence-aware
        #: strategies look at it.
        self.ops: list[tuple[str, object]] = []
        #: The frame of each thread's last data access, by index.
        self.frames: list[object] = []

    def is_preemption(self, code: int) -> bool:
        """Whether ``code`` switches away from a current thread that could go on."""
        return self.current_runnable and code != self.default

    def options(self) -> list[int]:
        """Every legal code, the default first."""
        codes = [self.default]
        if self.runnable:
            codes += [run(i) for i in self.runnable if run(i) != self.default]
        else:
            codes += [fire(i) for i in self.timed if fire(i) != self.default]
        return codes


class Strategy:
    """Chooses who runs at each decision of each execution.

    Subclasses override :meth:`choose`, and where they need to, the notification
    methods. :meth:`new_execution` returns False when the strategy has nothing
    left to explore (a bounded search that is exhausted).
    """

    name = "strategy"

    def new_execution(self) -> bool:
        """Prepare for the next execution; False when there is nothing left to run.

        Called before every execution, the first included. A bounded search
        (DFS) returns False once it has covered its space; the engine then
        stops and reports the program verified up to the bound.
        """
        return True

    def choose(self, choice: Choice) -> int:
        """The decision code for ``choice``: ``run(i)`` or ``fire(i)``.

        Called at every decision of the execution by the thread that is
        deciding, while every other thread is parked. It must return one of
        ``choice.options()`` (``run(i)`` for ``i`` in ``choice.runnable``, or
        ``fire(i)`` for ``i`` in ``choice.timed`` when nobody can run); anything
        else is a bug in the strategy, reported as such. ``choice`` is reused
        for the next decision: copy what you keep. Returning ``choice.default``
        is never a preemption.
        """
        raise NotImplementedError

    def on_thread(self, index: int) -> None:
        """Thread ``index`` was created (actors at the start, others when started)."""

    def on_yield(self, index: int) -> None:
        """Thread ``index`` slept or timed out: it gave up the processor on purpose."""

    def end_execution(self, steps: int, failed: bool) -> None:
        """The execution ended after ``steps`` decisions."""

    @property
    def exhausted(self) -> bool:
        """True when a bounded search has covered its whole space."""
        return False

    def describe(self) -> dict[str, object]:
        return {"strategy": self.name}


class NondeterminismError(HarnessError):
    """The program made different decisions on the same schedule prefix."""


class SystematicSearch(Strategy):
    """A stateless search over a tree of decisions (``dfs``, ``dpor``).

    Each execution replays a prefix of earlier decisions; after one, the search
    backtracks to the next untried branch, and it is exhausted when none is left.
    A prefix that offers other options when replayed is recorded in
    :attr:`nondeterminism` by :meth:`choose`, which lets that execution end on
    defaults: raised in the program's thread it would read as the program's
    failure. The next :meth:`new_execution` raises it instead. Subclasses give
    :meth:`_backtrack` and :meth:`_begin`.
    """

    def __init__(self) -> None:
        self._started = False
        self._exhausted = False
        self.executions = 0
        #: Set when a replayed prefix did not behave the same: the search must stop.
        self.nondeterminism: str | None = None

    def new_execution(self) -> bool:
        if self.nondeterminism is not None:
            raise NondeterminismError(self.nondeterminism)
        if self._exhausted:
            return False
        if self._started and not self._backtrack():
            self._exhausted = True
            return False
        self._started = True
        self._begin()
        self.executions += 1
        return True

    def _backtrack(self) -> bool:
        """Move to the next untried branch; False when there is none."""
        raise NotImplementedError

    def _begin(self) -> None:
        """Reset what one execution accumulates."""

    @property
    def exhausted(self) -> bool:
        return self._exhausted
