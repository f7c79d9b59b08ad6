"""Actor threads as the code under test sees them, with many of them.

The explorer starts its actors without waiting for each OS thread in turn (the
start gate waits for all of them at once), and decides over the threads that
have not finished only: neither may change what an actor sees or who can run.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import pytest

import harness

THREADS = 40


class Seen:
    def __init__(self) -> None:
        self.rows: list[tuple[str, bool, bool, bool]] = []
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.finished = 0


def _look(seen: Seen, index: int) -> None:
    me = threading.current_thread()
    seen.rows.append(
        (
            me.name,
            me.ident == threading.get_ident(),
            me.is_alive(),
            me._started.is_set(),  # type: ignore[attr-defined]
        )
    )


def _lookers(seen: Seen) -> list[Callable[[], None]]:
    return [functools.partial(_look, seen, i) for i in range(THREADS)]


def _waiters(seen: Seen) -> list[Callable[[], None]]:
    return [functools.partial(_wait_or_set, seen, i) for i in range(THREADS)]


def _check_rows(seen: Seen) -> None:
    expected = sorted((f"T{i}", True, True, True) for i in range(THREADS))
    assert sorted(seen.rows) == expected, f"actors saw {sorted(seen.rows)[:5]}..."


@pytest.mark.timeout(120)
@pytest.mark.parametrize("strategy", ["pct", "random", "pos"])
def test_every_actor_is_started_alive_and_named_before_it_runs(strategy: str) -> None:
    result = harness.explore(
        Seen,
        _lookers,
        _check_rows,
        strategy=strategy,
        budget=8,
    )
    assert not result.failed, str(result)
    assert result.runs == 8


def _wait_or_set(seen: Seen, index: int) -> None:
    if index == 0:
        assert seen.event.wait(timeout=None)
        return
    with seen.lock:
        seen.finished += 1
        last = seen.finished == THREADS - 1
    if last:
        seen.event.set()


def _all_finished(seen: Seen) -> None:
    assert seen.finished == THREADS - 1, f"{seen.finished} of {THREADS - 1} setters finished"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("strategy", ["pct", "random", "pos"])
def test_a_waiter_wakes_after_most_threads_have_finished(strategy: str) -> None:
    # T0 blocks first in most schedules and can run again only once the last
    # setter, with most of the others finished, sets the event.
    result = harness.explore(
        Seen,
        _waiters,
        _all_finished,
        strategy=strategy,
        budget=10,
    )
    assert not result.failed, str(result)
    assert result.runs == 10
