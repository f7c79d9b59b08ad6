"""producer_consumer: never-ending consumers hang, a doubled task_done() raises, sentinels hold."""

from __future__ import annotations

import importlib
import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue

SCENARIO = catalogue()["producer_consumer"]
MODULE = importlib.import_module("scenarios.producer_consumer")
BUGGY = ["buggy", "task_done_twice"]


def test_every_variant_has_one_budget_a_summary_and_its_source():
    budgets = {name: v.settings_for("stress") for name, v in SCENARIO.variants.items()}
    assert len({tuple(sorted(b.items())) for b in budgets.values()}) == 1, budgets
    assert set(SCENARIO.variants) == {*BUGGY, "sentinel"}
    for variant in SCENARIO.variants.values():
        assert variant.summary and variant.sources(), variant.name
        assert variant.engines == ("stress", "explore")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_buggy_consumers_never_end(threads):
    variant = SCENARIO.variant("buggy")
    run = run_variant(SCENARIO, variant, overrides={"seed": 1, "threads": threads}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind in variant.kinds, str(run.result)
    # teardown unwound every stuck consumer: the engine had nothing left to abandon
    assert "abandoned_threads" not in run.result.settings, str(run.result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("threads", [1, 2, 4, 6])
def test_task_done_twice_raises_value_error(threads):
    variant = SCENARIO.variant("task_done_twice")
    run = run_variant(SCENARIO, variant, overrides={"seed": 1, "threads": threads}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "exception", str(run.result)
    messages = [group.failure.message for group in run.result.failures]
    assert "ValueError: task_done() called too many times" in messages, str(run.result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("threads", [1, 2, 4, 6])
def test_sentinel_fix_holds_under_the_same_budget(threads):
    run = run_variant(
        SCENARIO, SCENARIO.variant("sentinel"), overrides={"seed": 1, "threads": threads}
    )
    assert run.met, str(run.result)
    state = MODULE.Pipeline(threads)
    (entry,) = list(run.result.histogram)
    assert entry.outcome == f"{state.expected()} of {state.expected()} items consumed once", str(
        run.result
    )


def test_a_lone_consumer_gets_one_item_from_the_main_thread_through_a_full_queue():
    state = MODULE.bounded(1)
    assert (state.producer_threads, state.consumers, state.expected()) == (0, 1, 1)
    assert state.q.maxsize == 1  # the item fills it: the sentinel waits for the consumer
    for threads, producers, items in [(2, 1, 2), (4, 2, 4), (6, 3, 6)]:  # as before
        state = MODULE.bounded(threads)
        assert (state.producer_threads, state.expected()) == (producers, items)
        assert state.q.maxsize == MODULE.QUEUE_SIZE
    v = SCENARIO.variant("sentinel")
    state = v.setup(1)
    (main,) = v.actors(state)
    main()
    v.check(state)
    assert state.taken == [[(0, 0)]]
    assert [t.name for t in state.threads] == ["consumer-0"]
    for variant in SCENARIO.variants.values():
        assert variant.settings["explore"] == {"threads": 1}, variant.name


def _finished_state(threads: int = 4):
    """A correct end: each consumer took a FIFO share of every producer's items."""
    state = MODULE.Pipeline(threads)
    items = [(s, p) for s in range(state.items_per_producer) for p in range(state.producers)]
    for n, (seq, producer) in enumerate(items):
        state.taken[n % state.consumers].append((producer, seq))
    return state


@pytest.mark.parametrize("variant", [*BUGGY, "sentinel"])
def test_check_accepts_a_correct_end_and_rejects_wrong_ones(variant):
    v = SCENARIO.variant(variant)
    good = _finished_state()
    v.check(good)
    n = good.expected()
    assert v.observe(good) == f"{n} of {n} items consumed once"

    lost = _finished_state()
    lost.taken[0].pop()
    with pytest.raises(AssertionError, match="items never consumed"):
        v.check(lost)
    twice = _finished_state()
    twice.taken[1].append(twice.taken[0][0])
    with pytest.raises(AssertionError, match="consumed more than once"):
        v.check(twice)
    disorder = _finished_state()
    disorder.taken[0].reverse()
    with pytest.raises(AssertionError, match="out of their producer's order"):
        v.check(disorder)
    running = _finished_state()
    running.still_running = ["consumer-0", "consumer-1"]
    with pytest.raises(AssertionError, match=r"still running when the program ended"):
        v.check(running)
    assert v.observe(running).endswith("; 2 threads still running")


@pytest.mark.timeout(30)
def test_the_fixed_program_ends_correctly_when_run_directly(no_leaks):
    v = SCENARIO.variant("sentinel")
    state = v.setup(4)
    (main,) = v.actors(state)
    main()
    v.check(state)
    assert state.unprocessed_at_join == 0
    assert state.still_running == []


@pytest.mark.timeout(30)
def test_teardown_frees_a_producer_blocked_on_a_full_queue(no_leaks):
    state = MODULE.bounded(2)
    state.items_per_producer = MODULE.QUEUE_SIZE + 2  # more than the queue holds
    state.main_done = True  # only the producer is left to free
    producer = threading.Thread(target=MODULE.produce, args=(state, 0), name="producer-0")
    state.threads = [producer]
    producer.start()
    MODULE.teardown(state)
    producer.join(10)
    assert not producer.is_alive(), "teardown left the producer blocked in put()"


@pytest.mark.timeout(120)
def test_runs_leave_nothing_behind(no_leaks):
    for name in (*BUGGY, "sentinel"):
        run_variant(SCENARIO, SCENARIO.variant(name), overrides={"runs": 3, "seed": 2}, judged=True)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("variant", "kind"), [("buggy", "deadlock"), ("task_done_twice", "exception")]
)
def test_explore_catches_both_bugs(variant, kind):
    run = run_variant(SCENARIO, SCENARIO.variant(variant), "explore", {"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == kind, str(run.result)


@pytest.mark.timeout(300)
def test_explore_finds_nothing_wrong_with_the_sentinel_fix():
    run = run_variant(SCENARIO, SCENARIO.variant("sentinel"), "explore", {"seed": 1, "budget": 200})
    assert run.met, str(run.result)
    assert run.result.runs == 200
