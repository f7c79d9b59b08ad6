"""filelock 3.29.5: two threads making the same ``is_singleton`` lock get two "singletons".

``FileLockMeta.__call__`` looked the path up in the class's cache of instances
and stored the new instance without a lock, so two threads constructing the
first lock for a path both miss and each build one; callers that rely on
``is_singleton=True`` for reentrant locking across instances then hold two
distinct locks (tox-dev/filelock pull request #581, "serialise singleton
construction in FileLockMeta", released in 3.29.6). The cache's lock is a class
attribute made when the class is created, at import.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from types import SimpleNamespace
from typing import Any

PACKAGE = "filelock"
BUGGY = "3.29.5"
FIXED = "3.29.6"
ISSUE = "https://github.com/tox-dev/filelock/pull/581"
KIND = "assert"
BUG = "two threads construct FileLock(path, is_singleton=True): two distinct instances"
THREADS = 2
_PATHS = itertools.count()
_DIR = tempfile.gettempdir()


def setup() -> Any:
    from filelock import FileLock

    # A path never used before in this process: the singleton cache misses.
    path = os.path.join(_DIR, f"harness-real-{os.getpid()}-{next(_PATHS)}.lock")
    return SimpleNamespace(FileLock=FileLock, path=path, made=[None, None])


def actors(state: Any) -> list[Any]:
    def make(i: int) -> None:
        state.made[i] = state.FileLock(state.path, is_singleton=True)

    return [lambda: make(0), lambda: make(1)]


def check(state: Any) -> None:
    first, second = state.made
    assert first is second, "two instances for one path although is_singleton=True"
