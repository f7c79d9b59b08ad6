"""Twenty threads share one counter, ``theVar``, and read and bump it without a lock.

From "Basic Threading in Python" (Peyton McCullough; seeds 003 and 000). Each
thread reads the shared counter, announces "This is thread N speaking." with it,
then writes it back plus one. Reading the counter and writing it back are
separate steps: when a second thread reads between a first thread's read and its
write, both announce the same number and both write the same new value, so one
increment is lost.
The interpreter's lock (the GIL) does not help: it makes each bytecode atomic, not
the read-modify-write sequence of several bytecodes.

The ``lock`` fix makes the read, the announcement and the write one critical
section. The ``queue`` fix keeps the counter inside a one-slot ``Queue``: a
thread must take the number out to use it, so nobody else can hold it until it
is put back, incremented.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from harness import CAUGHT, HOLDS, Scenario, Variant

#: Each thread runs only about ten scheduling points, so the default noise (0.001)
#: would rarely put a yield between a read and its write: 0.05 catches the bug in
#: 198 of 200 runs of 20 threads on CPython 3.10-3.13 (seed 1).
STRESS = {"noise": 0.05}
#: Two threads show the lost update under exploration, and keep the bounded
#: search of the fixes small enough to exhaust.
EXPLORE = {"threads": 2}

SCENARIO = Scenario(
    name="thevar",
    title="Unsynchronized shared counter (theVar)",
    article="Basic Threading in Python (seeds 003, 000)",
    description=__doc__ or "",
    threads=20,
    min_threads=2,
)


class Shared:
    """The state all threads share: the counter and what was announced."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.theVar = 1
        self.lines: list[str] = []

    def final_value(self) -> int:
        return self.theVar

    def announced(self) -> list[int]:
        return [int(line.split()[3]) for line in self.lines if line.startswith("This is")]


# -- buggy: the article's thread body -------------------------------------------


def speak_unlocked(shared: Shared) -> None:
    number = shared.theVar  # read the counter ...
    shared.lines.append("This is thread " + str(number) + " speaking.")
    shared.lines.append("Hello and good bye.")
    shared.theVar = number + 1  # ... and write it back: another thread may have been here


# -- fix: one lock around the read, the announcement and the write --------------


class LockedShared(Shared):
    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        self.lock = threading.Lock()


def speak_locked(shared: LockedShared) -> None:
    with shared.lock:  # nobody else can read or write theVar until we are done
        number = shared.theVar
        shared.lines.append("This is thread " + str(number) + " speaking.")
        shared.lines.append("Hello and good bye.")
        shared.theVar = number + 1


# -- fix: the counter travels through a one-slot queue ---------------------------


class QueuedShared(Shared):
    def __init__(self, threads: int) -> None:
        super().__init__(threads)
        self.slot: queue.Queue[int] = queue.Queue(maxsize=1)
        self.slot.put(1)

    def final_value(self) -> int:
        value: int = self.slot.queue[0]
        return value


def speak_queued(shared: QueuedShared) -> None:
    number = shared.slot.get()  # nobody else can see the counter until we put it back
    shared.lines.append("This is thread " + str(number) + " speaking.")
    shared.lines.append("Hello and good bye.")
    shared.slot.put(number + 1)


# -- judging ----------------------------------------------------------------------


def _summary(shared: Shared) -> tuple[int, list[int], list[int]]:
    counts = Counter(shared.announced())
    duplicated = sorted(n for n, times in counts.items() if times > 1)
    missing = [n for n in range(1, shared.threads + 1) if n not in counts]
    return shared.final_value(), duplicated, missing


def check(shared: Shared) -> None:
    final, duplicated, missing = _summary(shared)
    problems = []
    if final != shared.threads + 1:
        lost = shared.threads + 1 - final
        problems.append(
            f"theVar ended at {final}, expected {shared.threads + 1}: "
            f"{lost} increment{'s' if lost != 1 else ''} lost"
        )
    if duplicated or missing:
        problems.append(f"thread numbers announced twice: {duplicated}; never announced: {missing}")
    assert not problems, "; ".join(problems)


def observe(shared: Shared) -> str:
    final, duplicated, missing = _summary(shared)
    return f"theVar={final}, {len(duplicated)} duplicated, {len(missing)} missing"


def _each_thread(body: Callable[[Any], None]) -> Callable[[Shared], list[Callable[[], None]]]:
    """Actors: every one of the scenario's threads runs ``body`` once."""

    def actors(shared: Shared) -> list[Callable[[], None]]:
        return [functools.partial(body, shared) for _ in range(shared.threads)]

    return actors


SCENARIO.add(
    Variant(
        name="buggy",
        summary="read theVar, announce it, write theVar + 1: no lock",
        setup=Shared,
        actors=_each_thread(speak_unlocked),
        check=check,
        observe=observe,
        expect=CAUGHT,
        bug_class="lost update",
        kinds=("assert",),
        engines=("stress", "explore"),
        settings={"stress": STRESS, "explore": EXPLORE},
        source=(speak_unlocked,),
    )
)
SCENARIO.add(
    Variant(
        name="lock",
        summary="read, announce and write under one threading.Lock",
        setup=LockedShared,
        actors=_each_thread(speak_locked),
        check=check,
        observe=observe,
        expect=HOLDS,
        engines=("stress", "explore"),
        settings={"stress": STRESS, "explore": EXPLORE},
        source=(speak_locked,),
    )
)
SCENARIO.add(
    Variant(
        name="queue",
        summary="the counter lives in a one-slot queue.Queue: get it, use it, put it back",
        setup=QueuedShared,
        actors=_each_thread(speak_queued),
        check=check,
        observe=observe,
        expect=HOLDS,
        engines=("stress", "explore"),
        settings={"stress": STRESS, "explore": EXPLORE},
        source=(QueuedShared, speak_queued),
    )
)
