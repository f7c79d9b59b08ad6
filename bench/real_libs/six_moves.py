"""six 1.8.0: two threads resolving one ``six.moves`` attribute; one raises AttributeError.

``six.moves.X`` is a lazy descriptor on the ``_MovedItems`` class. Its ``__get__``
imports the target, stores it on the instance and then deletes the descriptor
from the class. When two threads both enter ``__get__`` before either stores the
value, the second ``delattr`` finds the descriptor gone and raises
``AttributeError`` out of a plain attribute access (six issue #98,
"Periodically able to cause moved functions to fail delattr()"). six 1.9.0
ignores that ``AttributeError``; botocore issue #1227 calls it "a known issue in
six<1.9.0".

Each run imports a fresh ``six`` (the lazy attribute is resolved once per
import), so the race is there to be found again.
"""

from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace
from typing import Any

PACKAGE = "six"
BUGGY = "1.8.0"
FIXED = "1.9.0"
ISSUE = "https://github.com/benjaminp/six/issues/98"
KIND = "exception"
BUG = "two first reads of six.moves.reduce: the second delattr raises AttributeError"
THREADS = 2


def setup() -> Any:
    for name in [m for m in sys.modules if m == "six" or m.startswith("six.")]:
        del sys.modules[name]
    # Each import of six appends its own meta-path importer; keep one at most.
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_SixMetaPathImporter"]
    six = importlib.import_module("six")
    return SimpleNamespace(six=six, got=[None, None])


def actors(state: Any) -> list[Any]:
    def read(i: int) -> None:
        state.got[i] = state.six.moves.reduce

    return [lambda: read(0), lambda: read(1)]


def check(state: Any) -> None:
    import functools

    assert state.got == [functools.reduce] * 2, f"six.moves.reduce read as {state.got}"
