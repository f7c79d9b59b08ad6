"""A corpus of well-known concurrency bugs, each with a fixed twin.

The programs port the *patterns* of the SCTBench suite (Thomson, Donaldson and
Betts, "Concurrency Testing Using Controlled Schedulers: An Empirical Study",
PPoPP 2014 / TOPC 2016), written afresh in Python: a bank account whose
withdrawal reads outside the lock, the Windows NT Bluetooth driver of Qadeer and
Wu's KISS paper, a circular buffer with a racy count, two locks taken in opposite
orders, lazy initialisation, a queue checked outside its lock, the ``reorder``
family (one checker racing 2 to 19 setters), a stack popped on a stale flag, a
token ring that passes the token too early, two-stage locking, the wrong lock,
dining philosophers and a lost wake-up.

Every program has the shape both engines run (``setup``, ``actors``, ``check``):
``setup()`` builds fresh state, including every lock, so that the engines and
peers that patch ``threading`` can see them; ``actors(state)`` returns one
zero-argument callable per thread; ``check(state)`` raises ``AssertionError``
naming what it saw when the final state is wrong. A *buggy* program is caught
when an engine reports a failure of one of its ``kinds``; its *fixed* twin must
never fail.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BUGGY", "FIXED", "MODULES", "CorpusProgram", "corpus", "find"]

BUGGY = "buggy"
FIXED = "fixed"

#: The corpus modules, in the order the report lists them.
MODULES = (
    "account",
    "bluetooth",
    "circular_buffer",
    "deadlock01",
    "lazy_init",
    "queue_check",
    "reorder",
    "stack",
    "token_ring",
    "twostage",
    "wronglock",
    "philosophers",
    "lost_wakeup",
)


@dataclass(frozen=True)
class CorpusProgram:
    """One program of the corpus: a buggy pattern or its fixed twin."""

    #: The pattern and its size, e.g. ``"reorder_5"``.
    name: str
    #: ``"buggy"`` or ``"fixed"``.
    variant: str
    #: One line: what this program does (wrong, or right).
    summary: str
    setup: Callable[[], Any]
    actors: Callable[[Any], Sequence[Callable[[], object]]]
    check: Callable[[Any], object]
    #: Number of threads ``actors`` returns.
    threads: int
    #: The SCTBench program whose pattern this ports.
    origin: str
    #: Failure kinds that count as catching the bug (buggy programs).
    kinds: tuple[str, ...] = ("assert",)
    #: Schedules within which ``harness.explore`` (default strategy, seeds 0-2)
    #: catches the bug; for a fixed twin, schedules over which it must hold.
    #: None: no budget is claimed (the largest programs of the scale benchmark).
    budget: int | None = 1000
    #: Locations unsynchronized on purpose (a double-checked flag), as the race
    #: detector names them: the benchmark passes them as ``races_ignore``.
    benign: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.name}:{self.variant}"

    @property
    def buggy(self) -> bool:
        return self.variant == BUGGY


def _load() -> list[CorpusProgram]:
    programs: list[CorpusProgram] = []
    for module_name in MODULES:
        module = importlib.import_module(f"bench.corpus.{module_name}")
        programs.extend(module.programs())
    return programs


def corpus(sizes: str = "detection") -> list[CorpusProgram]:
    """Every program of the corpus, buggy and fixed twins side by side.

    ``sizes="detection"`` gives the sizes of the detection benchmark (reorder
    with 3 and 5 threads, two-stage with 3); ``"scale"`` gives the large ones
    (reorder with 10 and 20 threads, two-stage with 10 and 100, many_slots with
    100) from :func:`scaled`.
    """
    if sizes == "detection":
        return _load()
    if sizes == "scale":
        return scaled()
    raise ValueError(f"unknown corpus sizes {sizes!r}; expected 'detection' or 'scale'")


def scaled() -> list[CorpusProgram]:
    """The programs of the scale benchmark: 10, 20 and 100 threads."""
    from bench.corpus import many_slots, reorder, twostage

    return [
        *reorder.make(10),
        *reorder.make(20),
        *twostage.make(10),
        *twostage.make(100),
        *many_slots.make(100),
    ]


def find(program_id: str) -> CorpusProgram:
    """The program called ``name:variant`` (detection or scale sizes)."""
    for program in [*_load(), *scaled()]:
        if program.id == program_id:
            return program
    raise KeyError(f"no corpus program {program_id!r}")
