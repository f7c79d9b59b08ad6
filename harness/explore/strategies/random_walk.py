"""Random walk: at every decision, pick uniformly among the threads that can run.

Cheap and surprisingly effective for races that need many context switches. A
timed wait is made to time out early with a small probability, so timeout paths
are explored without starving the threads that could run.
"""

from __future__ import annotations

import random

from harness.explore.strategies.base import Choice, Strategy, fire, run

__all__ = ["RandomWalk"]

#: Chance, at a decision where some thread could run, of firing a timeout early.
EARLY_TIMEOUT = 0.02


class RandomWalk(Strategy):
    name = "random"

    def __init__(self, seed: int) -> None:
        self._random = random.Random(f"harness-random:{seed}")

    def choose(self, choice: Choice) -> int:
        rnd = self._random
        if choice.runnable:
            if choice.timed and rnd.random() < EARLY_TIMEOUT:
                return fire(rnd.choice(choice.timed))
            return run(rnd.choice(choice.runnable))
        return choice.default
