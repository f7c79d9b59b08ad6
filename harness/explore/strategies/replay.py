"""Replay a recorded schedule, or a shrunk variant of one.

A schedule is stored as its *deviations* from the non-preemptive default: "when
thread T makes its k-th decision, choose C". Decisions that are not listed take
the default (keep running the current thread; else the lowest-numbered runnable
one; else the earliest timeout). Because deviations are keyed by the thread's own
progress rather than by a global step number, removing or moving one leaves the
meaning of the others intact, which is what shrinking needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.explore.strategies.base import Choice, Strategy

__all__ = ["Replay"]


class Replay(Strategy):
    """Takes the recorded deviations; counts those it could not take (``missed``)."""

    name = "replay"

    def __init__(self, deviations: Iterable[tuple[int, int, int]]) -> None:
        self._plan = {(thread, step): code for thread, step, code in deviations}
        self.missed = 0
        self.used = 0

    def new_execution(self) -> bool:
        self.missed = 0
        self.used = 0
        return True

    def choose(self, choice: Choice) -> int:
        code = self._plan.get((choice.current, choice.thread_step))
        if code is None:
            return choice.default
        index, timeout = divmod(code, 2)
        legal = choice.timed if timeout else choice.runnable
        if index not in legal:
            self.missed += 1
            return choice.default
        self.used += 1
        return code
