"""The stress engine: runs, histogram, watchdog, exception capture, noise."""

from __future__ import annotations

import _thread
import threading
import time

import pytest

import harness
from harness import UsageError, Verdict, sync
from harness.stress import watchdog


class Box:
    def __init__(self) -> None:
        self.value = 0


def test_histogram_counts_each_outcome_with_its_verdict():
    runs = iter(range(1000))

    def setup():
        box = Box()
        box.value = next(runs)
        return box

    result = harness.stress(
        setup,
        lambda box: [lambda: None],
        check=lambda box: box.value % 3 != 0,
        observe=lambda box: "multiple of 3" if box.value % 3 == 0 else "other",
        runs=30,
        noise=0,
    )
    entries = {(e.outcome, e.verdict): e.count for e in result.histogram}
    assert entries == {("multiple of 3", Verdict.FORBIDDEN): 10, ("other", Verdict.ACCEPTABLE): 20}
    assert result.runs == 30 and result.histogram.total == 30
    assert result.failed and result.kind == "assert"
    assert len(result.failing_runs) == 10 and result.first_failing_run == 0
    assert result.failures[0].count == 10, "ten identical failures are one group counted ten times"


def test_every_thread_runs_once_per_run_behind_the_start_gate():
    seen: list[int] = []
    lock = threading.Lock()

    def setup():
        return {"arrived": 0, "max_waiting": 0, "gate": threading.Barrier(8, timeout=5)}

    def actor(state):
        # All eight must be running at once, or the barrier times out and raises.
        state["gate"].wait()
        with lock:
            seen.append(threading.get_ident())

    result = harness.stress(setup, lambda s: [lambda: actor(s)] * 8, runs=5, noise=0, timeout=10)
    assert not result.failed, str(result)
    assert len(seen) == 40


def test_threads_option_repeats_actors_round_robin():
    calls: list[str] = []
    lock = threading.Lock()

    def actor(name):
        with lock:
            calls.append(name)

    result = harness.stress(
        lambda: None,
        lambda s: [lambda: actor("a"), lambda: actor("b")],
        runs=1,
        threads=5,
        noise=0,
    )
    assert not result.failed
    assert sorted(calls) == ["a", "a", "a", "b", "b"]


@pytest.mark.timeout(30)
def test_watchdog_reports_a_deadlock_with_its_cycle_and_moves_on():
    def setup():
        return {"a": threading.Lock(), "b": threading.Lock(), "both_hold_one": threading.Barrier(2)}

    def take(first, second, state):
        with state[first]:
            state["both_hold_one"].wait()  # now each thread holds one lock
            with state[second]:
                pass

    started = time.monotonic()
    result = harness.stress(
        setup,
        lambda s: [lambda: take("a", "b", s), lambda: take("b", "a", s)],
        runs=3,
        noise=0,
        timeout=0.5,
    )
    elapsed = time.monotonic() - started
    assert result.runs == 3, "the harness must carry on after a hung run"
    assert result.kind == "deadlock", str(result)
    assert len(result.failing_runs) == 3
    failure = result.failures[0].failure
    assert "T0 waits for state['b'] held by T1" in failure.message, failure.message
    assert "T1 waits for state['a'] held by T0" in failure.message
    assert "with state[second]" in failure.details, failure.details
    assert "held by T1 since test_stress.py:" in failure.details
    assert elapsed < 15, f"three 0.5 s deadlines took {elapsed:.1f}s"
    assert "abandoned_threads" not in result.settings, "instrumented locks let the threads unwind"


@pytest.mark.timeout(60)
def test_a_deadlock_no_timeout_can_end_is_reported_before_the_deadline():
    # Each of 20 runs deadlocks for certain; with a 30 s deadline, waiting it out
    # would take 10 minutes. The confirmed cycle ends each run at once, and the
    # instrumented locks let every stuck thread unwind: none is left behind.
    def setup():
        return {"a": threading.Lock(), "b": threading.Lock(), "both_hold_one": threading.Barrier(2)}

    def take(first, second, state):
        with state[first]:
            state["both_hold_one"].wait(timeout=30)
            with state[second]:
                pass

    before = threading.active_count()
    started = time.monotonic()
    result = harness.stress(
        setup,
        lambda s: [lambda: take("a", "b", s), lambda: take("b", "a", s)],
        runs=20,
        noise=0,
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert result.kind == "deadlock" and len(result.failing_runs) == 20, str(result)
    assert elapsed < 30, f"20 deadlocked runs took {elapsed:.1f}s: one deadline is 30 s"
    assert threading.active_count() == before, threading.enumerate()


def test_a_cycle_of_waits_with_timeouts_is_left_to_resolve():
    # The fix that backs off (acquire with a timeout) forms short-lived cycles: they
    # must not be called deadlocks.
    def setup():
        return {"a": threading.Lock(), "b": threading.Lock(), "both_hold_one": threading.Barrier(2)}

    def take(first, second, state):
        with state[first]:
            state["both_hold_one"].wait(timeout=30)
            if state[second].acquire(timeout=0.3):
                state[second].release()

    result = harness.stress(
        setup,
        lambda s: [lambda: take("a", "b", s), lambda: take("b", "a", s)],
        runs=3,
        noise=0,
        timeout=30,
    )
    assert not result.failed, str(result)


@pytest.mark.timeout(30)
def test_a_run_that_misses_its_deadline_without_a_cycle_is_a_hang():
    # The actor blocks on a raw lock the harness does not instrument: it could be
    # released at any time from outside, so this is a hang, not a deadlock.
    def setup():
        gate = _thread.allocate_lock()
        gate.acquire()
        return gate

    def teardown(gate):
        gate.release()

    result = harness.stress(
        setup,
        lambda gate: [lambda: gate.acquire(timeout=10) and gate.release()],
        runs=1,
        noise=0,
        timeout=0.3,
        teardown=teardown,
    )
    assert result.kind == "hang", str(result)
    failure = result.failures[0].failure
    assert "1 of 1 threads still running after 0.3s" in failure.message
    assert "gate.acquire(timeout=10)" in failure.details, failure.details


class _NestedMonitor:
    """The nested-monitor lockout: T0 holds ``outer`` and waits on ``ready`` (which
    releases only ready's own lock); T1 needs ``outer`` to notify."""

    def __init__(self):
        self.outer = threading.Lock()
        self.ready = threading.Condition()
        self.waiting = threading.Event()

    def waiter(self):
        with self.outer, self.ready:
            self.waiting.set()
            self.ready.wait()

    def notifier(self):
        self.waiting.wait(timeout=30)
        with self.outer, self.ready:
            self.ready.notify()

    @staticmethod
    def actors(state):
        return [state.waiter, state.notifier]


@pytest.mark.timeout(60)
def test_threads_that_all_wait_on_conditions_are_a_deadlock_ended_early():
    # The nested-monitor lockout: T0 holds `outer` and waits on `ready` (which
    # releases only ready's own lock); T1 needs `outer` to notify. No cycle of
    # held locks (a Condition wait has no holder), yet no thread can ever run.
    # Each run is a deadlock named with both waits, ended long before the 30 s
    # deadline, and every stuck thread unwinds.
    before = threading.active_count()
    started = time.monotonic()
    result = harness.stress(_NestedMonitor, _NestedMonitor.actors, runs=5, noise=0, timeout=30)
    elapsed = time.monotonic() - started
    assert result.kind == "deadlock" and len(result.failing_runs) == 5, str(result)
    message = result.failures[0].failure.message
    assert "T0 waits for ready (Condition)" in message, message
    assert "T1 waits for outer (Lock) held by T0" in message, message
    assert elapsed < 30, f"5 deadlocked runs took {elapsed:.1f}s: one deadline is 30 s"
    assert threading.active_count() == before, threading.enumerate()
    assert result.settings["deadlocks_ended_early"] == 5, result.settings
    assert "5 deadlocked run(s) ended as soon as the deadlock was confirmed" in str(result)


@pytest.mark.timeout(30)
def test_a_waiting_thread_is_no_deadlock_while_another_thread_can_act():
    # T1 waits with no timeout, but T0 is computing its way to the set(): the
    # watchdog must not end the run early (T0 is not in an untimed wait).
    def setup():
        return threading.Event()

    def setter(e):
        sum(range(2_000_000))  # busy for a while, in no wait at all
        e.set()

    result = harness.stress(
        setup, lambda e: [lambda: setter(e), lambda: e.wait()], runs=3, noise=0, timeout=10
    )
    assert not result.failed, str(result)


def test_exceptions_of_every_thread_are_kept_with_tracebacks():
    def boom(i):
        if i % 2:
            raise KeyError(f"key{i}")
        raise ValueError("bad value")

    result = harness.stress(
        lambda: None, lambda s: [lambda i=i: boom(i) for i in range(6)], runs=2, noise=0
    )
    assert result.failed and result.kind == "exception"
    groups = {g.failure.message: g for g in result.failures}
    assert groups["ValueError: bad value"].count == 6, "3 threads x 2 runs"
    key_groups = [g for m, g in groups.items() if m.startswith("KeyError")]
    assert sum(g.count for g in key_groups) == 6
    assert "in boom" in groups["ValueError: bad value"].failure.details
    details = groups["ValueError: bad value"].failure.details
    assert "harness/stress/" not in details and "harness/_lifecycle.py" not in details, details


def test_exception_in_a_thread_started_by_the_code_under_test_is_caught():
    def actor():
        t = threading.Thread(target=lambda: 1 / 0, name="spawned")
        t.start()
        t.join()

    result = harness.stress(lambda: None, lambda s: [actor], runs=3, noise=0)
    assert result.kind == "exception"
    group = result.failures[0]
    assert group.failure.message == "ZeroDivisionError: division by zero"
    assert group.failure.thread == "spawned"
    assert group.count == 3


def test_setup_exception_is_a_failure_not_a_crash():
    def setup():
        raise RuntimeError("no state today")

    result = harness.stress(setup, lambda s: [lambda: None], runs=2, noise=0)
    assert result.kind == "exception"
    assert "setup raised RuntimeError: no state today" in result.failures[0].failure.message


def test_noise_exposes_the_lost_update_that_plain_threads_miss():
    class Counter:
        value = 0

    def setup():
        c = Counter()
        c.value = 0
        return c

    def bump(c):
        for _ in range(2000):
            c.value = c.value + 1

    result = harness.stress(
        setup,
        lambda c: [lambda: bump(c)] * 4,
        check=lambda c: c.value == 8000,
        runs=20,
        noise=0.01,
        seed=3,
        stop_on_failure=True,
    )
    assert result.failed and result.kind == "assert", str(result)


def test_seconds_budget_bounds_the_call():
    result = harness.stress(lambda: None, lambda s: [lambda: None], seconds=0.3, noise=0)
    assert result.runs >= 1
    assert result.duration < 5


def test_progress_is_reported_after_each_run():
    calls = []
    harness.stress(
        lambda: None,
        lambda s: [lambda: None],
        runs=4,
        noise=0,
        progress=lambda done, total, elapsed: calls.append((done, total)),
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"runs": 0}, "runs must be at least 1"),
        ({"runs": -5}, "runs must be at least 1"),
        ({"runs": 2.5}, "runs must be a whole number"),
        ({"runs": True}, "runs must be a whole number"),
        ({"noise": 1.5}, "noise must be between 0 and 1"),
        ({"noise": float("nan")}, "noise must be between 0 and 1"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"threads": 10**9}, "threads must be at most"),
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"seconds": -1}, "seconds must be a positive number"),
        ({"seed": "x"}, "seed must be a whole number"),
    ],
)
def test_bad_arguments_raise_usage_error(kwargs, fragment):
    with pytest.raises(UsageError, match=fragment):
        harness.stress(lambda: None, lambda s: [lambda: None], **kwargs)


@pytest.mark.parametrize(
    "actors, fragment",
    [
        (lambda s: [], "returned no actors"),
        (lambda s: 5, "must return a list of callables"),
        (lambda s: [1], r"actors\(state\)\[0\] must be a zero-argument callable"),
    ],
)
def test_bad_actors_raise_usage_error(actors, fragment):
    with pytest.raises(UsageError, match=fragment):
        harness.stress(lambda: None, actors, runs=1)


def test_non_callable_setup_is_a_usage_error():
    with pytest.raises(UsageError, match="setup must be callable"):
        harness.stress(None, lambda s: [])  # type: ignore[arg-type]


@pytest.mark.timeout(30)
def test_a_spinning_thread_of_a_hung_run_is_unwound_not_abandoned():
    class Flag:
        stop = False

    def spin(flag):
        while not flag.stop:  # nobody ever sets it
            pass

    result = harness.stress(Flag, lambda f: [lambda: spin(f)], runs=2, noise=0.01, timeout=0.3)
    assert result.kind == "hang" and result.runs == 2
    assert "abandoned_threads" not in result.settings, "noise hooks must unwind the spinner"


@pytest.mark.timeout(30)
def test_teardown_runs_after_every_run_even_a_hung_one():
    torn_down = []

    class State:
        def __init__(self):
            self.release = threading.Event()

    def teardown(state):
        torn_down.append(state)
        state.release.set()  # what frees the stuck thread

    result = harness.stress(
        State,
        lambda s: [lambda: s.release.wait()],
        runs=2,
        noise=0,
        timeout=0.3,
        teardown=teardown,
    )
    assert len(torn_down) == 2
    # Nothing in the run can set the event (only the teardown does): every thread
    # waits with no timeout, which is a deadlock, as explore would say.
    assert result.kind == "deadlock", str(result)
    assert "abandoned_threads" not in result.settings, "teardown freed the stuck threads"


def test_teardown_exception_is_reported():
    def teardown(state):
        raise OSError("port still bound")

    result = harness.stress(
        lambda: None, lambda s: [lambda: None], runs=1, noise=0, teardown=teardown
    )
    assert result.kind == "exception"
    assert result.failures[0].failure.message == "teardown raised OSError: port still bound"


@pytest.mark.timeout(60)
def test_engine_shuts_down_cleanly_while_an_abandoned_thread_still_runs():
    """A thread the harness cannot unwind (no noise hook, no instrumented wait)
    keeps calling fresh code under test while the engine removes its hooks."""
    stop = threading.Event()
    stop_real = stop.is_set  # a real Event, created outside the engine
    calls = []

    def busy():
        while not stop_real():
            # new code objects keep starting while the engine is stopping
            exec(compile("calls.append(1)", __file__, "exec"), {"calls": calls})

    result = harness.stress(lambda: None, lambda s: [busy], runs=1, noise=0, timeout=0.3)
    try:
        assert result.kind == "hang"
        assert result.settings.get("abandoned_threads") == 1
        assert calls, "the thread was really running"
    finally:
        stop.set()


def test_system_exit_in_a_thread_is_not_a_failure():
    import sys as _sys

    def actor():
        t = threading.Thread(target=_sys.exit)
        t.start()
        t.join()

    assert not harness.stress(lambda: None, lambda s: [actor], runs=2, noise=0).failed
    assert not harness.explore(lambda: None, lambda s: [actor], budget=2).failed


@pytest.mark.timeout(60)
def test_runs_stop_when_a_thread_cannot_be_unwound():
    # A raw lock the harness does not instrument: the stuck actor cannot be
    # unwound, so stress must not start run after run, each leaving one more
    # thread behind. It stops after the first and says why.
    gate = _thread.allocate_lock()
    gate.acquire()
    before = threading.active_count()
    try:
        result = harness.stress(
            lambda: None, lambda s: [lambda: gate.acquire()], runs=20, noise=0, timeout=0.3
        )
        assert result.runs == 1, str(result)
        assert result.kind == "hang", str(result)
        assert result.settings["abandoned_threads"] == 1, result.settings
        assert "no further run was started" in str(result), str(result)
        assert threading.active_count() == before + 1, threading.enumerate()
        # The thread left behind is not one that could wake a later call's
        # threads: a deadlock there is still ended as soon as it is confirmed.
        started = time.monotonic()
        later = harness.stress(_NestedMonitor, _NestedMonitor.actors, runs=2, noise=0, timeout=30)
        assert later.kind == "deadlock", str(later)
        assert time.monotonic() - started < 30, "waited out a deadline"
    finally:
        gate.release()  # lets the one stuck thread end


def _waits_of(*objects: object) -> dict[int, object]:
    """Wait records as ``context.waiting_for`` holds them, one made-up thread each."""
    return {1000 + i: (obj, None) for i, obj in enumerate(objects)}


def test_woken_waiters_that_the_os_has_not_run_yet_are_no_deadlock(monkeypatch):
    # The holder released its lock and ended; the two waiters it woke are still
    # recorded as waiting (a loaded machine had not scheduled them for both looks).
    free = sync.Lock()
    waits = _waits_of(free, free)
    monkeypatch.setattr(watchdog, "_stuck_for_good", lambda: waits)
    monkeypatch.setattr(watchdog, "CYCLE_CONFIRM_DELAY", 0.0)
    assert not watchdog._all_stuck_confirmed()
    held = sync.Lock()
    assert held.acquire(False)
    try:
        held_waits = _waits_of(held, held)
        monkeypatch.setattr(watchdog, "_stuck_for_good", lambda: held_waits)
        assert watchdog._all_stuck_confirmed(), "threads waiting on a held lock are stuck"
    finally:
        held.release()


def test_a_notified_condition_waiter_is_no_deadlock(monkeypatch):
    condition = sync.Condition()
    # Two threads recorded waiting on the condition, none parked any more: notified.
    waits = _waits_of(condition, condition)
    monkeypatch.setattr(watchdog, "_stuck_for_good", lambda: waits)
    monkeypatch.setattr(watchdog, "CYCLE_CONFIRM_DELAY", 0.0)
    assert not watchdog._all_stuck_confirmed()
    condition._waiters.extend([object(), object()])  # both still parked: stuck
    assert watchdog._all_stuck_confirmed()
