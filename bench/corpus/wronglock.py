"""Threads guard one counter with different locks (wronglock_N).

Pattern of SCTBench's ``CS/wronglock_bad`` and ``wronglock_3_bad``. Every thread
increments a shared counter inside a ``with`` block, so the code looks
synchronized, but the first thread takes ``lock_a`` while the others take
``lock_b``: the first thread's read-modify-write is not excluded from theirs, and
an increment is lost. The fix uses one lock everywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

INCREMENTS = 2


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self.lock_a = threading.Lock()
        self.lock_b = threading.Lock()


def bump_under(counter: Counter, lock: threading.Lock) -> None:
    for _ in range(INCREMENTS):
        with lock:
            counter.value = counter.value + 1


def _actors(threads: int, right_lock: bool) -> Callable[[Counter], list[Callable[[], None]]]:
    def actors(counter: Counter) -> list[Callable[[], None]]:
        first = counter.lock_b if right_lock else counter.lock_a  # the wrong lock
        others: list[Callable[[], None]] = [lambda: bump_under(counter, counter.lock_b)] * (
            threads - 1
        )
        return [lambda: bump_under(counter, first), *others]

    return actors


def make(threads: int) -> list[CorpusProgram]:
    name = "wronglock" if threads == 2 else f"wronglock_{threads}"
    expected = threads * INCREMENTS

    def check(counter: Counter) -> None:
        assert counter.value == expected, (
            f"counter {counter.value}, expected {expected}: an increment was lost"
        )

    common: dict[str, Any] = {
        "setup": Counter,
        "check": check,
        "threads": threads,
        "origin": "CS/wronglock_bad" if threads == 2 else f"CS/wronglock_{threads}_bad",
    }
    return [
        CorpusProgram(
            name,
            BUGGY,
            "thread 0 increments under lock_a, the others under lock_b",
            actors=_actors(threads, right_lock=False),
            budget=300,
            **common,
        ),
        CorpusProgram(
            name,
            FIXED,
            "every thread increments under lock_b",
            actors=_actors(threads, right_lock=True),
            budget=200,
            **common,
        ),
    ]


def programs() -> list[CorpusProgram]:
    return [*make(2), *make(3)]
