"""low_level: _thread.start_new_thread with a string, a main that does not wait; fixes."""

from __future__ import annotations

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios.low_level import EXPECTED

SCENARIO = catalogue()["low_level"]
BUGS = {
    "buggy": ("exception", "TypeError: 2nd arg must be a tuple"),
    "buggy_exit": ("assert", "by the time the main program ended"),
}
FIXES = ["tuple", "thread"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_is_caught_at_its_budget(name):
    kind, message = BUGS[name]
    run = run_variant(SCENARIO, SCENARIO.variant(name), judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == kind, str(run.result)
    assert message in run.result.failures[0].failure.message, str(run.result)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", FIXES)
def test_fix_holds_under_the_same_budget(name):
    variant = SCENARIO.variant(name)
    for bug in BUGS:
        assert variant.settings == SCENARIO.variant(bug).settings
    run = run_variant(SCENARIO, variant, judged=False)
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    outcomes = [e.outcome for e in run.result.histogram]
    assert outcomes == ["4/4 lines printed before exit, 2/2 complete"], str(run.result)


def _run_sequentially(name, programs=1):
    variant = SCENARIO.variant(name)
    state = variant.setup(programs)
    try:
        for actor in variant.actors(state):
            actor()
    finally:
        variant.teardown(state)
    return variant, state


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", FIXES)
def test_check_accepts_a_complete_transcript(name):
    variant, state = _run_sequentially(name, programs=2)
    variant.check(state)
    assert all(p.output_at_exit == EXPECTED for p in state.programs)


@pytest.mark.timeout(30)
def test_check_rejects_output_cut_off_at_exit_and_thread_errors():
    variant, state = _run_sequentially("tuple")
    program = state.programs[0]
    program.output_at_exit = EXPECTED[:1]
    with pytest.raises(AssertionError, match="it did not wait for its thread"):
        variant.check(state)
    program.output_at_exit = list(EXPECTED)
    program.errors.append("ValueError()")
    with pytest.raises(AssertionError, match=r"the thread raised \['ValueError\(\)'\]"):
        variant.check(state)


@pytest.mark.timeout(30)
def test_a_string_is_not_an_args_tuple():
    variant = SCENARIO.variant("buggy")
    state = variant.setup(1)
    (actor,) = variant.actors(state)
    with pytest.raises(TypeError, match="2nd arg must be a tuple"):
        actor()
    assert state.raw_done == []  # no thread was started, none to wait for
    variant.teardown(state)


@pytest.mark.timeout(30)
def test_teardown_waits_for_the_thread_the_main_program_left_behind():
    variant = SCENARIO.variant("buggy_exit")
    state = variant.setup(1)
    (actor,) = variant.actors(state)
    actor()
    variant.teardown(state)  # waits on the lock the thread releases as it ends
    assert not any(done.locked() for done in state.raw_done)
    assert state.programs[0].transcript == EXPECTED  # it did finish, after "exit"


@pytest.mark.timeout(60)
def test_runs_leave_nothing_behind(no_leaks):
    for name in SCENARIO.variants:
        run = run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 3})
        # _thread threads are invisible to threading.enumerate(): teardown waited for them.
        assert "teardown raised" not in str(run.result), str(run.result)
