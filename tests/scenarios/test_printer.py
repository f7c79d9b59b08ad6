"""printer: the polling daemon printer loses lines at exit; the blocking, joined one never does."""

from __future__ import annotations

import importlib
import re

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue

SCENARIO = catalogue()["printer"]
MODULE = importlib.import_module("scenarios.printer")


def test_every_variant_has_one_budget_a_summary_and_its_source():
    budgets = {name: v.settings_for("stress") for name, v in SCENARIO.variants.items()}
    assert len({tuple(sorted(b.items())) for b in budgets.values()}) == 1, budgets
    assert set(SCENARIO.variants) == {"buggy", "blocking"}
    for variant in SCENARIO.variants.values():
        assert variant.summary and variant.sources(), variant.name
        assert variant.engines == ("stress", "explore")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_buggy_loses_lines_at_exit(threads):
    run = run_variant(
        SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1, "threads": threads}, judged=True
    )
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    assert "lost with the daemon printer" in run.result.failures[0].failure.message, str(run.result)


@pytest.mark.timeout(120)
def test_buggy_polls_for_nothing():
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1, "runs": 10})
    polls = [int(re.search(r"(\d+) empty polls", e.outcome).group(1)) for e in run.result.histogram]
    assert polls and max(polls) > 0, str(run.result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_blocking_fix_holds_under_the_same_budget(threads):
    run = run_variant(
        SCENARIO, SCENARIO.variant("blocking"), overrides={"seed": 1, "threads": threads}
    )
    assert run.met, str(run.result)
    total = len(MODULE.Terminal(threads).expected())
    (entry,) = list(run.result.histogram)
    assert entry.outcome == f"{total} of {total} lines printed before exit; 0 empty polls", str(
        run.result
    )


def test_the_explored_run_is_the_main_thread_and_the_printer_with_two_lines():
    sizes = {
        t: (MODULE.Terminal(t).writers, MODULE.Terminal(t).lines_per_writer) for t in (1, 2, 3)
    }
    assert sizes == {1: (1, 2), 2: (1, MODULE.LINES_PER_WRITER), 3: (2, MODULE.LINES_PER_WRITER)}
    for variant in SCENARIO.variants.values():
        assert variant.settings["explore"] == {"threads": 1}, variant.name


def _ended(threads: int = 3):
    state = MODULE.Terminal(threads)
    # two writers, interleaved: each one's lines still in its own order
    state.screen = [line for pair in zip(*_by_writer(state), strict=True) for line in pair]
    state.at_exit = list(state.screen)
    return state


def _by_writer(state):
    return [[state.line(w, n) for n in range(state.lines_per_writer)] for w in range(state.writers)]


@pytest.mark.parametrize("variant", ["buggy", "blocking"])
def test_check_accepts_a_correct_end_and_rejects_wrong_ones(variant):
    v = SCENARIO.variant(variant)
    good = _ended()
    v.check(good)
    assert v.observe(good) == "8 of 8 lines printed before exit; 0 empty polls"

    lost = _ended()
    lost.at_exit = lost.at_exit[:-1]
    with pytest.raises(AssertionError, match=r"1 of 8 lines not printed when the program ended"):
        v.check(lost)
    assert v.observe(lost).startswith("7 of 8 lines printed before exit, 1 lost")
    twice = _ended()
    twice.at_exit.append(twice.at_exit[0])
    with pytest.raises(AssertionError, match="printed more than once"):
        v.check(twice)
    disorder = _ended()
    disorder.at_exit.reverse()
    with pytest.raises(AssertionError, match="out of order"):
        v.check(disorder)
    unfinished = _ended()
    unfinished.at_exit = None
    with pytest.raises(AssertionError, match="never finished"):
        v.check(unfinished)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("variant", ["buggy", "blocking"])
def test_teardown_ends_the_printer_whatever_it_was_doing(variant, no_leaks):
    v = SCENARIO.variant(variant)
    state = v.setup(3)
    (main,) = v.actors(state)
    main()  # the buggy printer is still polling now, most likely
    v.teardown(state)
    assert state.printer is not None and not state.printer.is_alive()
    assert all(not t.is_alive() for t in state.helpers)
    # whatever was lost at exit, the printer got every line in the end
    assert sorted(state.screen) == sorted(state.expected())


@pytest.mark.timeout(120)
def test_runs_leave_nothing_behind(no_leaks):
    for name in ("buggy", "blocking"):
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 3, "seed": 2}, judged=True)


@pytest.mark.timeout(120)
def test_explore_finds_the_lost_line():
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), "explore", {"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)


@pytest.mark.timeout(300)
def test_explore_verifies_the_blocking_fix_at_preemption_bound_2():
    run = run_variant(
        SCENARIO,
        SCENARIO.variant("blocking"),
        "explore",
        {"strategy": "dfs", "bound": 2, "budget": 100_000},
    )
    assert run.met, str(run.result)
    assert "all" in run.result.sections.get("verified", ""), str(run.result)
