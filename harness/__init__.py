"""thread-harness: find, explain and gate threading bugs in Python.

The public surface is re-exported here; everything else is private. The words
used throughout (execution, run, schedule, actor, thread, ...) are defined in
docs/GLOSSARY.md.

>>> import harness
>>> result = harness.stress(setup, actors, check, runs=200)   # doctest: +SKIP
>>> result = harness.explore(setup, actors, check)            # doctest: +SKIP
>>> result.failed, result.kind, result.schedule               # doctest: +SKIP

The names load on first use (PEP 562), not when ``harness`` is imported: the pytest
plugin is imported by every pytest session of a project that has the package
installed, and must not pay for the engines, the instrumented primitives and the
tracers unless a test asks for them. ``harness.explore``, ``harness.stress`` and
``harness.replay`` are the functions even though ``harness/explore`` and
``harness/stress`` are also modules: when the import system binds such a submodule
on this package, the module class below binds the function of the same name instead.
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from harness._version import __version__ as __version__
from harness.errors import HarnessError, TokenError, UnknownScenarioError, UsageError

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, _LAZY below
    from harness.explore import benign, explore, replay
    from harness.linearize import linearizable, op
    from harness.outcome import FAILURE_KINDS, Failure, FailureGroup, Histogram, Result, Verdict
    from harness.scenario import CAUGHT, HOLDS, Scenario, Variant, catalogue
    from harness.stress import stress
    from harness.sync.early import install

#: Public name -> the module that defines it; imported on first access.
_LAZY = {
    "explore": "harness.explore",
    "replay": "harness.explore",
    "benign": "harness.explore",
    "stress": "harness.stress",
    "install": "harness.sync.early",
    "FAILURE_KINDS": "harness.outcome",
    "Failure": "harness.outcome",
    "FailureGroup": "harness.outcome",
    "Histogram": "harness.outcome",
    "Result": "harness.outcome",
    "Verdict": "harness.outcome",
    "CAUGHT": "harness.scenario",
    "HOLDS": "harness.scenario",
    "Scenario": "harness.scenario",
    "Variant": "harness.scenario",
    "catalogue": "harness.scenario",
    # linearizability checking also imports hypothesis (~130 ms)
    "linearizable": "harness.linearize",
    "op": "harness.linearize",
}
#: Submodules that share their name with the public function they define.
_SHADOWED = ("explore", "stress")

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
    "benign",
    "catalogue",
    "explore",
    "install",
    "linearizable",
    "op",
    "replay",
    "stress",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    setattr(sys.modules[__name__], name, value)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps ``harness.explore`` and ``harness.stress`` the functions once their
    modules are imported (the import system sets the submodule on its parent)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in _SHADOWED
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{__name__}.{name}"
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
