"""join_order: results read before join, a join used to wait for a state; the fixes."""

from __future__ import annotations

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios.join_order import HOSTS, hosts_for

SCENARIO = catalogue()["join_order"]
TWINS = {"join": "buggy", "event": "buggy_join"}


@pytest.mark.timeout(60)
def test_statuses_read_before_join_are_caught():
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    # Both are the bug (the report is read before the pingers are joined): with a
    # GIL a status is seen before its ping ends; on a free-threaded build the
    # pingers really run in parallel and may have written their status, yet be
    # still running when the report reads it.
    message = run.result.failures[0].failure.message
    assert (
        "read as -1, before their ping ended" in message
        or "pingers still running at the report" in message
    ), message


@pytest.mark.timeout(60)
def test_a_client_joining_its_service_is_caught():
    run = run_variant(SCENARIO, SCENARIO.variant("buggy_join"), judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    assert run.result.runs == 1, str(run.result)  # judged: stopped at the first failure
    assert "service.join(0.25) and it timed out" in run.result.failures[0].failure.message


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fix", sorted(TWINS))
def test_fix_holds_under_its_twins_budget(fix):
    variant = SCENARIO.variant(fix)
    assert variant.settings == SCENARIO.variant(TWINS[fix]).settings
    run = run_variant(SCENARIO, variant, judged=False)
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)


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
def test_join_reads_every_status_and_joins_in_start_order():
    variant, state = _run_sequentially("join", programs=2)
    variant.check(state)
    sweep = state.sweeps[0]
    assert sweep.joined == [host.ip for host in HOSTS]
    assert sorted(sweep.finished) == sorted(sweep.joined)
    assert variant.observe(state).startswith("8/8 known when read, 0 read as -1")


@pytest.mark.timeout(30)
def test_a_lone_sweep_pings_two_hosts_that_still_end_out_of_join_order():
    assert hosts_for(2) == hosts_for(3) == HOSTS  # stress: every host, in each program
    variant, state = _run_sequentially("join", programs=1)  # the explored size
    variant.check(state)
    sweep = state.sweeps[0]
    assert sweep.joined == [host.ip for host in HOSTS[:2]]
    assert sorted(sweep.finished) == sorted(sweep.joined)
    assert variant.observe(state).startswith("2/2 known when read")
    # Explored, on the virtual clock: .61 (1 ms) always answers before .60 (4 ms).
    run = run_variant(SCENARIO, variant, "explore", {"budget": 30})
    assert run.met, str(run.result)
    for entry in run.result.histogram:
        assert entry.outcome.endswith("finished 61,60, joined 60,61"), str(run.result)


@pytest.mark.timeout(30)
def test_check_rejects_a_report_read_too_early():
    variant, state = _run_sequentially("join")
    ip, _, _ = state.sweeps[0].report[0]
    state.sweeps[0].report[0] = (ip, -1, "Alive")
    with pytest.raises(AssertionError, match=r"1 statuses read as -1.*'Alive'"):
        variant.check(state)


@pytest.mark.timeout(30)
def test_event_pair_completes_and_check_rejects_a_service_left_waiting():
    variant, state = _run_sequentially("event", programs=2)
    variant.check(state)
    assert variant.observe(state).startswith("2/2 clients got the config, waited < ")
    assert variant.observe(state).endswith("; 0 joins timed out")
    state.links[1].join_timed_out = True
    with pytest.raises(AssertionError, match=r"pair 1: .* service.join\(0.25\) and it timed out"):
        variant.check(state)


@pytest.mark.timeout(30)
def test_the_joining_client_always_times_out():
    variant, state = _run_sequentially("buggy_join")
    with pytest.raises(AssertionError, match=r"pair 0: the client waited 0\.\d+s in service.join"):
        variant.check(state)
    assert state.links[0].waited >= 0.25
    assert state.links[0].served_to_the_end  # released once the client gave up


@pytest.mark.timeout(60)
def test_runs_leave_nothing_behind(no_leaks):
    for name in SCENARIO.variants:
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 2})
