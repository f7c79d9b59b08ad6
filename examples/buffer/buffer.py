"""A bounded buffer in the producer/consumer pattern of the seed articles.

Producers offer items, consumers take them, and the buffer never holds more than
``capacity``. ``UnsafeBuffer`` checks the room and then appends, as two steps:
two producers can both see one free slot and both append, overfilling it.
``Buffer`` guards both steps with one Condition (which also lets a blocking
``put``/``get`` wait for room or items, as ``queue.Queue`` does).
"""

from __future__ import annotations

import threading
from collections import deque


class UnsafeBuffer:
    def __init__(self, capacity: int = 1) -> None:
        self.capacity = capacity
        self.items: deque[int] = deque()

    def offer(self, item: int) -> bool:
        """Add ``item`` if there is room; False when full."""
        if len(self.items) >= self.capacity:
            return False
        self.items.append(item)
        return True

    def poll(self) -> int | None:
        """Take the oldest item, or None when empty."""
        if not self.items:
            return None
        return self.items.popleft()

    def size(self) -> int:
        return len(self.items)


class Buffer(UnsafeBuffer):
    def __init__(self, capacity: int = 1) -> None:
        super().__init__(capacity)
        self.changed = threading.Condition()

    def offer(self, item: int) -> bool:
        with self.changed:
            added = super().offer(item)
            if added:
                self.changed.notify_all()
            return added

    def poll(self) -> int | None:
        with self.changed:
            item = super().poll()
            if item is not None:
                self.changed.notify_all()
            return item

    def size(self) -> int:
        with self.changed:
            return super().size()
