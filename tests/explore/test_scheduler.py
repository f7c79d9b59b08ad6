"""The scheduler driven by a scripted strategy, through the real execution.

The strategy here is a plain function of each :class:`Choice`, so every test
says exactly which thread runs when, and checks what the scheduler offered and
recorded: options, deviations, preemptions, deadlocks, timeouts, step limits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from harness._program import Program
from harness._tracing import CodeFilter
from harness.explore.engine import _Session
from harness.explore.records import Deviation, Execution, ThreadStatus
from harness.explore.strategies import Choice, fire, run

from . import _scripted
from ._scripted import Scripted

#: The scripted strategy runs inside the threads: it must not be traced as code under test.
_FILTER = CodeFilter(exclude=[_scripted.__file__])


def _execute(
    setup: Callable[[], object],
    actors: Callable[[object], list[Callable[[], object]]],
    policy: Callable[[Choice], int],
    *,
    check: Callable[[object], object] | None = None,
    max_steps: int = 10_000,
) -> tuple[Execution, Scripted]:
    program = Program.from_user(setup, actors, check)
    session = _Session(program, _FILTER, max_steps, 10.0, True, True)
    strategy = Scripted(policy)
    with session:
        execution = session.runtime.run_execution(strategy, record=True)
    assert all(t.status is ThreadStatus.FINISHED for t in session.runtime.threads) or (
        execution.end != "complete"
    ), "a complete execution leaves every thread finished"
    return execution, strategy


def _two_appenders(state: object) -> list[Callable[[], object]]:
    def append(name: str) -> Callable[[], None]:
        def body() -> None:
            with state["lock"]:  # type: ignore[index]
                state["order"].append(name)  # type: ignore[index]

        return body

    return [append("T0"), append("T1")]


def _order_state() -> dict[str, object]:
    return {"lock": threading.Lock(), "order": []}


def test_the_default_schedule_runs_each_thread_to_its_end_without_deviations():
    state_box: list[dict[str, object]] = []

    def setup() -> dict[str, object]:
        state_box.append(_order_state())
        return state_box[-1]

    execution, strategy = _execute(setup, _two_appenders, _scripted.default)
    assert execution.end == "complete" and not execution.failed, execution.failures
    assert state_box[-1]["order"] == ["T0", "T1"]
    assert execution.deviations == [], "the default is never a deviation"
    assert strategy.threads == [0, 1], "actors are announced in creation order"
    assert strategy.seen[0][0] == -1, "the first decision has no current thread"
    assert strategy.ended == (execution.steps, False)


def test_choosing_the_other_thread_is_recorded_as_a_deviation():
    orders = []

    def setup() -> dict[str, object]:
        orders.append(_order_state())
        return orders[-1]

    execution, _ = _execute(setup, _two_appenders, _scripted.highest)
    assert orders[-1]["order"] == ["T1", "T0"]
    assert execution.deviations, "running T1 first departs from the default"
    first = execution.deviations[0]
    assert isinstance(first, Deviation)
    assert first == Deviation(-1, 0, run(1), False), "the first pick preempts nobody"


def test_a_switch_away_from_a_thread_that_could_go_on_is_a_preemption():
    # Run T0 first, then switch to T1 at T0's first decision, while T0 can go on.
    execution, _ = _execute(_order_state, _two_appenders, _scripted.switch_when([1], 0, 1))
    assert execution.preemptions >= 1, execution.deviations
    assert all(d.preemptive for d in execution.deviations if d.thread == 0)


def test_an_impossible_choice_is_an_error_that_names_the_strategy():
    with pytest.raises(RuntimeError, match="strategy scripted chose an impossible option 14"):
        _execute(_order_state, _two_appenders, _scripted.invalid(run(7)))


def test_opposite_lock_orders_deadlock_as_soon_as_nobody_can_run():
    def actors(state: dict) -> list[Callable[[], object]]:
        def take(first: str, second: str, me: int) -> Callable[[], None]:
            def body() -> None:
                with state[first]:
                    state["got"][me] = 1
                    with state[second]:
                        pass

            return body

        return [take("a", "b", 0), take("b", "a", 1)]

    got = [0, 0]

    def setup() -> dict[str, object]:
        return {"a": threading.Lock(), "b": threading.Lock(), "got": got}

    # Switch to T1 once T0 holds its first lock: the textbook deadlock.
    started = time.perf_counter()
    execution, _ = _execute(setup, actors, _scripted.switch_when(got, 0, 1))
    assert execution.end == "deadlock", (execution.end, execution.failures)
    assert execution.kinds[0] == "deadlock", execution.kinds
    assert "T0" in execution.failures[0].message and "T1" in execution.failures[0].message
    assert time.perf_counter() - started < 5, "a deadlock is seen at once, with no timeout"


def test_a_timed_wait_is_offered_to_time_out_only_when_nobody_can_run():
    def setup() -> dict[str, object]:
        return {"event": threading.Event(), "waited": []}

    def actors(state: dict) -> list[Callable[[], object]]:
        def waiter() -> None:
            state["waited"].append(state["event"].wait(timeout=30))

        return [waiter]

    execution, strategy = _execute(setup, actors, _scripted.default)
    timed = [(runnable, timed, default) for _, runnable, timed, default in strategy.seen if timed]
    assert timed, "the wait must be offered as a timeout"
    assert all(runnable == () for runnable, _, _ in timed), "never while a thread can run"
    assert timed[0][2] == fire(0), "with nobody runnable the default fires the earliest wait"
    assert execution.end == "complete" and not execution.failed, execution.failures


def test_an_execution_past_its_step_limit_is_a_livelock():
    def setup() -> dict[str, object]:
        return {"lock": threading.Lock()}

    def actors(state: dict) -> list[Callable[[], object]]:
        def spin() -> None:
            while True:
                with state["lock"]:
                    pass

        return [spin, spin]

    execution, strategy = _execute(setup, actors, _scripted.lowest, max_steps=200)
    assert execution.end == "livelock", execution.end
    assert execution.kinds == ["livelock"], execution.kinds
    assert "no end after 200 scheduling steps" in execution.failures[0].message
    assert strategy.ended is not None and strategy.ended[1] is True
