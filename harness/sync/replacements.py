"""Which instrumented type stands in for each of ``threading``'s primitives.

One table, read both by the engines' swap for the duration of a call
(:mod:`harness.sync.patching`) and by :func:`harness.install`, which swaps
before the code under test is imported (:mod:`harness.sync.early`).
"""

from __future__ import annotations

from typing import Any

from harness.sync import barrier, condition, event, locks, semaphore

__all__ = ["THREADING_REPLACEMENTS"]

#: ``threading`` name -> its instrumented, dual-mode replacement.
THREADING_REPLACEMENTS: dict[str, Any] = {
    "Lock": locks.Lock,
    "RLock": locks.RLock,
    "Condition": condition.Condition,
    "Semaphore": semaphore.Semaphore,
    "BoundedSemaphore": semaphore.BoundedSemaphore,
    "Event": event.Event,
    "Barrier": barrier.Barrier,
}
