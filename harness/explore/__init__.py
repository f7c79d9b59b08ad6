"""Controlled exploration: deterministic interleavings, replay, shrinking."""

from harness.explore.engine import DEFAULT_BUDGET, DEFAULT_STRATEGY, explore, replay
from harness.explore.strategies import STRATEGIES

__all__ = ["DEFAULT_BUDGET", "DEFAULT_STRATEGY", "STRATEGIES", "explore", "replay"]
