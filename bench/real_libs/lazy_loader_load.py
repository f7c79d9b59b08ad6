"""lazy_loader 0.3: two threads ``lazy.load()`` one module and get two different module objects.

``lazy_loader.load(name)`` looks ``name`` up in ``sys.modules`` and, when it is
missing, builds a lazily loading module and stores it there. Two threads that
miss at once build one each, and one of them holds a module that is not the one
in ``sys.modules`` (scientific-python/lazy-loader pull request #90, "Make
``lazy_load.load`` partially thread-safe", released in 0.4, which does the
lookup and the store under a module-level ``threading.Lock`` made at import).
The module loaded is the standard library's ``colorsys``, dropped from
``sys.modules`` before each run; nothing reads its attributes, so it is never
executed.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

PACKAGE = "lazy-loader"
BUGGY = "0.3"
FIXED = "0.4"
ISSUE = "https://github.com/scientific-python/lazy-loader/pull/90"
KIND = "assert"
BUG = "two threads lazy.load('colorsys') at once: two module objects, one not in sys.modules"
THREADS = 2
TARGET = "colorsys"


def setup() -> Any:
    import lazy_loader

    sys.modules.pop(TARGET, None)
    return SimpleNamespace(lazy=lazy_loader, got=[None, None])


def actors(state: Any) -> list[Any]:
    def load(i: int) -> None:
        state.got[i] = state.lazy.load(TARGET)

    return [lambda: load(0), lambda: load(1)]


def check(state: Any) -> None:
    first, second = state.got
    assert first is second, "lazy.load returned two different modules for one name"
    assert sys.modules.get(TARGET) is first, "the module returned is not the one in sys.modules"
