"""Depth-first search of all schedules with at most ``bound`` preemptions.

Iterative context bounding (Musuvathi and Qadeer, "Iterative Context Bounding for
Systematic Testing of Multithreaded Programs", PLDI 2007): a preemption is a
switch away from a thread that could have continued; switches at a thread's
block or end are free. Most concurrency bugs need very few preemptions, and the
number of schedules with at most ``c`` preemptions grows polynomially, not
exponentially, with the length of the program. When the search is exhausted,
every schedule within the bound has been run: the program is *verified* up to
that bound.

The search is stateless: each execution replays the chosen prefix of decisions
and then takes the default (first) option at every new decision; backtracking
picks the deepest decision that still has an untried option within the budget.
"""

from __future__ import annotations

from harness.errors import HarnessError
from harness.explore.strategies.base import Choice, Strategy

__all__ = ["DFS", "NondeterminismError"]


class NondeterminismError(HarnessError):
    """The program made different decisions on the same schedule prefix."""


class _Node:
    __slots__ = ("chosen", "codes", "costs", "spent")

    def __init__(self, codes: list[int], costs: list[int], spent: int) -> None:
        self.codes = codes
        self.costs = costs
        self.chosen = 0
        self.spent = spent  # preemptions used before this decision


class DFS(Strategy):
    name = "dfs"

    def __init__(self, bound: int = 2) -> None:
        if bound < 0:
            raise ValueError("the preemption bound must be >= 0")
        self.bound = bound
        self._stack: list[_Node] = []
        self._depth = 0
        self._spent = 0
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
        self._depth = 0
        self._spent = 0
        self.executions += 1
        return True

    def _backtrack(self) -> bool:
        stack = self._stack
        while stack:
            node = stack[-1]
            for i in range(node.chosen + 1, len(node.codes)):
                if node.spent + node.costs[i] <= self.bound:
                    node.chosen = i
                    return True
            stack.pop()
        return False

    def choose(self, choice: Choice) -> int:
        depth = self._depth
        self._depth += 1
        if self.nondeterminism is not None:
            return choice.default  # the search is over; let this execution end
        if depth < len(self._stack):
            node = self._stack[depth]
            codes = choice.options()
            if codes != node.codes:
                # Raised here it would be the program's exception, in the program's
                # thread: the engine raises it once the execution is over.
                self.nondeterminism = (
                    f"decision {depth} offered {codes} after the same prefix that offered "
                    f"{node.codes}: the program does not behave the same way when replayed "
                    "(does it depend on time, randomness or thread identities?)"
                )
                del self._stack[depth:]
                return choice.default
        else:
            codes = choice.options()
            costs = [1 if choice.is_preemption(code) else 0 for code in codes]
            node = _Node(codes, costs, self._spent)
            self._stack.append(node)
        self._spent = node.spent + node.costs[node.chosen]
        return node.codes[node.chosen]

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def describe(self) -> dict[str, object]:
        return {"strategy": self.name, "preemption_bound": self.bound}
