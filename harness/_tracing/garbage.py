"""Keep garbage made before an engine call out of the call's threads, and leak none.

A finalizer runs in whichever thread triggers the collection: a suspended
generator of code under test, left in a reference cycle by an earlier test, was
closed inside an explored thread, so that its ``finally`` block became a
scheduling point of an unrelated program (and made code that was never traced
read as explored, in one test of the suite, under load). ``gc.freeze()`` moves
every object there is out of the collector's reach until ``gc.unfreeze()`` at the
end of the call; objects the call itself makes are collected as usual.

Freezing alone leaks. Garbage that is pending when a call freezes is thawed into
the oldest generation, where CPython's rule for a full collection (the old
generation grew by a quarter since the last one) does not count it; and since a
process running the engines back to back is frozen most of the time, the full
collections that do happen find it frozen. Measured with the 1,000 mixed calls
of ``tests/test_interpreter_restored.py``: 3.11 kept about 290,000 more objects
after each 1,000 calls, and on 3.13t, whose collector is not generational and
runs when the young objects exceed a quarter of the live ones, the growth fed
itself: each 1,000 calls took 13, 23, 25, 28, 29, 36 s (11 s each unfrozen), and
the test timed out at 180 s in CI.

So before freezing, this module runs a full ``gc.collect()`` when it is due:
when the time since its last one is more than ``1 / SHARE`` times what that one
took, so that these collections cost at most ``SHARE`` of the time (a full
collection in every call cost 50-100 ms in a large test process). The trigger is
a clock, not an object count, because counting is itself a walk of the heap
(``gc.get_freeze_count()`` on a frozen GIL build, always on 3.13t). The
collection runs in the calling thread before any thread of the call starts, so
old finalizers still run outside it.

Only when nothing is frozen yet: ``gc.unfreeze()`` thaws everything, so with
objects frozen by someone else (a pre-fork server; CPython 3.12.1 here starts
with 375) the collector is left alone.
"""

from __future__ import annotations

import gc
import threading
import time

__all__ = ["freeze_old_garbage", "thaw_old_garbage"]

#: The largest share of the time that the full collections may take.
SHARE = 0.05

#: The real clock, read before any engine call patches ``time``.
_clock = time.perf_counter
_lock = threading.Lock()
_collected_at: float | None = None
_collection_cost = 0.0


def freeze_old_garbage() -> bool:
    """Freeze every object there is now; return whether it froze.

    Collects first when a full collection is due (see the module docstring).
    """
    global _collected_at, _collection_cost
    with _lock:
        if gc.get_freeze_count():
            return False
        started = _clock()
        if _collected_at is None or started - _collected_at > _collection_cost / SHARE:
            gc.collect()
            _collected_at = _clock()
            _collection_cost = _collected_at - started
        gc.freeze()
        return True


def thaw_old_garbage(froze: bool) -> None:
    """Undo :func:`freeze_old_garbage` (given what it returned)."""
    if froze:
        gc.unfreeze()
