"""Ready sequential specifications with hashable states (fast to check).

The default model runs the object itself one operation at a time, which costs a
replay per step; these are for checking long recorded histories, as Porcupine's
models are.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from harness.linearize.history import Call

__all__ = ["FifoQueue", "Register"]


class Register:
    """``write(v)`` returns None; ``read()`` returns the last value written (``initial`` first)."""

    def __init__(self, initial: Any = 0) -> None:
        self.initial = initial

    def init(self) -> Any:
        return self.initial

    def step(self, state: Any, call: Call) -> tuple[Any, Any]:
        if call.name == "write":
            return call.args[-1], ("returned", None)
        return state, ("returned", state)

    def key(self, state: Any) -> Hashable:
        return state  # type: ignore[no-any-return]

    def partition(self, call: Call) -> Hashable | None:
        return None


class FifoQueue:
    """``put(x)`` returns None; ``get()`` returns the oldest item, or raises ``IndexError``."""

    def init(self) -> tuple[Any, ...]:
        return ()

    def step(self, state: tuple[Any, ...], call: Call) -> tuple[tuple[Any, ...], Any]:
        if call.name == "put":
            return (*state, call.args[0]), ("returned", None)
        if not state:
            return state, ("raised", IndexError)
        return state[1:], ("returned", state[0])

    def key(self, state: tuple[Any, ...]) -> Hashable:
        return state

    def partition(self, call: Call) -> Hashable | None:
        return None
