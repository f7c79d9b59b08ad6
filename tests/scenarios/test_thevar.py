"""theVar: the unsynchronized counter is caught under stress, both fixes hold."""

from __future__ import annotations

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue

SCENARIO = catalogue()["thevar"]


def test_buggy_loses_updates_under_stress():
    run = run_variant(
        SCENARIO, SCENARIO.variant("buggy"), overrides={"runs": 300, "seed": 1}, judged=True
    )
    assert run.met, run.result
    assert run.result.kind == "assert"
    forbidden = [e.outcome for e in run.result.histogram if e.verdict.value == "FORBIDDEN"]
    assert forbidden and all("duplicated" in o for o in forbidden)


@pytest.mark.parametrize("fix", ["lock", "queue"])
def test_fix_holds_under_the_same_budget(fix):
    run = run_variant(SCENARIO, SCENARIO.variant(fix), overrides={"runs": 300, "seed": 1})
    assert run.met, run.result
    assert run.result.runs == 300
    (entry,) = list(run.result.histogram)
    assert entry.outcome == "theVar=21, 0 duplicated, 0 missing"


@pytest.mark.parametrize("variant", ["buggy", "lock", "queue"])
def test_check_accepts_a_correct_end_and_rejects_a_lost_update(variant):
    v = SCENARIO.variant(variant)
    state = v.setup(3)
    for actor in v.actors(state):
        actor()  # sequentially: always correct
    v.check(state)
    assert v.observe(state) == "theVar=4, 0 duplicated, 0 missing"

    racy = v.setup(2)
    racy.lines = ["This is thread 1 speaking.", "This is thread 1 speaking."]
    racy.theVar = 2
    with pytest.raises(AssertionError, match=r"announced twice: \[1\]; never announced: \[2\]"):
        v.check(racy) if variant == "buggy" else SCENARIO.variant("buggy").check(racy)


def test_runs_leave_nothing_behind(no_leaks):
    for name in ("buggy", "lock", "queue"):
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 20})
