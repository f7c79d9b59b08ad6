"""Sharding an explore test: one test becomes N tests that search disjoint seed ranges
(``--harness-shards``), spread over the collection so that xdist gives them to
different workers."""

from __future__ import annotations

from typing import Any

import pytest

from harness._pytest.config import AUTO, HarnessConfig

__all__ = ["SHARD_PARAM", "base_nodeid", "shard_count", "shard_id", "spread"]

#: The hidden parameter that splits an explore test into shards.
SHARD_PARAM = "_harness_shard"
#: Strategies whose schedules depend on the seed; only these are sharded.
_SEEDED_STRATEGIES = ("random", "pct", "mixed", "pos")


def base_nodeid(item: pytest.Item) -> str:
    """The node id without the shard parameter: what a replay selects."""
    nodeid = item.nodeid
    callspec = getattr(item, "callspec", None)
    if callspec is None or SHARD_PARAM not in callspec.params:
        return nodeid
    label = shard_id(*callspec.params[SHARD_PARAM])
    for old, new in (
        (f"[{label}]", ""),
        (f"-{label}]", "]"),
        (f"[{label}-", "["),
        (f"-{label}-", "-"),
    ):
        if old in nodeid:
            return nodeid.replace(old, new, 1)
    return nodeid  # pragma: no cover - the id is always one of the above


def shard_id(index: int, count: int) -> str:
    return f"shard{index + 1}of{count}"


def shard_count(config: pytest.Config, settings: HarnessConfig, options: dict[str, Any]) -> int:
    if options.get("strategy") not in _SEEDED_STRATEGIES:
        return 1  # a bounded DFS does not depend on the seed: shards would repeat it
    if options.get("seed") is not None:
        return 1  # the marker pins one seed
    budget = options.get("budget")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        return 1  # reported when the test runs
    if settings.shards == AUTO:
        workerinput = getattr(config, "workerinput", None)
        count = int(workerinput.get("workercount", 1)) if workerinput else 1
    else:
        count = int(settings.shards)
    return max(1, min(count, settings.scaled(budget)))


def spread(items: list[pytest.Item]) -> None:
    """Sort the shards of each explore test apart, in place: xdist hands out runs of
    consecutive tests, so neighbouring shards would land on one worker."""
    positions: dict[int, float] = {}
    first: dict[str, int] = {}
    total = len(items)
    for i, item in enumerate(items):
        callspec = getattr(item, "callspec", None)
        if callspec is None or SHARD_PARAM not in callspec.params:
            positions[id(item)] = i
            continue
        index, count = callspec.params[SHARD_PARAM]
        start = first.setdefault(base_nodeid(item), i)
        positions[id(item)] = start + index * total / count
    items.sort(key=lambda item: positions[id(item)])
