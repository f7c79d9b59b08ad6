"""A connection pool: at most ``size`` connections open, idle ones handed out again.

This is the pool as it was first written, race included: see the walkthrough
in the thread-harness README ("Gate your own threaded code with pytest").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class PoolTimeout(Exception):
    """No connection became free in time."""


class ConnectionPool:
    """Hands out up to ``size`` connections made by ``connect()``; reuses released ones."""

    def __init__(self, connect: Callable[[], Any], size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[Any] = []
        self._opened = 0
        self._available = threading.Condition()

    def acquire(self, timeout: float | None = None) -> Any:
        """An idle connection, or a new one while fewer than ``size`` are open."""
        with self._available:
            while not self._idle and self._opened >= self._size:
                if not self._available.wait(timeout):
                    raise PoolTimeout(f"no connection free after {timeout}s")
            if self._idle:
                return self._idle.pop()
        # Connecting is slow: do it without holding the lock, so that other
        # threads can take and return idle connections meanwhile.
        connection = self._connect()
        self._opened += 1
        return connection

    def release(self, connection: Any) -> None:
        """Give a connection back for the next ``acquire``."""
        with self._available:
            self._idle.append(connection)
            self._available.notify()

    @property
    def opened(self) -> int:
        """How many connections the pool has opened."""
        return self._opened
