"""strategy="dpor": source-DPOR with sleep sets, exact trace counts, no bug lost."""

from __future__ import annotations

import pytest

import harness
from harness.explore.strategies import DPOR, Choice, make_strategy
from harness.explore.strategies.dpor import Label, dependent
from harness.runner import run_variant
from harness.scenario import catalogue


class Cells:
    def __init__(self) -> None:
        self.a = 0
        self.b = 0
        self.c = 0
        self.log: list[int] = []


def _explore(actors, check=None, **kw):
    kw.setdefault("budget", 500)
    return harness.explore(Cells, actors, check, strategy="dpor", **kw)


def test_independent_writes_are_one_interleaving():
    def actors(s):
        def t0():
            s.a = 1

        def t1():
            s.b = 1

        return [t0, t1]

    result = _explore(actors)
    assert result.runs == 1
    assert result.sections["verified"] == "all 1 interleavings hold"
    dfs = harness.explore(Cells, actors, strategy="dfs", budget=500)
    assert dfs.runs > 1  # the reduction is what makes it one


def test_two_conflicting_writes_are_two_interleavings():
    def actors(s):
        def t0():
            s.a = 1

        def t1():
            s.a = 2

        return [t0, t1]

    result = _explore(actors)
    assert result.runs == 2
    assert result.sections["verified"] == "all 2 interleavings hold"


def test_both_orders_of_a_write_race_are_run():
    # the check fails only when t1 writes last: a reduction that ran one order
    # of the conflicting writes would miss it
    def actors(s):
        def t0():
            s.a = 1

        def t1():
            s.a = 2

        return [t0, t1]

    result = _explore(actors, lambda s: s.a == 1)
    assert result.failures and "verified" not in result.sections


def test_unlocked_counter_increment_is_found():
    def actors(s):
        def inc():
            v = s.c
            s.c = v + 1

        return [inc, inc]

    result = _explore(actors, lambda s: s.c == 2)
    assert result.failures, str(result)
    assert "verified" not in result.sections


def test_locked_increments_are_four_interleavings():
    # The classic two-thread lock program. Who takes the lock first gives two
    # classes; every operation on the lock is an event dependent with the
    # others', so the second thread's attempt that blocks (before the release)
    # and the one that succeeds (after it) are two more: 2 x 2 = 4 traces.
    import threading

    def setup():
        s = Cells()
        s.lock = threading.Lock()
        return s

    def actors(s):
        def inc():
            with s.lock:
                v = s.c
                s.c = v + 1

        return [inc, inc]

    result = harness.explore(setup, actors, lambda s: s.c == 2, strategy="dpor", budget=500)
    assert result.sections.get("verified") == "all 4 interleavings hold", str(result)
    dfs = harness.explore(setup, actors, lambda s: s.c == 2, strategy="dfs", budget=500)
    assert dfs.runs > result.runs


def test_a_budget_limited_search_never_says_verified():
    def actors(s):
        def inc():
            for _ in range(3):
                v = s.c
                s.c = v + 1

        return [inc, inc, inc]

    result = _explore(actors, budget=3)
    assert result.runs == 3
    assert "verified" not in result.sections
    assert "nothing is proved" in result.sections["explored"]


def test_bounded_dpor_says_its_bound():
    def actors(s):
        def t0():
            s.a = 1

        def t1():
            s.a = 2

        return [t0, t1]

    result = _explore(actors, bound=1)
    # no sleep sets under a bound, and conservative backtracking: a few more
    # runs than the 2 traces, still fewer than every schedule
    assert result.sections["verified"] == (
        f"all {result.runs} interleavings hold with <= 1 preemptions"
    )
    dfs = harness.explore(Cells, actors, strategy="dfs", bound=1, budget=500)
    assert 2 <= result.runs < dfs.runs


def test_dependence():
    canon: dict[int, int] = {}
    lock = object()

    def label(kind, what):
        lab = Label()
        lab.add(kind, what, canon)
        return lab

    assert not dependent(label("read", ".a"), label("read", ".a"))
    assert dependent(label("read", ".a"), label("write", ".a"))
    assert not dependent(label("write", ".a"), label("write", ".b"))
    assert dependent(label("sync", lock), label("sync", lock))
    assert not dependent(label("sync", lock), label("sync", object()))
    assert dependent(label("call", "()"), label("read", "[]"))
    assert not dependent(label("call", "()"), label("read", ".a"))
    timeout = Label()
    timeout.glob = True
    assert dependent(timeout, label("read", ".a"))


def _builtin_calls(x, items):
    a = len(x)
    b = getattr(x, "y", None)
    c = sorted(items, key=str)
    d = max(items, default=0)
    x.append(1)  # a method: may write
    e = str(len(x))  # len only reads; str's argument is computed by a call
    return a, b, c, d, e


def test_calls_of_read_only_builtins_are_recognised_on_every_version():
    # The bytecode of a call differs by version (3.10: no NULL beside the
    # callable, keyword names on the stack; 3.13: CALL_KW): on 3.10 none was
    # recognised, every getattr() was a call that may write, and dpor did not
    # exhaust deadlock:ordered within 10,000 schedules.
    from harness.explore.strategies.calls import _scan

    assert sorted(_scan(_builtin_calls.__code__).values()) == [
        "getattr",
        "len",
        "len",
        "max",
        "sorted",
    ]


def test_make_strategy_is_unbounded_by_default():
    strategy = make_strategy("dpor", 0, bound=None)
    assert isinstance(strategy, DPOR) and strategy.bound is None
    assert strategy.describe() == {"strategy": "dpor"}
    assert make_strategy("dpor", 0, bound=2).describe()["preemption_bound"] == 2


def test_a_replay_that_behaves_differently_stops_the_search():
    strategy = DPOR()
    choice = Choice()
    choice.runnable = (0, 1)
    choice.ops = [("write", ".a"), ("write", ".a")]
    choice.frames = [None, None]
    choice.current_runnable = False
    assert strategy.new_execution()
    assert strategy.choose(choice) == 0
    choice.current, choice.current_runnable, choice.runnable = 0, False, (1,)
    choice.default = 2
    assert strategy.choose(choice) == 2
    strategy.end_execution(2, False)
    assert strategy.new_execution()  # the race: thread 1 first
    choice.current, choice.current_runnable, choice.runnable, choice.default = -1, False, (0,), 0
    strategy.choose(choice)  # only thread 0 offered now: not what the prefix offered
    strategy.end_execution(1, False)
    with pytest.raises(harness.errors.HarnessError, match="does not behave the same"):
        strategy.new_execution()


DEADLOCK = catalogue()["deadlock"]


@pytest.mark.timeout(300)
def test_the_ordered_fix_is_verified_over_every_interleaving():
    run = run_variant(DEADLOCK, DEADLOCK.variant("ordered"), "explore", {"strategy": "dpor"})
    verified = run.result.sections.get("verified", "")
    assert verified.startswith("all ") and verified.endswith(" interleavings hold"), str(run.result)
    assert run.result.runs < 1374 // 5  # dfs --bound 2 needs 1,374
    assert run.result.runs == 2  # who takes lock_a first; on every version


@pytest.mark.timeout(300)
def test_the_buggy_variant_deadlocks():
    run = run_variant(DEADLOCK, DEADLOCK.variant("buggy"), "explore", {"strategy": "dpor"})
    assert run.met and run.result.kind == "deadlock", str(run.result)


def _explorable():
    for scenario in catalogue().values():
        for variant in scenario.variants.values():
            if "explore" in variant.engines and variant.kinds is not None:
                yield pytest.param(scenario, variant, id=f"{scenario.name}:{variant.name}")


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("scenario", "variant"), list(_explorable()))
def test_no_buggy_variant_that_dfs_catches_is_lost(scenario, variant):
    dfs = run_variant(scenario, variant, "explore", {"strategy": "dfs", "budget": 3000})
    for bound in (None, 2):
        run = run_variant(
            scenario, variant, "explore", {"strategy": "dpor", "bound": bound, "budget": 3000}
        )
        assert run.met or not dfs.met, f"dpor bound={bound} lost what dfs found: {run.result}"


def test_the_order_of_two_timeouts_is_explored():
    # both threads sleep until the same instant: which one wakes first decides
    # who writes last; only the timeouts' order tells the two runs apart (the
    # explorer's virtual clock: no real second passes, and nothing waits on it)
    import time

    def actors(s):
        def t0():
            time.sleep(1)
            s.a = 1

        def t1():
            time.sleep(1)
            s.a = 2

        return [t0, t1]

    assert _explore(actors, lambda s: s.a == 2).failures
    assert _explore(actors, lambda s: s.a == 1).failures
