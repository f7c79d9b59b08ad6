"""Instrumented ``threading.Barrier``, built on Condition and Lock."""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.sync.condition import Condition
from harness.sync.context import creation_site
from harness.sync.locks import Lock

__all__ = ["Barrier"]

BrokenBarrierError = threading.BrokenBarrierError


class Barrier:
    """``threading.Barrier``: ``parties`` threads wait until all have arrived.

    The barrier fills (threads arrive), then drains (released threads leave);
    ``reset`` and ``abort`` break it for the threads waiting, which raise
    ``threading.BrokenBarrierError``.
    """

    _FILLING, _DRAINING, _RESETTING, _BROKEN = 0, 1, -1, -2

    def __init__(
        self, parties: int, action: Callable[[], object] | None = None, timeout: float | None = None
    ) -> None:
        if parties < 1:
            raise ValueError("parties must be > 0")
        self._cond = Condition(Lock())
        self._cond._outer = self
        self._action = action
        self._timeout = timeout
        self._parties = parties
        self._phase = self._FILLING
        self._count = 0
        self._created = creation_site()

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            timeout = self._timeout
        with self._cond:
            self._wait_for_draining_to_end()
            index = self._count
            self._count += 1
            try:
                if index + 1 == self._parties:
                    self._trip()
                else:
                    self._wait_for_trip(timeout)
                return index
            finally:
                self._count -= 1
                self._leave()

    def _wait_for_draining_to_end(self) -> None:
        self._cond.wait_for(lambda: self._phase not in (self._DRAINING, self._RESETTING))
        if self._phase == self._BROKEN:
            raise BrokenBarrierError

    def _trip(self) -> None:
        try:
            if self._action is not None:
                self._action()
            self._phase = self._DRAINING
            self._cond.notify_all()
        except BaseException:
            self._break()
            raise

    def _wait_for_trip(self, timeout: float | None) -> None:
        if not self._cond.wait_for(lambda: self._phase != self._FILLING, timeout):
            self._break()
            raise BrokenBarrierError
        if self._phase in (self._BROKEN, self._RESETTING):
            raise BrokenBarrierError

    def _leave(self) -> None:
        if self._count == 0 and self._phase in (self._RESETTING, self._DRAINING):
            self._phase = self._FILLING
            self._cond.notify_all()

    def _break(self) -> None:
        self._phase = self._BROKEN
        self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            if self._count > 0:
                if self._phase in (self._FILLING, self._BROKEN):
                    self._phase = self._RESETTING
            else:
                self._phase = self._FILLING
            self._cond.notify_all()

    def abort(self) -> None:
        with self._cond:
            self._break()

    @property
    def parties(self) -> int:
        return self._parties

    @property
    def n_waiting(self) -> int:
        return self._count if self._phase == self._FILLING else 0

    @property
    def broken(self) -> bool:
        return self._phase == self._BROKEN

    def __repr__(self) -> str:
        if self.broken:
            return f"<sync.Barrier at {id(self):#x}: broken>"
        return f"<sync.Barrier at {id(self):#x}: waiters={self.n_waiting}/{self._parties}>"
