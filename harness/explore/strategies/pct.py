"""Probabilistic Concurrency Testing (PCT).

Burckhardt, Kothari, Musuvathi, Nagarakatte: "A Randomized Scheduler with
Probabilistic Guarantees of Finding Bugs", ASPLOS 2010. Every thread gets a random
priority and the highest-priority thread that can run always runs. At ``depth - 1``
change points, drawn at random among the execution's decisions, the running
thread's priority drops below every initial priority. A bug of depth ``d`` (``d``
ordering constraints) is found by one execution with probability at least
``1 / (n * k**(d-1))`` for ``n`` threads and ``k`` decisions.

Two adjustments for Python programs: a thread that sleeps or times out drops to
the lowest priority (it yields, as a fair scheduler would let others run), so
retry loops with back-off cannot starve the thread they wait for; and ``k`` is
learnt from the executions seen so far.
"""

from __future__ import annotations

import random

from harness.explore.strategies.base import Choice, Strategy, run

__all__ = ["PCT"]


class PCT(Strategy):
    name = "pct"

    def __init__(self, seed: int, depth: int = 3, initial_steps: int = 64) -> None:
        if depth < 1:
            raise ValueError("PCT depth must be at least 1")
        self.depth = depth
        self._random = random.Random(f"harness-pct:{seed}")
        self._steps_estimate = initial_steps
        self._priority: dict[int, float] = {}
        self._change_points: dict[int, int] = {}
        self._lowest = 0.0
        # The answer for the last set of runnable threads, valid until a priority
        # changes: most decisions just let the same thread go on.
        self._version = 0
        self._cached_for: tuple[int, ...] | None = None
        self._cached_version = -1
        self._cached_code = 0

    def new_execution(self) -> bool:
        self._priority = {}
        self._version += 1
        # Change point i lowers the running thread to priority i (1 .. depth-1),
        # below every initial priority (>= depth).
        points = self._random.sample(
            range(1, self._steps_estimate + 1), min(self.depth - 1, self._steps_estimate)
        )
        self._change_points = {step: i + 1 for i, step in enumerate(sorted(points))}
        self._lowest = 0.0
        return True

    def on_thread(self, index: int) -> None:
        self._priority[index] = self.depth + self._random.random() * 1_000_000
        self._version += 1

    def on_yield(self, index: int) -> None:
        self._lowest -= 1.0
        self._priority[index] = self._lowest
        self._version += 1

    def choose(self, choice: Choice) -> int:
        if self._change_points:
            drop = self._change_points.get(choice.step)
            if drop is not None and choice.current >= 0:
                self._priority[choice.current] = float(drop)
                self._version += 1
        runnable = choice.runnable
        if not runnable:
            return choice.default
        # The runtime hands over the same tuple while the runnable set is
        # unchanged, so identity is a valid cache key.
        if runnable is self._cached_for and self._version == self._cached_version:
            return self._cached_code
        priority = self._priority
        try:
            # A C-level key: with 100 threads this max runs at most decisions.
            code = run(max(runnable, key=priority.__getitem__))
        except KeyError:  # a thread the strategy was not told about ranks lowest
            code = run(max(runnable, key=lambda i: priority.get(i, 0.0)))
        self._cached_for = runnable
        self._cached_version = self._version
        self._cached_code = code
        return code

    def end_execution(self, steps: int, failed: bool) -> None:
        self._steps_estimate = max(self._steps_estimate, steps)

    def describe(self) -> dict[str, object]:
        return {"strategy": self.name, "depth": self.depth}
