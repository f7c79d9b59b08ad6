"""A library-style module whose write lock pairs a multiprocessing RLock with a thread RLock.

Shaped like tqdm's default lock: the thread lock is a class attribute made at
import, the multiprocessing lock is made on first use, and both are taken
together, the multiprocessing one first. ``Registry.add`` registers under the
lock; ``Registry.scan_unlocked`` (the bug) iterates the registry's ``WeakSet``
without it, ``Registry.scan_locked`` (the fix) with it.
"""

from __future__ import annotations

import multiprocessing
import threading
from weakref import WeakSet


class WriteLock:
    th_lock = threading.RLock()  # a class attribute, made at import

    def __init__(self, th_lock: object = None) -> None:
        self.mp_lock = multiprocessing.RLock()  # made on first use
        self.locks = [self.mp_lock, th_lock or self.th_lock]

    def __enter__(self) -> None:
        for lock in self.locks:
            lock.acquire()

    def __exit__(self, *exc: object) -> None:
        for lock in reversed(self.locks):
            lock.release()


class Item:
    def __init__(self, pos: int) -> None:
        self.pos = pos


class Registry:
    def __init__(self, th_lock: object = None) -> None:
        self.items: WeakSet[Item] = WeakSet()
        self.lock = WriteLock(th_lock)

    def add(self, pos: int) -> Item:
        item = Item(pos)
        with self.lock:
            self.items.add(item)
        return item

    def scan_unlocked(self) -> int:
        return max((item.pos for item in self.items), default=0)

    def scan_locked(self) -> int:
        with self.lock:
            return max((item.pos for item in self.items), default=0)
