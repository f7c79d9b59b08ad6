"""Entering a generator frame is a scheduling point (issue 15)."""

from __future__ import annotations

import sys
import threading

import pytest

import harness
from harness._tracing.points import RESUME, resume_point

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="generator resumption points are off on CPython 3.10 (its tracer crashed "
    "when a thread parked in a generator's 'call' event; see resume_point)",
)


def numbers():
    n = 0
    while True:  # touches only its locals: no point inside
        n += 1
        yield n


class Shared:
    def __init__(self) -> None:
        self.gen = numbers()
        self.lock = threading.Lock()


def take(s: Shared) -> None:
    for _ in range(2):
        next(s.gen)


def take_locked(s: Shared) -> None:
    for _ in range(2):
        with s.lock:
            next(s.gen)


def test_generator_and_coroutine_code_have_a_resume_point():
    async def coro() -> None:
        return None

    point = resume_point(numbers.__code__)
    assert point is not None and point.kind == RESUME and point.target == "numbers"
    assert resume_point(coro.__code__) is not None
    assert resume_point(take.__code__) is None


def test_two_threads_sharing_a_generator_are_caught():
    result = harness.explore(
        Shared, lambda s: [lambda: take(s), lambda: take(s)], seed=0, budget=500, timeout=5.0
    )
    assert result.failed and result.kind == "exception", str(result)
    assert "generator already executing" in str(result), str(result)
    again = harness.replay(
        result.schedule, Shared, lambda s: [lambda: take(s), lambda: take(s)], timeout=5.0
    )
    assert again.failed and "generator already executing" in str(again)


def test_a_generator_shared_under_a_lock_holds():
    result = harness.explore(
        Shared,
        lambda s: [lambda: take_locked(s), lambda: take_locked(s)],
        seed=0,
        budget=200,
        timeout=5.0,
    )
    assert not result.failed, str(result)
