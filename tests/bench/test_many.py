"""bench/many.py: the bounded search and the section it writes."""

from __future__ import annotations

import pytest

from bench import many
from bench.corpus import find, many_slots


@pytest.mark.timeout(120)
def test_find_reports_a_catch_and_stops_at_the_wall_clock_cap() -> None:
    caught = many.find(find("account:buggy"), "pos", 0, 200, 60.0)
    assert caught["caught"] and 1 <= caught["schedules"] <= 200, caught
    fixed = many_slots.make(10)[1]
    capped = many.find(fixed, "pct", 0, 1000, 0.0)  # the cap is hit after one schedule
    assert not capped["caught"] and capped["schedules"] == 1, capped


def test_the_section_shows_before_after_and_the_ratio() -> None:
    found = {"strategy": "pos", "seed": 0, "caught": True, "schedules": 12, "seconds": 3.25}
    missed = {"strategy": "pct", "seed": 0, "caught": False, "schedules": 40, "seconds": 300.0}
    data = {
        "python": "3.11.7",
        "strategies": ["pos", "pct"],
        "cost": {"10": 5.0, "100": 50.0},
        "cost_before": {"10": 6.0, "100": 150.0},
        "rounds": 9,
        "budget": 3000,
        "seconds": 300.0,
        "corpus_budget": 1000,
        "corpus_seconds": 60.0,
        "find100": [found, missed],
        "corpus": {"account:buggy": {"pos": [found, found], "pct": [found, missed]}},
    }
    text = many.markdown(data, "python -m bench.many", None)
    assert "| 100 | 150.0 | 50.0 | 3.0x |" in text, text
    assert "| pos | 12 (3.2 s) |" in text, text
    assert "| pct | not in 40 (300 s) |" in text, text
    assert "| account:buggy | 12 (3.2 s), 2/2 | >=26 (151.6 s), 1/2 |" in text, text
