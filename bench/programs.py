"""The programs the detection and scale benchmarks run, in one shape for every tool.

Two sources: the corpus (``bench/corpus``, ids ``corpus/NAME:VARIANT``) and the
variants of the catalogue that the exploration engine can run (``engines``
contains ``"explore"``; ids ``catalogue/SCENARIO:VARIANT``). Each program knows
its setup, actors, check and teardown, and which failure kinds catch its bug.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BenchProgram", "catalogue_programs", "corpus_programs", "get", "scale_programs"]

#: Catalogue explore settings that the benchmark passes through (the rest, such
#: as strategy, budget and seed, the benchmark sets itself).
_PASSED_EXPLORE_SETTINGS = ("bound", "depth", "max_steps", "timeout")


@dataclass(frozen=True)
class BenchProgram:
    """A program under test, buggy or fixed, with what counts as catching it."""

    id: str
    source: str  # "corpus" or "catalogue"
    buggy: bool
    summary: str
    setup: Callable[[], Any]
    actors: Callable[[Any], Sequence[Callable[[], object]]]
    check: Callable[[Any], object] | None
    threads: int
    #: Failure kinds that catch the bug; None: any failure does.
    kinds: tuple[str, ...] | None
    teardown: Callable[[Any], object] | None = None
    #: Extra keyword arguments for ``harness.explore`` (catalogue settings).
    explore_settings: dict[str, Any] = field(default_factory=dict)
    #: Locations unsynchronized on purpose, for the race detector (``races_ignore``).
    races_ignore: tuple[str, ...] = ()

    def accepts(self, kind: str | None) -> bool:
        """Whether a failure of ``kind`` catches this program's bug."""
        if kind is None:
            return False
        return self.kinds is None or kind in self.kinds


def corpus_programs(sizes: str = "detection") -> list[BenchProgram]:
    from bench.corpus import corpus

    return [
        BenchProgram(
            id=f"corpus/{p.id}",
            source="corpus",
            buggy=p.buggy,
            summary=p.summary,
            setup=p.setup,
            actors=p.actors,
            check=p.check,
            threads=p.threads,
            kinds=p.kinds if p.buggy else None,
            races_ignore=p.benign,
        )
        for p in corpus(sizes)
    ]


def scale_programs() -> list[BenchProgram]:
    return corpus_programs("scale")


def catalogue_programs() -> list[BenchProgram]:
    """Every catalogue variant that the exploration engine can run."""
    import harness

    programs = []
    for scenario in harness.catalogue().values():
        for variant in scenario.variants.values():
            if "explore" not in variant.engines:
                continue
            settings = variant.settings_for("explore")
            threads = scenario.thread_count(settings.get("threads"))
            programs.append(
                BenchProgram(
                    id=f"catalogue/{scenario.name}:{variant.name}",
                    source="catalogue",
                    buggy=variant.expect == harness.CAUGHT,
                    summary=variant.summary,
                    setup=_bind_threads(variant.setup, threads),
                    actors=variant.actors,
                    check=variant.check,
                    threads=threads,
                    kinds=variant.kinds,
                    teardown=variant.teardown,
                    explore_settings={
                        k: settings[k] for k in _PASSED_EXPLORE_SETTINGS if k in settings
                    },
                )
            )
    return programs


def _bind_threads(setup: Callable[[int], Any], threads: int) -> Callable[[], Any]:
    def bound_setup() -> Any:
        return setup(threads)

    return bound_setup


def get(program_id: str) -> BenchProgram:
    """The program with this id, from either source and any size."""
    source = program_id.partition("/")[0]
    if source == "catalogue":
        candidates = catalogue_programs()
    elif source == "corpus":
        candidates = [*corpus_programs(), *scale_programs()]
    else:
        raise KeyError(f"unknown program source in {program_id!r}")
    for program in candidates:
        if program.id == program_id:
            return program
    raise KeyError(f"no program {program_id!r}")
