"""Each detector, in both engines, and proof that the tests need the detector:
with the detector switched off, the same program is not reported."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness
from harness.detect.lockorder import LockOrderGraph
from harness.sync import Lock, RLock

ENGINES = {
    "stress": lambda *a, **k: harness.stress(*a, runs=3, noise=0, **k),
    "explore": lambda *a, **k: harness.explore(*a, budget=20, **k),
}


# -- lock order -------------------------------------------------------------------


class Handshake:
    """The second thread waits until the first has finished with A then B."""

    def __init__(self) -> None:
        self.lock_a = threading.Lock()
        self.lock_b = threading.Lock()
        self.first_done = threading.Event()


def a_then_b(s: Handshake) -> None:
    with s.lock_a:  # noqa: SIM117 - the order is the point
        with s.lock_b:
            pass
    s.first_done.set()


def b_then_a(s: Handshake) -> None:
    s.first_done.wait()
    with s.lock_b:  # noqa: SIM117 - the order is the point
        with s.lock_a:
            pass


def handshake_actors(s: Handshake):
    return [lambda: a_then_b(s), lambda: b_then_a(s)]


@pytest.mark.parametrize("engine", ENGINES)
def test_lock_order_inversion_is_reported_although_nothing_deadlocks(engine):
    result = ENGINES[engine](Handshake, handshake_actors)
    kinds = {g.failure.kind for g in result.failures}
    assert kinds == {"lock-order"}, str(result)
    failure = result.failures[0].failure
    assert "lock_a" in failure.message and "lock_b" in failure.message
    assert failure.details.count("test_detectors.py:") == 4, failure.details
    assert "took lock_b at test_detectors.py:" in failure.details
    assert "while holding lock_a" in failure.details


@pytest.mark.parametrize("engine", ENGINES)
def test_lock_order_switch(engine):
    result = ENGINES[engine](Handshake, handshake_actors, lockorder=False)
    assert not result.failed, "with the detector off the inversion goes unreported"


def _graph_after(body) -> LockOrderGraph:
    from harness.sync import context

    graph = LockOrderGraph()
    context.monitors.append(graph)
    try:
        body()
    finally:
        context.monitors.remove(graph)
    return graph


def test_graph_edges_only_for_nested_blocking_acquisitions():
    a, b, r = Lock(), Lock(), RLock()

    def body():
        with a, b:  # a -> b
            pass
        with a:
            pass
        with b:  # released before: no edge from a
            pass
        with r, r:  # re-entering an RLock: no edge r -> r
            pass
        with b:
            if a.acquire(timeout=1):  # a timed acquire cannot deadlock: no edge
                a.release()
            if a.acquire(blocking=False):
                a.release()

    graph = _graph_after(body)
    edges = {(e.held, e.taken) for e in graph.edges()}
    assert edges == {(a, b)}
    assert graph.cycles() == []


def test_graph_finds_a_three_lock_cycle():
    a, b, c = Lock(), Lock(), Lock()

    def body():
        for first, second in ((a, b), (b, c), (c, a)):
            with first, second:
                pass

    graph = _graph_after(body)
    (cycle,) = graph.cycles()
    assert {id(e.held) for e in cycle} == {id(a), id(b), id(c)}


# -- deadlock with its cycle, in both engines ----------------------------------------


@pytest.mark.parametrize("engine", ["stress", "explore"])
def test_deadlock_scenario_is_reported_with_its_cycle(engine):
    from harness.runner import run_variant
    from harness.scenario import catalogue

    scenario = catalogue()["deadlock"]
    run = run_variant(scenario, scenario.variant("buggy"), engine, judged=True)
    assert run.result.kind == "deadlock", str(run.result)
    message = run.result.failures[0].failure.message
    assert "waits for lock_" in message and "held by" in message
    budget = {"runs": 20} if engine == "stress" else {"budget": 200}
    for fix in ("ordered", "timeout"):
        fixed = run_variant(scenario, scenario.variant(fix), engine, budget)
        assert not fixed.result.failed, str(fixed.result)


# -- exceptions, leaks ------------------------------------------------------------------


def spawn_and_divide():
    t = threading.Thread(target=lambda: 1 / 0, name="divider")
    t.start()
    t.join()


@pytest.mark.parametrize("engine", ENGINES)
def test_exception_in_a_thread_started_by_an_actor(engine):
    result = ENGINES[engine](lambda: None, lambda s: [spawn_and_divide])
    assert result.kind == "exception"
    failure = result.failures[0].failure
    assert failure.message == "ZeroDivisionError: division by zero"
    assert "1 / 0" in failure.details and failure.thread == "divider"


def submit_and_forget():
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: {}["missing"])  # its future is never read


@pytest.mark.parametrize("engine", ENGINES)
def test_exception_of_a_pool_task_nobody_read(engine):
    result = ENGINES[engine](lambda: None, lambda s: [submit_and_forget])
    assert result.kind == "exception", str(result)
    failure = result.failures[0].failure
    assert "KeyError: 'missing'" in failure.message
    assert "pool task whose result nobody read" in failure.message
    assert '{}["missing"]' in failure.details


def submit_and_read():
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(lambda: {}["missing"])
        assert isinstance(future.exception(), KeyError)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pool_exception_that_was_read_is_not_reported(engine):
    result = ENGINES[engine](lambda: None, lambda s: [submit_and_read])
    assert not result.failed, str(result)


class Parked:
    def __init__(self) -> None:
        self.never = threading.Event()


def leave_a_daemon_waiting(s: Parked) -> None:
    threading.Thread(target=s.never.wait, daemon=True, name="forgotten").start()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_daemon_thread_left_waiting_is_a_leak(engine):
    result = ENGINES[engine](Parked, lambda s: [lambda: leave_a_daemon_waiting(s)])
    assert result.kind == "leak", str(result)
    failure = result.failures[0].failure
    assert "forgotten (daemon)" in failure.message


@pytest.mark.parametrize("engine", ENGINES)
def test_leak_switch(engine):
    result = ENGINES[engine](Parked, lambda s: [lambda: leave_a_daemon_waiting(s)], leaks=False)
    assert not result.failed, "with the detector off the leak goes unreported"
