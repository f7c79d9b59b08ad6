"""Tracebacks and stacks as a user wants to read them: the harness's frames left out."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from types import FrameType

__all__ = [
    "CATALOGUE_DIR",
    "HARNESS_DIR",
    "current_frames",
    "format_exception",
    "format_stack",
    "is_harness_file",
    "user_site",
]

#: The installed harness package's directory, with a trailing separator.
HARNESS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Where the catalogue lives when installed (``harness.catalogue``): inside the
#: harness package, but code under test like any user's, so never "the harness".
CATALOGUE_DIR = os.path.join(HARNESS_DIR, "catalogue") + os.sep


def current_frames() -> dict[int, FrameType]:
    """``sys._current_frames()`` with the garbage collector held off.

    On CPython 3.11 a collection that starts inside ``_current_frames`` (which
    allocates while holding the runtime's thread-list lock) can deadlock the
    interpreter (CPython gh-106883); with collection disabled it cannot start.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return sys._current_frames()
    finally:
        if enabled:
            gc.enable()


def is_harness_file(filename: str) -> bool:
    """Whether ``filename`` is the harness's own code (the installed catalogue is not)."""
    path = os.path.abspath(filename)
    return path.startswith(HARNESS_DIR) and not path.startswith(CATALOGUE_DIR)


def _keep(summary: traceback.StackSummary) -> traceback.StackSummary:
    kept = [fs for fs in summary if not is_harness_file(fs.filename)]
    return traceback.StackSummary.from_list(kept or list(summary))


def format_exception(exc: BaseException) -> str:
    """The exception with its traceback (and chained causes), minus harness frames."""
    te = traceback.TracebackException.from_exception(exc)
    for item in _chain(te):
        item.stack = _keep(item.stack)
    return "".join(te.format()).rstrip()


def _chain(te: traceback.TracebackException) -> list[traceback.TracebackException]:
    seen: list[traceback.TracebackException] = []
    todo: list[traceback.TracebackException | None] = [te]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([item.__cause__, item.__context__])
    return seen


def format_stack(frame: FrameType | None, limit: int = 12) -> str:
    """The innermost ``limit`` frames of a thread's stack, minus harness frames."""
    if frame is None:
        return "    (no Python frame)"
    summary = _keep(traceback.extract_stack(frame))
    return "".join(traceback.format_list(summary[-limit:])).rstrip()


def user_site(frame: FrameType | None) -> tuple[str, int] | None:
    """File and line of the innermost frame that is not harness code."""
    while frame is not None and is_harness_file(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    return frame.f_code.co_filename, frame.f_lineno
