"""pool_server: the article's pool cannot stop, sentinel and bounded do; pool vs thread."""

from __future__ import annotations

import pickle
import re
import threading

import pytest

import harness
from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios import pool_server, thread_server
from scenarios._net import load_figures

SCENARIO = catalogue()["pool_server"]
FIXES = ["sentinel", "bounded"]


@pytest.mark.timeout(60)
def test_buggy_is_caught_in_its_first_run(no_leaks):
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    # Not a matter of luck: `if client != None` skips every None, in every run.
    assert run.result.first_failing_run == 0, str(run.result)
    message = run.result.failures[0].failure.message
    assert "2 of 2 workers still running after shutdown" in message, message
    assert "accept loop still running" in message, message


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fix", FIXES)
def test_fix_holds_under_the_same_budget(fix, no_leaks):
    variant = SCENARIO.variant(fix)
    assert variant.settings == SCENARIO.variant("buggy").settings
    run = run_variant(SCENARIO, variant, overrides={"seed": 1})
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    peaks = []
    for entry in run.result.histogram:
        assert entry.outcome.startswith("all 50 messages once; pool stopped"), str(run.result)
        if fix == "bounded":
            found = re.search(r"queue peak (\d+)", entry.outcome)
            assert found, str(run.result)
            peaks.append(int(found.group(1)))
    if fix == "bounded":
        # The bound is reached (clients did wait in the queue) and never passed. Not
        # in every run: a run whose workers free up early peaks lower (seen once in
        # 15 runs on 3.13t, peak 1).
        assert max(peaks) == pool_server.QUEUE_SIZE, (peaks, str(run.result))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["buggy", *FIXES])
def test_check_accepts_a_correct_end_and_rejects_a_wrong_one(name):
    variant = SCENARIO.variant(name)
    state = variant.setup(3)
    try:
        for actor in variant.actors(state):
            actor()  # the clients one after the other, then the operator
        if name == "buggy":
            with pytest.raises(AssertionError, match="workers still running after shutdown"):
                variant.check(state)
            return
        variant.check(state)
        state.log.connections[1].pop()
        with pytest.raises(AssertionError, match="1 of 20 messages never read whole"):
            variant.check(state)
    finally:
        variant.teardown(state)


def _start(actors):
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
def test_teardown_ends_a_run_that_cannot_finish(name, no_leaks):
    # One client never runs, so the operator waits for it: the run is stuck, as a
    # hung run is when the engine gives up on it and calls teardown.
    variant = SCENARIO.variant(name)
    state = variant.setup(4)
    threads, errors = _start(variant.actors(state)[1:])
    try:
        variant.teardown(state)
    finally:
        for thread in threads:
            thread.join(10)
    assert not [t for t in threads if t.is_alive()], "actors still running after teardown"
    assert not state.tracker.live_threads(), state.tracker.live_threads()
    assert not errors, errors


@pytest.mark.timeout(60)
def test_no_variant_unpickles_network_bytes(monkeypatch):
    for variant in SCENARIO.variants.values():
        for _, text in variant.sources():
            assert "pickle" not in text, variant.name

    def refuse(*args, **kwargs):
        raise AssertionError("pickle.loads called on network bytes")

    monkeypatch.setattr(pickle, "loads", refuse)
    for fix in FIXES:
        run = run_variant(SCENARIO, SCENARIO.variant(fix), overrides={"runs": 2})
        assert run.met, str(run.result)


def _measure(module, variant_name, runs):
    """Client figures of ``runs`` runs of one variant, through the stress engine."""
    variant = module.SCENARIO.variant(variant_name)
    states = []

    def observe(state):
        states.append(state)
        return variant.observe(state)

    result = harness.stress(
        lambda: variant.setup(6),
        variant.actors,
        variant.check,
        observe=observe,
        teardown=variant.teardown,
        runs=runs,
        noise=0.0,
        timeout=5.0,
    )
    assert not result.failed, str(result)
    return states


@pytest.mark.timeout(120)
def test_the_pool_makes_clients_wait_under_the_same_load(no_leaks):
    """Same load for both servers: five clients, ten messages each, 3 ms apart.

    Asserted is only what holds by construction: with two workers, a third client
    is greeted only after a whole session ended, and a session lasts at least the
    client's nine pauses. The measured figures are in the failure message and in
    each variant's outcome.
    """
    pool = _measure(pool_server, "sentinel", 5)
    threads = _measure(thread_server, "framed", 5)
    seen = []
    for name, states in (("pool of 2", pool), ("thread per client", threads)):
        figures = [load_figures(s.records) for s in states]
        mean_wait = sum(f[0] for f in figures) / len(figures)
        longest = max(f[1] for f in figures)
        rate = sum(f[2] for f in figures) / len(figures)
        seen.append(
            f"{name}: mean wait {mean_wait * 1000:.1f} ms, longest {longest * 1000:.1f} ms, "
            f"{rate:.0f} msg/s"
        )
    session = 9 * pool[0].load.pause
    for state in pool:
        assert state.load == threads[0].load
        last_greeted = max(r.greeted for r in state.records)
        first_started = min(r.started for r in state.records)
        assert last_greeted - first_started >= session, "; ".join(seen)


@pytest.mark.timeout(60)
def test_comparison_reports_every_server(no_leaks):
    lines = pool_server.compare_with_thread_server(runs=1, pause=0.0)
    assert [line.split("  ")[0] for line in lines] == [
        "thread per client",
        "thread per client, 3 slots",
        "pool of 2",
        "pool of 2, queue 2",
    ], lines
    assert all("msg/s" in line for line in lines), lines
