"""Scheduling strategies: random walk, PCT, both mixed, partial order sampling, bounded DFS,
DPOR, and replay."""

from __future__ import annotations

from harness.errors import UsageError
from harness.explore.strategies.base import Choice, NondeterminismError, Strategy, fire, run
from harness.explore.strategies.dfs import DFS
from harness.explore.strategies.dpor import DPOR
from harness.explore.strategies.mixed import Mixed
from harness.explore.strategies.pct import PCT
from harness.explore.strategies.pos import POS
from harness.explore.strategies.random_walk import RandomWalk
from harness.explore.strategies.replay import Replay

__all__ = [
    "DFS",
    "DPOR",
    "PCT",
    "POS",
    "STRATEGIES",
    "Choice",
    "Mixed",
    "NondeterminismError",
    "RandomWalk",
    "Replay",
    "Strategy",
    "fire",
    "make_strategy",
    "run",
]

STRATEGIES = ("random", "pct", "mixed", "pos", "dfs", "dpor")


def make_strategy(name: str, seed: int, *, bound: int | None = 2, depth: int = 3) -> Strategy:
    """The strategy called ``name``, seeded with ``seed``.

    ``bound`` is the preemption bound of ``dfs`` (2 when None) and of ``dpor``
    (unbounded when None).
    """
    if name == "random":
        return RandomWalk(seed)
    if name == "pct":
        return PCT(seed, depth=depth)
    if name == "mixed":
        return Mixed(seed, depth=depth)
    if name == "pos":
        return POS(seed)
    if name == "dfs":
        return DFS(2 if bound is None else bound)
    if name == "dpor":
        return DPOR(bound)
    raise UsageError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
