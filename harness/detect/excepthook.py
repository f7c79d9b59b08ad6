"""Exceptions that escape a thread's body become failures of the execution.

Both engines route ``threading.excepthook`` (uncaught exceptions of threads the
code under test started) and the bodies of their own threads through
:func:`exception_failure`, so that an exception reads the same whichever engine
saw it. An aborted thread unwinding (:class:`RunAborted`) and a quiet
``sys.exit()`` in a thread are not failures, as in Python's own excepthook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from harness._abort import RunAborted
from harness._frames import format_exception
from harness._program import describe_exception
from harness.outcome import Failure

__all__ = ["exception_failure", "make_excepthook"]

#: Where a thread's failure goes, or None when the thread is not the engine's.
Sink = Callable[[Failure], None]


def exception_failure(exc: BaseException, thread: str | None) -> Failure:
    """The failure for ``exc`` raised in the body of the thread named ``thread``."""
    return Failure("exception", describe_exception(exc), format_exception(exc), thread)


def make_excepthook(
    sink_for: Callable[[threading.Thread | None], Sink | None],
) -> Callable[[Any], None]:
    """A ``threading.excepthook`` that reports to ``sink_for(thread)``.

    ``sink_for`` returns None for a thread the engine does not own: its exception
    goes to Python's default hook, as it would without the harness.
    """

    def excepthook(args: Any) -> None:
        exc = args.exc_value
        if exc is None or isinstance(exc, (RunAborted, SystemExit)):
            return
        sink = sink_for(args.thread)
        if sink is None:
            threading.__excepthook__(args)
            return
        sink(exception_failure(exc, args.thread.name if args.thread is not None else None))

    return excepthook
