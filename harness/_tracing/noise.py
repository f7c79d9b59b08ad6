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

Without a GIL (3.13t) threads already race in parallel, and a low rate of yields
adds nothing: theVar failed in 70 of 100 runs at noise 0, 69 at 0.001 and 100 at
0.05, against 0, 21 and 100 of 100 on 3.11 (``python -m bench --sections noise``).
Hence a default per build: :data:`DEFAULT_NOISE`.
"""

from __future__ import annotations

import random
import time

from harness._abort import RunAborted
from harness._gil import free_threaded_build
from harness._tracing.points import Point

__all__ = ["DEFAULT_NOISE", "NoiseHook", "thread_rng"]

#: ``harness.stress``'s default noise: 0.001 with a GIL (the 4-thread counter is
#: then caught in 100 of 100 runs, at a fifth of the cost of 0.05); 0.05 on a
#: free-threaded build, where 0.001 adds nothing to what parallel threads find.
DEFAULT_NOISE = 0.05 if free_threaded_build() else 0.001

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
