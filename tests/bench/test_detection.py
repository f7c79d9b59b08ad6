"""Medians to the first detection: misses count as infinite, never as fast."""

from __future__ import annotations

from bench.detection import median_to_detection


def _attempt(status: str, seconds: float) -> dict:
    return {"status": status, "seconds": seconds, "schedules": int(seconds * 10)}


def test_median_of_found_attempts():
    attempts = [_attempt("found", s) for s in (0.3, 0.1, 0.2, 0.5, 0.4)]
    assert median_to_detection(attempts, "seconds") == 0.3
    assert median_to_detection(attempts, "schedules") == 3


def test_misses_push_the_median_up_not_down():
    attempts = [_attempt("found", 0.1), _attempt("found", 0.2)] + [_attempt("missed", 0.0)] * 3
    assert median_to_detection(attempts, "seconds") is None  # beyond the bound


def test_an_even_count_takes_the_lower_middle():
    attempts = [
        _attempt("found", 0.1),
        _attempt("found", 0.2),
        _attempt("missed", 0.0),
        _attempt("error", 0.0),
    ]
    assert median_to_detection(attempts, "seconds") == 0.2
