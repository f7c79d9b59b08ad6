"""Instrumented Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event, Barrier.

They keep the standard library's names, signatures, return values and exceptions,
so code patched to use them behaves the same. Lock and RLock wrap a real
``_thread`` lock; Condition parks each waiter on a waiter object of its own;
Semaphore, Event and Barrier are built on Condition and Lock, as in CPython. For
a thread run by the exploration engine every operation is a scheduling point
and every wait is a scheduler block on the virtual clock; for any other thread
they block for real (see :mod:`harness.sync.context`).
"""

from __future__ import annotations

import _thread
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from harness.sync import context
from harness.sync.context import clock, creation_site, managed, real_wait, site_of_caller

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "Lock",
    "RLock",
    "Semaphore",
]

_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident
BrokenBarrierError = threading.BrokenBarrierError


def _check_acquire_args(blocking: bool, timeout: float) -> float | None:
    """Validate ``acquire(blocking, timeout)`` as CPython does; None means forever."""
    if not blocking:
        if timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return None
    if timeout < 0 and timeout != -1:
        raise ValueError("timeout value must be a non-negative number")
    if timeout > _thread.TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return None if timeout == -1 else float(timeout)


class _Tracked:
    """What the detectors and reports know about a lock-like primitive."""

    __slots__ = ()

    #: ident of the holder, or None
    _owner: int | None
    #: (file, line) where the holder acquired it
    _site: tuple[str, int] | None
    #: (file, line) where it was created
    _created: tuple[str, int] | None
    #: a name given by the harness (a swapped module-level lock's dotted name)
    _label: str | None


class Lock(_Tracked):
    """``threading.Lock``: a non-reentrant lock any thread may release."""

    __slots__ = ("__weakref__", "_created", "_label", "_owner", "_real", "_site")

    def __init__(self) -> None:
        self._real = _allocate_lock()
        self._owner = None
        self._site = None
        self._created = creation_site()
        self._label = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        limit = _check_acquire_args(blocking, timeout)
        record = managed()
        if record is not None:
            return self._acquire_managed(record, blocking, limit)
        real = self._real
        if real.acquire(False) or (blocking and real_wait(real.acquire, limit, self)):
            self._took(blocking and limit is None)
            return True
        return False

    def _took(self, can_block: bool) -> None:
        self._owner = _get_ident()
        self._site = site_of_caller(2)
        if context.monitors:
            context.notify_acquired(self, self._site, can_block)

    def _acquire_managed(self, record: Any, blocking: bool, limit: float | None) -> bool:
        runtime = record.runtime
        runtime.sync_point(record, "acquire", self)
        real = self._real
        deadline = None if limit is None else runtime.now() + limit
        while not real.acquire(False):
            if not blocking:
                return False
            remaining = None if deadline is None else deadline - runtime.now()
            if not runtime.block(record, "lock", self, _unlocked(real), remaining):
                return False
        self._took(blocking and limit is None)
        return True

    def release(self) -> None:
        if not self._real.locked():
            raise RuntimeError("release unlocked lock")
        record = managed()
        if record is not None:
            record.runtime.sync_point(record, "release", self)
        if context.monitors:
            context.notify_released(self)
        self._owner = None
        self._site = None
        self._real.release()

    def locked(self) -> bool:
        return self._real.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # The deprecated aliases of the C lock.
    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def _at_fork_reinit(self) -> None:
        self._real = _allocate_lock()
        self._owner = None
        self._site = None

    def __repr__(self) -> str:
        state = "locked" if self._real.locked() else "unlocked"
        return f"<{state} harness.sync.Lock object at {id(self):#x}>"


def _unlocked(real: Any) -> Callable[[], bool]:
    def ready() -> bool:
        return not real.locked()

    return ready


class RLock(_Tracked):
    """``threading.RLock``: reentrant; only the owner may release it."""

    __slots__ = ("__weakref__", "_count", "_created", "_label", "_owner", "_real", "_site")

    def __init__(self) -> None:
        self._real = _allocate_lock()
        self._owner = None
        self._count = 0
        self._site = None
        self._created = creation_site()
        self._label = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        limit = _check_acquire_args(blocking, timeout)
        me = _get_ident()
        record = managed()
        if record is not None:
            record.runtime.sync_point(record, "acquire", self)
        if self._owner == me:
            self._count += 1
            return True
        real = self._real
        if record is not None:
            runtime = record.runtime
            deadline = None if limit is None else runtime.now() + limit
            while not real.acquire(False):
                if not blocking:
                    return False
                remaining = None if deadline is None else deadline - runtime.now()
                if not runtime.block(record, "lock", self, _unlocked(real), remaining):
                    return False
        elif not (real.acquire(False) or (blocking and real_wait(real.acquire, limit, self))):
            return False
        self._owner = me
        self._count = 1
        self._site = site_of_caller()
        if context.monitors:
            context.notify_acquired(self, self._site, blocking and limit is None)
        return True

    def release(self) -> None:
        if self._owner != _get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        record = managed()
        if record is not None:
            record.runtime.sync_point(record, "release", self)
        self._count -= 1
        if not self._count:
            if context.monitors:
                context.notify_released(self)
            self._owner = None
            self._site = None
            self._real.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- the protocol threading.Condition uses ------------------------------
    def _is_owned(self) -> bool:
        return self._owner == _get_ident()

    def _release_save(self) -> tuple[int, int | None]:
        if self._owner != _get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        record = managed()
        if record is not None:
            record.runtime.sync_point(record, "release", self)
        state = (self._count, self._owner)
        if context.monitors:
            context.notify_released(self)
        self._count = 0
        self._owner = None
        self._site = None
        self._real.release()
        return state

    def _acquire_restore(self, state: tuple[int, int | None]) -> None:
        self.acquire()
        self._count, self._owner = state

    def _recursion_count(self) -> int:
        return self._count if self._owner == _get_ident() else 0

    def _at_fork_reinit(self) -> None:
        self._real = _allocate_lock()
        self._owner = None
        self._count = 0
        self._site = None

    def locked(self) -> bool:
        return self._real.locked()

    def __repr__(self) -> str:
        state = "locked" if self._real.locked() else "unlocked"
        return (
            f"<{state} harness.sync.RLock object owner={self._owner or 0} "
            f"count={self._count} at {id(self):#x}>"
        )


class _Waiter:
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
        self._waiters: deque[_Waiter] = deque()
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
        waiter = _Waiter()
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


class Semaphore:
    """``threading.Semaphore``: a counter that acquire decrements and release raises."""

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._cond = Condition(Lock())
        self._cond._outer = self
        self._value = value
        self._created = creation_site()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        with self._cond:
            if not blocking:
                if not self._value:
                    return False
            elif not self._cond.wait_for(lambda: self._value > 0, timeout):
                return False
            self._value -= 1
            return True

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        with self._cond:
            self._value += n
            self._cond.notify(n)

    def __repr__(self) -> str:
        return f"<sync.Semaphore at {id(self):#x}: value={self._value}>"


class BoundedSemaphore(Semaphore):
    """A Semaphore that refuses to be released above its initial value."""

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial_value = value

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        with self._cond:
            if self._value + n > self._initial_value:
                raise ValueError("Semaphore released too many times")
            self._value += n
            self._cond.notify(n)

    def __repr__(self) -> str:
        return (
            f"<sync.BoundedSemaphore at {id(self):#x}: value={self._value}/{self._initial_value}>"
        )


class Event:
    """``threading.Event``: a flag that threads can wait to become true."""

    def __init__(self) -> None:
        self._cond = Condition(Lock())
        self._cond._outer = self
        self._flag = False
        self._created = creation_site()

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set  # the deprecated alias

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        with self._cond:
            # One wait, not a loop on the flag: a set() followed at once by a
            # clear() must still wake every waiter with True (CPython gh-57711).
            return self._flag or self._cond.wait(timeout)

    def _at_fork_reinit(self) -> None:
        self._cond = Condition(Lock())
        self._cond._outer = self

    def __repr__(self) -> str:
        return f"<sync.Event at {id(self):#x}: {'set' if self._flag else 'unset'}>"


class Barrier:
    """``threading.Barrier``: ``parties`` threads wait until all have arrived.

    The barrier fills (threads arrive), then drains (released threads leave);
    ``reset`` and ``abort`` break it for the threads waiting, which raise
    ``threading.BrokenBarrierError``.
    """

    _FILLING, _DRAINING, _RESETTING, _BROKEN = 0, 1, -1, -2

    def __init__(
        self, parties: int, action: Callable[[], object] | None = None, timeout: float | None = None
    ) -> None:
        if parties < 1:
            raise ValueError("parties must be > 0")
        self._cond = Condition(Lock())
        self._cond._outer = self
        self._action = action
        self._timeout = timeout
        self._parties = parties
        self._phase = self._FILLING
        self._count = 0
        self._created = creation_site()

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            timeout = self._timeout
        with self._cond:
            self._wait_for_draining_to_end()
            index = self._count
            self._count += 1
            try:
                if index + 1 == self._parties:
                    self._trip()
                else:
                    self._wait_for_trip(timeout)
                return index
            finally:
                self._count -= 1
                self._leave()

    def _wait_for_draining_to_end(self) -> None:
        self._cond.wait_for(lambda: self._phase not in (self._DRAINING, self._RESETTING))
        if self._phase == self._BROKEN:
            raise BrokenBarrierError

    def _trip(self) -> None:
        try:
            if self._action is not None:
                self._action()
            self._phase = self._DRAINING
            self._cond.notify_all()
        except BaseException:
            self._break()
            raise

    def _wait_for_trip(self, timeout: float | None) -> None:
        if not self._cond.wait_for(lambda: self._phase != self._FILLING, timeout):
            self._break()
            raise BrokenBarrierError
        if self._phase in (self._BROKEN, self._RESETTING):
            raise BrokenBarrierError

    def _leave(self) -> None:
        if self._count == 0 and self._phase in (self._RESETTING, self._DRAINING):
            self._phase = self._FILLING
            self._cond.notify_all()

    def _break(self) -> None:
        self._phase = self._BROKEN
        self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            if self._count > 0:
                if self._phase in (self._FILLING, self._BROKEN):
                    self._phase = self._RESETTING
            else:
                self._phase = self._FILLING
            self._cond.notify_all()

    def abort(self) -> None:
        with self._cond:
            self._break()

    @property
    def parties(self) -> int:
        return self._parties

    @property
    def n_waiting(self) -> int:
        return self._count if self._phase == self._FILLING else 0

    @property
    def broken(self) -> bool:
        return self._phase == self._BROKEN

    def __repr__(self) -> str:
        if self.broken:
            return f"<sync.Barrier at {id(self):#x}: broken>"
        return f"<sync.Barrier at {id(self):#x}: waiters={self.n_waiting}/{self._parties}>"
