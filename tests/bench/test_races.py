"""bench/races.py and bench/races_stress.py: the counter's cost, the frontrun column, the tables."""

from __future__ import annotations

import pytest

from bench import races, races_stress


@pytest.mark.timeout(120)
def test_counter_cost_times_both_ways_and_every_on_schedule_reports_the_race() -> None:
    cost = races.counter_cost(rounds=1, schedules=2)
    assert len(cost["off_ms"]) == len(cost["on_ms"]) == 1
    assert cost["off_median_ms"] > 0 and cost["on_median_ms"] > 0
    assert cost["on_reported_race"] is True
    assert cost["ratio"] == pytest.approx(cost["on_median_ms"] / cost["off_median_ms"], rel=1e-2)


def _modes(first: int) -> dict[str, object]:
    found = {"found": 5, "median": first, "worst": first, "median_ms": 3.0, "worst_ms": 4.0}
    return {"off": found, "on": found, "on, check=None": found}


def test_the_tables_carry_the_frontrun_column_and_the_counter() -> None:
    counter = {
        "threads": 2,
        "iterations": 1000,
        "rounds": 3,
        "schedules": 10,
        "off_ms": [20.0, 21.0, 22.0],
        "on_ms": [30.0, 31.0, 32.0],
        "off_median_ms": 21.0,
        "on_median_ms": 31.0,
        "ratio": 1.476,
        "median_round_ratio": 1.47,
        "ratio_range": [1.45, 1.5],
        "on_reported_race": True,
    }
    race = {"status": "found", "kind": "race", "schedules": 1, "seconds": 0.06, "note": ""}
    alarm = {"status": "false alarm", "kind": "race", "schedules": 3, "seconds": 0.1, "note": ""}
    stuck = {
        "status": "inconclusive",
        "kind": None,
        "schedules": 2,
        "seconds": 5.1,
        "note": "DPOR execution 2 timed out before all worker threads completed. ...",
    }
    fixed = {"runs": 300, "alarms": [], "off_ms": 1.0, "on_ms": 1.2}
    data = {
        "counter": counter,
        "frontrun": True,
        "buggy": {"corpus/a:buggy": {**_modes(1), "frontrun": race}},
        "fixed": {
            "corpus/a:fixed": {**fixed, "frontrun": alarm},
            "corpus/b:fixed": {**fixed, "frontrun": stuck},
        },
    }
    text = races.render(data)
    assert "frontrun dpor, error_on_any_race" in text
    assert "| corpus/a:buggy | 1 / 1 (3 / 4 ms) |" in text
    assert "| 1 (60 ms), race |" in text
    assert "frontrun (error_on_any_race): 1 fixed programs reported (1 as a race)" in text
    assert "1 inconclusive or failed to run" in text
    assert "a run timed out (timeout_per_run 5 s)" in text
    assert "Ratio of the medians: **1.48x**" in text
    without = races.render({**data, "frontrun": False})
    assert "error_on_any_race" not in without


def test_fasttrack_alone_sees_the_counters_race_and_costs_a_positive_time() -> None:
    assert races_stress.fasttrack_ns(locked=False, repeat=1) > 0
    assert races_stress.fasttrack_ns(locked=True, repeat=1) > 0


@pytest.mark.timeout(120)
def test_the_stress_prototype_feeds_every_access_to_the_detector() -> None:
    data = races_stress.measure(rounds=1, runs=1)
    accesses = races_stress.THREADS * races_stress.ITERATIONS * 2
    assert data["accesses_fed_per_run"] >= accesses
    assert data["races_reported"] == 1
    assert set(data["ms_per_run"]) == {"stress", "untraced", "tracing", "tracing+detector"}
