"""An instrumented ``queue.SimpleQueue``.

``queue.Queue``, ``LifoQueue`` and ``PriorityQueue`` need no replacement: they
build their mutex and conditions from ``threading.Lock`` and
``threading.Condition`` when constructed, so with those patched they run on the
instrumented primitives (and their timeouts on the virtual clock, once
``queue.time`` is patched too). ``SimpleQueue`` is written in C and must be
replaced.
"""

from __future__ import annotations

import queue
import types
from collections import deque
from typing import Any

from harness.sync.condition import Condition
from harness.sync.locks import Lock

__all__ = ["SimpleQueue"]


class SimpleQueue:
    """``queue.SimpleQueue``: an unbounded FIFO queue."""

    __class_getitem__: Any = classmethod(types.GenericAlias)

    def __init__(self) -> None:
        self._items: deque[Any] = deque()
        self._not_empty = Condition(Lock())

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        with self._not_empty:
            self._items.append(item)
            self._not_empty.notify()

    def put_nowait(self, item: Any) -> None:
        self.put(item, block=False)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if timeout is not None and timeout < 0:
            raise ValueError("'timeout' must be a non-negative number")
        with self._not_empty:
            if not block:
                if not self._items:
                    raise queue.Empty
            elif not self._not_empty.wait_for(lambda: bool(self._items), timeout):
                raise queue.Empty
            return self._items.popleft()

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)
