"""Instrumented ``threading.Event``, built on Condition and Lock."""

from __future__ import annotations

from harness.sync.condition import Condition
from harness.sync.context import creation_site
from harness.sync.locks import Lock

__all__ = ["Event"]


class Event:
    """``threading.Event``: a flag that threads can wait to become true."""

    def __init__(self) -> None:
        self._cond = Condition(Lock())
        self._cond._outer = self
        self._flag = False
        self._created = creation_site()

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set  # the deprecated alias

    def set(self) -> None:
        with self._cond:
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        with self._cond:
            # One wait, not a loop on the flag: a set() followed at once by a
            # clear() must still wake every waiter with True (CPython gh-57711).
            return self._flag or self._cond.wait(timeout)

    def _at_fork_reinit(self) -> None:
        self._cond = Condition(Lock())
        self._cond._outer = self

    def __repr__(self) -> str:
        return f"<sync.Event at {id(self):#x}: {'set' if self._flag else 'unset'}>"
