"""A circular buffer whose item count is updated outside its lock.

Pattern of SCTBench's ``CS/circular_buffer_bad``. A producer sends values into a
ring of slots and a consumer receives them in order; both move their own index
under the buffer's condition, but update the shared ``count`` after leaving it,
with a read and a write. When the two updates interleave, one is lost: the
consumer either reads a slot that was never filled, or waits for an item that
was already counted away and never wakes (a deadlock). The fix updates ``count``
inside the critical section.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

ITEMS = 3


class Ring:
    def __init__(self) -> None:
        self.slots: list[int | None] = [None] * ITEMS
        self.head = 0
        self.tail = 0
        self.count = 0
        self.cond = threading.Condition()
        self.received: list[int | None] = []


def send_racy(ring: Ring, value: int) -> None:
    with ring.cond:
        ring.slots[ring.tail] = value
        ring.tail = (ring.tail + 1) % ITEMS
    ring.count = ring.count + 1  # outside the lock: races with receive's decrement
    with ring.cond:
        ring.cond.notify()


def receive_racy(ring: Ring) -> int | None:
    with ring.cond:
        while ring.count == 0:
            ring.cond.wait()
        value = ring.slots[ring.head]
        ring.slots[ring.head] = None
        ring.head = (ring.head + 1) % ITEMS
    ring.count = ring.count - 1  # outside the lock: races with send's increment
    return value


def send_locked(ring: Ring, value: int) -> None:
    with ring.cond:
        ring.slots[ring.tail] = value
        ring.tail = (ring.tail + 1) % ITEMS
        ring.count = ring.count + 1
        ring.cond.notify()


def receive_locked(ring: Ring) -> int | None:
    with ring.cond:
        while ring.count == 0:
            ring.cond.wait()
        value = ring.slots[ring.head]
        ring.slots[ring.head] = None
        ring.head = (ring.head + 1) % ITEMS
        ring.count = ring.count - 1
    return value


def check(ring: Ring) -> None:
    expected = list(range(1, ITEMS + 1))
    assert ring.received == expected, f"received {ring.received}, sent {expected}"


def _actors(
    send: Callable[[Ring, int], None], receive: Callable[[Ring], int | None]
) -> Callable[[Ring], list[Callable[[], None]]]:
    def actors(ring: Ring) -> list[Callable[[], None]]:
        def producer() -> None:
            for value in range(1, ITEMS + 1):
                send(ring, value)

        def consumer() -> None:
            for _ in range(ITEMS):
                ring.received.append(receive(ring))

        return [producer, consumer]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Ring,
        "check": check,
        "threads": 2,
        "origin": "CS/circular_buffer_bad",
    }
    return [
        CorpusProgram(
            "circular_buffer",
            BUGGY,
            "count = count +/- 1 after leaving the buffer's lock, in both producer and consumer",
            actors=_actors(send_racy, receive_racy),
            kinds=("assert", "deadlock", "hang"),
            # Under the default (mixed) strategy only the PCT half finds it:
            # seeds 0-9 took 12-700 schedules on 3.11, 20-364 on 3.12.
            budget=1000,
            **common,
        ),
        CorpusProgram(
            "circular_buffer",
            FIXED,
            "count updated inside the buffer's critical section",
            actors=_actors(send_locked, receive_locked),
            budget=200,
            **common,
        ),
    ]
