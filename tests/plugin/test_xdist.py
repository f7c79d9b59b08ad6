"""The plugin under pytest-xdist: same verdicts, explore tests split into shards by
seed, lock-order edges of all workers joined by the controller."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

BANK = """
import threading

ledger_lock = threading.Lock()
audit_lock = threading.Lock()


def record():
    with ledger_lock:
        with audit_lock:
            pass


def review():
    with audit_lock:
        with ledger_lock:
            pass
"""

BANK_TESTS = """
import bank


def test_record():
    bank.record()


def test_review():
    bank.review()
"""


@pytest.mark.timeout(180)
def test_two_workers_give_the_same_verdicts(project):
    project.makepyfile(bank=BANK, test_bank=BANK_TESTS)
    result = project.runpytest_subprocess(
        "-n", "2", "-v", "--harness-lockorder", "--harness-report=report.json"
    )
    out = result.stdout.str()
    outcomes = {
        line.split()[-1]: line.split()[-2]
        for line in out.splitlines()
        if line.startswith("[gw") and ("PASSED" in line or "FAILED" in line)
    }
    counter = [outcomes.get(f"test_mylib.py::test_counter[shard{i}of2]") for i in (1, 2)]
    assert sorted(counter, key=str) != [None, None], f"test_counter was not split:\n{out}"
    assert "FAILED" in counter, f"the race went unseen in both shards: {counter}\n{out}"
    for name in ("test_locked_counter[shard1of2]", "test_locked_counter[shard2of2]"):
        assert outcomes.get(f"test_mylib.py::{name}") == "PASSED", f"{name}:\n{out}"
    assert outcomes.get("test_mylib.py::test_ids") == "FAILED", out
    assert outcomes.get("test_mylib.py::test_locked_ids") == "PASSED", out
    assert outcomes.get("test_bank.py::test_record") == "PASSED", out
    assert outcomes.get("test_bank.py::test_review") == "PASSED", out
    # Replayed without xdist, so the command names the test without its shard.
    result.stdout.fnmatch_lines(
        ["replay with:  pytest --harness-replay=hx1_* test_mylib.py::test_counter"]
    )
    lines = (project.path / "bank.py").read_text().splitlines()
    ledger = [n for n, line in enumerate(lines, 1) if "with ledger_lock" in line]
    audit = [n for n, line in enumerate(lines, 1) if "with audit_lock" in line]
    result.stdout.fnmatch_lines(
        [
            "*= harness lock order =*",
            "lock order inversion: bank.*_lock -> bank.*_lock -> bank.*_lock",
        ]
    )
    # Both acquisition sites of both orders, each with the test that took it.
    result.stdout.fnmatch_lines_random(
        [
            f"*took bank.audit_lock at bank.py:{audit[0]} while holding bank.ledger_lock (taken"
            f" at bank.py:{ledger[0]})  [[]test_bank.py::test_record[]]",
            f"*took bank.ledger_lock at bank.py:{ledger[1]} while holding bank.audit_lock (taken"
            f" at bank.py:{audit[1]})  [[]test_bank.py::test_review[]]",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The controller writes one report with what every worker's tests observed.
    report = json.loads((project.path / "report.json").read_text())
    shards = sorted(
        (t["seed"], t["result"]["runs"])
        for t in report["tests"]
        if "[shard" in t["nodeid"] and "locked" in t["nodeid"]
    )
    assert shards == [(0, 100), (1, 100)], f"shards of test_locked_counter: {shards}"
    assert len(report["tests"]) == 6 and len(report["lockorder"]) == 1, report
