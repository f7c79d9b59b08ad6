"""Partial order sampling (``strategy="pos"``): the re-draw rule on fake traces, and
the strategy end to end on the many-thread corpus program."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import harness
from bench.corpus import CorpusProgram, many_slots
from harness.explore.strategies import POS, STRATEGIES, Choice, make_strategy, run
from harness.explore.strategies.pos import races

BUGGY, FIXED = many_slots.make(10)


def _pos(threads: int, seed: int = 0) -> POS:
    pos = POS(seed)
    pos.new_execution()
    for index in range(threads):
        pos.on_thread(index)
    return pos


def test_races_same_location_with_a_write_or_the_same_primitive() -> None:
    lock, other = threading.Lock(), threading.Lock()
    assert races(("write", ".x"), ("read", ".x"))
    assert races(("read", ".x"), ("write", ".x"))
    assert races(("write", "[]"), ("write", "[]"))
    assert not races(("read", ".x"), ("read", ".x")), "two reads do not race"
    assert not races(("write", ".x"), ("write", ".y")), "different locations"
    assert races(("call", "()"), ("call", "()")), "a call counts as a write"
    assert races(("sync", lock), ("sync", lock))
    assert not races(("sync", lock), ("sync", other))
    assert not races(("sync", lock), ("write", ".x"))
    thread = threading.Thread(target=lambda: None)
    assert races(("end", thread), ("sync", thread)), "a thread's end races with its join"
    assert not races(("begin", None), ("begin", None))


def test_after_a_step_the_runner_and_the_racing_threads_are_redrawn_and_no_others() -> None:
    pos = _pos(4)
    before = list(pos._priority)
    ops: list[tuple[str, object]] = [
        ("read", ".y"),  # T0 ran a write of .x and is now about to read .y
        ("read", ".x"),  # races with the write
        ("read", ".y"),  # another location
        ("write", ".x"),  # races with the write
    ]
    pos.executed(0, ("write", ".x"), ops)
    assert pos.redrawn == (0, 1, 3), f"redrawn {pos.redrawn}"
    after = pos._priority
    assert after[2] == before[2], "a thread whose next event does not race keeps its priority"
    assert all(after[i] != before[i] for i in (0, 1, 3)), f"{before} -> {after}"


def test_a_read_redraws_only_pending_writes_of_that_location() -> None:
    pos = _pos(3)
    ops: list[tuple[str, object]] = [("write", ".x"), ("read", ".x"), ("write", ".x")]
    pos.executed(0, ("read", ".x"), ops)
    assert pos.redrawn == (0, 2), f"redrawn {pos.redrawn}"


def test_the_highest_priority_runnable_thread_runs_and_its_step_counts_as_executed() -> None:
    pos = _pos(3)
    pos._priority[:] = [0.2, 0.9, 0.5]
    choice = Choice()
    choice.runnable = (0, 2)  # T1 (highest) is blocked
    choice.ops = [("write", ".a"), ("sync", None), ("read", ".a")]
    choice.default = run(0)
    assert pos.choose(choice) == run(2), "T2 has the highest priority of those that can run"
    # T2 ran its read of .a: T0's pending write of .a races with it, T1 is untouched.
    choice.ops = [("write", ".a"), ("sync", None), ("read", ".b")]
    pos.choose(choice)
    assert pos.redrawn == (2, 0), f"redrawn {pos.redrawn}"
    assert pos._priority[1] == 0.9


def test_pos_is_registered_under_its_name() -> None:
    assert isinstance(make_strategy("pos", 3), POS)
    assert "pos" in STRATEGIES


def _explore(program: CorpusProgram, seed: int, budget: int, **kwargs: Any) -> harness.Result:
    return harness.explore(
        program.setup, program.actors, program.check, strategy="pos", seed=seed, budget=budget,
        **kwargs,
    )  # fmt: skip


@pytest.mark.timeout(120)
def test_pos_finds_the_two_of_ten_threads_bug_and_its_token_replays_it() -> None:
    result = _explore(BUGGY, 0, 300)
    assert result.failed and result.kind == "assert", f"no lost update in {result.runs}:\n{result}"
    assert result.schedule is not None
    again = harness.replay(result.schedule, BUGGY.setup, BUGGY.actors, BUGGY.check)
    assert again.failed and again.kind == "assert", f"the token did not replay:\n{again}"
    assert again.failures[0].failure.message == result.failures[0].failure.message


@pytest.mark.timeout(120)
def test_pos_reports_nothing_on_the_fixed_twin() -> None:
    result = _explore(FIXED, 0, 150)
    assert not result.failed, f"the fixed twin failed:\n{result}"
    assert result.runs == 150


@pytest.mark.timeout(120)
def test_pos_is_deterministic_for_a_seed() -> None:
    def schedules(seed: int) -> list[int]:
        return _explore(BUGGY, seed, 60, stop_on_failure=False).failing_runs

    first = schedules(0)
    assert first, "seed 0 should fail in some of 60 schedules"
    assert schedules(0) == first, "the same seed must give the same schedules"
    assert any(schedules(seed) != first for seed in (1, 2)), "seeds must matter"


def test_the_redraw_loop_agrees_with_races_on_random_traces() -> None:
    import random

    lock_a, lock_b = threading.Lock(), threading.Lock()
    events: list[tuple[str, object]] = [
        ("read", ".x"), ("write", ".x"), ("read", ".y"), ("write", "[]"), ("call", "()"),
        ("sync", lock_a), ("sync", lock_b), ("end", lock_a), ("begin", None), ("sync", None),
    ]  # fmt: skip
    pick = random.Random(5)
    for _ in range(300):
        ops = [pick.choice(events) for _ in range(6)]
        done = pick.choice(events)
        pos = _pos(6)
        pos.executed(0, done, ops)
        expected = (0, *(q for q in range(1, 6) if races(done, ops[q])))
        assert pos.redrawn == expected, f"{done} against {ops}: {pos.redrawn} != {expected}"


def test_choose_redraws_exactly_what_the_full_scan_would() -> None:
    # An execution as the scheduler makes one: only the chosen thread's next
    # event changes between decisions. The indexed path of choose() must draw
    # what executed() (a scan of every thread) draws, in the same order.
    import random

    lock = threading.Lock()
    events: list[tuple[str, object]] = [
        ("read", ".x"), ("write", ".x"), ("read", "[]"), ("write", "[]"), ("call", "()"),
        ("sync", lock), ("end", lock),
    ]  # fmt: skip
    pick = random.Random(11)
    fast, reference = _pos(8, seed=4), _pos(8, seed=4)
    choice = Choice()
    choice.ops = [("begin", None)] * 8
    choice.runnable = tuple(range(8))
    ran, ran_op = -1, None
    for _ in range(400):
        choice.current = ran
        code = fast.choose(choice)
        if ran_op is not None:
            reference.executed(ran, ran_op, choice.ops)
            reference_choice = max(choice.runnable, key=reference._priority.__getitem__)
            assert fast.redrawn == reference.redrawn, f"{fast.redrawn} != {reference.redrawn}"
            assert code == run(reference_choice)
        ran, ran_op = code >> 1, choice.ops[code >> 1]
        choice.ops = list(choice.ops)
        choice.ops[ran] = pick.choice(events)  # the thread that runs reaches its next point
    assert fast._priority == reference._priority
