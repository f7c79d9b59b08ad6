"""thread_server: the article's server is caught, framed and bounded hold, nothing leaks."""

from __future__ import annotations

import inspect
import pickle
import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios import thread_server

SCENARIO = catalogue()["thread_server"]
FIXES = ["framed", "bounded"]


@pytest.mark.timeout(60)
def test_buggy_is_caught_in_its_first_run(no_leaks):
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    # Not a matter of luck: a 1,500-byte message never fits in one recv(1024).
    assert run.result.first_failing_run == 0, str(run.result)
    message = run.result.failures[0].failure.message
    assert "not one whole message" in message, message
    assert "server still running after shutdown" in message, message


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fix", FIXES)
def test_fix_holds_under_the_same_budget(fix, no_leaks):
    variant = SCENARIO.variant(fix)
    assert variant.settings == SCENARIO.variant("buggy").settings
    run = run_variant(SCENARIO, variant, overrides={"seed": 1})
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    for entry in run.result.histogram:
        assert entry.outcome.startswith("all 50 messages once; server stopped"), str(run.result)


@pytest.mark.timeout(60)
def test_bounded_never_serves_more_than_its_limit():
    variant = SCENARIO.variant("bounded")
    state = variant.setup(8)  # seven clients for three slots
    try:
        for actor in variant.actors(state):
            actor()  # one after the other: the clients, then the operator
        variant.check(state)
        assert 1 <= state.server.most_active <= thread_server.LIMIT
    finally:
        variant.teardown(state)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["buggy", *FIXES])
def test_check_accepts_a_correct_end_and_rejects_a_lost_message(name):
    variant = SCENARIO.variant(name)
    state = variant.setup(3)
    try:
        for actor in variant.actors(state):
            actor()
        if name == "buggy":
            with pytest.raises(AssertionError, match="not one whole message"):
                variant.check(state)
            return
        variant.check(state)
        assert variant.observe(state).startswith("all 20 messages once; server stopped")
        state.log.connections[0].pop(3)
        with pytest.raises(AssertionError, match="1 of 20 messages never read whole"):
            variant.check(state)
        state.log.connections[0].append(state.log.connections[0][0])
        with pytest.raises(AssertionError, match="read twice"):
            variant.check(state)
    finally:
        variant.teardown(state)


def _start(actors):
    """Run each actor in a thread of its own; exceptions are kept, not printed."""
    errors = []

    def body(actor):
        try:
            actor()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(a,), name="test-actor") for a in actors]
    for thread in threads:
        thread.start()
    return threads, errors


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["buggy", *FIXES])
def test_teardown_ends_a_run_that_cannot_finish(name, no_leaks, monkeypatch):
    # One client never runs, so the operator waits for it: the run is stuck, as a
    # hung run is when the engine gives up on it and calls teardown. (The article's
    # handler threads die of the closed sockets: their exceptions are expected.)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    variant = SCENARIO.variant(name)
    state = variant.setup(4)
    threads, _ = _start(variant.actors(state)[1:])
    try:
        variant.teardown(state)
    finally:
        for thread in threads:
            thread.join(10)
    assert not [t for t in threads if t.is_alive()], "actors still running after teardown"
    assert not state.tracker.live_threads(), state.tracker.live_threads()


@pytest.mark.timeout(60)
def test_no_fixed_variant_unpickles_network_bytes(monkeypatch):
    for fix in FIXES:
        for _, text in SCENARIO.variant(fix).sources():
            assert "pickle" not in text, fix

    def refuse(*args, **kwargs):
        raise AssertionError("pickle.loads called on network bytes")

    monkeypatch.setattr(pickle, "loads", refuse)
    for fix in FIXES:
        run = run_variant(SCENARIO, SCENARIO.variant(fix), overrides={"runs": 3})
        assert run.met, str(run.result)
    # The patch is in force: the buggy client does unpickle, and is stopped.
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"runs": 1})
    assert "pickle.loads called on network bytes" in str(run.result)


def test_buggy_pickle_payload_is_harmless():
    assert thread_server.GREETING == [1, 2, 7, 9, 0]
    assert "harmless" in inspect.getsource(thread_server.connection_thread).lower()
    assert "harmless" in (thread_server.__doc__ or "").lower()
