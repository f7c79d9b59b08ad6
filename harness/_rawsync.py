"""Synchronisation for the engines' own threads, built on raw ``_thread`` locks.

The harness patches ``threading``'s primitives while an engine runs, so its own
bookkeeping must not use them: an instrumented Event would be scheduled (explore)
or watched (stress) like the code under test's.
"""

from __future__ import annotations

import _thread

__all__ = ["StartGate", "StartedFlag"]


class StartedFlag:
    """What ``Thread`` needs of its private "started" Event, on a raw lock.

    (``threading.Event`` itself would pick up the patched Condition and Lock.)
    """

    __slots__ = ("_flag", "_lock")

    def __init__(self) -> None:
        self._flag = False
        self._lock = _thread.allocate_lock()
        self._lock.acquire()

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        if not self._flag:
            self._flag = True
            self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        if self._flag:
            return True
        if self._lock.acquire(True, -1 if timeout is None else max(timeout, 0.0)):
            self._lock.release()  # let any other waiter through
        return self._flag

    def _at_fork_reinit(self) -> None:
        self._lock = _thread.allocate_lock()
        if not self._flag:
            self._lock.acquire()


class StartGate:
    """Holds ``n`` threads until every one has arrived, then lets them all go.

    The stress engine releases its actors together with :meth:`open`; the
    explorer only waits until every actor has arrived (:meth:`arrive`), since its
    scheduler then lets them go one at a time.
    """

    def __init__(self, n: int) -> None:
        self._n = n
        self._arrived = 0
        self._mutex = _thread.allocate_lock()
        self._all_in = _thread.allocate_lock()
        self._all_in.acquire()
        self._go = _thread.allocate_lock()
        self._go.acquire()

    def arrive(self) -> None:
        """Count the calling thread in, without waiting."""
        with self._mutex:
            self._arrived += 1
            if self._arrived == self._n:
                self._all_in.release()

    def arrive_and_wait(self) -> None:
        """Count the calling thread in, and wait until the gate opens."""
        self.arrive()
        self._go.acquire()
        self._go.release()  # pass it on: every waiter goes through in turn

    def wait_for_all(self, timeout: float) -> bool:
        """Whether every thread arrived within ``timeout`` seconds."""
        return self._all_in.acquire(True, max(timeout, 0.0))

    def open(self) -> None:
        self._go.release()
