"""A least-recently-used cache, without and with its lock: the linearizability example.

``LRUCache`` is correct when one thread uses it. Two threads interleaving inside
``put`` can both pass the capacity check before either evicts, or evict the
entry the other just refreshed: outcomes that no one-at-a-time order gives.
``LockedLRUCache`` makes each operation one critical section.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class LRUCache:
    def __init__(self, capacity: int = 2) -> None:
        self.capacity = capacity
        self.entries: OrderedDict[int, int] = OrderedDict()

    def put(self, key: int, value: int) -> None:
        if key in self.entries:
            self.entries.move_to_end(key)
        self.entries[key] = value
        if len(self.entries) > self.capacity:
            self.entries.popitem(last=False)

    def get(self, key: int) -> int | None:
        if key not in self.entries:
            return None
        self.entries.move_to_end(key)
        return self.entries[key]

    def size(self) -> int:
        return len(self.entries)


class LockedLRUCache(LRUCache):
    def __init__(self, capacity: int = 2) -> None:
        super().__init__(capacity)
        self.lock = threading.Lock()

    def put(self, key: int, value: int) -> None:
        with self.lock:
            super().put(key, value)

    def get(self, key: int) -> int | None:
        with self.lock:
            return super().get(key)

    def size(self) -> int:
        with self.lock:
            return super().size()
