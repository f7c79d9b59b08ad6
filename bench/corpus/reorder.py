"""One checker reads two fields that setters write one after the other (reorder_N).

Pattern of SCTBench's ``CS/reorder_N_bad`` (N = 3, 4, 5, 10, 20). ``N - 1`` setter
threads each write ``a = 1`` then ``b = -1``; one checker reads ``a`` and ``b`` and
expects either both unset or both set. A checker that runs between some setter's
two writes sees ``a == 1, b == 0``. More setters make the space of schedules
larger, not the bug easier. The fix writes and reads the pair under one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram


class Pair:
    def __init__(self) -> None:
        self.a = 0
        self.b = 0
        self.lock = threading.Lock()
        self.torn: tuple[int, int] | None = None


def set_racy(pair: Pair) -> None:
    pair.a = 1
    pair.b = -1  # between these two writes the pair is half set


def check_racy(pair: Pair) -> None:
    a = pair.a
    b = pair.b
    if not ((a == 0 and b == 0) or (a == 1 and b == -1)):
        pair.torn = (a, b)


def set_locked(pair: Pair) -> None:
    with pair.lock:
        pair.a = 1
        pair.b = -1


def check_locked(pair: Pair) -> None:
    with pair.lock:
        a = pair.a
        b = pair.b
    if not ((a == 0 and b == 0) or (a == 1 and b == -1)):
        pair.torn = (a, b)


def check(pair: Pair) -> None:
    assert pair.torn is None, (
        f"the checker saw a half-written pair: a={pair.torn[0]}, b={pair.torn[1]}"
    )


def _actors(
    threads: int, setter: Callable[[Pair], None], checker: Callable[[Pair], None]
) -> Callable[[Pair], list[Callable[[], None]]]:
    def actors(pair: Pair) -> list[Callable[[], None]]:
        setters: list[Callable[[], None]] = [lambda: setter(pair)] * (threads - 1)
        return [*setters, lambda: checker(pair)]

    return actors


#: Schedules within which explore (pct, seeds 0-2) catches reorder_N; measured
#: over seeds 0-4 and doubled.
_BUGGY_BUDGETS = {3: 300, 5: 600, 10: 500, 20: 1000}


def make(threads: int) -> list[CorpusProgram]:
    """The buggy and fixed ``reorder`` with ``threads - 1`` setters and one checker."""
    name = f"reorder_{threads}"
    common: dict[str, Any] = {
        "setup": Pair,
        "check": check,
        "threads": threads,
        "origin": f"CS/reorder_{threads}_bad",
    }
    return [
        CorpusProgram(
            name,
            BUGGY,
            f"{threads - 1} setters write a = 1 then b = -1; a checker reads a and b, no lock",
            actors=_actors(threads, set_racy, check_racy),
            budget=_BUGGY_BUDGETS.get(threads),
            **common,
        ),
        CorpusProgram(
            name,
            FIXED,
            "the pair is written and read under one lock",
            actors=_actors(threads, set_locked, check_locked),
            budget=200,
            **common,
        ),
    ]


def programs() -> list[CorpusProgram]:
    return [*make(3), *make(5)]
