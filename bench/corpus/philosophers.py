"""Dining philosophers: each takes the left fork, then the right one.

Pattern of SCTBench's ``CS/din_phil*`` programs. Three philosophers sit around a
table with one fork between each pair. When every philosopher has picked up the
left fork, each waits for a right fork held by a neighbour: a deadlock of three
threads. The fix breaks the cycle: every philosopher picks up the lower-numbered
fork first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

SEATS = 3


class Table:
    def __init__(self) -> None:
        self.forks = [threading.Lock() for _ in range(SEATS)]
        self.meals = 0
        self.count_lock = threading.Lock()


def _eat(table: Table, first: int, second: int) -> None:
    with table.forks[first], table.forks[second], table.count_lock:
        table.meals += 1


def left_then_right(table: Table, seat: int) -> None:
    _eat(table, seat, (seat + 1) % SEATS)


def lower_first(table: Table, seat: int) -> None:
    left, right = seat, (seat + 1) % SEATS
    _eat(table, min(left, right), max(left, right))


def check(table: Table) -> None:
    assert table.meals == SEATS, f"{table.meals} meals eaten, expected {SEATS}"


def _actors(
    philosopher: Callable[[Table, int], None],
) -> Callable[[Table], list[Callable[[], None]]]:
    def actors(table: Table) -> list[Callable[[], None]]:
        return [lambda seat=seat: philosopher(table, seat) for seat in range(SEATS)]  # type: ignore[misc]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Table,
        "check": check,
        "threads": SEATS,
        "origin": "CS/din_phil3_sat",
    }
    return [
        CorpusProgram(
            "philosophers",
            BUGGY,
            "every philosopher takes the left fork, then the right one",
            actors=_actors(left_then_right),
            kinds=("deadlock", "lock-order", "hang"),
            budget=300,
            **common,
        ),
        CorpusProgram(
            "philosophers",
            FIXED,
            "every philosopher takes the lower-numbered fork first",
            actors=_actors(lower_first),
            budget=200,
            **common,
        ),
    ]
