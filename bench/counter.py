"""The program of the cost benchmark: threads that each bump a shared counter.

``c.value = c.value + 1`` reads and writes shared state, so every iteration is
two scheduling points for an exploring tool. There is no check: every schedule
runs to its end, so the cost of a schedule is the cost of the whole program.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Counter:
    def __init__(self) -> None:
        self.value = 0


def bump(counter: Counter, iterations: int) -> None:
    for _ in range(iterations):
        counter.value = counter.value + 1


def actors_for(threads: int, iterations: int) -> Callable[[Counter], list[Callable[[], None]]]:
    """``actors(state)`` for the explore API: ``threads`` bumpers."""

    def actors(counter: Counter) -> list[Callable[[], None]]:
        return [lambda: bump(counter, iterations) for _ in range(threads)]

    return actors


def run_untraced(threads: int, iterations: int) -> Counter:
    """One run of the program on plain threads: the cost floor of a schedule."""
    counter = Counter()
    workers = [threading.Thread(target=bump, args=(counter, iterations)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counter
