"""A waiter checks its condition outside the lock and sleeps through the wake-up.

Pattern of the condition-variable programs of SCTBench (``CS/sync01_bad``,
``sync02_bad``) and CHESS: the waiter looks at ``ready`` without holding the
condition's lock, finds it false, then takes the lock and waits. A signaller that
sets ``ready`` and notifies in between wakes nobody, and the waiter sleeps
forever. The fix tests the flag in a loop under the lock, as ``Condition.wait``
requires.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram


class Signal:
    def __init__(self) -> None:
        self.ready = False
        self.cond = threading.Condition()
        self.woke = False


def wait_racy(signal: Signal) -> None:
    if not signal.ready:  # tested without the lock ...
        with signal.cond:
            signal.cond.wait()  # ... the notify may already have happened
    signal.woke = True


def wait_in_loop(signal: Signal) -> None:
    with signal.cond:
        while not signal.ready:
            signal.cond.wait()
    signal.woke = True


def signaller(signal: Signal) -> None:
    with signal.cond:
        signal.ready = True
        signal.cond.notify_all()


def check(signal: Signal) -> None:
    assert signal.woke, "the waiter never woke up"


def _actors(waiter: Callable[[Signal], None]) -> Callable[[Signal], list[Callable[[], None]]]:
    def actors(signal: Signal) -> list[Callable[[], None]]:
        return [lambda: waiter(signal), lambda: signaller(signal)]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Signal,
        "check": check,
        "threads": 2,
        "origin": "CS/sync01_bad",
    }
    return [
        CorpusProgram(
            "lost_wakeup",
            BUGGY,
            "test ready without the lock, then wait: the notify can come in between",
            actors=_actors(wait_racy),
            kinds=("deadlock", "hang"),
            budget=100,
            **common,
        ),
        CorpusProgram(
            "lost_wakeup",
            FIXED,
            "with cond: while not ready: cond.wait()",
            actors=_actors(wait_in_loop),
            budget=200,
            **common,
        ),
    ]
