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

from harness.explore.strategies.base import Choice, SystematicSearch

__all__ = ["DFS"]


class _Node:
    __slots__ = ("chosen", "codes", "costs", "spent")

    def __init__(self, codes: list[int], costs: list[int], spent: int) -> None:
        self.codes = codes
        self.costs = costs
        self.chosen = 0
        self.spent = spent  # preemptions used before this decision


class DFS(SystematicSearch):
    name = "dfs"

    def __init__(self, bound: int = 2) -> None:
        if bound < 0:
            raise ValueError("the preemption bound must be >= 0")
        super().__init__()
        self.bound = bound
        self._stack: list[_Node] = []
        self._depth = 0
        self._spent = 0

    def _begin(self) -> None:
        self._depth = 0
        self._spent = 0

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
                # Raised by the next new_execution (see SystematicSearch).
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

    def describe(self) -> dict[str, object]:
        return {"strategy": self.name, "preemption_bound": self.bound}
