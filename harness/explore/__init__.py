"""Controlled exploration: deterministic interleavings, replay, shrinking.

The package, from the top down:

* :mod:`.engine`: ``explore()`` and ``replay()``, one call's patches and session;
  shrinking (:mod:`.shrink`) and the replay token (:mod:`.token`);
* :mod:`.execution`: one execution, the explorer's side of
  :mod:`harness._lifecycle`;
* :mod:`.scheduler`: who runs next, at every scheduling point (``point``,
  ``sync_point``, ``block``, ``sleep``, ``finish``), asking a strategy
  (:mod:`.strategies`);
* :mod:`.threads`: the threads of an execution, the actors and those the code
  under test starts;
* :mod:`.records`: thread records, waits, deviations, the execution record;
* :mod:`.diagnose`: deadlock, leak, livelock and hang failures in words;
* :mod:`.values` and :mod:`.interleaving`: what a recorded execution shows.
"""

from harness._abort import RunAborted
from harness.explore.engine import (
    DEFAULT_BUDGET,
    DEFAULT_STRATEGY,
    MAX_BUDGET,
    explore,
    replay,
)
from harness.explore.racecheck import benign
from harness.explore.strategies import STRATEGIES

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_STRATEGY",
    "MAX_BUDGET",
    "STRATEGIES",
    "RunAborted",
    "benign",
    "explore",
    "replay",
]
