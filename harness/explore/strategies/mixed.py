"""A portfolio: executions alternate between a random walk and PCT.

Random walk finds shallow races in very few executions (it switches threads
often), PCT finds the deep ones that need a few switches at exactly the right
places (a random walk rarely keeps one thread running long enough to reach
them). Alternating them costs at most twice the executions of the better of
the two on any one program, and each keeps its own seeded random stream, so a
seed still fixes every choice.
"""

from __future__ import annotations

from harness.explore.strategies.base import Choice, Strategy
from harness.explore.strategies.pct import PCT
from harness.explore.strategies.random_walk import RandomWalk

__all__ = ["Mixed"]


class Mixed(Strategy):
    name = "mixed"

    def __init__(self, seed: int, depth: int = 3) -> None:
        self._members: tuple[Strategy, ...] = (RandomWalk(seed), PCT(seed, depth=depth))
        self._executions = 0
        self._current: Strategy = self._members[0]
        self.depth = depth

    def new_execution(self) -> bool:
        self._current = self._members[self._executions % len(self._members)]
        self._executions += 1
        return self._current.new_execution()

    def choose(self, choice: Choice) -> int:
        return self._current.choose(choice)

    def on_thread(self, index: int) -> None:
        self._current.on_thread(index)

    def on_yield(self, index: int) -> None:
        self._current.on_yield(index)

    def end_execution(self, steps: int, failed: bool) -> None:
        # Every member learns the length of an execution (PCT sizes its change
        # points by it), whichever member scheduled it.
        for member in self._members:
            member.end_execution(steps, failed)

    def describe(self) -> dict[str, object]:
        return {"strategy": self.name, "members": "random, pct", "depth": self.depth}
