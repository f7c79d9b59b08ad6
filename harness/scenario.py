"""The catalogue's data model: a scenario, its variants, their expectations.

A *scenario* reproduces one threading pattern (from one of the source articles).
Each *variant* is a complete program in three parts, the shape every engine runs:

* ``setup(threads)`` builds fresh shared state for one execution;
* ``actors(state)`` returns the zero-argument callables, one per thread;
* ``check(state)`` raises AssertionError (or returns False) when the final state
  is wrong;
* ``teardown(state)``, optional, releases what one execution holds (servers,
  sockets, threads) and runs after every execution, also a failed or hung one.

``buggy`` keeps the article's bug and is expected to be *caught*; each fix is
named after its mechanism (``lock``, ``queue``, ``event``, ``ordered``,
``timeout`` ...) and is expected to *hold* under the same engine and budget.

Scenario modules live in the ``scenarios`` package; each defines a module-level
``SCENARIO``. :func:`catalogue` discovers them.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import _validate
from harness._program import MAX_THREADS
from harness.errors import UnknownScenarioError, UsageError
from harness.outcome import FAILURE_KINDS

__all__ = [
    "CAUGHT",
    "ENGINES",
    "HOLDS",
    "Scenario",
    "Variant",
    "catalogue",
    "resolve",
]

CAUGHT = "caught"
HOLDS = "holds"
ENGINES = ("stress", "explore")


@dataclass(frozen=True)
class Variant:
    """One program of a scenario, with what the engines must observe of it."""

    name: str
    setup: Callable[[int], Any]
    actors: Callable[[Any], Sequence[Callable[[], object]]]
    check: Callable[[Any], object] | None = None
    expect: str = HOLDS
    #: One line: what this variant does differently.
    summary: str = ""
    #: ``observe(state)`` describes the final state for the outcome histogram.
    observe: Callable[[Any], str] | None = None
    #: ``teardown(state)`` releases what a run holds; called after every run.
    teardown: Callable[[Any], object] | None = None
    #: For a caught variant, the failure kinds that count as catching it.
    kinds: tuple[str, ...] | None = None
    #: The engines that can run this variant (real I/O rules out ``explore``).
    engines: tuple[str, ...] = ("stress",)
    #: Engine settings that differ from the defaults (``runs``, ``noise``,
    #: ``timeout``, ``budget``, ``threads`` ...), per engine name.
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The functions and classes whose source shows what this variant does.
    source: tuple[Any, ...] = ()
    #: For a caught variant, its bug's class in plain words ("lost update",
    #: "deadlock", "order violation" ...): what `harness explain` names it.
    bug_class: str = ""

    def __post_init__(self) -> None:
        if self.expect not in (CAUGHT, HOLDS):
            raise ValueError(f"variant {self.name!r}: expect must be {CAUGHT!r} or {HOLDS!r}")
        for kind in self.kinds or ():
            if kind not in FAILURE_KINDS:
                raise ValueError(f"variant {self.name!r}: unknown failure kind {kind!r}")
        for engine in self.engines:
            if engine not in ENGINES:
                raise ValueError(f"variant {self.name!r}: unknown engine {engine!r}")

    def settings_for(self, engine: str) -> dict[str, Any]:
        return dict(self.settings.get(engine, {}))

    def is_caught_by(self, failure_kinds: Sequence[str]) -> bool:
        """Whether failures of these kinds catch this variant's bug."""
        if self.kinds is None:
            return bool(failure_kinds)
        return any(kind in self.kinds for kind in failure_kinds)

    def sources(self) -> list[tuple[str, str]]:
        """``(qualified name, source text)`` of each object in :attr:`source`."""
        shown = []
        for obj in self.source:
            shown.append((getattr(obj, "__qualname__", repr(obj)), inspect.getsource(obj)))
        return shown


@dataclass
class Scenario:
    """A threading pattern from the source articles, with its variants."""

    name: str
    title: str
    article: str
    description: str
    threads: int = 2
    min_threads: int = 1
    variants: dict[str, Variant] = field(default_factory=dict)

    def add(self, variant: Variant) -> Variant:
        if variant.name in self.variants:
            raise ValueError(f"scenario {self.name!r} already has a variant {variant.name!r}")
        self.variants[variant.name] = variant
        return variant

    def variant(self, name: str) -> Variant:
        try:
            return self.variants[name]
        except KeyError:
            known = ", ".join(self.variants)
            raise UnknownScenarioError(
                f"scenario {self.name!r} has no variant {name!r} (it has: {known})"
            ) from None

    def thread_count(self, requested: int | None) -> int:
        """The thread count to build this scenario with, validated."""
        if requested is None:
            return self.threads
        _validate.count("threads", requested, MAX_THREADS)
        if requested < self.min_threads:
            raise UsageError(
                f"scenario {self.name!r} needs at least {self.min_threads} threads, got {requested}"
            )
        return requested

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "article": self.article,
            "threads": self.threads,
            "variants": [
                {
                    "name": v.name,
                    "expect": v.expect,
                    "summary": v.summary,
                    "engines": list(v.engines),
                    "bug_class": v.bug_class,
                }
                for v in self.variants.values()
            ],
        }


_catalogue: dict[str, Scenario] | None = None

#: The catalogue's package when installed: the distribution claims no generic
#: top-level name, so ``scenarios/`` of the repository installs as this.
INSTALLED_CATALOGUE = "harness.catalogue"
#: The same package in a checkout, where ``scenarios/`` sits beside ``harness/``.
CHECKOUT_CATALOGUE = "scenarios"


def catalogue_package() -> str:
    """The import name of the catalogue: the checkout's, else the installed one.

    A checkout's ``scenarios`` is used only when it is the directory beside this
    ``harness`` package (tests run from the repository import it by that name,
    and one module must not be imported twice under two names); anything else
    called ``scenarios`` on ``sys.path`` is some other project's.
    """
    beside = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scenarios")
    spec = importlib.util.find_spec(CHECKOUT_CATALOGUE) if os.path.isdir(beside) else None
    origin = spec.origin if spec is not None else None
    if origin is not None and os.path.dirname(os.path.abspath(origin)) == beside:
        return CHECKOUT_CATALOGUE
    return INSTALLED_CATALOGUE


def catalogue(package: str | None = None) -> dict[str, Scenario]:
    """Every scenario of the catalogue package, by name, in name order."""
    global _catalogue
    default = package is None
    if default and _catalogue is not None:
        return _catalogue
    pkg = importlib.import_module(catalogue_package() if package is None else package)
    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        scenario = getattr(module, "SCENARIO", None)
        if not isinstance(scenario, Scenario):
            continue
        if scenario.name in found:
            raise ValueError(f"two scenario modules define {scenario.name!r}")
        found[scenario.name] = scenario
    if default:
        _catalogue = found
    return found


def resolve(
    spec: str, scenarios: Mapping[str, Scenario] | None = None
) -> list[tuple[Scenario, Variant]]:
    """``"name"`` -> every variant of it; ``"name:variant"`` -> that one."""
    scenarios = catalogue() if scenarios is None else scenarios
    name, _, variant_name = spec.partition(":")
    if not name:
        raise UnknownScenarioError(f"empty scenario name in {spec!r}")
    scenario = scenarios.get(name)
    if scenario is None:
        raise UnknownScenarioError(
            f"unknown scenario {name!r}; `harness list` shows the {len(scenarios)} known ones"
        )
    if variant_name:
        return [(scenario, scenario.variant(variant_name))]
    if _:
        raise UnknownScenarioError(f"empty variant name in {spec!r}")
    return [(scenario, v) for v in scenario.variants.values()]
