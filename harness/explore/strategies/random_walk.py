"""Random walk: at every decision, pick uniformly among the threads that can run.

Cheap and surprisingly effective for races that need many context switches.
When every thread waits, one of the timed waits with the earliest deadline
times out, picked at random among ties.
"""

from __future__ import annotations

import random

from harness.explore.strategies.base import Choice, Strategy, fire, run

__all__ = ["RandomWalk"]


class RandomWalk(Strategy):
    name = "random"

    def __init__(self, seed: int) -> None:
        self._random = random.Random(f"harness-random:{seed}")

    def choose(self, choice: Choice) -> int:
        if choice.runnable:
            return run(self._random.choice(choice.runnable))
        return fire(self._random.choice(choice.timed))
