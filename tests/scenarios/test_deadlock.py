"""deadlock: opposite lock orders hang under stress; the ordered and timeout fixes finish."""

from __future__ import annotations

import importlib
import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue

SCENARIO = catalogue()["deadlock"]
MODULE = importlib.import_module("scenarios.deadlock")
FIXES = ["ordered", "timeout"]


def test_every_variant_has_one_budget_a_summary_and_its_source():
    budgets = {name: v.settings_for("stress") for name, v in SCENARIO.variants.items()}
    assert len({tuple(sorted(b.items())) for b in budgets.values()}) == 1, budgets
    assert set(SCENARIO.variants) == {"buggy", *FIXES}
    for variant in SCENARIO.variants.values():
        assert variant.summary and variant.sources(), variant.name
        assert variant.engines == ("stress", "explore")
    assert SCENARIO.variant("buggy").kinds == ("hang", "deadlock")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("threads", [2, 3])
def test_buggy_deadlocks_under_stress(threads):
    variant = SCENARIO.variant("buggy")
    run = run_variant(SCENARIO, variant, overrides={"seed": 1, "threads": threads}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind in variant.kinds, str(run.result)
    # teardown freed every deadlocked thread: the engine had none left to abandon
    assert "abandoned_threads" not in run.result.settings, str(run.result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("fix", FIXES)
def test_fix_holds_under_the_same_budget(fix, threads):
    run = run_variant(SCENARIO, SCENARIO.variant(fix), overrides={"seed": 1, "threads": threads})
    assert run.met, str(run.result)
    assert run.result.runs > 0
    for entry in run.result.histogram:
        assert entry.outcome.startswith(f"{threads} of {threads} threads finished"), str(run.result)


def test_locks_are_named_attributes_in_a_cycle():
    two = MODULE.Resources(2)
    assert two.locks_of(0) == (two.lock_a, two.lock_b)
    assert two.locks_of(1) == (two.lock_b, two.lock_a)
    three = MODULE.Resources(3)
    assert three.locks_of(2) == (three.lock_c, three.lock_a)
    assert [three.rank(lock) for lock in (three.lock_c, three.lock_a)] == [2, 0]
    assert MODULE.lock_name(26) == "lock_26"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("variant", ["buggy", *FIXES])
def test_check_accepts_a_correct_end_and_rejects_an_unfinished_one(variant):
    v = SCENARIO.variant(variant)
    state = v.setup(2)
    state.hold_seconds = 0.0
    for actor in v.actors(state):
        actor()  # one after the other: nobody waits for anybody
    v.check(state)
    assert v.observe(state) == "2 of 2 threads finished"

    stuck = v.setup(2)
    stuck.finished = [0]
    with pytest.raises(AssertionError, match=r"threads \[1\] never got both of their locks"):
        v.check(stuck)
    twice = v.setup(2)
    twice.finished = [0, 1, 1]
    with pytest.raises(AssertionError, match="finished twice"):
        v.check(twice)


@pytest.mark.timeout(30)
def test_timeout_fix_gives_up_after_a_bounded_number_of_attempts(monkeypatch):
    monkeypatch.setattr(MODULE, "TRY_SECONDS", 0.001)
    monkeypatch.setattr(MODULE, "BACKOFF_SECONDS", 0.001)
    monkeypatch.setattr(MODULE, "BACKOFF_CAP_SECONDS", 0.002)
    state = MODULE.Resources(2)
    state.hold_seconds = 0.0
    assert state.lock_b.acquire(blocking=False)  # thread 0's second lock never comes
    try:
        with pytest.raises(TimeoutError, match=f"gave up after {MODULE.MAX_ATTEMPTS} attempts"):
            MODULE.work_with_timeouts(state, 0)
    finally:
        state.lock_b.release()
    assert state.retries == [MODULE.MAX_ATTEMPTS, 0]
    assert not state.lock_a.locked(), "a lock was kept after giving up"
    assert state.finished == []


def test_backoff_comes_from_the_seeded_generator_in_the_state():
    a, b = MODULE.Resources(2), MODULE.Resources(2)
    assert [a.rng.random() for _ in range(5)] == [b.rng.random() for _ in range(5)]


@pytest.mark.timeout(30)
def test_teardown_frees_a_deadlock():
    state = MODULE.Resources(2)
    entered = threading.Barrier(3, timeout=10)

    def use_and_wait() -> None:
        entered.wait()  # both hold their first lock: the deadlock is certain

    state.use_first_resource = use_and_wait
    threads = [
        threading.Thread(target=MODULE._run, args=(MODULE.work_opposite_orders, state, i))
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    entered.wait()
    MODULE.teardown(state)
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads), "teardown left a thread stuck"
    assert sorted(state.finished) == [0, 1]


@pytest.mark.timeout(120)
def test_runs_leave_nothing_behind(no_leaks):
    for name in ("buggy", *FIXES):
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 3, "seed": 2}, judged=True)


@pytest.mark.timeout(120)
def test_explore_reports_the_deadlock_with_lock_names():
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), "explore", {"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "deadlock", str(run.result)
    message = run.result.failures[0].failure.message
    assert "lock_a" in message and "lock_b" in message, str(run.result)


@pytest.mark.timeout(300)
def test_explore_verifies_the_ordered_fix_at_preemption_bound_2():
    run = run_variant(
        SCENARIO,
        SCENARIO.variant("ordered"),
        "explore",
        {"strategy": "dfs", "bound": 2, "budget": 100_000},
    )
    assert run.met, str(run.result)
    assert "all" in run.result.sections.get("verified", ""), str(run.result)
