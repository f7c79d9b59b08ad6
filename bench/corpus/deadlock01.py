"""Two threads take two locks in opposite orders (ABBA).

Pattern of SCTBench's ``CS/deadlock01_bad``. The first thread takes ``a`` then
``b``, the second ``b`` then ``a``: when each gets its first lock before the
other's second, both wait forever. The fix takes the locks in one global order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram


class Locks:
    def __init__(self) -> None:
        self.a = threading.Lock()
        self.b = threading.Lock()
        self.counter = 0


def a_then_b(locks: Locks) -> None:
    with locks.a, locks.b:
        locks.counter += 1


def b_then_a(locks: Locks) -> None:
    with locks.b, locks.a:  # the opposite order: waits for a while holding b
        locks.counter += 1


def check(locks: Locks) -> None:
    assert locks.counter == 2, f"counter {locks.counter}, expected 2"


def _actors(second: Callable[[Locks], None]) -> Callable[[Locks], list[Callable[[], None]]]:
    def actors(locks: Locks) -> list[Callable[[], None]]:
        return [lambda: a_then_b(locks), lambda: second(locks)]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Locks,
        "check": check,
        "threads": 2,
        "origin": "CS/deadlock01_bad",
    }
    return [
        CorpusProgram(
            "deadlock01",
            BUGGY,
            "thread 1 takes a then b, thread 2 takes b then a",
            actors=_actors(b_then_a),
            kinds=("deadlock", "lock-order", "hang"),
            budget=100,
            **common,
        ),
        CorpusProgram(
            "deadlock01",
            FIXED,
            "both threads take a then b",
            actors=_actors(a_then_b),
            budget=200,
            **common,
        ),
    ]
