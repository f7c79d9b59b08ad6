"""Histories: each operation's invocation and response, in real-time order.

A :class:`Recorder` stamps every invocation and every response with the next
value of one counter, so that "``a`` returned before ``b`` was invoked" is
``a.returned < b.invoked``. It is harness code, which the tracer never traces, so
recording adds no scheduling point; its counter is guarded by a raw lock, which
makes it right under stress on free-threaded builds too.
"""

from __future__ import annotations

import _thread
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "Recorder", "describe_call"]


@dataclass
class Call:
    """One operation as it happened: who, what, when, and what came back."""

    id: int
    thread: str
    name: str
    args: tuple[Any, ...]
    invoked: int
    #: Stamp of the response, or None while (or if for ever) pending.
    returned: int | None = None
    result: Any = None
    #: The exception it raised instead of returning (its result, for the checker).
    error: BaseException | None = None

    @property
    def pending(self) -> bool:
        return self.returned is None

    def outcome(self) -> Any:
        """What the checker compares: the result, or the exception's type."""
        return ("raised", type(self.error)) if self.error is not None else ("returned", self.result)


def describe_call(call: Call, shown: Callable[[Any], str] = repr) -> str:
    """``put(1) -> None`` / ``get() raised Empty`` / ``get() (pending)``, for reports."""
    args = ", ".join(shown(a) for a in call.args)
    head = f"{call.name}({args})"
    if call.pending:
        return f"{head} (pending)"
    if call.error is not None:
        return f"{head} raised {type(call.error).__name__}"
    return f"{head} -> {shown(call.result)}"


@dataclass
class Recorder:
    """Collects the calls of one execution, stamped in real-time order."""

    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._clock = 0

    def _tick(self) -> int:
        with self._lock:
            self._clock += 1
            return self._clock

    def call(
        self, thread: str, name: str, fn: Callable[..., Any], obj: Any, args: tuple[Any, ...]
    ) -> None:
        """Run ``fn(obj, *args)`` as one recorded operation of ``thread``."""
        with self._lock:
            self._clock += 1
            record = Call(len(self.calls), thread, name, args, self._clock)
            self.calls.append(record)
        try:
            result = fn(obj, *args)
        except Exception as exc:  # an operation's exception is its result
            record.error = exc
        else:
            record.result = result
        record.returned = self._tick()
