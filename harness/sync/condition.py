"""Instrumented ``threading.Condition``: each waiter parked on a slot of its own."""

from __future__ import annotations

import _thread
from collections import deque
from collections.abc import Callable
from typing import Any

from harness.sync.context import clock, creation_site, managed, real_wait
from harness.sync.locks import RLock

__all__ = ["Condition"]

_allocate_lock = _thread.allocate_lock


class _Parked:
    """One thread parked in Condition.wait: a flag and a real lock to block on."""

    __slots__ = ("_lock", "notified")

    def __init__(self) -> None:
        self.notified = False
        self._lock = _allocate_lock()
        self._lock.acquire()

    def wake(self) -> None:
        self.notified = True
        self._lock.release()

    def is_notified(self) -> bool:
        return self.notified

    def wait_real(self, timeout: float | None, condition: object) -> bool:
        return real_wait(self._lock.acquire, timeout, condition)


class Condition:
    """``threading.Condition`` over any lock (an RLock by default)."""

    def __init__(self, lock: Any = None) -> None:
        if lock is None:
            lock = RLock()
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release
        # Locks that know their owner (RLock) say so; for a plain lock "owned"
        # means "locked by someone", as in CPython.
        for name in ("_release_save", "_acquire_restore", "_is_owned"):
            method = getattr(lock, name, None)
            if method is not None:
                setattr(self, name, method)
        if not hasattr(lock, "_is_owned") and hasattr(lock, "locked"):
            self._is_owned = lock.locked  # type: ignore[method-assign]
        self._waiters: deque[_Parked] = deque()
        self._created = creation_site()
        #: The Event, Semaphore or Barrier built on this condition, if any: the
        #: name a report should use for a thread waiting here.
        self._outer: object = None

    def __enter__(self) -> bool:
        return bool(self._lock.__enter__())

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)

    def __repr__(self) -> str:
        return f"<Condition({self._lock}, {len(self._waiters)})>"

    def _release_save(self) -> Any:
        self._lock.release()
        return None

    def _acquire_restore(self, state: Any) -> None:
        self._lock.acquire()

    def _is_owned(self) -> bool:
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    def wait(self, timeout: float | None = None) -> bool:
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        waiter = _Parked()
        self._waiters.append(waiter)
        saved = self._release_save()
        notified = False
        try:
            record = managed()
            if record is not None:
                notified = record.runtime.block(
                    record, "condition", self, waiter.is_notified, timeout
                )
                notified = notified or waiter.notified
            else:
                notified = waiter.wait_real(timeout, self)
            return notified
        finally:
            self._acquire_restore(saved)
            if not notified:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        result = predicate()
        deadline = None
        remaining = timeout
        while not result:
            if remaining is not None:
                if deadline is None:
                    deadline = clock() + remaining
                else:
                    remaining = deadline - clock()
                    if remaining <= 0:
                        break
            self.wait(remaining)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        record = managed()
        if record is not None:
            record.runtime.sync_point(record, "notify", self)
        waiters = self._waiters
        while waiters and n > 0:
            waiters.popleft().wake()
            n -= 1

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    notifyAll = notify_all  # the deprecated alias
