"""Threads started by the code under test join the controlled execution.

``Thread.start`` called from a managed thread registers the new thread with the
runtime before it runs, so that it, too, only runs when scheduled (this covers
``ThreadPoolExecutor`` workers and ``threading.Timer``). ``join`` and
``is_alive`` answer from the runtime's view, in which a thread has ended when
its body has returned. ``_thread.start_new_thread`` is managed the same way.
Calls from threads the runtime does not manage go to the originals.
"""

from __future__ import annotations

import _thread
import threading
from collections.abc import Callable
from typing import Any

from harness.sync._state import managed
from harness.sync.patching import Patcher

__all__ = ["install_thread_patches"]

_original_start = threading.Thread.start
_original_join = threading.Thread.join
_original_is_alive = threading.Thread.is_alive
_original_start_new_thread = _thread.start_new_thread

#: How long a join waits for the OS thread once the runtime has seen it end.
_EXIT_GRACE = 5.0


def _start(self: threading.Thread) -> None:
    record = managed()
    if record is None:
        _original_start(self)
    else:
        record.runtime.start_thread(record, self, _original_start)


def _join(self: threading.Thread, timeout: float | None = None) -> None:
    record = managed()
    child = record.runtime.record_of(self) if record is not None else None
    if child is None:
        _original_join(self, timeout)
        return
    if not self._started.is_set():  # type: ignore[attr-defined]
        raise RuntimeError("cannot join thread before it is started")
    if self is threading.current_thread():
        raise RuntimeError("cannot join current thread")
    runtime = record.runtime
    runtime.sync_point(record, "join", self)
    if not _ended(child):
        runtime.block(record, "join", self, lambda: _ended(child), timeout)
    if _ended(child):
        # The body has returned; the OS thread is only tidying up.
        _original_join(self, _EXIT_GRACE)


def _ended(child: Any) -> bool:
    from harness.explore.runtime import FINISHED

    return bool(child.status == FINISHED)


def _is_alive(self: threading.Thread) -> bool:
    record = managed()
    child = record.runtime.record_of(self) if record is not None else None
    if child is None:
        return bool(_original_is_alive(self))
    return bool(self._started.is_set()) and not _ended(child)  # type: ignore[attr-defined]


def _start_new_thread(function: Callable[..., object], args: Any, kwargs: Any = None) -> int:
    record = managed()
    if record is None:
        if kwargs is None:
            return _original_start_new_thread(function, args)
        return _original_start_new_thread(function, args, kwargs)
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")
    return int(
        record.runtime.start_raw_thread(
            record, function, args, kwargs or {}, _original_start_new_thread
        )
    )


def install_thread_patches(patcher: Patcher, excepthook: Callable[[Any], None]) -> None:
    """Route thread start/join/is_alive of managed threads to their runtime."""
    patcher.set(threading.Thread, "start", _start)
    patcher.set(threading.Thread, "join", _join)
    patcher.set(threading.Thread, "is_alive", _is_alive)
    patcher.set(_thread, "start_new_thread", _start_new_thread)
    if hasattr(_thread, "start_new"):
        patcher.set(_thread, "start_new", _start_new_thread)
    patcher.set(threading, "excepthook", excepthook)
