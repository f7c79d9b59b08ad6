"""A progress bar on stderr for runs that take longer than a second.

Shown only when stderr is a terminal; nothing is drawn for short runs, so quick
commands stay quiet.
"""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["RunProgress"]

#: Seconds a call must run before its progress bar appears.
SHOW_AFTER = 1.0


class RunProgress:
    """A ``progress(done, total, elapsed)`` callback drawing a rich bar lazily."""

    def __init__(self, label: str, stream: IO[str] | None = None):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int | None, elapsed: float) -> None:
        if not self.enabled or elapsed < SHOW_AFTER:
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
