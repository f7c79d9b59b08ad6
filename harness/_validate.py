"""Argument checks shared by the engines and the CLI: clear errors, named values."""

from __future__ import annotations

import math
from typing import Any

from harness.errors import UsageError

__all__ = [
    "callable_or_none",
    "count",
    "positive_seconds",
    "probability",
    "require_callable",
    "seed",
]


def count(name: str, value: Any, maximum: int) -> int:
    """A whole number in 1..maximum (bools are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be a whole number, got {value!r}")
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")
    if value > maximum:
        raise UsageError(f"{name} must be at most {maximum:,}, got {value:,}")
    return value


def positive_seconds(name: str, value: Any, maximum: float = 7 * 24 * 3600.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{name} must be a positive number of seconds, got {value!r}")
    if value > maximum:
        raise UsageError(f"{name} must be at most {maximum:g} seconds, got {value!r}")
    return float(value)


def probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a probability, got {value!r}")
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise UsageError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


def seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"seed must be a whole number, got {value!r}")
    return value


def require_callable(name: str, value: Any) -> Any:
    if not callable(value):
        raise UsageError(f"{name} must be callable, got {type(value).__name__}")
    return value


def callable_or_none(name: str, value: Any) -> Any:
    return None if value is None else require_callable(name, value)
