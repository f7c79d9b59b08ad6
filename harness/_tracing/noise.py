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
Hence a floor per build: :data:`NOISE_FLOOR`.

A fixed rate also misses the shortest bodies: a check-then-set of one module
global, two threads, was caught in 5 of 300 runs at 0.001 and 27 at 0.05. The
default is therefore :data:`AUTO`, which yields often at a thread's first points
and falls to the floor as it reaches more: 173 of 300 there, theVar 300 of 300,
and the 4-thread counter every time at 1.4x the cost of 0.001 (``python -m
bench.noise --runs 300 --counter-runs 20 lazy_global thevar:buggy counter``).
"""

from __future__ import annotations

import random
import time

from harness._abort import RunAborted
from harness._gil import free_threaded_build
from harness._tracing.points import Point

__all__ = [
    "AUTO",
    "AUTO_CEILING",
    "AUTO_YIELDS",
    "DEFAULT_NOISE",
    "NOISE_FLOOR",
    "Noise",
    "NoiseHook",
    "noise_on",
    "thread_rng",
]

#: The lowest rate :data:`AUTO` falls to: 0.001 with a GIL (the 4-thread counter
#: is then caught in 100 of 100 runs, at a fifth of the cost of 0.05); 0.05 on a
#: free-threaded build, where 0.001 adds nothing to what parallel threads find.
NOISE_FLOOR = 0.05 if free_threaded_build() else 0.001

#: The adaptive level: at a thread's k-th point the yield probability is
#: ``AUTO_YIELDS / k``, kept between :data:`NOISE_FLOOR` and :data:`AUTO_CEILING`.
#: A short body (a check-then-set of one global, a few points per thread) is then
#: preempted often, where a fixed 0.001 almost never lands in its one-bytecode
#: window; a long one (the 10,000-step counter) soon falls to the fixed floor, so
#: its cost grows with the logarithm of its points, not their number.
AUTO = "auto"
#: About how many yields a thread gets over its first points under :data:`AUTO`.
AUTO_YIELDS = 10
#: The highest yield probability :data:`AUTO` uses (its first points).
AUTO_CEILING = 0.5

#: A noise level: a fixed probability, or :data:`AUTO`.
Noise = float | str

#: ``harness.stress``'s default noise (the module docstring says why).
DEFAULT_NOISE: Noise = AUTO

_sleep = time.sleep
#: Long enough that the OS really deschedules the thread, short enough to be free.
YIELD_SECONDS = 1e-6


def noise_on(noise: Noise) -> bool:
    """Whether ``noise`` yields at all (:data:`AUTO` always does; 0 turns it off)."""
    return noise == AUTO or float(noise) > 0


def thread_rng(seed: int, run: int, index: int) -> random.Random:
    """The random source of thread ``index`` in run ``run`` of a call seeded ``seed``."""
    return random.Random(f"harness-noise:{seed}:{run}:{index}")


class NoiseHook:
    """A :data:`~harness._tracing.backends.Hook` that yields with probability p.

    ``record=True`` keeps the index of every point at which it yielded, for tests
    and for explaining a run.
    """

    __slots__ = ("_random", "aborted", "adaptive", "decisions", "points", "probability", "yields")

    def __init__(self, rng: random.Random, probability: Noise, record: bool = False) -> None:
        self._random = rng.random
        #: Under :data:`AUTO` the probability falls as the thread reaches more points.
        self.adaptive = probability == AUTO
        self.probability = AUTO_CEILING if self.adaptive else float(probability)
        self.points = 0
        self.yields = 0
        self.decisions: list[int] | None = [] if record else None
        #: Set by the engine when the run is abandoned: unwind at the next point.
        self.aborted = False

    def __call__(self, point: Point) -> None:
        if self.aborted:
            raise RunAborted
        self.points += 1
        if self.adaptive:
            self.probability = max(NOISE_FLOOR, min(AUTO_CEILING, AUTO_YIELDS / self.points))
        if self._random() < self.probability:
            self.yields += 1
            if self.decisions is not None:
                self.decisions.append(self.points)
            _sleep(YIELD_SECONDS)
