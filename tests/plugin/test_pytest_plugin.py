"""The pytest plugin, tried as a new user would: a throwaway project, plain ``pytest``.

Every run is a subprocess (``runpytest_subprocess``) that loads the plugin through
its entry point.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.timeout(120)
def test_plain_pytest_runs_the_markers_names_the_races_and_replays_them(project, replay_token):
    result = project.runpytest_subprocess("--strict-markers", "--harness-report=report.json")
    out = result.stdout.str()
    result.assert_outcomes(failed=2, passed=2)
    # The explore test: the failing schedule's interleaving, and how to replay it.
    result.stdout.fnmatch_lines(
        [
            "*_ test_counter _*",
            "explore: [[]exception[]] AssertionError: lost an update* schedules failed)",
            "interleaving: * steps, * preemption*",
            "replay with:  pytest --harness-replay=hx1_* test_mylib.py::test_counter",
            "*_ test_ids _*",
            "stress: [[]exception[]] AssertionError: an id was handed out twice (x*; * of 20 runs"
            " failed)",
        ]
    )
    assert "*read .value" in out and "*write .value" in out, f"no conflict marked:\n{out}"
    assert "harness replay hx1_" not in out, "points to `harness replay`, which has no tests"
    assert "harness lock order" not in out, "lock order was watched without --harness-lockorder"
    report = json.loads((project.path / "report.json").read_text())
    tests = {t["nodeid"].split("::")[1]: t for t in report["tests"]}
    assert sorted(tests) == ["test_counter", "test_ids", "test_locked_counter", "test_locked_ids"]
    counter, locked = tests["test_counter"], tests["test_locked_counter"]
    assert counter["outcome"] == "failed" and counter["replay"].startswith(
        "pytest --harness-replay=hx1_"
    ), counter
    assert locked["outcome"] == "passed", locked
    assert locked["result"]["runs"] == 200, "the locked twin did not run the whole budget"
    assert tests["test_ids"]["outcome"] == "failed", tests["test_ids"]
    assert tests["test_locked_ids"]["result"]["runs"] == 20, tests["test_locked_ids"]
    assert report["settings"]["report"]["source"] == "command line (--harness-report)"

    # The replay command runs exactly the failing schedule again.
    token = replay_token(out)
    again = project.runpytest_subprocess(f"--harness-replay={token}", "test_mylib.py::test_counter")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(
        ["explore: [[]exception[]] AssertionError: lost an update (1 of 1 schedules failed)"]
    )

    # The token knows its test: given for another one, it is refused before anything runs.
    elsewhere = project.runpytest_subprocess(
        f"--harness-replay={token}", "test_mylib.py::test_locked_counter"
    )
    assert elsewhere.ret == pytest.ExitCode.USAGE_ERROR, elsewhere.stdout.str()
    elsewhere.stderr.fnmatch_lines(
        ["*the replay token belongs to test_mylib.py::test_counter, which is not among*"]
    )

    # Fix the race: the very same schedule now passes.
    mylib = project.path / "mylib.py"
    mylib.write_text(mylib.read_text() + "\nCounter = LockedCounter\n")
    fixed = project.runpytest_subprocess("test_mylib.py::test_counter", f"--harness-replay={token}")
    fixed.assert_outcomes(passed=1)


FIXTURES = """
import threading
import unittest

import pytest


class Seen:
    def __init__(self):
        self.lock = threading.Lock()
        self.indices = []
        self.seeds = set()


def all_threads_ran(state):
    indices = sorted(state.indices)
    assert indices == [0, 1, 2], f"thread indices {indices}"


@pytest.mark.stress(threads=3, runs=4, setup=Seen, check=all_threads_ran)
def test_state_index_and_seed(harness_state, harness_thread_index, harness_seed):
    with harness_state.lock:
        harness_state.indices.append(harness_thread_index)
    assert harness_seed == 7, harness_seed


@pytest.mark.stress(threads=3, runs=4, setup=Seen, check=all_threads_ran)
def test_a_failing_check_fails_the_test(harness_state, harness_thread_index):
    if harness_thread_index:
        harness_state.indices.append(harness_thread_index)


@pytest.mark.stress(threads=4, runs=5)
def test_every_failing_thread_counts(harness_thread_index):
    if harness_thread_index == 0:
        raise KeyError("first thread")
    raise ValueError("other threads")


@pytest.mark.explore(budget=3, seed=3)
def test_marker_seed_pins_the_test(harness_seed, harness_thread_index):
    assert (harness_seed, harness_thread_index) == (3, 0)


def test_plain_test_is_thread_zero(harness_thread_index, harness_state):
    assert (harness_thread_index, harness_state) == (0, None)


@pytest.mark.explore(budgett=5)
def test_misspelled_argument():
    pass


@pytest.mark.stress(runs=0)
def test_bad_count():
    pass


@pytest.mark.stress
@pytest.mark.explore
def test_both_markers():
    pass


class TestOldStyle(unittest.TestCase):
    @pytest.mark.explore
    def test_method(self):
        pass
"""


@pytest.mark.timeout(120)
def test_fixtures_counts_and_marker_errors(project):
    project.makepyfile(test_fixtures=FIXTURES)
    result = project.runpytest_subprocess("test_fixtures.py", "--harness-seed=7", "-rfE")
    result.assert_outcomes(passed=3, failed=5, errors=1)
    result.stdout.fnmatch_lines_random(
        [
            "harness: seed=7 (command line (--harness-seed))",
            "stress: [[]assert[]] thread indices [[]1, 2[]] (x4; 4 of 4 runs failed)",
            "*[[]exception[]] x15 in T*: ValueError: other threads",
            "*[[]exception[]] x5 in T0: KeyError: 'first thread'",
            "FAILED test_fixtures.py::test_misspelled_argument - Failed: @pytest.mark.explore:"
            " unknown argument(s) budgett*",
            "FAILED test_fixtures.py::test_bad_count - Failed: @pytest.mark.stress: runs must be"
            " at least 1, got 0",
            "FAILED test_fixtures.py::test_both_markers - Failed: *stress or *explore, not both",
            "ERROR test_fixtures.py::TestOldStyle::test_method - Failed: @pytest.mark.explore*",
            "@pytest.mark.explore runs pytest test functions, not unittest.TestCase methods*",
        ]
    )
    result.stdout.no_fnmatch_line("*During handling*")  # one message, not a chain


@pytest.mark.timeout(120)
def test_settings_come_from_the_environment_and_the_ini_file(project, monkeypatch):
    project.makeini("[pytest]\nharness_seed = 3\nharness_budget_scale = 0.1\nharness_shards = 2\n")
    monkeypatch.setenv("HARNESS_SEED", "4")  # beats the ini file
    result = project.runpytest_subprocess(
        "test_mylib.py::test_locked_counter", "--harness-report=report.json", "-v"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(
        [
            "*test_locked_counter?shard1of2? PASSED*",
            "*test_locked_counter?shard2of2? PASSED*",
            "harness: seed=4 (environment (HARNESS_SEED)), budget_scale=0.1 (ini file*",
        ]
    )
    report = json.loads((project.path / "report.json").read_text())
    seeds = sorted((t["seed"], t["result"]["runs"]) for t in report["tests"])
    # 200 schedules x 0.1 = 20, split over two shards searching seeds 4 and 5.
    assert seeds == [(4, 10), (5, 10)], report["tests"]

    project.makeini("[pytest]\nharness_budget_scale = fast\n")
    bad = project.runpytest_subprocess()
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(
        [
            "ERROR: harness: bad value for budget_scale from the ini file (harness_budget_scale"
            " in tox.ini): expected a number, got 'fast'"
        ]
    )


TIMEOUT = """
import threading

import pytest

a, b = threading.Lock(), threading.Lock()
both_hold_one = threading.Barrier(2)


@pytest.mark.timeout(1)
@pytest.mark.stress(threads=2, runs=3, timeout=60)
def test_hangs(harness_thread_index):
    first, second = (a, b) if harness_thread_index == 0 else (b, a)
    with first:
        both_hold_one.wait(timeout=30)  # both threads now hold their first lock
        with second:
            pass


@pytest.mark.explore(budget=20)
def test_next_one_runs():
    assert True


def test_threading_is_restored():
    assert threading.Lock.__module__ == "_thread", threading.Lock
"""


@pytest.mark.timeout(120)
def test_pytest_timeout_stops_a_hung_marked_test(project):
    project.makepyfile(test_timeout=TIMEOUT)
    result = project.runpytest_subprocess("test_timeout.py")
    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines(["*Timeout*"])


def test_the_plugin_adds_nothing_heavy_to_import():
    # A fresh interpreter: pytest's entry point imports harness.pytest_plugin first.
    code = (
        "import sys, pytest; before = set(sys.modules); "
        "import harness.pytest_plugin; print(sorted(set(sys.modules) - before))"
    )
    added = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = {name for name in ast.literal_eval(added) if name.startswith(("harness", "rich"))}
    # The engines, primitives, tracers and detectors load when a marked test runs.
    heavy = ("harness.stress", "harness.explore", "harness.sync", "harness._tracing")
    assert "harness.pytest_plugin" in loaded, loaded
    found = sorted(
        name
        for name in loaded
        if name.startswith(heavy) or name in ("harness.detect.lockorder", "rich")
    )
    assert not found, f"importing the plugin loaded {found}"


def test_the_lazy_package_still_gives_the_functions():
    code = (
        "import harness, harness.explore.engine, harness.stress as s; "
        "from harness import explore, replay; "
        "print(callable(harness.explore), callable(s), explore is harness.explore, "
        "'stress' in dir(harness), replay.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "True", "True", "True", "replay"], out
