"""Instrumented ``Lock`` and ``RLock``: the primitives everything else is built on.

Each wraps a real ``_thread`` lock. For a thread the controlled scheduler runs,
``acquire`` is a scheduling point and a busy lock parks the thread as a
scheduler block (:func:`acquire_managed`, shared by both); for any other thread
it blocks for real, in slices (:func:`harness.sync.context.real_wait`). Holder
and sites are kept for the detectors and reports.
"""

from __future__ import annotations

import _thread
from collections.abc import Callable
from typing import Any

from harness.sync import context
from harness.sync.context import creation_site, managed, real_wait, site_of_caller

__all__ = ["Lock", "RLock", "acquire_managed", "check_acquire_args"]

_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident


def check_acquire_args(blocking: bool, timeout: float) -> float | None:
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


def _unlocked(real: Any) -> Callable[[], bool]:
    def ready() -> bool:
        return not real.locked()

    return ready


def acquire_managed(
    lock: object, real: Any, record: Any, blocking: bool, limit: float | None
) -> bool:
    """Take ``real`` (the raw lock inside ``lock``) for a thread the scheduler runs.

    The caller has already passed its scheduling point. A busy lock parks the
    thread as a scheduler block (ready when the raw lock is free) with its
    deadline on the virtual clock; False when non-blocking or timed out.
    """
    runtime = record.runtime
    deadline = None if limit is None else runtime.now() + limit
    while not real.acquire(False):
        if not blocking:
            return False
        remaining = None if deadline is None else deadline - runtime.now()
        if not runtime.block(record, "lock", lock, _unlocked(real), remaining):
            return False
    return True


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
        limit = check_acquire_args(blocking, timeout)
        record = managed()
        if record is not None:
            record.runtime.sync_point(record, "acquire", self)
            if not acquire_managed(self, self._real, record, blocking, limit):
                return False
            record.runtime.acquired(record, self)
            self._took(blocking and limit is None)
            return True
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
        limit = check_acquire_args(blocking, timeout)
        me = _get_ident()
        record = managed()
        if record is not None:
            record.runtime.sync_point(record, "acquire", self)
        if self._owner == me:
            self._count += 1
            return True
        real = self._real
        if record is not None:
            if not acquire_managed(self, real, record, blocking, limit):
                return False
            record.runtime.acquired(record, self)
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
