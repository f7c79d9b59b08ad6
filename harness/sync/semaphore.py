"""Instrumented ``Semaphore`` and ``BoundedSemaphore``, built on Condition and Lock."""

from __future__ import annotations

from harness.sync.condition import Condition
from harness.sync.context import creation_site
from harness.sync.locks import Lock

__all__ = ["BoundedSemaphore", "Semaphore"]


class Semaphore:
    """``threading.Semaphore``: a counter that acquire decrements and release raises."""

    def __init__(self, value: int = 1) -> None:
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._cond = Condition(Lock())
        self._cond._outer = self
        self._value = value
        self._created = creation_site()

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        with self._cond:
            if not blocking:
                if not self._value:
                    return False
            elif not self._cond.wait_for(lambda: self._value > 0, timeout):
                return False
            self._value -= 1
            return True

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        with self._cond:
            self._value += n
            self._cond.notify(n)

    def __repr__(self) -> str:
        return f"<sync.Semaphore at {id(self):#x}: value={self._value}>"


class BoundedSemaphore(Semaphore):
    """A Semaphore that refuses to be released above its initial value."""

    def __init__(self, value: int = 1) -> None:
        super().__init__(value)
        self._initial_value = value

    def release(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError("n must be one or more")
        with self._cond:
            if self._value + n > self._initial_value:
                raise ValueError("Semaphore released too many times")
            self._value += n
            self._cond.notify(n)

    def __repr__(self) -> str:
        return (
            f"<sync.BoundedSemaphore at {id(self):#x}: value={self._value}/{self._initial_value}>"
        )
