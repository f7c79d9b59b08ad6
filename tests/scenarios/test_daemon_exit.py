"""daemon_exit: daemon work lost at exit, setDaemon inside run(); the stop-Event fix."""

from __future__ import annotations

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios._lifecycle_util import Finished
from scenarios.daemon_exit import ITEMS

SCENARIO = catalogue()["daemon_exit"]
BUGS = {
    "buggy": r"of 20 items done when the interpreter exited",
    "buggy_setdaemon": "RuntimeError: cannot set daemon status of active thread",
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_is_caught_at_its_budget(name):
    run = run_variant(SCENARIO, SCENARIO.variant(name), judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    assert BUGS[name] in run.result.failures[0].failure.message, str(run.result)


@pytest.mark.timeout(120)
def test_event_fix_holds_under_the_same_budget():
    variant = SCENARIO.variant("event")
    for bug in BUGS:
        assert variant.settings == SCENARIO.variant(bug).settings
    run = run_variant(SCENARIO, variant, judged=False)
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    outcomes = [e.outcome for e in run.result.histogram]
    assert outcomes == [f"{2 * ITEMS}/{2 * ITEMS} items done; stderr: clean"], str(run.result)


def _finished(done, stderr="", returncode=0, tail="main: worker joined"):
    stdout = "".join(f"done {i}\n" for i in done) + tail + "\n"
    return Finished(returncode, stdout, stderr, 0.1)


def test_check_accepts_all_work_done_and_rejects_lost_work():
    variant = SCENARIO.variant("event")
    state = variant.setup(2)
    state.finished = [_finished(range(ITEMS)), _finished(range(ITEMS))]
    variant.check(state)
    assert variant.observe(state) == f"{2 * ITEMS}/{2 * ITEMS} items done; stderr: clean"
    state.finished[1] = _finished(range(3), tail="main: leaving")
    with pytest.raises(AssertionError, match="program 1: 3 of 20 items done"):
        variant.check(state)


def test_check_rejects_a_traceback_even_when_the_work_is_done():
    variant = SCENARIO.variant("event")
    state = variant.setup(1)
    traceback = "Traceback (most recent call last):\n  ...\nRuntimeError: boom\n"
    state.finished = [_finished(range(ITEMS), stderr=traceback)]
    with pytest.raises(AssertionError, match="program 0: stderr: RuntimeError: boom"):
        variant.check(state)
    assert variant.observe(state).endswith("stderr: RuntimeError: boom")


@pytest.mark.timeout(120)
def test_the_setdaemon_program_warns_and_raises_in_its_thread():
    variant = SCENARIO.variant("buggy_setdaemon")
    state = variant.setup(1)
    (actor,) = variant.actors(state)
    try:
        actor()
    finally:
        variant.teardown(state)
    finished = state.finished[0]
    assert finished.returncode == 0, finished  # the main thread itself was fine
    assert "DeprecationWarning: setDaemon() is deprecated" in finished.stderr, finished.stderr
    assert finished.last_error_line() == "RuntimeError: cannot set daemon status of active thread"
    assert finished.lines == ["main: leaving"], finished.stdout


@pytest.mark.timeout(120)
def test_runs_leave_nothing_behind(no_leaks):
    for name in SCENARIO.variants:
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 1})


@pytest.mark.timeout(60)
def test_a_program_past_its_timeout_is_killed(no_leaks):
    from scenarios._lifecycle_util import Tracked, run_python

    tracked = Tracked()
    finished = run_python(tracked, "import time\nprint('up', flush=True)\ntime.sleep(60)\n", 2.0)
    tracked.release()
    assert finished.timed_out, finished
    assert finished.returncode is not None and finished.returncode < 0, finished
    assert all(p.poll() is not None for p in tracked.processes)
