"""A library that binds its primitives at import, the ways real ones do (issue 15).

* ``_registry_lock``: a lock created at import (a module attribute);
* ``Cache._lock``: a class attribute lock;
* ``synchronized``: a decorator whose closure holds an RLock made at import;
* ``Mailbox(condition_cls=threading.Condition)``: the class bound as a default
  argument, and ``wait_flag(..., cond=threading.Condition())``: an instance.

``BUGGY`` (set by the test before use) makes ``Cache.audit`` take the class
lock and then the decorator's RLock, while ``Cache.store_locked`` takes them the
other way round: a lock-order deadlock. Fixed, ``audit`` takes them one at a time.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

BUGGY = True

_registry_lock = threading.Lock()
_registry: list[str] = []


def _make_synchronized() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    lock = threading.RLock()  # one lock for every function the decorator wraps

    def synchronized(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return fn(*args, **kwargs)

        return wrapper

    return synchronized


synchronized = _make_synchronized()


class Mailbox:
    def __init__(self, condition_cls: Any = threading.Condition) -> None:
        self.cond = condition_cls()
        self.items: list[int] = []

    def put(self, item: int) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def take(self) -> int:
        with self.cond:
            while not self.items:
                self.cond.wait()
            return self.items.pop(0)


_flag = [False]


def set_flag(cond: Any = threading.Condition()) -> None:  # noqa: B008 - bound at import
    with cond:
        _flag[0] = True
        cond.notify_all()


def wait_flag(cond: Any = set_flag.__defaults__[0]) -> bool:  # type: ignore[index]
    with cond:
        return bool(cond.wait_for(lambda: _flag[0]))


@synchronized
def register(name: str) -> None:
    with _registry_lock:
        _registry.append(name)


class Cache:
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.data: dict[str, int] = {}
        self.box = Mailbox()

    @synchronized
    def store_locked(self, key: str, value: int) -> None:
        with self._lock:  # decorator's RLock, then the class lock
            self.data[key] = value
        self.box.put(value)

    def audit(self) -> int:
        if BUGGY:
            with self._lock:  # the class lock, then the decorator's RLock
                register("audit")
                total = sum(self.data.values())
        else:
            register("audit")
            with self._lock:
                total = sum(self.data.values())
        self.box.put(total)
        return total


def reset() -> None:
    _flag[0] = False
    del _registry[:]
