"""A thread blocked on a primitive the harness does not control is diagnosed fast (issue 15)."""

from __future__ import annotations

import _thread
import time

import harness


class Box:
    def __init__(self) -> None:
        self.guard = _thread.allocate_lock()  # a raw lock: never instrumented
        self.n = 0


def worker(box: Box) -> None:
    with box.guard:
        box.n = box.n + 1  # a point while the real lock is held


def test_a_real_lock_is_named_within_seconds_not_after_the_timeout():
    started = time.perf_counter()
    result = harness.explore(
        Box,
        lambda b: [lambda: worker(b), lambda: worker(b)],
        lambda b: b.n == 2,
        seed=0,
        budget=50,
        timeout=30.0,
    )
    elapsed = time.perf_counter() - started
    assert result.failed and result.kind == "hang", str(result)
    message = result.failures[0].failure.message
    assert "real threading.Lock" in message and "box.guard" in message, message
    assert "To make it managed" in message, message
    assert result.sections["shrink"]["executions"] == 0  # a hang is not re-run to shrink
    # Before: the whole 30 s timeout for the search's run, again for each shrink
    # attempt and for the recorded replay. Now about a second each (plus the grace
    # an aborted execution gives its threads to unwind).
    assert elapsed < 15.0, f"{elapsed:.1f}s: the 30 s timeout was waited for"
