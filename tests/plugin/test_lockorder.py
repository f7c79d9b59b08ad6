"""--harness-lockorder: every lock of the session in one lock-order graph, including
locks the code under test creates at import time; inversions reported, with both
acquisition sites, from a suite whose tests never deadlock."""

from __future__ import annotations

import json

import pytest

from harness._pytest.lockwatch import inversions as _inversions

pytest_plugins = ["pytester"]

# Three kinds of import-time lock: made by threading.Lock, by _thread directly,
# and an RLock; the conftest imports the module before the session starts.
CACHE = """
import _thread
import threading

index_lock = threading.Lock()
store_lock = _thread.allocate_lock()
stats_lock = threading.RLock()


def put():
    with index_lock:
        with store_lock:
            pass


def evict():
    with store_lock:
        with index_lock:
            pass


def count():
    with stats_lock:
        with index_lock:
            pass
"""

CACHE_TESTS = """
import cache


def test_put():
    cache.put()


def test_evict():
    cache.evict()


def test_count():
    cache.count()
"""


@pytest.mark.timeout(120)
def test_an_inversion_between_two_tests_fails_the_run(project):
    project.makepyfile(cache=CACHE, test_cache=CACHE_TESTS, conftest="import cache\n")
    result = project.runpytest_subprocess(
        "test_cache.py", "--harness-lockorder", "--harness-report=report.json"
    )
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, "an inversion did not fail the run"
    lines = (project.path / "cache.py").read_text().splitlines()
    index = [n for n, line in enumerate(lines, 1) if "with index_lock" in line]
    store = [n for n, line in enumerate(lines, 1) if "with store_lock" in line]
    result.stdout.fnmatch_lines(
        ["*= harness lock order =*", "lock order inversion: cache.*_lock -> cache.*_lock -> *"]
    )
    result.stdout.fnmatch_lines_random(
        [
            f"*took cache.store_lock at cache.py:{store[0]} while holding cache.index_lock"
            f" (taken at cache.py:{index[0]})  [[]test_cache.py::test_put[]]",
            f"*took cache.index_lock at cache.py:{index[1]} while holding cache.store_lock"
            f" (taken at cache.py:{store[1]})  [[]test_cache.py::test_evict[]]",
        ]
    )
    out = result.stdout.str()
    found = [line for line in out.splitlines() if line.startswith("lock order inversion:")]
    assert len(found) == 1, f"stats_lock -> index_lock is no cycle:\n{out}"
    result.stdout.fnmatch_lines(["harness: 1 lock-order inversion: the run fails"])
    report = json.loads((project.path / "report.json").read_text())
    assert len(report["lockorder"]) == 1, report["lockorder"]


def _edge(held, taken, held_site, taken_site, user=True, test="t.py::test"):
    return {
        "held": held,
        "taken": taken,
        "held_name": held.split(":")[-1],
        "taken_name": taken.split(":")[-1],
        "held_site": held_site,
        "taken_site": taken_site,
        "thread": "MainThread",
        "test": test,
        "user": user,
    }


def test_edges_of_two_workers_join_into_one_cycle():
    # Worker 1 took a then b; worker 2 took b then a: neither saw a cycle alone.
    worker_1 = [_edge("name:m.a", "name:m.b", ["/p/m.py", 3], ["/p/m.py", 4], test="t.py::x")]
    worker_2 = [_edge("name:m.b", "name:m.a", ["/p/m.py", 8], ["/p/m.py", 9], test="t.py::y")]
    assert _inversions(worker_1, "/p") == [] and _inversions(worker_2, "/p") == []
    (found,) = _inversions(worker_1 + worker_2, "/p")
    assert found["message"] in (
        "lock order inversion: m.a -> m.b -> m.a",
        "lock order inversion: m.b -> m.a -> m.b",
    ), found["message"]
    text = "\n".join(found["lines"])
    assert "MainThread took m.b at m.py:4 while holding m.a (taken at m.py:3)  [t.py::x]" in text
    assert "MainThread took m.a at m.py:9 while holding m.b (taken at m.py:8)  [t.py::y]" in text


def test_one_inversion_seen_on_many_lock_objects_is_reported_once_with_a_count():
    edges = []
    for pid in range(3):  # three Account pairs, each locked both ways at the same lines
        a, b = f"object:{pid}:1", f"object:{pid}:2"
        edges.append(_edge(a, b, ["/p/acct.py", 5], ["/p/acct.py", 6]))
        edges.append(_edge(b, a, ["/p/acct.py", 5], ["/p/acct.py", 6]))
    (found,) = _inversions(edges, "/p")
    assert found["count"] == 3, found


def test_consistent_orders_and_tooling_only_cycles_are_not_reported():
    ordered = [
        _edge("name:m.a", "name:m.b", ["/p/m.py", 3], ["/p/m.py", 4]),
        _edge("name:m.b", "name:m.c", ["/p/m.py", 5], ["/p/m.py", 6]),
        _edge("name:m.a", "name:m.c", ["/p/m.py", 7], ["/p/m.py", 8]),
    ]
    assert _inversions(ordered, "/p") == []
    tooling = [
        _edge("name:x.a", "name:x.b", ["/lib/x.py", 1], ["/lib/x.py", 2], user=False),
        _edge("name:x.b", "name:x.a", ["/lib/x.py", 3], ["/lib/x.py", 4], user=False),
    ]
    assert _inversions(tooling, "/p") == [], "a cycle of the tooling's own locks was reported"
