"""Our engines as benchmark tools: detections, misses and time bounds are told apart."""

from __future__ import annotations

import pytest

from bench.programs import BenchProgram, corpus_programs
from bench.tools import TOOLS, Bounds
from bench.tools.base import FOUND, HELD, MISSED, OTHER


def _program(program_id: str) -> BenchProgram:
    (found,) = [p for p in corpus_programs() if p.id == program_id]
    return found


@pytest.mark.timeout(60)
@pytest.mark.parametrize("tool", ["explore-mixed", "explore-pct", "explore-random", "explore-dfs"])
def test_explore_finds_the_account_bug_and_says_when(tool):
    attempt = TOOLS[tool].attempt(_program("corpus/account:buggy"), 0, Bounds(1000, 30.0))
    assert attempt.status == FOUND, attempt
    assert attempt.kind == "assert"
    assert 1 <= attempt.schedules <= 1000
    assert 0 < attempt.seconds < 30.0


def test_the_default_strategy_is_the_one_labelled_default():
    from harness.explore import DEFAULT_STRATEGY

    (default,) = [t for t in TOOLS.values() if "(default)" in t.label]
    assert default.name == f"explore-{DEFAULT_STRATEGY}" == "explore-mixed"
    assert TOOLS["explore-pct"].label == "explore pct"


@pytest.mark.timeout(60)
def test_a_fixed_twin_holds_until_the_schedule_bound():
    attempt = TOOLS["explore-pct"].attempt(_program("corpus/account:fixed"), 0, Bounds(20, 30.0))
    assert attempt.status == HELD, attempt
    assert attempt.schedules == 20
    assert attempt.note == "bound reached"


@pytest.mark.timeout(60)
def test_the_time_bound_ends_a_search_as_a_miss():
    # reorder_5 takes tens of schedules under pct; 1 ms of search cannot reach it.
    attempt = TOOLS["explore-pct"].attempt(
        _program("corpus/reorder_5:buggy"), 0, Bounds(10_000, 0.001)
    )
    assert attempt.status == MISSED, attempt
    assert attempt.note == "time bound (0.001 s)"
    assert attempt.schedules >= 1


@pytest.mark.timeout(60)
def test_a_failure_of_another_kind_is_not_a_detection():
    # The ABBA program is caught by a deadlock; a program that only accepts
    # "exception" must not count it.
    abba = _program("corpus/deadlock01:buggy")
    picky = BenchProgram(**{**abba.__dict__, "kinds": ("exception",)})
    attempt = TOOLS["explore-pct"].attempt(picky, 0, Bounds(300, 30.0))
    assert attempt.status == OTHER, attempt
    assert attempt.kind in ("deadlock", "lock-order")


@pytest.mark.timeout(60)
def test_stress_with_noise_finds_the_lazy_init_bug():
    attempt = TOOLS["stress-noise-high"].attempt(
        _program("corpus/lazy_init:buggy"), 1, Bounds(2000, 30.0)
    )
    assert attempt.status == FOUND, attempt
    assert attempt.kind == "assert"


@pytest.mark.timeout(60)
def test_a_lock_order_warning_seen_before_the_time_bound_still_counts():
    # DFS on the philosophers warns about the lock order in its first schedule,
    # then searches on for a real deadlock until the (tiny) time bound.
    attempt = TOOLS["explore-dfs"].attempt(
        _program("corpus/philosophers:buggy"), 0, Bounds(10_000, 0.05)
    )
    assert attempt.status == FOUND, attempt
    assert (attempt.kind, attempt.schedules) == ("lock-order", 1)
