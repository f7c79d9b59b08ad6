"""Instrumented synchronization primitives and the patching that installs them.

While an engine runs, ``threading.Lock``, ``RLock``, ``Condition``,
``Semaphore``, ``BoundedSemaphore``, ``Event``, ``Barrier`` and
``queue.SimpleQueue`` are these classes (``queue.Queue`` and friends build on
them). They behave like the standard library's for ordinary threads, and hand
every operation to the controlled scheduler for threads it runs.
"""

from harness.sync.patching import Patcher, install_primitives, install_virtual_time, patched
from harness.sync.primitives import (
    Barrier,
    BoundedSemaphore,
    Condition,
    Event,
    Lock,
    RLock,
    Semaphore,
)
from harness.sync.queues import SimpleQueue

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "Lock",
    "Patcher",
    "RLock",
    "Semaphore",
    "SimpleQueue",
    "install_primitives",
    "install_virtual_time",
    "patched",
]
