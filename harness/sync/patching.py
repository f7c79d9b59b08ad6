"""Install the instrumented primitives, and put everything back afterwards.

:class:`Patcher` records every attribute it replaces and restores them in reverse
order, also after an exception or a KeyboardInterrupt. On top of it:

* :func:`install_primitives` replaces ``threading.Lock`` & co. and
  ``queue.SimpleQueue``. Code that imported the names directly
  (``from threading import Lock``) and module-level locks created at import time
  in the code under test are swapped too, so that they are instrumented like the
  rest, as are real primitives bound in its class attributes, closures and
  default arguments (:mod:`harness.sync.bound`);
* :func:`install_virtual_time` makes ``time.sleep``, ``time.monotonic`` & co.
  (and the module-level aliases ``queue.time``, ``threading._time``) consult the
  exploration runtime for the threads it runs.
"""

from __future__ import annotations

import _thread
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from harness._tracing.codefilter import CodeFilter
from harness.sync import context, locks, queues
from harness.sync.bound import swap_bound
from harness.sync.context import managed
from harness.sync.replacements import THREADING_REPLACEMENTS

__all__ = ["Patcher", "install_primitives", "install_virtual_time", "patched"]

_MISSING = object()
_get_ident = _thread.get_ident


class Patcher:
    """Replace attributes and remember how to put them back."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        old = owner.__dict__.get(name, _MISSING) if hasattr(owner, "__dict__") else _MISSING
        if old is _MISSING:
            old = getattr(owner, name, _MISSING)
        self._saved.append((owner, name, old))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._saved:
            owner, name, old = self._saved.pop()
            if old is _MISSING:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
            else:
                setattr(owner, name, old)


_REAL_LOCK_TYPES = (type(_thread.allocate_lock()), type(_thread.RLock()))


def _original_objects() -> dict[int, Any]:
    """id(original) -> replacement, for swapping references held by other modules."""
    swaps: dict[int, Any] = {}
    for name, replacement in THREADING_REPLACEMENTS.items():
        swaps[id(getattr(threading, name))] = replacement
    swaps[id(queue.SimpleQueue)] = queues.SimpleQueue
    return swaps


def _module_is_under_test(module: ModuleType, code_filter: CodeFilter) -> bool:
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and code_filter.covers_file(filename)


def _replacement_lock(value: Any, module: ModuleType, name: str) -> Any:
    is_rlock = isinstance(value, type(_thread.RLock()))
    replacement = locks.RLock() if is_rlock else locks.Lock()
    replacement._label = f"{module.__name__}.{name}"
    return replacement


def install_primitives(patcher: Patcher, code_filter: CodeFilter | None = None) -> None:
    """Replace the threading primitives for the duration of ``patcher``."""
    originals = _original_objects()
    for name, replacement in THREADING_REPLACEMENTS.items():
        patcher.set(threading, name, replacement)
    patcher.set(queue, "SimpleQueue", queues.SimpleQueue)

    # The pool executor's module-level shutdown lock is taken in submit();
    # left real, a preempted submitter would block the next one for real.
    futures_thread = sys.modules.get("concurrent.futures.thread")
    if futures_thread is not None:
        lock = getattr(futures_thread, "_global_shutdown_lock", None)
        if isinstance(lock, _REAL_LOCK_TYPES) and not _is_held(lock):
            patcher.set(futures_thread, "_global_shutdown_lock", locks.Lock())

    if code_filter is None:
        return
    for module in list(sys.modules.values()):
        if not isinstance(module, ModuleType) or not _module_is_under_test(module, code_filter):
            continue
        namespace = vars(module)
        for name, value in list(namespace.items()):
            found = originals.get(id(value))
            if found is not None:
                patcher.set(module, name, found)
            elif isinstance(value, _REAL_LOCK_TYPES) and not _is_held(value):
                found = originals[id(value)] = _replacement_lock(value, module, name)
                patcher.set(module, name, found)
        # Class attributes, closures and default arguments (harness.sync.bound).
        swap_bound(patcher, module, originals)


def _is_held(lock: Any) -> bool:
    """Whether a real lock is held by anyone (a held one must not be swapped)."""
    if isinstance(lock, type(_thread.allocate_lock())):
        return bool(lock.locked())
    if lock._is_owned():
        return True
    if lock.acquire(False):
        lock.release()
        return False
    return True


# -- virtual time ------------------------------------------------------------------

_real_sleep = time.sleep
_real_monotonic = time.monotonic
_real_time = time.time
_real_perf_counter = time.perf_counter


def _clock_runtime() -> Any:
    """The exploration runtime whose virtual clock the calling thread reads, if any."""
    ident = _get_ident()
    record = context.managed_record(ident)
    if record is not None:
        return record.runtime
    return context.clock_users.get(ident)


def _virtual(real: Callable[[], float], offset: Callable[[Any], float]) -> Callable[[], float]:
    def now() -> float:
        runtime = _clock_runtime()
        if runtime is None:
            return real()
        return float(runtime.now() + offset(runtime))

    now.__name__ = real.__name__
    now.__doc__ = real.__doc__
    return now


def _virtual_ns(clock: Callable[[], float]) -> Callable[[], int]:
    def now_ns() -> int:
        return int(clock() * 1_000_000_000)

    return now_ns


def sleep(seconds: float) -> None:
    """``time.sleep``: a virtual sleep for explored threads, a real one otherwise."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    record = managed()
    if record is not None:
        record.runtime.sleep(record, seconds)
        return
    runtime = context.clock_users.get(_get_ident())
    if runtime is not None:
        runtime.clock += seconds  # setup or check sleeping: time passes, instantly
    else:
        _real_sleep(seconds)


def install_virtual_time(patcher: Patcher, code_filter: CodeFilter | None = None) -> None:
    """Route the clocks and sleep of explored threads to the virtual clock."""
    monotonic = _virtual(_real_monotonic, lambda rt: 0.0)
    wall = _virtual(_real_time, lambda rt: rt.wall_offset)
    perf = _virtual(_real_perf_counter, lambda rt: 0.0)
    replacements: dict[int, Any] = {
        id(_real_sleep): sleep,
        id(_real_monotonic): monotonic,
        id(_real_time): wall,
        id(_real_perf_counter): perf,
    }
    patcher.set(time, "sleep", sleep)
    patcher.set(time, "monotonic", monotonic)
    patcher.set(time, "time", wall)
    patcher.set(time, "perf_counter", perf)
    patcher.set(time, "monotonic_ns", _virtual_ns(monotonic))
    patcher.set(time, "time_ns", _virtual_ns(wall))
    patcher.set(time, "perf_counter_ns", _virtual_ns(perf))
    # Modules that imported a clock under another name.
    patcher.set(queue, "time", monotonic)
    patcher.set(threading, "_time", monotonic)
    if code_filter is None:
        return
    for module in list(sys.modules.values()):
        if isinstance(module, ModuleType) and _module_is_under_test(module, code_filter):
            for name, value in list(vars(module).items()):
                replacement = replacements.get(id(value))
                if replacement is not None:
                    patcher.set(module, name, replacement)


@contextmanager
def patched(code_filter: CodeFilter | None = None, virtual_time: bool = False) -> Iterator[Patcher]:
    """Primitives (and optionally virtual time) installed for the ``with`` block."""
    patcher = Patcher()
    try:
        install_primitives(patcher, code_filter)
        if virtual_time:
            install_virtual_time(patcher, code_filter)
        yield patcher
    finally:
        patcher.restore()
