"""What a recorded execution did, step by step: the data that reports render.

It lives in the lowest layer so that renderers, lessons and the engines share it
without any of them importing an engine's runtime.
"""

from __future__ import annotations

__all__ = ["Step"]


class Step:
    """One recorded decision of a traced execution (for reports)."""

    __slots__ = ("file", "kind", "label", "line", "obj", "offset", "owner", "thread", "value")

    def __init__(
        self,
        thread: int,
        kind: str,
        label: str,
        file: str | None,
        line: int | None,
        obj: object = None,
        offset: int | None = None,
    ) -> None:
        self.thread = thread
        self.kind = kind  # read, write, call, acquire, release, ..., block, end
        self.label = label
        self.file = file
        self.line = line
        self.obj = obj
        self.offset = offset  # bytecode offset of a data access
        self.value: str | None = None  # the value read, or written (repr)
        self.owner: int | None = None  # id of the object whose attribute was accessed
