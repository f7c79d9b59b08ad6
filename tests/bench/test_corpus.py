"""The bug corpus: every buggy program is caught by exploration within its stated
budget, every fixed twin holds over its budget, and the corpus is well formed."""

from __future__ import annotations

import pytest

import harness
from bench.corpus import BUGGY, FIXED, MODULES, CorpusProgram, corpus, find, scaled

PROGRAMS = corpus()
BUGGY_PROGRAMS = [p for p in PROGRAMS if p.buggy]
FIXED_PROGRAMS = [p for p in PROGRAMS if not p.buggy]


def _explore(program: CorpusProgram, seed: int, budget: int) -> harness.Result:
    return harness.explore(
        program.setup,
        program.actors,
        program.check,
        budget=budget,
        seed=seed,
        shrink_failures=False,
    )


def test_every_pattern_has_a_buggy_program_and_a_fixed_twin():
    names = {p.name for p in PROGRAMS}
    assert len(names) >= len(MODULES), f"patterns: {sorted(names)}"
    for name in names:
        variants = sorted(p.variant for p in PROGRAMS if p.name == name)
        assert variants == [BUGGY, FIXED], f"{name} has {variants}"
    ids = [p.id for p in [*PROGRAMS, *scaled()]]
    assert len(ids) == len(set(ids)), f"duplicate ids in {ids}"


@pytest.mark.parametrize("program", [*PROGRAMS, *scaled()], ids=lambda p: p.id)
def test_threads_is_the_number_of_actors(program):
    actors = program.actors(program.setup())
    assert len(actors) == program.threads, f"{program.id}: {len(actors)} actors"
    assert all(callable(a) for a in actors)


def test_reorder_and_twostage_come_in_the_sizes_of_the_benchmarks():
    assert [find(f"reorder_{n}:buggy").threads for n in (3, 5, 10, 20)] == [3, 5, 10, 20]
    assert [find(f"{name}:buggy").threads for name in ("twostage", "twostage_100")] == [3, 100]
    with pytest.raises(KeyError, match="no corpus program 'nothing:buggy'"):
        find("nothing:buggy")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("program", BUGGY_PROGRAMS, ids=lambda p: p.id)
def test_buggy_program_is_caught_within_its_budget(program):
    for seed in (0, 1, 2):
        result = _explore(program, seed, program.budget)
        kinds = [group.failure.kind for group in result.failures]
        assert any(kind in program.kinds for kind in kinds), (
            f"{program.id}, seed {seed}: {kinds or 'no failure'} in {result.runs} schedules "
            f"(budget {program.budget}, expected one of {program.kinds})\n{result}"
        )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("program", FIXED_PROGRAMS, ids=lambda p: p.id)
def test_fixed_twin_holds_over_its_budget(program):
    result = _explore(program, 0, program.budget)
    assert not result.failed, f"{program.id} failed:\n{result}"
    assert result.runs == program.budget or "verified" in result.sections, (
        f"{program.id}: only {result.runs} schedules of {program.budget}"
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["reorder_10", "twostage_10"])
def test_larger_programs_are_caught_within_their_budget(name):
    program = find(f"{name}:buggy")
    result = _explore(program, 0, program.budget)
    assert result.failed and result.kind == "assert", f"{name}: {result}"
