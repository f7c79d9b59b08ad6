"""A driver for ``bench.real`` over a fake library the test writes (no network, no PyPI).

``fakecounter`` 1.0 increments without its lock (a lost update), 1.1 under a
module-level lock made at import, like the real libraries' fixes.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

PACKAGE = "fakecounter"
BUGGY = "1.0"
FIXED = "1.1"
ISSUE = "https://example.invalid/fakecounter/issues/1"
KIND = "assert"
BUG = "two increments, one lost"
THREADS = 2

SOURCES = {
    "1.0": (
        "class Counter:\n"
        "    def __init__(self):\n"
        "        self.value = 0\n"
        "    def bump(self):\n"
        "        seen = self.value\n"
        "        self.value = seen + 1\n"
    ),
    "1.1": (
        "import threading\n"
        "_lock = threading.Lock()\n"
        "class Counter:\n"
        "    def __init__(self):\n"
        "        self.value = 0\n"
        "    def bump(self):\n"
        "        with _lock:\n"
        "            seen = self.value\n"
        "            self.value = seen + 1\n"
    ),
}


def setup() -> Any:
    import fakecounter

    return SimpleNamespace(counter=fakecounter.Counter())


def actors(state: Any) -> list[Any]:
    return [state.counter.bump, state.counter.bump]


def check(state: Any) -> None:
    assert state.counter.value == 2, f"value {state.counter.value} after two increments"
