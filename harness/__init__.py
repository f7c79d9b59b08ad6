"""thread-harness: find, explain and gate threading bugs in Python.

The public surface is re-exported here; everything else is private. The words
used throughout (execution, run, schedule, actor, thread, ...) are defined in
docs/GLOSSARY.md.

>>> import harness
>>> result = harness.stress(setup, actors, check, runs=200)   # doctest: +SKIP
>>> result = harness.explore(setup, actors, check)            # doctest: +SKIP
>>> result.failed, result.kind, result.schedule               # doctest: +SKIP
"""

from typing import Any

from harness._version import __version__ as __version__
from harness.errors import HarnessError, TokenError, UnknownScenarioError, UsageError
from harness.explore import explore, replay
from harness.outcome import FAILURE_KINDS, Failure, FailureGroup, Histogram, Result, Verdict
from harness.scenario import CAUGHT, HOLDS, Scenario, Variant, catalogue
from harness.stress import stress

__all__ = [
    "CAUGHT",
    "FAILURE_KINDS",
    "HOLDS",
    "Failure",
    "FailureGroup",
    "HarnessError",
    "Histogram",
    "Result",
    "Scenario",
    "TokenError",
    "UnknownScenarioError",
    "UsageError",
    "Variant",
    "Verdict",
    "catalogue",
    "explore",
    "linearizable",
    "op",
    "replay",
    "stress",
]

#: Loaded on first use: linearizability checking imports hypothesis (~130 ms).
_LAZY = {"linearizable": "harness.linearize", "op": "harness.linearize"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
