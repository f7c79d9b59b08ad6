"""Exceptions that nobody saw: failed ``Future``s whose result was never read.

A task submitted to a ``ThreadPoolExecutor`` that raises does not print
anything: the exception waits in its future until someone calls ``result()`` or
``exception()``. If nobody does, the failure is silently lost. While an engine
runs, futures that fail are recorded, reading one marks it seen, and at the end
of each run the unseen ones are reported with their tracebacks.
"""

from __future__ import annotations

import _thread
from concurrent.futures import Future
from typing import Any

from harness._frames import format_exception
from harness._program import describe_exception
from harness.outcome import Failure
from harness.sync.patching import Patcher

__all__ = ["UnreadFutures"]

_set_exception = Future.set_exception
_result = Future.result
_exception = Future.exception


class UnreadFutures:
    """Tracks failed futures during an engine call; report with :meth:`collect`."""

    def __init__(self) -> None:
        self._mutex = _thread.allocate_lock()
        self._failed: dict[int, tuple[Future[Any], BaseException]] = {}
        self._read: set[int] = set()

    def install(self, patcher: Patcher) -> None:
        tracker = self

        def set_exception(future: Future[Any], exception: BaseException) -> None:
            _set_exception(future, exception)
            with tracker._mutex:
                tracker._failed[id(future)] = (future, exception)

        def result(future: Future[Any], timeout: float | None = None) -> Any:
            tracker._mark(future)
            return _result(future, timeout)

        def exception(future: Future[Any], timeout: float | None = None) -> Any:
            tracker._mark(future)
            return _exception(future, timeout)

        patcher.set(Future, "set_exception", set_exception)
        patcher.set(Future, "result", result)
        patcher.set(Future, "exception", exception)

    def _mark(self, future: Future[Any]) -> None:
        with self._mutex:
            self._read.add(id(future))

    def collect(self) -> list[Failure]:
        """Failures for futures that failed and were never read; then start afresh."""
        with self._mutex:
            unread = [exc for key, (_, exc) in self._failed.items() if key not in self._read]
            self._failed.clear()
            self._read.clear()
        return [
            Failure(
                "exception",
                f"{describe_exception(exc)} (in a pool task whose result nobody read)",
                format_exception(exc),
            )
            for exc in unread
        ]
