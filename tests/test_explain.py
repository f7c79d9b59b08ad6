"""harness explain: lessons built from what the engines really observe."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.explain import BUG_CLASSES, Evidence, explain, nearest_fix, tell
from harness.explore.interleaving import Interleaving
from harness.runner import run_variant
from harness.scenario import CAUGHT, catalogue, resolve


def test_every_caught_variant_names_a_known_bug_class():
    for scenario in catalogue().values():
        for variant in scenario.variants.values():
            if variant.expect == CAUGHT:
                assert variant.bug_class in BUG_CLASSES, (
                    f"{scenario.name}:{variant.name} has bug_class {variant.bug_class!r}"
                )
            else:
                assert not variant.bug_class, f"{scenario.name}:{variant.name} is a fix"


@pytest.fixture(scope="module")
def thevar():
    (lesson,) = explain("thevar")
    return lesson


@pytest.mark.timeout(120)
def test_thevar_lesson_tells_the_lost_update(thevar):
    assert thevar.name == "thevar:buggy" and thevar.bug_class == "lost update"
    assert thevar.observed and thevar.caught.engine == "explore"
    assert isinstance(thevar.caught.result.sections.get("interleaving"), Interleaving)
    story = "\n".join(thevar.story)
    assert "reads theVar = 1" in story, story
    assert "writes theVar = 2" in story, story
    assert "update is overwritten and lost" in story, story
    assert thevar.code[0].name == "speak_unlocked"
    assert "shared.theVar = number + 1" in thevar.code[0].text
    assert thevar.code[0].first_line > 1


@pytest.mark.timeout(120)
def test_thevar_fix_is_a_diff_with_exhaustive_and_stress_evidence(thevar):
    assert thevar.fix is not None and thevar.fix.name == "lock"
    assert "+    with shared.lock:  # nobody else can read or write theVar until we are done" in (
        thevar.diff
    )
    assert any(line.startswith("-def speak_unlocked") for line in thevar.diff)
    engines = {e.engine: e for e in thevar.evidence}
    assert set(engines) == {"explore", "stress"}
    assert engines["explore"].exhausted, engines["explore"].summary()
    # dpor exhausts the fix's space: a proof over every interleaving, not a bound
    assert engines["explore"].run.result.settings["strategy"] == "dpor"
    assert engines["explore"].unbounded
    assert "proved over every interleaving" in engines["explore"].summary()
    assert engines["stress"].held and engines["stress"].run.result.runs > 1
    assert thevar.ok


@pytest.mark.timeout(120)
def test_deadlock_story_names_the_locks_and_who_holds_them():
    (lesson,) = explain("deadlock:buggy", budget=50)
    story = "\n".join(lesson.story)
    assert "T0 takes lock_a" in story and "T1 takes lock_b" in story, story
    assert "T0 wants lock_b" in story and "which T1 holds" in story, story
    assert lesson.fix is not None and lesson.fix.name == "ordered"
    explored = next(e for e in lesson.evidence if e.engine == "explore")
    # within 50 schedules dpor proves the ordered fix (dfs --bound 2 needs 1,374)
    assert explored.exhausted and explored.unbounded, explored.summary()
    assert explored.run.result.runs < 50


@pytest.mark.timeout(120)
def test_a_fix_is_explained_with_its_buggy_twin():
    (lesson,) = explain("thevar:queue", budget=20)
    assert lesson.buggy.name == "buggy" and lesson.fix is not None and lesson.fix.name == "queue"
    assert any("slot.get()" in line for line in lesson.diff if line.startswith("+"))


@pytest.mark.timeout(120)
def test_stress_only_scenario_tells_what_was_observed():
    (lesson,) = explain("downloader:buggy")
    assert lesson.caught.engine == "stress" and "interleaving" not in lesson.caught.result.sections
    assert lesson.observed
    assert lesson.story and all(s for s in lesson.story)
    assert [e.engine for e in lesson.evidence] == ["stress"]


def test_nearest_fix_pairs_each_bug_with_its_own_fix():
    scenario = catalogue()["join_order"]
    assert nearest_fix(scenario, scenario.variant("buggy")).name == "join"
    assert nearest_fix(scenario, scenario.variant("buggy_join")).name == "event"


def test_evidence_of_a_failing_run_says_failed():
    ((scenario, variant),) = resolve("thevar:buggy")
    run = run_variant(scenario, variant, "explore", {"seed": 1})
    evidence = Evidence("explore", "exploration", run)
    assert not evidence.held
    assert evidence.summary().startswith("FAILED (assert)")


def test_tell_leaves_data_out_when_asked_and_ends_with_the_failure():
    ((scenario, variant),) = resolve("thevar:buggy")
    result = run_variant(scenario, variant, "explore", {"seed": 1}, judged=True).result
    quiet = tell(result, data_race=False)
    assert not any("reads theVar" in s for s in quiet), quiet
    assert quiet[-1].startswith("the check of the final state fails")


def test_unknown_scenario_is_a_usage_error():
    with pytest.raises(UsageError):
        explain("nosuchscenario")
