"""Gating an unmodified suite: ``--harness-threads``, ``--harness-explore``, failures
remembered in pytest's cache, pytest-run-parallel's names, and the session's GIL.

Each test runs pytest in a subprocess on a fresh folder (``project`` in conftest.py).
The threaded runs are real threads: the racy tests below were measured failing in
100 of 100 releases of 4 threads on 3.11 (``--harness-iterations=100``), and each
check here gives them 5 releases.
"""

from __future__ import annotations

import json
import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INVENTORY = Path(__file__).resolve().parents[2] / "examples" / "inventory"
UNSAFE = {
    "test_every_id_is_new",  # lost update
    "test_withdrawing_never_overdraws",  # check-then-act
    "test_restock_then_audit",  # lock-order inversion (a deadlock when threads meet)
    "test_refresher_refreshes",  # a leaked thread
}
SAFE = {
    "test_every_locked_id_is_new",
    "test_locked_withdrawing_never_overdraws",
    "test_restock_then_audit_in_order",
    "test_refresher_stopped",
    "test_pure_function",
    "test_prints",
}


@pytest.fixture
def inventory(project: pytest.Pytester) -> pytest.Pytester:
    for name in ("inventory.py", "test_inventory.py"):
        shutil.copy(INVENTORY / name, project.path / name)
    return project


@pytest.fixture
def cached(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The project with pytest's cache on: where failures are remembered."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    return project


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    """test name -> "passed"/"failed", from ``-rA``'s short summary."""
    seen = {}
    for line in result.outlines:
        for word in ("PASSED", "FAILED"):
            if line.startswith(word + " ") and "::" in line:
                name = line.split("::", 1)[1].split(" ", 1)[0]
                seen[name] = word.lower()
    return seen


@pytest.mark.timeout(120)
def test_the_unmodified_suite_passes_without_the_option(inventory):
    result = inventory.runpytest_subprocess("test_inventory.py")
    result.assert_outcomes(passed=len(SAFE | UNSAFE))


@pytest.mark.timeout(300)
def test_threads_fail_exactly_the_thread_unsafe_code(inventory):
    result = inventory.runpytest_subprocess(
        "test_inventory.py", "-rA", "--harness-threads=4", "--harness-iterations=5"
    )
    outcomes = _outcomes(result)
    out = result.stdout.str()
    assert {n for n, o in outcomes.items() if o == "failed"} == UNSAFE, out
    assert {n for n, o in outcomes.items() if o == "passed"} == SAFE, out
    result.stdout.fnmatch_lines_random(
        [
            "threads: [[]exception[]] AssertionError: assert * not in *in thread T*",
            "threads: [[]exception[]] AssertionError: assert -* >= 0*",
            # the inversion, or the deadlock itself when threads met in the middle
            "threads: [[]*[]] *inventory._*_lock*inventory._*_lock*",
            "threads: [[]leak[]] thread Thread-* (_run) (daemon) still alive*",
            "rerun just this test: pytest --harness-threads=4 --harness-iterations=5 "
            "--harness-seed=0 test_inventory.py::test_every_id_is_new",
            "*9 test(s) ran in 4 threads; 1 ran once, in one thread:",
            "*test_inventory.py::test_prints: uses thread-unsafe fixture capsys",
        ]
    )


THREAD_NAMES = """
import threading
import warnings

import pytest

seen = []
paths = []


def test_indexes(thread_index, iteration_index, num_parallel_threads):
    seen.append((thread_index, iteration_index, num_parallel_threads))


def test_indexes_were_all_seen():
    assert sorted(seen) == [(i, r, 3) for i in range(3) for r in range(2)], seen


def test_own_tmp_path(tmp_path, thread_index):
    (tmp_path / "mine").write_text(str(thread_index))
    paths.append(tmp_path)


def test_tmp_paths_were_distinct():
    assert len(set(paths)) == 3, paths


@pytest.mark.thread_unsafe(reason="writes a shared file")
def test_marked_unsafe(thread_index, num_parallel_threads):
    assert (thread_index, num_parallel_threads) == (0, 1)


@pytest.mark.parallel_threads(1)
def test_one_thread(num_parallel_threads):
    assert num_parallel_threads == 1


@pytest.mark.parallel_threads_limit(2)
def test_limited(num_parallel_threads):
    assert num_parallel_threads == 2


def test_warns():
    with pytest.warns(UserWarning):
        warnings.warn("once", UserWarning)


def test_custom_fixture(shared_db):
    pass


@pytest.fixture
def shared_db():
    return {}
"""


@pytest.mark.timeout(120)
def test_run_parallel_markers_and_fixtures_mean_the_same(project):
    project.makepyfile(test_names=THREAD_NAMES)
    project.makeini("[pytest]\nharness_thread_unsafe_fixtures =\n    shared_db\n")
    result = project.runpytest_subprocess(
        "test_names.py", "-p", "no:randomly", "--harness-threads=3", "--harness-iterations=2"
    )
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines_random(
        [
            "*test_names.py::test_marked_unsafe: marked thread_unsafe: writes a shared file",
            "*test_names.py::test_one_thread: parallel_threads(1)",
            "*test_names.py::test_warns: calls thread-unsafe warns",
            "*test_names.py::test_custom_fixture: uses thread-unsafe fixture shared_db",
        ]
    )
    # Without the option each test runs once, in one thread: the three that count
    # threads see one.
    once = project.runpytest_subprocess("test_names.py", "-p", "no:randomly")
    once.assert_outcomes(passed=6, failed=3)


RACE = """
import threading

LOCK = threading.Lock()


class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value = self.value + 1


def test_two_threads_count_to_two():
    counter = Counter()
    threads = [threading.Thread(target=counter.increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.value == 2


def test_no_thread():
    assert sum([1, 2]) == 3
"""


def _saved(project: pytest.Pytester) -> Path:
    return (
        project.path
        / ".pytest_cache"
        / "v"
        / "harness"
        / "explore"
        / ("test_race.py::test_two_threads_count_to_two")
    )


@pytest.mark.timeout(180)
def test_explore_finds_the_race_then_replays_it_first_until_fixed(cached):
    cached.makepyfile(test_race=RACE)
    first = cached.runpytest_subprocess("test_race.py", "--harness-explore=50")
    first.assert_outcomes(failed=1, passed=1)
    first.stdout.fnmatch_lines_random(
        [
            "explore: [[]exception[]] AssertionError: assert 1 == 2 (*",
            "*self.value = self.value + 1*",  # the interleaving's source column
            "(saved in the cache: the next run replays it first)",
            "*1 test(s) that start threads were explored",
        ]
    )
    token = json.loads(_saved(cached).read_text())
    assert token.startswith("hx1_"), token

    again = cached.runpytest_subprocess("test_race.py", "--harness-explore=50")
    again.assert_outcomes(failed=1, passed=1)
    again.stdout.fnmatch_lines(["*(1 of 1 schedules failed)*"])
    again.stdout.fnmatch_lines(["(replayed the failing schedule saved by an earlier run)"])

    fixed = RACE.replace(
        "        self.value = self.value + 1",
        "        with LOCK:\n            self.value = self.value + 1",
    )
    cached.makepyfile(test_race=fixed)
    after = cached.runpytest_subprocess("test_race.py", "--harness-explore=50")
    after.assert_outcomes(passed=2)
    assert not _saved(cached).exists(), "a passing replay drops the saved schedule"


@pytest.mark.timeout(180)
def test_a_threaded_failure_remembers_its_seed(cached):
    shutil.copy(INVENTORY / "inventory.py", cached.path / "inventory.py")
    shutil.copy(INVENTORY / "test_inventory.py", cached.path / "test_inventory.py")
    result = cached.runpytest_subprocess(
        "test_inventory.py::test_restock_then_audit", "--harness-threads=2", "--harness-seed=5"
    )
    result.assert_outcomes(failed=1)
    seed = cached.path / ".pytest_cache/v/harness/seed/test_inventory.py::test_restock_then_audit"
    assert json.loads(seed.read_text()) == 5
    # The next session, with another seed, starts from the remembered one.
    again = cached.runpytest_subprocess(
        "test_inventory.py::test_restock_then_audit", "--harness-threads=2", "--harness-seed=9"
    )
    again.stdout.fnmatch_lines(["*--harness-seed=5 test_inventory.py::test_restock_then_audit"])


NOTHING = """
import pytest


@pytest.mark.explore(budget=5)
def test_touches_nothing():
    assert [1] == [1]


@pytest.mark.explore(budget=5, shared_state=False)
def test_says_it_touches_nothing():
    assert [1] == [1]
"""


@pytest.mark.timeout(120)
def test_a_marked_test_that_explored_nothing_fails_unless_it_says_so(project):
    project.makepyfile(test_nothing=NOTHING)
    result = project.runpytest_subprocess("test_nothing.py")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        ["*explore: nothing explored, not a pass: the code under test reached no scheduling*"]
    )


FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

REENABLES = """
import sys

sys.path.insert(0, {folder!r})


def test_imports_a_module_without_free_threading_support():
    import gilmod  # re-enables the GIL for the rest of the process
"""


@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded build (Py_GIL_DISABLED)")
@pytest.mark.timeout(240)
def test_a_gil_reenabled_during_the_session_fails_it(
    project: pytest.Pytester, tmp_path: Path, gil_extension: Callable[[Path], Path]
) -> None:
    folder = tmp_path / "ext"
    folder.mkdir()
    gil_extension(folder)
    project.makepyfile(test_gil=REENABLES.format(folder=str(folder)))
    failed = project.runpytest_subprocess("test_gil.py", "--harness-threads=2", "-W", "ignore")
    assert failed.ret == pytest.ExitCode.TESTS_FAILED, failed.stdout.str()
    failed.stdout.fnmatch_lines(
        [
            "harness: GIL: disabled at session start (free-threaded build)",
            "harness: GIL: disabled at start, RE-ENABLED during the run by importing 'gilmod'*",
            "harness: the GIL was re-enabled during the session*",
        ]
    )
    ignored = project.runpytest_subprocess(
        "test_gil.py", "--harness-threads=2", "-W", "ignore", "--harness-gil-ignore"
    )
    assert ignored.ret == pytest.ExitCode.OK, ignored.stdout.str()
    # Without the harness in use the plugin leaves such a session alone.
    plain = project.runpytest_subprocess("test_gil.py", "-W", "ignore")
    assert plain.ret == pytest.ExitCode.OK, plain.stdout.str()
