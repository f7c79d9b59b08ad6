"""The lock-order graph's bookkeeping of held locks, as many threads use it."""

from __future__ import annotations

import _thread

import pytest

from harness.detect.lockorder import LockOrderGraph


@pytest.mark.timeout(30)
def test_a_lock_released_by_another_thread_is_no_longer_held_by_its_taker() -> None:
    graph = LockOrderGraph()
    handed, later = object(), object()
    took, released, done = (_thread.allocate_lock() for _ in range(3))
    for lock in (took, released, done):
        lock.acquire()

    def taker() -> None:
        graph.acquired(handed, ("taker.py", 1), True)
        took.release()
        released.acquire()
        # Had the release missed this thread's holds, this would make the
        # edge handed -> later.
        graph.acquired(later, ("taker.py", 2), True)
        done.release()

    _thread.start_new_thread(taker, ())
    assert took.acquire(True, 10), "the taker did not take the lock"
    graph.released(handed)  # released here, not by the thread that took it
    released.release()
    assert done.acquire(True, 10), "the taker did not finish"
    assert graph.edges() == [], f"edges {graph.edges()}"


@pytest.mark.timeout(30)
def test_a_release_drops_the_releasing_threads_innermost_hold_first() -> None:
    graph = LockOrderGraph()
    outer, inner, third = object(), object(), object()
    graph.acquired(outer, ("a.py", 1), True)
    graph.acquired(inner, ("a.py", 2), True)
    graph.released(inner)
    graph.acquired(third, ("a.py", 3), True)
    taken = {(e.held, e.taken) for e in graph.edges()}
    assert taken == {(outer, inner), (outer, third)}, f"edges {taken}"
