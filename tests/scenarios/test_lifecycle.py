"""lifecycle: start twice, run() for start(), a forgotten Thread.__init__; the fixes."""

from __future__ import annotations

import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue

SCENARIO = catalogue()["lifecycle"]
BUGS = {
    "buggy": ("exception", "RuntimeError: threads can only be started once"),
    "buggy_run": ("assert", "ran in the caller's own thread"),
    "buggy_init": ("exception", "RuntimeError: thread.__init__() not called"),
}
FIXES = ["start", "target"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_is_caught_at_its_budget(name):
    kind, message = BUGS[name]
    run = run_variant(SCENARIO, SCENARIO.variant(name), judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == kind, str(run.result)
    assert any(message in g.failure.message for g in run.result.failures), str(run.result)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", FIXES)
def test_fix_holds_under_the_same_budget(name):
    variant = SCENARIO.variant(name)
    assert variant.settings == SCENARIO.variant("buggy").settings
    run = run_variant(SCENARIO, variant, judged=False)
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    outcomes = [e.outcome for e in run.result.histogram]
    assert outcomes == ["4/4 jobs ran: 4 in new threads, 0 in the caller's; 0 errors"], str(
        run.result
    )


def _run_sequentially(name, programs=1):
    """The variant's actors, one after the other in this thread; raises what they raise."""
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
def test_check_accepts_a_correct_end(name):
    variant, state = _run_sequentially(name, programs=2)
    variant.check(state)
    assert variant.observe(state) == "4/4 jobs ran: 4 in new threads, 0 in the caller's; 0 errors"
    me = threading.current_thread()
    ran_in = [thread for p in state.programs for _, thread in p.ran]
    assert me not in ran_in and len({id(t) for t in ran_in}) == 4


@pytest.mark.timeout(30)
def test_check_rejects_jobs_run_in_the_caller():
    variant, state = _run_sequentially("buggy_run")
    with pytest.raises(AssertionError, match=r"jobs \[1, 2\] ran in the caller's own thread"):
        variant.check(state)


@pytest.mark.timeout(30)
def test_check_rejects_missing_jobs_and_lost_errors():
    variant, state = _run_sequentially("start")
    program = state.programs[0]
    program.ran.pop()
    program.errors.append("ValueError('boom')")
    with pytest.raises(AssertionError, match=r"jobs that ran: \[1\].*jobs raised"):
        variant.check(state)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("buggy", "threads can only be started once"),
        ("buggy_init", r"thread.__init__\(\) not called"),
    ],
)
def test_the_article_bugs_raise_in_the_caller(name, error):
    with pytest.raises(RuntimeError, match=error):
        _run_sequentially(name)


@pytest.mark.timeout(60)
def test_fix_keeps_a_jobs_exception_for_the_caller(monkeypatch):
    import scenarios.lifecycle as module

    def failing_job(program, n):
        raise ValueError(f"job {n} failed")

    monkeypatch.setattr(module, "job", failing_job)
    for name in FIXES:
        variant, state = _run_sequentially(name)
        with pytest.raises(AssertionError, match=r"jobs raised: \[\"ValueError\('job 1 failed'\)"):
            variant.check(state)


@pytest.mark.timeout(60)
def test_runs_leave_nothing_behind(no_leaks):
    for name in SCENARIO.variants:
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 5})
