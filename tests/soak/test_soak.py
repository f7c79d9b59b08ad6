"""The soak's parts on small numbers (the real soak is `nox -s soak`)."""

from __future__ import annotations

import pytest

from harness.scenario import CAUGHT, HOLDS, catalogue
from harness.soak import main
from harness.soak.catalogue import Batch, BatchResult, deal, fixed_variants, plan, soak
from harness.soak.memory import MB, MemoryTrace, explore_loop, rss_bytes


def test_fixed_variants_are_every_fix_that_stress_runs_and_no_bug():
    pairs = [(s, v) for s in catalogue().values() for v in s.variants.values()]
    found = fixed_variants()
    assert found == [
        f"{s.name}:{v.name}" for s, v in pairs if v.expect == HOLDS and "stress" in v.engines
    ]
    assert not {f"{s.name}:{v.name}" for s, v in pairs if v.expect == CAUGHT} & set(found)
    assert fixed_variants(["thevar:lock", "thevar"]) == ["thevar:lock", "thevar:queue"]


def test_plan_brings_a_variant_to_its_total_with_fresh_seeds():
    probe = BatchResult(Batch("thevar:lock", 10, 0), 10, 0, seconds=0.5)  # 50 ms a run
    batches = plan(probe, 10_000, batch_seconds=60)
    assert sum(b.runs for b in batches) == 10_000 - 10
    assert {b.runs for b in batches[:-1]} == {1200}
    assert [b.seed for b in batches] == list(range(1, len(batches) + 1))
    assert plan(probe, 10, batch_seconds=60) == []


def test_deal_takes_one_batch_of_each_variant_in_turn_costliest_first():
    cheap = [Batch("thevar:lock", 5, seed) for seed in (1, 2)]
    dear = [Batch("ping_sweep:join", 5, seed) for seed in (1, 2, 3)]
    dealt = deal([(1.0, cheap), (9.0, dear)])
    assert [(b.spec.split(":")[0], b.seed) for b in dealt] == [
        ("ping_sweep", 1),
        ("thevar", 1),
        ("ping_sweep", 2),
        ("thevar", 2),
        ("ping_sweep", 3),
    ]
    assert deal([]) == []


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_soak_counts_runs_and_holds_for_fixes():
    seen = []
    tallies = soak(
        ["thevar:lock", "thevar:queue"], 25, batch_seconds=1, report=lambda d, t: seen.append(d)
    )
    assert [t.runs for t in tallies.values()] == [25, 25]
    assert all(t.failures == 0 and t.seconds > 0 for t in tallies.values())
    assert {d.batch.seed for d in seen if d.batch.spec == "thevar:lock"} >= {0, 1}


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_soak_counts_failures_and_names_the_command_that_repeats_them():
    (tally,) = soak(["thevar:buggy"], 12).values()
    assert tally.failures > 0 and tally.failed_batches
    command = tally.failed_batches[0].command
    assert command.startswith("harness stress thevar:buggy --runs ") and "--seed" in command


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_worker_processes_give_the_same_tallies():
    (tally,) = soak(["thevar:lock"], 30, jobs=2, batch_seconds=1).values()
    assert tally.runs == 30 and tally.failures == 0


def test_memory_trace_judges_growth_after_the_warm_up():
    flat = MemoryTrace(
        (10 * MB, 80 * MB, 81 * MB, 120 * MB, 85 * MB), warmup=2, calls_failed=0, unexpected=()
    )
    assert flat.baseline == 80 * MB and flat.growth == 40 * MB and flat.flat()
    growing = MemoryTrace((80 * MB, 80 * MB, 140 * MB), warmup=1, calls_failed=0, unexpected=())
    assert growing.growth == 60 * MB and not growing.flat()
    assert "first 10.0 MB, max 120.0 MB, last 85.0 MB" in flat.figures()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_explore_loop_samples_rss_after_each_call():
    trace = explore_loop(6, budget=20, warmup=3)
    assert len(trace.samples) == 6 and trace.warmup == 3
    assert trace.calls_failed == 4  # thevar:buggy and deadlock:buggy, twice each
    assert not trace.unexpected
    assert all(s > 5 * MB for s in trace.samples) and rss_bytes() > 5 * MB


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_main_prints_the_figures_and_exits_0(capsys):
    assert main(["thevar:lock", "--runs", "12", "--calls", "3", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "RSS first" in out and "flat" in out
    assert "thevar:lock" in out and "total" in out and "soak: PASSED" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["thevar:buggy"], "no fixed variant to soak in thevar:buggy"),
        (["nosuch"], "unknown scenario"),
    ],
)
def test_main_usage_errors_exit_2_before_running(capsys, argv, fragment):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and fragment in err
