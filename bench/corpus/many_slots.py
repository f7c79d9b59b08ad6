"""One hundred threads, one slot that two of them share (many_slots_N).

The shape of issue 15's many-thread bug: every thread runs the same body, a
short critical section under one shared lock (counting itself in), then a
read-modify-write of its own slot, outside the lock. Thread ``t`` owns slot
``t % (N - 1)``, so the first and the last thread share slot 0 and nobody else
shares anything: the bug needs exactly those two threads, the last one's whole
update landing between the first one's read and write, while the other
``N - 2`` threads only add scheduling points. The fixed twin updates the slot
inside the lock.

Not an SCTBench program: written for the many-thread benchmark
(``bench/many.py``) and the partial order sampling strategy (``pos``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram


class Slots:
    def __init__(self, threads: int) -> None:
        self.slots = [0] * (threads - 1)
        self.joined = 0
        self.lock = threading.Lock()


def bump_outside(state: Slots, slot: int) -> None:
    with state.lock:
        state.joined = state.joined + 1
    value = state.slots[slot]  # read outside the lock ...
    state.slots[slot] = value + 1  # ... another owner's update in between is lost


def bump_inside(state: Slots, slot: int) -> None:
    with state.lock:
        state.joined = state.joined + 1
        value = state.slots[slot]
        state.slots[slot] = value + 1


def _actors(
    threads: int, bump: Callable[[Slots, int], None]
) -> Callable[[Slots], list[Callable[[], None]]]:
    def actors(state: Slots) -> list[Callable[[], None]]:
        shared = threads - 1

        def body(t: int) -> Callable[[], None]:
            return lambda: bump(state, t % shared)

        return [body(t) for t in range(threads)]

    return actors


def make(threads: int) -> list[CorpusProgram]:
    """The buggy and fixed program with ``threads`` threads (at least 3)."""
    if threads < 3:
        raise ValueError("many_slots needs at least 3 threads")
    name = f"many_slots_{threads}"

    def setup() -> Slots:
        return Slots(threads)

    def check(state: Slots) -> None:
        assert state.joined == threads, f"{state.joined} threads counted in, expected {threads}"
        assert state.slots[0] == 2, (
            f"slot 0 is {state.slots[0]}, expected 2: T0's and T{threads - 1}'s updates "
            "interleaved and one was lost"
        )

    common: dict[str, Any] = {
        "setup": setup,
        "check": check,
        "threads": threads,
        "origin": "issue 15 (many threads)",
    }
    return [
        CorpusProgram(
            name,
            BUGGY,
            f"{threads} threads bump their slot outside the lock; T0 and T{threads - 1} share one",
            actors=_actors(threads, bump_outside),
            budget=None,
            **common,
        ),
        CorpusProgram(
            name,
            FIXED,
            "every thread bumps its slot under the lock",
            actors=_actors(threads, bump_inside),
            budget=200,
            **common,
        ),
    ]


def programs() -> list[CorpusProgram]:
    return make(10)
