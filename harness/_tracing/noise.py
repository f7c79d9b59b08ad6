"""Noise injection: yield the GIL at a random fraction of scheduling points.

On CPython >= 3.10 the eval loop only honours a thread-switch request at backward
jumps and calls, so ``x = x + 1`` is never preempted between its read and its
write, however many threads run and however small the switch interval. Sleeping
right before a read or write of shared state opens exactly that window.
Decisions come from a ``random.Random`` seeded per thread, so the same seed gives
the same sequence of decisions in each thread.

The yield is ``time.sleep(1e-6)`` rather than ``sleep(0)``: on CPython 3.10 a
zero sleep often retakes the GIL before a waiting thread wakes up (theVar, 20
threads, noise 0.01: caught in 14 of 200 runs with ``sleep(0)``, 140 of 200 with
a microsecond); on 3.11+ the two are alike (141 and 138 of 200).
"""

from __future__ import annotations

import random
import time

from harness._abort import RunAborted
from harness._tracing.points import Point

__all__ = ["NoiseHook", "thread_rng"]

_sleep = time.sleep
#: Long enough that the OS really deschedules the thread, short enough to be free.
YIELD_SECONDS = 1e-6


def thread_rng(seed: int, run: int, index: int) -> random.Random:
    """The random source of thread ``index`` in run ``run`` of a call seeded ``seed``."""
    return random.Random(f"harness-noise:{seed}:{run}:{index}")


class NoiseHook:
    """A :data:`~harness._tracing.backends.Hook` that yields with probability p.

    ``record=True`` keeps the index of every point at which it yielded, for tests
    and for explaining a run.
    """

    __slots__ = ("_random", "aborted", "decisions", "points", "probability", "yields")

    def __init__(self, rng: random.Random, probability: float, record: bool = False) -> None:
        self._random = rng.random
        self.probability = probability
        self.points = 0
        self.yields = 0
        self.decisions: list[int] | None = [] if record else None
        #: Set by the engine when the run is abandoned: unwind at the next point.
        self.aborted = False

    def __call__(self, point: Point) -> None:
        if self.aborted:
            raise RunAborted
        self.points += 1
        if self._random() < self.probability:
            self.yields += 1
            if self.decisions is not None:
                self.decisions.append(self.points)
            _sleep(YIELD_SECONDS)
