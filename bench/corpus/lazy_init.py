"""Lazy initialisation checked without a lock: two threads both build the resource.

Pattern of SCTBench's ``CS/lazy01_bad`` (and of every unguarded singleton). Each
thread asks for the shared resource; the getter builds it when it finds none.
Two threads that both find none build two resources, and each goes on using its
own. The fix checks and builds under a lock (double-checked).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

THREADS = 3


class Resource:
    pass


class Lazy:
    def __init__(self) -> None:
        self.instance: Resource | None = None
        self.built = 0
        self.lock = threading.Lock()
        self.seen: list[Resource] = []


def get_racy(lazy: Lazy) -> Resource:
    if lazy.instance is None:  # checked ...
        lazy.built += 1
        lazy.instance = Resource()  # ... and set later: another thread may be in between
    return lazy.instance


def get_locked(lazy: Lazy) -> Resource:
    if lazy.instance is None:
        with lazy.lock:
            if lazy.instance is None:  # checked again, now that nobody else can build
                lazy.built += 1
                lazy.instance = Resource()
    return lazy.instance


def check(lazy: Lazy) -> None:
    distinct = len({id(r) for r in lazy.seen})
    assert lazy.built == 1 and distinct == 1, (
        f"resource built {lazy.built} times; threads saw {distinct} distinct instances"
    )


def _actors(get: Callable[[Lazy], Resource]) -> Callable[[Lazy], list[Callable[[], None]]]:
    def actors(lazy: Lazy) -> list[Callable[[], None]]:
        def user() -> None:
            lazy.seen.append(get(lazy))

        return [user] * THREADS

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Lazy,
        "check": check,
        "threads": THREADS,
        "origin": "CS/lazy01_bad",
    }
    return [
        CorpusProgram(
            "lazy_init",
            BUGGY,
            "if instance is None: build it (no lock)",
            actors=_actors(get_racy),
            budget=100,
            **common,
        ),
        CorpusProgram(
            "lazy_init",
            FIXED,
            "double-checked: the second check and the build under a lock",
            actors=_actors(get_locked),
            budget=200,
            # The first check reads outside the lock on purpose (double-checked).
            benign=("Lazy.instance",),
            **common,
        ),
    ]
