"""Quality of the exploration engine on the catalogue (in the manner of
hypothesis' quality tests).

* every buggy variant that can be explored is found within its stated budget
  (the variant's explore settings, default strategy and seed);
* every fix that can be explored holds, with the bounded search *exhausted* at
  preemption bound 2: every schedule with at most two preemptions was run;
* the replay token of every finding reproduces it, 100 times out of 100.
"""

from __future__ import annotations

import pytest

from harness.explore import replay
from harness.runner import run_variant
from harness.scenario import CAUGHT, HOLDS, catalogue

BUGGY = [
    (s, v)
    for s in catalogue().values()
    for v in s.variants.values()
    if "explore" in v.engines and v.expect == CAUGHT
]
FIXES = [
    (s, v)
    for s in catalogue().values()
    for v in s.variants.values()
    if "explore" in v.engines and v.expect == HOLDS
]

#: Schedules the bounded search may need to exhaust a fix at bound 2.
EXHAUSTION_BUDGET = 20_000


def _id(pair):
    return f"{pair[0].name}:{pair[1].name}"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("pair", BUGGY, ids=[_id(p) for p in BUGGY])
def test_bug_is_found_within_its_budget_and_replays(pair):
    scenario, variant = pair
    run = run_variant(scenario, variant, "explore", judged=True)
    assert run.met, f"{run.name} not caught under explore:\n{run.result}"
    token = run.result.schedule
    assert token, "a finding comes with a replay token"
    expected = run.result.failures[0].failure.key
    threads = run.result.settings["threads"]
    for attempt in range(100):
        again = replay(
            token,
            lambda: variant.setup(threads),
            variant.actors,
            variant.check,
            observe=variant.observe,
            teardown=variant.teardown,
        )
        assert again.failed and again.failures[0].failure.key == expected, (
            f"replay {attempt} of {run.name} did not reproduce {expected}:\n{again}"
        )


@pytest.mark.timeout(300)
@pytest.mark.parametrize("pair", FIXES, ids=[_id(p) for p in FIXES])
def test_fix_holds_with_the_bounded_search_exhausted(pair):
    scenario, variant = pair
    run = run_variant(
        scenario,
        variant,
        "explore",
        {"strategy": "dfs", "bound": 2, "budget": EXHAUSTION_BUDGET},
    )
    assert not run.result.failed, f"{run.name} failed under bounded search:\n{run.result}"
    verified = run.result.sections.get("verified")
    assert verified, (
        f"{run.name}: {run.result.runs} schedules did not exhaust bound 2 "
        f"(budget {EXHAUSTION_BUDGET}); its explore settings must keep it small"
    )
