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
the test timed out at 180 s in CI. So before freezing, this module runs a full
``gc.collect()`` when the objects it would freeze are more than a quarter above
those left alive by its last one: CPython's own amortisation, applied to the
garbage that freezing hides from it (a full collection in every call cost
50-100 ms in a large test process; the freeze costs microseconds on a GIL build).
The collection runs in the calling thread before any thread of the call starts,
so old finalizers still run outside it.

Only when nothing is frozen yet: ``gc.unfreeze()`` thaws everything, so with
objects frozen by someone else (a pre-fork server; CPython 3.12.1 here starts
with 375) the collector is left alone.
"""

from __future__ import annotations

import gc
import threading

__all__ = ["freeze_old_garbage", "thaw_old_garbage"]

#: A full collection is due when the objects to freeze exceed those alive after
#: the last one by this factor (CPython's old generation uses the same quarter).
GROWTH = 1.25

_lock = threading.Lock()
_alive_after_collection: int | None = None


def freeze_old_garbage() -> bool:
    """Freeze every object there is now; return whether it froze.

    Collects first when the garbage hidden by earlier freezes is due (see the
    module docstring).
    """
    global _alive_after_collection
    with _lock:
        if gc.get_freeze_count():
            return False
        gc.freeze()
        frozen = gc.get_freeze_count()
        if _alive_after_collection is None or frozen > GROWTH * _alive_after_collection:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            _alive_after_collection = gc.get_freeze_count()
        return True


def thaw_old_garbage(froze: bool) -> None:
    """Undo :func:`freeze_old_garbage` (given what it returned)."""
    if froze:
        gc.unfreeze()
