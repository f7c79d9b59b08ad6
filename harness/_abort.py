"""Cooperative cancellation of a run whose deadline passed."""

from __future__ import annotations

__all__ = ["RunAborted"]


class RunAborted(BaseException):
    """Raised inside a thread of an abandoned run, at its next scheduling point or
    instrumented wait, to unwind it.

    A BaseException, so that ``except Exception`` in the code under test does not
    swallow it. (Injecting it from outside with ``PyThreadState_SetAsyncExc`` is
    not an option: on CPython 3.11 an injected exception that cannot be delivered,
    because its thread is blocked in C, wedges the other threads.)
    """
