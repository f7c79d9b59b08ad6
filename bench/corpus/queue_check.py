"""A queue whose consumers check for an item outside the lock, then dequeue inside.

Pattern of SCTBench's ``CS/queue_bad``. An array-backed queue protects enqueue and
dequeue with a lock, but a consumer first looks at ``amount`` without it. With one
item queued and two consumers, both see it, both dequeue, and the second takes an
empty slot (``None``) and drives ``amount`` below zero. The fix checks and dequeues
in one critical section.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

CAPACITY = 4


class ArrayQueue:
    def __init__(self) -> None:
        self.items: list[int | None] = [None] * CAPACITY
        self.head = 0
        self.tail = 0
        self.amount = 0
        self.lock = threading.Lock()
        self.taken: list[int | None] = []


def enqueue(q: ArrayQueue, value: int) -> None:
    with q.lock:
        q.items[q.tail] = value
        q.tail = (q.tail + 1) % CAPACITY
        q.amount += 1


def _take(q: ArrayQueue) -> None:
    value = q.items[q.head]
    q.items[q.head] = None
    q.head = (q.head + 1) % CAPACITY
    q.amount -= 1
    q.taken.append(value)


def dequeue_racy(q: ArrayQueue) -> None:
    if q.amount == 0:  # checked outside the lock ...
        return
    with q.lock:
        _take(q)  # ... another consumer may have emptied the queue since


def dequeue_locked(q: ArrayQueue) -> None:
    with q.lock:
        if q.amount > 0:
            _take(q)


def check(q: ArrayQueue) -> None:
    assert q.amount >= 0, f"amount went negative ({q.amount}); consumers took {q.taken}"
    assert None not in q.taken, f"a consumer took an empty slot: {q.taken}"


def _actors(
    dequeue: Callable[[ArrayQueue], None],
) -> Callable[[ArrayQueue], list[Callable[[], None]]]:
    def actors(q: ArrayQueue) -> list[Callable[[], None]]:
        return [lambda: enqueue(q, 1), lambda: dequeue(q), lambda: dequeue(q)]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": ArrayQueue,
        "check": check,
        "threads": 3,
        "origin": "CS/queue_bad",
    }
    return [
        CorpusProgram(
            "queue",
            BUGGY,
            "consumers test amount outside the lock, then dequeue inside it",
            actors=_actors(dequeue_racy),
            budget=100,
            **common,
        ),
        CorpusProgram(
            "queue",
            FIXED,
            "consumers test amount and dequeue in one critical section",
            actors=_actors(dequeue_locked),
            budget=200,
            **common,
        ),
    ]
