"""The context shared by the instrumented primitives and the engines that drive them.

The engines reach it only through this module's functions and tables (it is the
sync package's one interface to them; the primitives' own modules are private).

A primitive asks :func:`managed` whether the calling thread is run by the
controlled scheduler (the exploration engine). If it is, the primitive hands the
operation to that thread's runtime, which decides who runs next and turns a wait
into a scheduler block on a virtual clock. Otherwise the primitive behaves like
the standard library's, blocking for real, with bookkeeping that the detectors
read (who holds which lock, who waits for which) and in slices, so that a thread
of an abandoned stress run can be unwound.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, Protocol

from harness._abort import RunAborted
from harness._frames import is_harness_file

if TYPE_CHECKING:
    import threading

__all__ = [
    "WAIT_SLICE",
    "Runtime",
    "aborted",
    "clock",
    "clock_users",
    "creation_site",
    "managed",
    "managed_record",
    "monitors",
    "notify_acquired",
    "notify_released",
    "real_wait",
    "register_managed",
    "site_of_caller",
    "unregister_managed",
    "waiting_for",
    "waiting_forever",
    "watching",
]

#: Longest uninterrupted real wait: an aborted run's threads unwind within this.
WAIT_SLICE = 0.05

_get_ident = _thread.get_ident
_monotonic = time.monotonic


class Runtime(Protocol):
    """What the exploration engine offers the primitives (see harness.explore)."""

    def sync_point(self, record: Any, op: str, obj: object) -> None: ...

    def block(
        self,
        record: Any,
        kind: str,
        obj: object,
        ready: Callable[[], bool],
        timeout: float | None,
    ) -> bool: ...

    def now(self) -> float: ...

    def acquired(self, record: Any, obj: object) -> None:
        """The lock ``obj`` was just taken (happens-before for the race detector)."""


#: ident -> record of the explore runtime, for threads run by the scheduler. A
#: record has ``.runtime`` (a :class:`Runtime`).
_managed: dict[int, Any] = {}

#: ident -> runtime, for threads that are not run by the scheduler but must read
#: its virtual clock (the thread that runs an execution's setup and check).
clock_users: dict[int, Any] = {}

#: Threads whose instrumented waits must raise RunAborted (an abandoned run).
aborted: set[int] = set()

#: Threads an engine gave up on: blocked where it cannot unwind them, left
#: behind by an earlier run or call. Weak, so a thread that ends drops out and
#: a new thread with a recycled ident is not mistaken for one of them.
abandoned: weakref.WeakSet[threading.Thread] = weakref.WeakSet()

#: Observers of lock acquisitions and releases (the lock-order detectors). Each
#: has ``acquired(lock, site, can_block)`` and ``released(lock)``.
monitors: list[Any] = []


def notify_acquired(lock: object, site: tuple[str, int] | None, can_block: bool) -> None:
    for monitor in monitors:
        monitor.acquired(lock, site, can_block)


def notify_released(lock: object) -> None:
    for monitor in monitors:
        monitor.released(lock)


#: ident -> (primitive, (file, line)) for threads blocked in a real wait: the
#: wait-for half of a deadlock report under stress.
waiting_for: dict[int, tuple[object, tuple[str, int] | None]] = {}
#: The idents of ``waiting_for`` whose wait has no timeout: a wait-for cycle of
#: such threads can never resolve by itself, so stress need not wait out its deadline.
waiting_forever: set[int] = set()


def managed() -> Any:
    """The explore record of the calling thread, or None for an ordinary thread."""
    return _managed.get(_get_ident())


def register_managed(ident: int, record: Any) -> None:
    """Thread ``ident`` is run by the controlled scheduler, as ``record``."""
    _managed[ident] = record


def unregister_managed(ident: int | None) -> None:
    """Thread ``ident`` is no longer run by the scheduler (it ended, or was unwound)."""
    if ident is not None:
        _managed.pop(ident, None)


def managed_record(ident: int) -> Any:
    """The explore record of thread ``ident``, or None."""
    return _managed.get(ident)


@contextlib.contextmanager
def watching(monitor: Any) -> Iterator[None]:
    """Let ``monitor`` observe every lock acquisition and release while in the block."""
    monitors.append(monitor)
    try:
        yield
    finally:
        if monitor in monitors:
            monitors.remove(monitor)


def clock() -> float:
    """``time.monotonic()`` as the calling thread sees it (virtual when explored)."""
    record = _managed.get(_get_ident())
    if record is not None:
        return float(record.runtime.now())
    return _monotonic()


def real_wait(acquire: Callable[[bool, float], bool], timeout: float | None, obj: object) -> bool:
    """Block on a real lock's ``acquire`` for at most ``timeout`` seconds (None: forever).

    Waits in slices of :data:`WAIT_SLICE` so that an abandoned run can unwind the
    thread, and records what the thread waits for while it waits.
    """
    ident = _get_ident()
    deadline = None if timeout is None else _monotonic() + max(timeout, 0.0)
    waiting_for[ident] = (obj, site_of_caller(2))
    if deadline is None:
        waiting_forever.add(ident)
    try:
        while True:
            if ident in aborted:
                raise RunAborted
            if deadline is None:
                piece = WAIT_SLICE
            else:
                piece = min(WAIT_SLICE, max(deadline - _monotonic(), 0.0))
            if acquire(True, piece):
                return True
            if deadline is not None and _monotonic() >= deadline:
                return False
    finally:
        waiting_for.pop(ident, None)
        waiting_forever.discard(ident)


# -- source sites ---------------------------------------------------------------

_STDLIB_SYNC = tuple(
    os.path.join(os.path.dirname(os.__file__), name)
    for name in ("threading.py", "queue.py", os.path.join("concurrent", "futures"))
)


def _is_plumbing(filename: str) -> bool:
    return is_harness_file(filename) or filename.startswith(_STDLIB_SYNC)


#: code object -> whether it is harness or standard-library plumbing (a cache:
#: a site is looked up at every acquire and every primitive created).
_plumbing_codes: dict[CodeType, bool] = {}


def site_of_caller(depth: int = 1) -> tuple[str, int] | None:
    """File and line of the first frame above ``depth`` that is user code.

    Frames of the harness and of the standard library's threading, queue and
    concurrent.futures are skipped, so a ``q.get()`` that blocks inside
    queue.py is attributed to the line that called ``q.get()``.
    """
    frame: FrameType | None = sys._getframe(depth + 1)
    plumbing = _plumbing_codes
    while frame is not None:
        code = frame.f_code
        known = plumbing.get(code)
        if known is None:
            if len(plumbing) > 20_000:  # code made on the fly (exec): stay bounded
                plumbing.clear()
            known = plumbing[code] = _is_plumbing(code.co_filename)
        if not known:
            break
        frame = frame.f_back
    if frame is None:
        return None
    return frame.f_code.co_filename, frame.f_lineno


def creation_site() -> tuple[str, int] | None:
    """Where the primitive being constructed was created (for naming it)."""
    return site_of_caller(2)
