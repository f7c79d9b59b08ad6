"""tqdm 4.32.1: a disabled bar made while bars open raises "Set changed size during iteration".

``tqdm(disable=True)`` computes its position by iterating the class-wide
``WeakSet`` of instances without the class lock, while ``tqdm.__new__`` of
another bar adds to that set under the lock: the iteration raises
``RuntimeError: Set changed size during iteration`` (tqdm issue #481; fixed by
pull request #754, "Fix tqdm._instances race", released in 4.32.2). The class
lock is tqdm's own default, a thread RLock made at import (a class attribute)
paired with a multiprocessing RLock.
"""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

PACKAGE = "tqdm"
BUGGY = "4.32.1"
FIXED = "4.32.2"
ISSUE = "https://github.com/tqdm/tqdm/pull/754"
KIND = "exception"
BUG = "tqdm(disable=True) iterates tqdm._instances unlocked while bars open: RuntimeError"
THREADS = 2


def setup() -> Any:
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the bars are all there is
    return SimpleNamespace(tqdm=tqdm, out=io.StringIO())


def actors(state: Any) -> list[Any]:
    def disabled_bar() -> None:
        state.tqdm(total=1, file=state.out, disable=True).close()

    def two_bars() -> None:
        first = state.tqdm(total=1, file=state.out, leave=False, mininterval=0)
        second = state.tqdm(total=1, file=state.out, leave=False, mininterval=0)
        second.close()
        first.close()

    return [disabled_bar, two_bars]


def check(state: Any) -> None:
    left = [b for b in state.tqdm._instances if not b.disable]
    assert not left, f"bars still registered after close: {len(left)}"
