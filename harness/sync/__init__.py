"""Instrumented synchronization primitives and the patching that installs them.

While an engine runs, ``threading.Lock``, ``RLock``, ``Condition``,
``Semaphore``, ``BoundedSemaphore``, ``Event``, ``Barrier`` and
``queue.SimpleQueue`` are these classes (``queue.Queue`` and friends build on
them). They behave like the standard library's for ordinary threads, and hand
every operation to the controlled scheduler for threads it runs. One module per
primitive (:mod:`.locks`, :mod:`.condition`, :mod:`.semaphore`, :mod:`.event`,
:mod:`.barrier`, :mod:`.queues`); :mod:`.context` is what they share with the
engines, :mod:`.patching` installs them.
"""

from harness.sync.barrier import Barrier
from harness.sync.condition import Condition
from harness.sync.event import Event
from harness.sync.locks import Lock, RLock
from harness.sync.patching import Patcher, install_primitives, install_virtual_time, patched
from harness.sync.queues import SimpleQueue
from harness.sync.semaphore import BoundedSemaphore, Semaphore

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
