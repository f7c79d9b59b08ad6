"""The exploration engine: finds interleaving bugs on purpose, verifies fixes, replays."""

from __future__ import annotations

import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness
from harness import TokenError, UsageError


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()


def bump(c: Counter, times: int = 2) -> None:
    for _ in range(times):
        c.value = c.value + 1


def bump_locked(c: Counter, times: int = 2) -> None:
    for _ in range(times):
        with c.lock:
            c.value = c.value + 1


def two(fn):
    return lambda c: [lambda: fn(c), lambda: fn(c)]


@pytest.mark.parametrize("strategy", ["random", "pct", "mixed", "pos", "dfs"])
def test_every_strategy_finds_the_lost_update(strategy):
    result = harness.explore(
        Counter, two(bump), lambda c: c.value == 4, strategy=strategy, budget=500, seed=1
    )
    assert result.failed and result.kind == "assert", str(result)
    assert result.schedule and result.schedule.startswith("hx1_")


def test_bounded_search_verifies_the_locked_counter():
    result = harness.explore(
        Counter, two(bump_locked), lambda c: c.value == 4, strategy="dfs", bound=2, budget=100_000
    )
    assert not result.failed, str(result)
    verified = result.sections["verified"]
    assert verified == f"all {result.runs} schedules with <= 2 preemptions hold"
    assert result.runs > 50, "a real search, not a single run"


def test_dfs_explores_more_schedules_with_a_larger_bound():
    runs = []
    for bound in (0, 1, 2):
        result = harness.explore(
            Counter,
            two(bump_locked),
            lambda c: c.value == 4,
            strategy="dfs",
            bound=bound,
            budget=100_000,
        )
        assert "verified" in result.sections
        runs.append(result.runs)
    assert runs[0] < runs[1] < runs[2]


def test_same_seed_same_schedules_and_outcomes():
    def run(seed):
        r = harness.explore(
            Counter,
            two(bump),
            lambda c: c.value == 4,
            strategy="random",
            budget=50,
            seed=seed,
            stop_on_failure=False,
        )
        return [(e.outcome, e.count) for e in r.histogram], r.failing_runs

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_replay_reproduces_the_failure_100_times():
    result = harness.explore(Counter, two(bump), lambda c: c.value == 4, seed=3)
    assert result.failed
    expected = result.failures[0].failure.message
    for _ in range(100):
        again = harness.replay(result.schedule, Counter, two(bump), lambda c: c.value == 4)
        assert again.failed and again.failures[0].failure.message == expected


def test_shrunk_lost_update_has_one_preemption_and_marks_the_conflict():
    result = harness.explore(
        Counter, two(lambda c: bump(c, 50)), lambda c: c.value == 100, strategy="random", seed=2
    )
    assert result.failed
    interleaving = result.sections["interleaving"]
    assert interleaving.preemptions == 1, interleaving.render_text()
    shrink = result.sections["shrink"]
    assert shrink["to"]["preemptions"] <= shrink["from"]["preemptions"]
    text = interleaving.render_text()
    assert "*read .value" in text and "*write .value" in text
    assert "c.value = c.value + 1" in text


def test_deadlock_is_reported_at_once_with_names_and_lines():
    class Two:
        def __init__(self):
            self.lock_a = threading.Lock()
            self.lock_b = threading.Lock()

    def take(first, second):
        with first:  # noqa: SIM117 - the order of the two acquisitions is the point
            with second:
                pass

    started = time.monotonic()
    result = harness.explore(
        Two,
        lambda s: [lambda: take(s.lock_a, s.lock_b), lambda: take(s.lock_b, s.lock_a)],
        strategy="dfs",
        timeout=30,
    )
    assert time.monotonic() - started < 10, "no timeout is involved in finding a deadlock"
    assert result.kind == "deadlock"
    failure = result.failures[0].failure
    assert "lock_a" in failure.message and "lock_b" in failure.message
    assert "T0 waits for lock_" in failure.details and "held by T" in failure.details
    assert failure.details.count("test_engine.py:") == 4, failure.details


def test_a_consumer_that_never_ends_is_a_deadlock_on_the_queue():
    class State:
        def __init__(self):
            self.q = queue.Queue()

    def consume_forever(s):
        while True:
            s.q.get()

    result = harness.explore(State, lambda s: [lambda: s.q.put(1), lambda: consume_forever(s)])
    assert result.kind == "deadlock"
    assert "q.not_empty" in result.failures[0].failure.details


def test_threads_started_by_the_code_under_test_are_managed():
    def spawner(c):
        threads = [threading.Thread(target=bump, args=(c, 1)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    result = harness.explore(
        Counter,
        lambda c: [lambda: spawner(c)],
        lambda c: c.value == 2,
        strategy="random",
        budget=500,
        seed=1,
    )
    assert result.failed and result.kind == "assert", str(result)


def test_thread_pool_tasks_are_managed_and_fixed_code_holds():
    def pooled(c):
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(bump_locked, c, 1) for _ in range(3)]
            for f in futures:
                f.result()

    result = harness.explore(
        Counter,
        lambda c: [lambda: pooled(c)],
        lambda c: c.value == 3,
        strategy="random",
        budget=100,
    )
    assert not result.failed, str(result)
    assert result.runs == 100


def test_timeouts_run_on_the_virtual_clock():
    class State:
        def __init__(self):
            self.event = threading.Event()
            self.waited = None

    def waiter(s):
        started = time.monotonic()
        s.event.wait(timeout=3600)  # an hour, virtually
        s.waited = time.monotonic() - started

    started = time.monotonic()
    result = harness.explore(
        State, lambda s: [lambda: waiter(s)], lambda s: s.waited == 3600, budget=3
    )
    assert not result.failed, str(result)
    assert time.monotonic() - started < 30


def test_a_timeout_based_retry_is_verified_without_false_alarms():
    class State:
        def __init__(self):
            self.a = threading.Lock()
            self.b = threading.Lock()
            self.done = 0

    def careful(s, first, second):
        for _ in range(20):
            with first:
                if second.acquire(timeout=0.05):
                    try:
                        s.done += 1
                        return
                    finally:
                        second.release()
            time.sleep(0.01)
        raise RuntimeError("gave up")

    result = harness.explore(
        State,
        lambda s: [lambda: careful(s, s.a, s.b), lambda: careful(s, s.b, s.a)],
        lambda s: s.done == 2,
        strategy="dfs",
        budget=100_000,
    )
    assert not result.failed, str(result)
    assert "verified" in result.sections


def test_livelock_is_reported_through_the_step_limit():
    class Flag:
        up = False

    def spin(f):
        while not f.up:
            pass

    result = harness.explore(Flag, lambda f: [lambda: spin(f)], max_steps=500, budget=1)
    assert result.kind == "livelock"
    assert "500" in result.failures[0].failure.message


def test_exceptions_in_spawned_threads_fail_the_execution():
    def actor():
        t = threading.Thread(target=lambda: 1 / 0)
        t.start()
        t.join()

    result = harness.explore(lambda: None, lambda s: [actor], budget=2)
    assert result.kind == "exception"
    assert "ZeroDivisionError" in result.failures[0].failure.message
    assert "1 / 0" in result.failures[0].failure.details


def test_leftover_waiting_thread_is_a_leak():
    def actor():
        forever = threading.Event()
        threading.Thread(target=forever.wait, daemon=True, name="waiter").start()

    result = harness.explore(lambda: None, lambda s: [actor], budget=1)
    assert result.kind == "leak"
    assert "waiter" in result.failures[0].failure.message


def test_start_new_thread_is_managed_and_checks_its_arguments():
    import _thread

    def wrong():
        _thread.start_new_thread(print, "Argument")

    result = harness.explore(lambda: None, lambda s: [wrong], budget=1)
    assert result.kind == "exception"
    assert "TypeError: 2nd arg must be a tuple" in result.failures[0].failure.message


@pytest.mark.parametrize("strategy", ["dfs", "dpor"])
def test_a_search_whose_program_changes_on_replay_stops_with_a_clear_error(strategy):
    import itertools

    from harness.explore.strategies import NondeterminismError

    calls = itertools.count()  # outside the harness's control: differs on every replay

    class Box:
        value = 0

    def bump(box):
        for _ in range(next(calls) % 3):
            box.value = box.value + 1

    seen = []  # exceptions of the program's threads: the error must not be one
    hook, threading.excepthook = threading.excepthook, seen.append
    try:
        with pytest.raises(NondeterminismError) as raised:
            harness.explore(
                Box, lambda b: [lambda: bump(b)] * 2, strategy=strategy, timeout=30, budget=200
            )
    finally:
        threading.excepthook = hook
    message = str(raised.value)
    assert "does not behave the same way when replayed" in message, message
    assert f"the {strategy} search stopped after" in message, message
    assert "proves nothing" in message, message
    assert not seen, [args.exc_value for args in seen]


@pytest.mark.timeout(60)
def test_a_real_blocking_call_is_a_hang_not_a_hung_harness():
    real = threading.Lock()  # created before the harness patched threading

    def actor():
        with real:
            time.sleep(0)  # a scheduling point while holding a real lock

    result = harness.explore(
        lambda: None, lambda s: [actor, actor], strategy="dfs", timeout=1, budget=20
    )
    assert result.kind == "hang", str(result)
    assert "outside the harness's control" in result.failures[0].failure.message


def test_interpreter_is_restored():
    import queue as queue_module

    before = (threading.Lock, threading.Thread.start, time.sleep, queue_module.SimpleQueue)
    harness.explore(Counter, two(bump), budget=3)
    assert (threading.Lock, threading.Thread.start, time.sleep, queue_module.SimpleQueue) == before


def test_tokens_refuse_another_python(monkeypatch):
    result = harness.explore(Counter, two(bump), lambda c: c.value == 4)
    from harness.explore import token as schedule

    monkeypatch.setattr(schedule, "interpreter", lambda: ("cpython-399", 1))
    with pytest.raises(TokenError, match="recorded on cpython-3"):
        harness.replay(result.schedule, Counter, two(bump))


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"budget": 0}, "budget must be at least 1"),
        ({"strategy": "bfs"}, "unknown strategy 'bfs'"),
        ({"bound": -1}, "bound"),
        ({"seed": 1.5}, "seed must be a whole number"),
    ],
)
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(UsageError, match=fragment):
        harness.explore(Counter, two(bump), **kwargs)


def test_backend_matches_the_python_version():
    result = harness.explore(Counter, two(bump), budget=1)
    expected = "sys.monitoring" if sys.version_info >= (3, 12) else "settrace"
    assert result.settings["backend"] == expected
