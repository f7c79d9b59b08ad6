"""fasteners 0.17.2: a writer that takes a reentrant read lock deadlocks with a waiting writer.

``ReaderWriterLock.read_lock()`` in 0.16-0.17.2 waits while any writer is
pending, even when the caller itself holds the write lock. Thread 1 holds the
write lock and asks for a read lock while thread 2 waits for the write lock:
thread 1 waits for thread 2, which waits for thread 1 (fasteners issue #86,
"Potential deadlock in ReaderWriterLock"; fixed in 0.17.3, which lets the owner
of the write lock read). The lock's condition is ``condition_cls=threading.Condition``,
a default argument bound when fasteners is imported.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

PACKAGE = "fasteners"
BUGGY = "0.17.2"
FIXED = "0.17.3"
ISSUE = "https://github.com/harlowja/fasteners/issues/86"
KIND = "deadlock"
BUG = "write lock then reentrant read lock, while another writer waits: deadlock"
THREADS = 2


def setup() -> Any:
    import fasteners

    return SimpleNamespace(rw=fasteners.ReaderWriterLock(), log=[])


def actors(state: Any) -> list[Any]:
    def write_then_read() -> None:
        with state.rw.write_lock(), state.rw.read_lock():  # the read lock nests in the write
            state.log.append("write+read")

    def write() -> None:
        with state.rw.write_lock():
            state.log.append("write")

    return [write_then_read, write]


def check(state: Any) -> None:
    assert sorted(state.log) == ["write", "write+read"], f"sections run: {state.log}"
