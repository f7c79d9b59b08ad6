"""The two markers, ``stress`` and ``explore``: their defaults, their help text and the
plan one marked test runs with (the marker's arguments over the session's settings).

The defaults dictionaries are the one source: the marker help that ``pytest
--markers`` prints is generated from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from harness._pytest.config import HarnessConfig
from harness._pytest.shards import SHARD_PARAM

__all__ = [
    "EXPLORE_DEFAULTS",
    "STATE",
    "STRESS_DEFAULTS",
    "THREAD_INDEX",
    "MarkerError",
    "Plan",
    "marker_help",
    "marker_options",
    "plan",
]


STRESS_DEFAULTS: dict[str, Any] = {
    "threads": 4,
    "runs": 20,
    "noise": None,  # None: the engine's default, "auto" (falls to 0.001 GIL, 0.05 free-threaded)
    "seed": None,  # None: the session's seed (--harness-seed)
    "timeout": 60.0,
    "lockorder": True,
    "leaks": True,
    "setup": None,  # builds the state the threads of one run share: harness_state
    "check": None,  # judges that state after every run
    "shared_state": True,  # False: the body touches no shared state, reaching no point is fine
}

EXPLORE_DEFAULTS: dict[str, Any] = {
    "budget": 200,
    "strategy": "mixed",
    "seed": None,
    "timeout": 10.0,
    "bound": None,  # dfs: 2; dpor: unbounded
    "max_steps": 100_000,
    "lockorder": True,
    "leaks": True,
    "shared_state": True,
    "races": None,  # None: the session's setting (--harness-races, default off)
    "races_ignore": (),  # locations unsynchronized on purpose ("Stats.hits")
}

#: The test argument that holds a stress thread's index (0 .. threads-1).
THREAD_INDEX = "harness_thread_index"
#: The test argument that holds what the stress marker's ``setup`` built for the run.
STATE = "harness_state"

_SUMMARIES = {
    "stress": "run the test body in THREADS threads released together, RUNS times, with "
    "noise injection; SETUP() builds each run's shared state (harness_state), CHECK(state) "
    "judges it",
    "explore": "run the test body under the controlled scheduler for BUDGET schedules; a "
    "failure prints the interleaving and how to replay it",
}


def marker_help(name: str) -> str:
    """The ``markers`` ini line of one marker, from its defaults."""
    defaults = STRESS_DEFAULTS if name == "stress" else EXPLORE_DEFAULTS
    arguments = ", ".join(f"{key}={value!r}" for key, value in defaults.items())
    return f"{name}({arguments}): {_SUMMARIES[name]}"


class MarkerError(Exception):
    """A marker used with arguments it does not take."""


@dataclass(frozen=True)
class Plan:
    """What the marker of one test asks for, with the session's settings applied."""

    engine: str  # "stress" or "explore"
    options: dict[str, Any]
    seed: int
    seed_source: str  # where the seed came from, for the rerun hint
    shard: tuple[int, int] | None = None  # (index, count)


def marker_options(marker: pytest.Mark, defaults: dict[str, Any]) -> dict[str, Any]:
    if marker.args:
        raise MarkerError(f"@pytest.mark.{marker.name} takes keyword arguments only")
    unknown = set(marker.kwargs) - set(defaults)
    if unknown:
        known = ", ".join(sorted(defaults))
        raise MarkerError(
            f"@pytest.mark.{marker.name}: unknown argument(s) {', '.join(sorted(unknown))} "
            f"(known: {known})"
        )
    return {**defaults, **marker.kwargs}


def _engine_marker(item: pytest.Item) -> pytest.Mark | None:
    stress = item.get_closest_marker("stress")
    explore = item.get_closest_marker("explore")
    if stress is not None and explore is not None:
        raise MarkerError("a test takes @pytest.mark.stress or @pytest.mark.explore, not both")
    return stress or explore


def plan(item: pytest.Item, config: HarnessConfig) -> Plan | None:
    marker = _engine_marker(item)
    if marker is None:
        return None
    defaults = STRESS_DEFAULTS if marker.name == "stress" else EXPLORE_DEFAULTS
    options = marker_options(marker, defaults)
    shard: tuple[int, int] | None = None
    callspec = getattr(item, "callspec", None)
    if callspec is not None and SHARD_PARAM in callspec.params:
        shard = tuple(callspec.params[SHARD_PARAM])
    if options["seed"] is not None:
        seed, source = options["seed"], f"@pytest.mark.{marker.name}(seed=...)"
    else:
        seed, source = config.seed, config.source("seed")
    if shard is not None and isinstance(seed, int) and not isinstance(seed, bool):
        seed += shard[0]  # shards search disjoint seed ranges: seed, seed+1, ...
    return Plan(marker.name, options, seed, source, shard)
