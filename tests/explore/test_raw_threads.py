"""``_thread.start_new_thread`` threads under the explorer: nothing of one
execution runs on into the next."""

from __future__ import annotations

import _thread
import threading

import pytest

import harness
from harness.explore.scheduler import Scheduler

#: Bound of every real wait below: a broken harness fails the test, never hangs it.
WAIT = 10.0


@pytest.mark.timeout(60)
def test_a_raw_thread_slow_to_leave_its_execution_does_not_act_in_the_next(monkeypatch):
    """Execution 1 ends with its raw thread parked (a leak) and unwinds it; the
    thread is slow to tell the scheduler it has finished (a seam holds it back,
    with real locks, until execution 2 has started a raw thread of its own), as
    an OS thread can be on a loaded machine.

    Before the fix nothing waited for a raw thread (it has no Thread to join),
    and its late ``finish`` was taken for one of execution 2: it counted a step
    and asked the strategy (a decision of execution 2's schedule, the
    NondeterminismError and IndexError seen on 3.13t) and released one of
    execution 2's batons. Now the execution waits for the thread to leave the
    scheduler (here in vain: it is counted abandoned after the grace period), and
    a thread of an execution that is over is not scheduled in another."""
    gate = _thread.allocate_lock()  # real locks: the harness does not see them
    gate.acquire()
    late = _thread.allocate_lock()
    late.acquire()
    held_back: list[object] = []
    steps_taken: list[int] = []
    original_finish = Scheduler.finish

    def finish(self: Scheduler, record) -> None:
        if record.is_actor or held_back:
            original_finish(self, record)
            return
        held_back.append(record)  # the first raw thread: execution 1's
        gate.acquire(True, WAIT)  # until execution 2 has started its raw thread
        try:
            before = record.steps  # the decisions this thread made (execution 2's
            original_finish(self, record)  # actor may be making one right now)
            steps_taken.append(record.steps - before)
        finally:
            late.release()

    monkeypatch.setattr(Scheduler, "finish", finish)
    executions: list[object] = []

    class State:
        def __init__(self) -> None:
            executions.append(self)
            self.lock: threading.Lock | None = None

    def child(state: State) -> None:
        assert state.lock is not None
        state.lock.acquire()  # the actor holds it and ends: parked for good

    def actor(state: State) -> None:
        state.lock = threading.Lock()
        state.lock.acquire()
        _thread.start_new_thread(child, (state,))
        if len(executions) == 2:
            gate.release()  # execution 1's raw thread may finish now
            late.acquire(True, WAIT)  # and has

    result = harness.explore(
        State,
        lambda state: [lambda: actor(state)],
        strategy="random",
        budget=2,
        stop_on_failure=False,
        shrink_failures=False,
        timeout=5.0,
    )
    assert held_back, "the seam never saw execution 1's raw thread finish"
    assert steps_taken == [0], "execution 1's raw thread made a decision in execution 2"
    assert result.runs == 2
    outcomes = [entry.outcome for entry in result.histogram]
    assert len(outcomes) == 1 and outcomes[0].startswith("leak"), str(result)
