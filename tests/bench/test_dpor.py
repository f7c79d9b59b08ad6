"""bench/dpor.py: searches in capped child processes, the frontrun column, the table."""

from __future__ import annotations

import pytest

from bench import dpor
from bench.programs import get


@pytest.mark.timeout(120)
def test_each_search_runs_in_a_child_and_a_runaway_one_is_killed_at_the_cap() -> None:
    program = get("corpus/account:fixed")
    found = dpor._ours(program, "dpor", None, 1000, 60.0)
    assert found["verified"] and found["runs"] == 4, found
    killed = dpor._ours(get("corpus/token_ring:fixed"), "dfs", 2, 10_000, 1.0)
    assert killed == {"killed": 1.0}


def _row(program: str, buggy: bool, ours: list[dict], peer: dict | None) -> dict:
    return {"program": program, "buggy": buggy, "ours": ours, "frontrun": peer}


def test_the_table_and_summary() -> None:
    def exhausted(runs: int) -> dict:
        return {"runs": runs, "seconds": 0.5, "verified": True, "caught": False}

    def caught(first: int) -> dict:
        return {"runs": first, "seconds": 0.1, "verified": False, "caught": True, "first": first}

    held = {"status": "held", "schedules": 3, "seconds": 0.1, "kind": None, "note": ""}
    missed = {"status": "missed", "schedules": 6, "seconds": 0.2, "kind": None, "note": ""}
    stuck = {
        "status": "inconclusive",
        "schedules": 1,
        "seconds": 5.0,
        "kind": None,
        "note": "DPOR execution 1 timed out before all worker threads completed. The rest",
    }
    raw = {
        "command": "python -m bench.dpor --budget 100",
        "date": "2026-12-03 12:00 UTC",
        "python": "cpython 3.11.7",
        "seconds": 60.0,
        "budget": 100,
        "cap": 30.0,
        "rows": [
            _row("a:fixed", False, [exhausted(2), exhausted(6), exhausted(60)], held),
            _row("b:fixed", False, [{"killed": 30.0}, exhausted(10), exhausted(20)], stuck),
            _row("a:buggy", True, [caught(1), caught(2), caught(3)], missed),
        ],
    }
    text = dpor.render(raw)
    assert "| a:fixed (fixed) | 2 (0.5s) | 6 (0.5s) | 60 (0.5s) | 3 (0.1s) |" in text
    assert "| b:fixed (fixed) | killed at the 30s cap |" in text
    assert "inconclusive: execution 1 timed out before all worker threads completed |" in text
    assert "| a:buggy | 1 | 2 | 3 | missed (6, 0.2s) |" in text
    assert "unbounded dpor exhausted 1 of them (not: b:fixed)" in text
    assert "median over the 2 fixed programs both exhaust: 0.300" in text  # 0.1 and 0.5
    assert "caught by dfs b2 but lost by a dpor run: none" in text
    assert "found 0 of 1; not found: a:buggy" in text
