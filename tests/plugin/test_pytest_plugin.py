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


@pytest.mark.explore(budget=3, seed=3, shared_state=False)
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

never = threading.Event()


@pytest.mark.timeout(1)
@pytest.mark.stress(threads=2, runs=3, timeout=60)
def test_hangs():
    # A wait no other thread will end, and no wait-for cycle that stress would
    # confirm as a deadlock and end at once: only pytest-timeout stops it.
    never.wait(timeout=60)


@pytest.mark.explore(budget=20, shared_state=False)
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


DPOR_TESTS = """
import threading

import pytest


class Box:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    def racy(self):
        v = self.value
        self.value = v + 1

    def locked(self):
        with self.lock:
            self.racy()


def twice(box, method):
    threads = [threading.Thread(target=getattr(box, method)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return box.value


@pytest.mark.explore(strategy="dpor", budget=2000)
def test_racy():
    assert twice(Box(), "racy") == 2, "lost an update"


@pytest.mark.explore(strategy="dpor", budget=2000)
def test_locked():
    assert twice(Box(), "locked") == 2, "lost an update"
"""


def test_the_explore_marker_takes_strategy_dpor(project):
    project.makepyfile(test_dpor_marker=DPOR_TESTS)
    result = project.runpytest_subprocess("--strict-markers", "test_dpor_marker.py")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*_ test_racy _*", "*lost an update*"])


_LIBRARY_WITH_A_HIDDEN_LOCK = """
import threading

# Made at import, and kept where the call-time swap does not look (inside a
# dict): without harness.install() it stays a real lock.
_REGISTRY = {"lock": threading.Lock()}
_counts = {"n": 0}


def bump():
    with _REGISTRY["lock"]:
        _counts["n"] = _counts["n"] + 1
    return _counts["n"]
"""

_TEST_OF_THE_LIBRARY = """
import threading

import pytest

import hiddenlock


@pytest.mark.explore(budget=30)
def test_two_bumps():
    start = hiddenlock._counts["n"]
    threads = [threading.Thread(target=hiddenlock.bump) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hiddenlock._counts["n"] == start + 2
"""


@pytest.mark.timeout(180)
@pytest.mark.parametrize("install", [True, False])
def test_install_manages_a_lock_a_library_made_at_import(pytester, install):
    # conftest.py imports the library, before any test module: only an install in
    # pytest_load_initial_conftests is early enough for its lock. Without it, the
    # explorer finds a thread blocked on a real lock (a hang); with it, the fix holds.
    pytester.makepyfile(hiddenlock=_LIBRARY_WITH_A_HIDDEN_LOCK)
    pytester.makeconftest("import hiddenlock  # noqa: F401\n")
    pytester.makepyfile(test_lib=_TEST_OF_THE_LIBRARY)
    args = ["-p", "no:cacheprovider"] + (["--harness-install"] if install else [])
    result = pytester.runpytest_subprocess(*args)
    out = result.stdout.str()
    if install:
        result.assert_outcomes(passed=1)
        assert "primitives were instrumented before the conftests" in out, out
    else:
        result.assert_outcomes(failed=1)
        assert "hang" in out, out


@pytest.mark.timeout(120)
def test_harness_explore_installs_early_unless_turned_off(pytester, monkeypatch):
    pytester.makepyfile(test_plain="def test_nothing():\n    pass\n")
    on = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--harness-explore=5")
    assert "primitives were instrumented before the conftests" in on.stdout.str()
    monkeypatch.setenv("HARNESS_INSTALL", "0")
    off = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--harness-explore=5")
    assert "primitives were instrumented" not in off.stdout.str(), off.stdout.str()
