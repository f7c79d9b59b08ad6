"""Whether the running thread is inside an import, where it must not be preempted.

Code that runs under CPython's import machinery holds real locks the harness
does not control: the global import lock (meta-path finders run under it, e.g.
during ``importlib.util.find_spec``) and the per-module lock of a module whose
body is executing. A thread switched out there leaves any other thread that
imports blocked for real, i.e. a hang. The scheduler asks :func:`importing` and
makes no scheduling decision while it is true.

``_imp.lock_held()`` is public CPython API for the global lock, but it says
whether *any* thread holds it, not which one. Another thread's import (a thread
the scheduler does not run, in the same process) must not change the decisions
of the running thread: a point skipped in one execution and not in its replay
makes the same schedule prefix offer different options (the NondeterminismError
seen on free-threaded 3.13t, where the other thread runs truly in parallel and
the overlap is no longer rare). So a held global lock counts only if the calling
thread is itself inside ``importlib._bootstrap`` (:func:`_in_bootstrap`), where
the lock is taken and held (``_find_spec`` calls the meta-path finders under it).

The per-module locks are in ``importlib._bootstrap._module_locks`` (private,
looked up defensively): it is empty except while some import is in progress, so
the check costs one dict truth test in the common case.

A thread that holds a ``multiprocessing`` Lock or RLock (counted by
:mod:`harness._tracing.processlocks` once ``harness.install()`` has run) is
treated the same way: that lock is a real semaphore another thread would block on.
"""

from __future__ import annotations

import _imp
import _thread
import sys
from typing import Any

from harness._tracing import processlocks as _processlocks

__all__ = ["importing"]

_lock_held = _imp.lock_held
_get_ident = _thread.get_ident


def _module_locks() -> dict[str, Any]:
    bootstrap = sys.modules.get("importlib._bootstrap")
    locks = getattr(bootstrap, "_module_locks", None)
    return locks if isinstance(locks, dict) else {}


_MODULE_LOCKS = _module_locks()


def _bootstrap_globals() -> dict[str, Any] | None:
    bootstrap = sys.modules.get("importlib._bootstrap")
    namespace = getattr(bootstrap, "__dict__", None)
    return namespace if isinstance(namespace, dict) else None


#: The namespace of ``importlib._bootstrap`` (frozen as ``_frozen_importlib``,
#: the same module): its frames are those of the import machinery.
_BOOTSTRAP = _bootstrap_globals()


def _in_bootstrap() -> bool:
    """Whether the calling thread is running inside ``importlib._bootstrap``."""
    if _BOOTSTRAP is None:  # pragma: no cover - no importlib._bootstrap: assume so
        return True
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is _BOOTSTRAP:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def importing() -> bool:
    """True while the current thread is importing (holds an import lock), or
    holds a watched multiprocessing lock.

    Other threads' imports do not count, even while they hold the global lock:
    they neither stop the running thread nor change its decisions.
    """
    if _lock_held() and _in_bootstrap():
        return True
    if _processlocks.HOLDERS[0] and _processlocks.held():
        return True
    if not _MODULE_LOCKS:
        return False
    me = _get_ident()
    for ref in list(_MODULE_LOCKS.values()):
        try:
            lock = ref()
        except TypeError:  # pragma: no cover - not a weak reference
            continue
        if lock is not None and getattr(lock, "owner", None) == me:
            return True
    return False
