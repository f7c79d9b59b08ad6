"""A stack popped on the strength of a flag that says "something was pushed once".

Pattern of SCTBench's ``CS/stack_bad``. The pusher pushes its values one at a time
under the stack's lock and raises ``flag`` after the first push; the popper, under
the same lock, pops whenever ``flag`` is up. But the flag is never lowered: a
popper that runs twice between two pushes pops an empty stack (underflow). Each
operation is atomic; the bug is in what the flag claims. The fix pops only when
the stack is not empty.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

SIZE = 3


class Stack:
    def __init__(self) -> None:
        self.items: list[int] = []
        self.flag = False
        self.lock = threading.Lock()
        self.underflows = 0


def pusher(stack: Stack) -> None:
    for value in range(SIZE):
        with stack.lock:
            stack.items.append(value)
            stack.flag = True


def pop_on_flag(stack: Stack) -> None:
    for _ in range(SIZE):
        with stack.lock:
            if stack.flag:  # "something was pushed once", not "something is there"
                if stack.items:
                    stack.items.pop()
                else:
                    stack.underflows += 1


def pop_when_not_empty(stack: Stack) -> None:
    for _ in range(SIZE):
        with stack.lock:
            if stack.items:
                stack.items.pop()


def check(stack: Stack) -> None:
    assert stack.underflows == 0, f"popped an empty stack {stack.underflows} time(s)"


def _actors(popper: Callable[[Stack], None]) -> Callable[[Stack], list[Callable[[], None]]]:
    def actors(stack: Stack) -> list[Callable[[], None]]:
        return [lambda: pusher(stack), lambda: popper(stack)]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Stack,
        "check": check,
        "threads": 2,
        "origin": "CS/stack_bad",
    }
    return [
        CorpusProgram(
            "stack",
            BUGGY,
            "pop whenever a never-lowered 'pushed' flag is up",
            actors=_actors(pop_on_flag),
            budget=100,
            **common,
        ),
        CorpusProgram(
            "stack",
            FIXED,
            "pop only when the stack is not empty",
            actors=_actors(pop_when_not_empty),
            budget=200,
            **common,
        ),
    ]
