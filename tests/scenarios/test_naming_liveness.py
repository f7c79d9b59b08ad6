"""naming_liveness: setName/getName/isAlive, is_alive() right after start(); the fix."""

from __future__ import annotations

import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios.naming_liveness import NAMES, NEXT, NO, names_for

SCENARIO = catalogue()["naming_liveness"]
#: setName/getName warn since 3.10 and may be removed some day; isAlive is gone.
HAS_SETNAME = hasattr(threading.Thread, "setName")


@pytest.mark.timeout(60)
def test_article_program_is_caught():
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "exception", str(run.result)
    message = run.result.failures[0].failure.message
    if HAS_SETNAME:
        assert message == "AttributeError: 'Patient' object has no attribute 'isAlive'", message
        (entry,) = list(run.result.histogram)
        assert entry.outcome.endswith("deprecated: getName, setName"), str(run.result)
    else:  # pragma: no cover - a Python without setName
        assert "has no attribute 'setName'" in message, message


@pytest.mark.timeout(60)
def test_racy_liveness_check_is_caught():
    run = run_variant(SCENARIO, SCENARIO.variant("racy"), judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    message = run.result.failures[0].failure.message
    assert "the doctor told the dying patient 'Doctor: No.'" in message, message


@pytest.mark.timeout(60)
def test_racy_histogram_counts_the_answers():
    run = run_variant(SCENARIO, SCENARIO.variant("racy"), overrides={"runs": 10})
    total = 0
    for entry in run.result.histogram:
        assert entry.outcome.startswith("dying told "), entry.outcome
        assert "lingering told 'No.' x2" in entry.outcome, entry.outcome
        total += entry.count
    assert total == 10, str(run.result)


@pytest.mark.timeout(60)
def test_event_fix_holds_under_the_same_budget():
    variant = SCENARIO.variant("event")
    for bug in ("buggy", "racy"):
        assert variant.settings == SCENARIO.variant(bug).settings
    run = run_variant(SCENARIO, variant, judged=False)
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    outcomes = [e.outcome for e in run.result.histogram]
    assert outcomes == ["dying told 'Next!' x2; lingering told 'No.' x2; deprecated: none"], str(
        run.result
    )


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
def test_check_accepts_the_handshake_and_rejects_a_racy_answer():
    variant, state = _run_sequentially("event", programs=2)
    variant.check(state)
    program = state.programs[0]
    assert program.told == {"dying": NEXT, "lingering": NO}
    assert program.alive_when_asked == {"dying": False, "lingering": True}
    assert "Hello, my name is Cazaril" in program.transcript
    program.told["dying"] = NO
    program.alive_when_asked["dying"] = True
    with pytest.raises(AssertionError, match=r"told the dying patient 'Doctor: No.'.*alive when"):
        variant.check(state)


@pytest.mark.timeout(30)
def test_check_rejects_deprecated_names_and_wrong_greetings():
    variant, state = _run_sequentially("event", programs=2)
    state.programs[0].deprecated.append("getName")
    with pytest.raises(AssertionError, match=r"deprecated API used: \['getName'\]"):
        variant.check(state)
    state.programs[0].deprecated.clear()
    state.programs[0].transcript.remove("Hello, my name is Ista")
    with pytest.raises(AssertionError, match="greeted"):
        variant.check(state)


@pytest.mark.timeout(30)
def test_the_article_program_warns_then_fails_on_isalive():
    variant = SCENARIO.variant("buggy")
    state = variant.setup(2)
    first, _ = variant.actors(state)
    try:
        with pytest.raises(AttributeError, match="isAlive" if HAS_SETNAME else "setName"):
            first()
    finally:
        variant.teardown(state)
    if HAS_SETNAME:
        # Recorded by the program itself, whatever the outer warning filters say.
        assert sorted(state.programs[0].deprecated) == ["getName", "setName"]


def test_stress_programs_greet_with_every_name_and_a_lone_program_with_none():
    assert names_for(2) == names_for(5) == NAMES
    assert names_for(1) == ()
    for variant in SCENARIO.variants.values():
        assert variant.settings["explore"] == {"threads": 1}, variant.name


@pytest.mark.timeout(30)
def test_a_lone_article_program_still_fails_on_isalive():
    variant = SCENARIO.variant("buggy")
    state = variant.setup(1)
    (actor,) = variant.actors(state)
    try:
        with pytest.raises(AttributeError, match="isAlive"):
            actor()
    finally:
        variant.teardown(state)
    transcript = state.programs[0].transcript
    assert not [line for line in transcript if line.startswith("Hello")], transcript
    assert not [line for line in transcript if line.startswith("Doctor")], transcript


@pytest.mark.timeout(60)
def test_runs_leave_nothing_behind(no_leaks):
    for name in SCENARIO.variants:
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 3})
