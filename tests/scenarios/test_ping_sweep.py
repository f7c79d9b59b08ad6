"""ping_sweep: statuses read before join are caught; joining first holds and is >= 4x faster."""

from __future__ import annotations

import re
import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios import ping_sweep
from scenarios._net import Tracker

SCENARIO = catalogue()["ping_sweep"]


@pytest.mark.timeout(60)
def test_buggy_is_caught_in_its_first_run(no_leaks):
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    # Not a matter of luck: a silent host cannot answer before its 0.2 s timeout.
    assert run.result.first_failing_run == 0, str(run.result)
    message = run.result.failures[0].failure.message
    assert "8 of 10 statuses wrong" in message, message
    assert "silent host reported 'Alive'" in message, message


@pytest.mark.timeout(120)
def test_join_holds_under_the_same_budget_and_is_at_least_4x_faster(no_leaks):
    variant = SCENARIO.variant("join")
    assert variant.settings == SCENARIO.variant("buggy").settings
    run = run_variant(SCENARIO, variant, overrides={"seed": 1})
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    for entry in run.result.histogram:
        speedup = re.match(r"threaded ~(\d+(?:\.\d+)?)x faster", entry.outcome)
        assert speedup and float(speedup.group(1)) >= 4, str(run.result)
        assert entry.outcome.endswith("10/10 threaded statuses right"), str(run.result)


@pytest.mark.timeout(60)
def test_each_kind_of_host_answers_as_designed(no_leaks):
    tracker, stop = Tracker(), threading.Event()
    try:
        hosts = {b: ping_sweep.Host(b, tracker, stop) for b in ("alive", "slow", "flaky", "silent")}
        answers = {b: ping_sweep.ping(h.address) for b, h in hosts.items()}
    finally:
        stop.set()
        assert not tracker.close_all()
    assert answers == {"alive": 2, "slow": 2, "flaky": 1, "silent": 0}


@pytest.mark.timeout(60)
def test_check_accepts_right_statuses_and_rejects_wrong_ones_or_a_slow_sweep():
    variant = SCENARIO.variant("join")
    state = variant.setup(1)
    try:
        sweep = state.sweeps[0]
        right = [ping_sweep.EXPECTED[b] for b in ping_sweep.HOSTS]
        sweep.sequential, sweep.threaded = list(right), list(right)
        sweep.sequential_seconds, sweep.threaded_seconds = 1.7, 0.21
        variant.check(state)
        assert variant.observe(state).startswith("threaded ~8x faster (1.7s vs 0.2s), 10/10")

        sweep.threaded[5] = "Alive"  # a silent host, read before its thread ended
        with pytest.raises(AssertionError, match="1 of 10 statuses wrong"):
            variant.check(state)

        sweep.threaded = list(right)
        sweep.threaded_seconds = 0.5
        with pytest.raises(AssertionError, match=r"only 3\.4x faster"):
            variant.check(state)
    finally:
        variant.teardown(state)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["buggy", "join"])
def test_a_hung_run_is_torn_down(name, no_leaks):
    # A run takes at least 1.6 s (eight silent timeouts one after another), so a
    # 0.5 s deadline always hangs; teardown must still close every host.
    run = run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 1, "timeout": 0.5})
    assert run.result.kind == "hang", str(run.result)


def test_no_variant_unpickles_network_bytes():
    for variant in SCENARIO.variants.values():
        for _, text in variant.sources():
            assert "pickle" not in text, variant.name
