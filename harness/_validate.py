"""Argument checks shared by the engines and the CLI: clear errors, named values."""

from __future__ import annotations

import inspect
import math
from typing import Any

from harness.errors import UsageError

__all__ = [
    "callable_or_none",
    "count",
    "in_range",
    "positive_seconds",
    "probability",
    "require_callable",
    "seed",
    "show",
    "takes",
]


def count(name: str, value: Any, maximum: int) -> int:
    """A whole number in 1..maximum (bools are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be a whole number, got {show(value)}")
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")
    if value > maximum:
        raise UsageError(f"{name} must be at most {maximum:,}, got {value:,}")
    return value


def in_range(name: str, value: Any, low: int, high: int) -> int:
    """A whole number in low..high (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{name} must be a whole number, got {show(value)}")
    if not low <= value <= high:
        raise UsageError(f"{name} must be between {low} and {high}, got {value:,}")
    return value


def positive_seconds(name: str, value: Any, maximum: float = 7 * 24 * 3600.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a number of seconds, got {show(value)}")
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{name} must be a positive number of seconds, got {value!r}")
    if value > maximum:
        raise UsageError(f"{name} must be at most {maximum:g} seconds, got {value!r}")
    return float(value)


def probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{name} must be a probability, got {show(value)}")
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise UsageError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


def noise(value: Any) -> float | str:
    """A noise level: ``"auto"`` (the adaptive level) or a probability."""
    if value == "auto":
        return "auto"
    if isinstance(value, str):
        raise UsageError(f"noise must be a probability or 'auto', got {show(value)}")
    return probability("noise", value)


def seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"seed must be a whole number, got {show(value)}")
    return value


def require_callable(name: str, value: Any) -> Any:
    if not callable(value):
        raise UsageError(f"{name} must be callable, got {show(value)}")
    return value


def takes(name: str, value: Any, arguments: int) -> Any:
    """A callable that accepts ``arguments`` positional arguments (when its signature says)."""
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return value  # no signature to read (some builtins): the call itself will tell
    try:
        signature.bind(*range(arguments))
    except TypeError:
        needs = "no argument" if arguments == 0 else "one argument (the state)"
        what = getattr(value, "__qualname__", type(value).__name__)
        raise UsageError(f"{name} is called with {needs}, but {what}{signature} is not") from None
    return value


def callable_or_none(name: str, value: Any) -> Any:
    return None if value is None else require_callable(name, value)


def show(value: Any, limit: int = 60) -> str:
    """A bad value as a message shows it: its repr cut short, and its type when unclear."""
    kind = type(value).__name__
    try:
        text = repr(value)
    except Exception:  # a user's __repr__ must not turn a usage error into a crash
        return f"a {kind} object"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text if kind in {"int", "float", "str"} else f"{text} ({kind})"
