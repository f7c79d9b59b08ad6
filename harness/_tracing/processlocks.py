"""Which threads hold a ``multiprocessing`` lock, a region explore must not preempt.

A ``multiprocessing.Lock`` or ``RLock`` is a real semaphore; the harness cannot
schedule a thread that blocks on one. Libraries pair such a lock with a thread
lock to serialise writes across processes and threads alike (tqdm's default
write lock is a multiprocessing RLock and a threading RLock, acquired in that
order). When explore preempts a thread inside that region, the next thread to
take the lock blocks for real: a ``hang`` on a correct program. Like code under
the import lock (:mod:`harness._tracing.importlock`), a thread that holds one is
not preempted until it lets go; points where it would have been are taken by it.

:func:`watch` (called by ``harness.install()``) wraps the ``acquire`` and
``release`` that ``multiprocessing.synchronize.SemLock`` binds on every
``Lock``/``RLock`` it makes from then on, and ``__enter__``/``__exit__``, to count
holds in a thread-local (so a thread that ends holding one leaves nothing a
later thread with the same ident would inherit); :data:`HOLDERS` counts the
threads holding any, so the check costs one list index when none does.
Semaphores are left alone: one thread may acquire and another release, so a
count per thread says nothing there.
"""

from __future__ import annotations

import _thread
from collections.abc import Callable
from typing import Any

__all__ = ["HOLDERS", "held", "unwatch", "watch"]

#: How many threads hold at least one watched lock (a one-item list, read hot).
HOLDERS: list[int] = [0]
_mine = _thread._local()  # the C thread-local: never patched, no program code
_saved: dict[str, Any] = {}


def held() -> bool:
    """Whether the calling thread holds a watched multiprocessing lock."""
    return getattr(_mine, "count", 0) > 0


def _note(delta: int) -> None:
    before = getattr(_mine, "count", 0)
    # A plain Lock may be released by another thread: never below zero.
    after = max(before + delta, 0)
    _mine.count = after
    if before == 0 and after > 0:
        HOLDERS[0] += 1
    elif before > 0 and after == 0:
        HOLDERS[0] -= 1


def _counting(raw_acquire: Callable[..., Any], raw_release: Callable[[], Any]) -> tuple[Any, Any]:
    def acquire(*args: Any, **kwargs: Any) -> Any:
        got = raw_acquire(*args, **kwargs)
        if got:
            _note(1)
        return got

    def release() -> None:
        raw_release()
        _note(-1)

    return acquire, release


def watch() -> None:
    """Count holds of multiprocessing Locks and RLocks made from now on (idempotent)."""
    if _saved:
        return
    try:
        from multiprocessing import synchronize
    except ImportError:  # no sem_open on this platform: no such locks either
        return
    semlock: Any = synchronize.SemLock  # private members, set on the class: not typed
    kinds = (synchronize.Lock, synchronize.RLock)
    make_methods = semlock._make_methods
    _saved.update(
        module=synchronize,
        _make_methods=make_methods,
        __enter__=semlock.__dict__["__enter__"],
        __exit__=semlock.__dict__["__exit__"],
    )

    def _make_counting_methods(self: Any) -> None:
        make_methods(self)
        lock: Any = self  # not narrowed: acquire and release are set per instance
        if isinstance(self, kinds):
            lock.acquire, lock.release = _counting(lock._semlock.acquire, lock._semlock.release)

    def __enter__(self: Any) -> Any:
        return self.acquire()

    def __exit__(self: Any, *exc: object) -> None:
        self.release()

    semlock._make_methods = _make_counting_methods
    semlock.__enter__ = __enter__
    semlock.__exit__ = __exit__


def unwatch() -> None:
    """Put ``SemLock``'s methods back (locks made meanwhile keep counting, harmlessly)."""
    if not _saved:
        return
    semlock: Any = _saved["module"].SemLock
    for name in ("_make_methods", "__enter__", "__exit__"):
        setattr(semlock, name, _saved[name])
    _saved.clear()
