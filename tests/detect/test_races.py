"""The happens-before race detector: the algorithm alone, then under explore."""

from __future__ import annotations

import concurrent.futures
import queue
import threading

import pytest

import harness
from harness.detect.races import Access, RaceDetector, VectorClock


def _acc(tid: int, kind: str) -> Access:
    return Access(tid, kind, "f.py", 1)


# -- the algorithm, without threads ---------------------------------------------
def test_vector_clock_join_and_order() -> None:
    a = VectorClock({0: 2})
    b = VectorClock({1: 3})
    assert not a.leq(b)
    b.join(a)
    assert a.leq(b) and b.get(0) == 2 and b.get(1) == 3


def test_unordered_write_write_is_a_race() -> None:
    d = RaceDetector()
    d.write(0, "x", "X.v", _acc(0, "write"))
    d.write(1, "x", "X.v", _acc(1, "write"))
    assert [r.location for r in d.races] == ["X.v"]


def test_unordered_read_write_both_ways_are_races() -> None:
    d = RaceDetector()
    d.read(0, "x", "X.v", _acc(0, "read"))
    d.write(1, "x", "X.v", _acc(1, "write"))
    d.write(0, "y", "Y.v", _acc(0, "write"))
    d.read(1, "y", "Y.v", _acc(1, "read"))
    assert [r.location for r in d.races] == ["X.v", "Y.v"]
    assert (d.races[0].first.kind, d.races[0].second.kind) == ("read", "write")


def test_read_read_is_not_a_race() -> None:
    d = RaceDetector()
    d.read(0, "x", "X.v", _acc(0, "read"))
    d.read(1, "x", "X.v", _acc(1, "read"))
    d.read(2, "x", "X.v", _acc(2, "read"))
    assert d.races == []


def test_concurrent_reads_then_write_is_a_race() -> None:
    d = RaceDetector()
    d.read(0, "x", "X.v", _acc(0, "read"))
    d.read(1, "x", "X.v", _acc(1, "read"))  # inflates to a read vector
    d.release(1, "m")
    d.acquire(2, "m")
    d.write(2, "x", "X.v", _acc(2, "write"))  # ordered after T1's read, not T0's
    assert len(d.races) == 1 and d.races[0].first.thread == 0


def test_lock_release_acquire_orders() -> None:
    d = RaceDetector()
    d.acquire(0, "m")
    d.write(0, "x", "X.v", _acc(0, "write"))
    d.release(0, "m")
    d.acquire(1, "m")
    d.read(1, "x", "X.v", _acc(1, "read"))
    d.write(1, "x", "X.v", _acc(1, "write"))
    d.release(1, "m")
    assert d.races == []


def test_a_different_lock_does_not_order() -> None:
    d = RaceDetector()
    d.write(0, "x", "X.v", _acc(0, "write"))
    d.release(0, "m")
    d.acquire(1, "other")
    d.write(1, "x", "X.v", _acc(1, "write"))
    assert len(d.races) == 1


def test_fork_and_join_order() -> None:
    d = RaceDetector()
    d.write(0, "x", "X.v", _acc(0, "write"))
    d.fork(0, 1)
    d.write(1, "x", "X.v", _acc(1, "write"))
    d.join(0, 1)
    d.read(0, "x", "X.v", _acc(0, "read"))
    assert d.races == []


def test_without_join_the_parent_races_with_the_child() -> None:
    d = RaceDetector()
    d.fork(0, 1)
    d.write(1, "x", "X.v", _acc(1, "write"))
    d.read(0, "x", "X.v", _acc(0, "read"))
    assert len(d.races) == 1


def test_one_report_per_location_and_ignored_names() -> None:
    d = RaceDetector(ignore=frozenset({"S.hits"}))
    for tid in range(3):
        d.write(tid, "x", "X.v", _acc(tid, "write"))
        d.write(tid, "h", "S.hits", _acc(tid, "write"))
    assert [r.location for r in d.races] == ["X.v"]


def test_stacks_are_taken_only_for_kept_accesses() -> None:
    taken: list[object] = []

    def stack_of(where: object) -> tuple[tuple[str, int, str], ...]:
        taken.append(where)
        return (("f.py", 1, str(where)),)

    d = RaceDetector(stack_of=stack_of)
    d.read(0, "x", "X.v", _acc(0, "read"), where="r1")
    d.read(0, "x", "X.v", _acc(0, "read"), where="r2")  # same epoch: not kept
    d.write(0, "x", "X.v", _acc(0, "write"), where="w1")
    d.write(0, "x", "X.v", _acc(0, "write"), where="w2")  # same epoch: not kept
    d.write(1, "x", "X.v", _acc(1, "write"), where="w3")  # races with w1
    assert taken == ["r1", "w1", "w3"]
    race = d.races[0]
    assert race.first.stack == (("f.py", 1, "w1"),)
    assert race.second.stack == (("f.py", 1, "w3"),)


def test_concurrent_reads_of_one_epoch_are_kept_once() -> None:
    taken: list[object] = []
    d = RaceDetector(stack_of=lambda where: taken.append(where) or ())
    d.read(0, "x", "X.v", _acc(0, "read"), where=1)
    d.read(1, "x", "X.v", _acc(1, "read"), where=2)  # inflates to a read vector
    d.read(0, "x", "X.v", _acc(0, "read"), where=3)  # T0's epoch is in the vector
    d.read(1, "x", "X.v", _acc(1, "read"), where=4)
    assert taken == [1, 2]
    d.write(2, "x", "X.v", _acc(2, "write"), where=5)  # still races with the reads
    assert len(d.races) == 1 and taken == [1, 2, 5]


# -- under explore ---------------------------------------------------------------
class Box:
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()


def _bump(box: Box) -> None:
    box.value = box.value + 1


def _locked_bump(box: Box) -> None:
    with box.lock:
        box.value = box.value + 1


def _race_of(result: harness.Result) -> str:
    kinds = [g.failure.kind for g in result.failures]
    return ",".join(kinds)


def test_unsynchronized_counter_is_a_race_on_the_first_schedule_without_check() -> None:
    result = harness.explore(Box, lambda b: [lambda: _bump(b)] * 2, None, races=True, budget=20)
    assert _race_of(result) == "race"
    assert result.runs == 1  # the first schedule, whose final state is correct (2)
    failure = result.failures[0].failure
    assert "Box.value" in failure.message and "no lock" in failure.message
    assert "box.value = box.value + 1" in failure.details
    assert result.schedule  # a replay token, like any failure


def test_the_race_detector_is_off_by_default() -> None:
    result = harness.explore(Box, lambda b: [lambda: _bump(b)] * 2, None, budget=20)
    assert not result.failures


def test_locked_counter_is_no_race() -> None:
    # Fails if happens-before were ignored: every access would then be unordered.
    result = harness.explore(
        Box, lambda b: [lambda: _locked_bump(b)] * 2, lambda b: b.value == 2, races=True, budget=50
    )
    assert not result.failures, result.failures


def test_races_ignore_silences_a_benign_location() -> None:
    result = harness.explore(
        Box, lambda b: [lambda: _bump(b)] * 2, None, races=True, races_ignore=["Box.value"]
    )
    assert not result.failures


class Handoff:
    def __init__(self) -> None:
        self.data = 0
        self.ready = threading.Event()
        self.q: queue.Queue[int] = queue.Queue()


def test_event_set_wait_orders() -> None:
    def producer(h: Handoff) -> None:
        h.data = 42
        h.ready.set()

    def consumer(h: Handoff) -> None:
        assert h.ready.wait(timeout=5)
        assert h.data == 42

    result = harness.explore(
        Handoff, lambda h: [lambda: producer(h), lambda: consumer(h)], None, races=True, budget=50
    )
    assert not result.failures, result.failures


def test_event_without_wait_is_a_race() -> None:
    def producer(h: Handoff) -> None:
        h.data = 42
        h.ready.set()

    def consumer(h: Handoff) -> None:
        h.data = h.data + 1  # does not wait for the event

    result = harness.explore(
        Handoff, lambda h: [lambda: producer(h), lambda: consumer(h)], None, races=True, budget=50
    )
    assert _race_of(result) == "race"


def test_queue_put_get_orders() -> None:
    def producer(h: Handoff) -> None:
        h.data = 7
        h.q.put(1)

    def consumer(h: Handoff) -> None:
        h.q.get(timeout=5)
        h.data = h.data + 1

    result = harness.explore(
        Handoff, lambda h: [lambda: producer(h), lambda: consumer(h)], None, races=True, budget=50
    )
    assert not result.failures, result.failures


def test_thread_start_and_join_order() -> None:
    def parent(h: Handoff) -> None:
        h.data = 1

        def child() -> None:
            h.data = h.data + 1

        t = threading.Thread(target=child)
        t.start()
        t.join(timeout=5)
        h.data = h.data + 1

    result = harness.explore(Handoff, lambda h: [lambda: parent(h)], None, races=True, budget=50)
    assert not result.failures, result.failures


def test_executor_submit_and_result_order() -> None:
    def work(h: Handoff) -> None:
        h.data = h.data + 1

    def client(h: Handoff) -> None:
        h.data = 5
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(work, h).result(timeout=5)
        h.data = h.data + 1

    result = harness.explore(Handoff, lambda h: [lambda: client(h)], None, races=True, budget=30)
    assert not result.failures, result.failures


@pytest.mark.parametrize("fixed", [False, True])
def test_replay_reports_the_race_again(fixed: bool) -> None:
    body = _locked_bump if fixed else _bump
    result = harness.explore(Box, lambda b: [lambda: body(b)] * 2, None, races=True, budget=20)
    if fixed:
        assert result.schedule is None
        return
    assert result.schedule is not None
    again = harness.replay(result.schedule, Box, lambda b: [lambda: body(b)] * 2, races=True)
    assert _race_of(again) == "race"


def test_benign_marks_one_object_attribute_in_setup() -> None:
    def setup() -> Box:
        box = Box()
        harness.benign(box, "value")
        return box

    result = harness.explore(setup, lambda b: [lambda: _bump(b)] * 2, None, races=True)
    assert not result.failures
    harness.benign(Box(), "value")  # outside an exploration: nothing happens


def test_cli_races_flag_reports_thevar_and_its_lock_fix_holds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.cli import main

    assert main(["explore", "thevar:buggy", "--races", "--budget", "20"]) == 1
    out = capsys.readouterr().out
    assert "FAILED (race)" in out and "data race on Shared.theVar" in out
    assert main(["explore", "thevar:lock", "--races", "--budget", "50"]) == 0


def test_the_lanes_mark_both_accesses_of_the_race() -> None:
    from harness.explore.interleaving import Interleaving

    result = harness.explore(Box, lambda b: [lambda: _bump(b)] * 2, None, races=True, budget=20)
    lanes = result.sections["interleaving"]
    assert isinstance(lanes, Interleaving)
    marked = [lanes.steps[i] for i in sorted(lanes.conflicts)]
    # The shrunk schedule runs T0 then T1 with no preemption: only the race marks them.
    assert {(s.thread, s.label) for s in marked} >= {(0, ".value"), (1, ".value")}
    assert {s.kind for s in marked} <= {"read", "write"}


def test_explain_tells_the_race() -> None:
    from harness.explain import tell

    result = harness.explore(Box, lambda b: [lambda: _bump(b)] * 2, None, races=True, budget=20)
    story = tell(result)
    assert any(line.startswith("T0 writes") for line in story), story
    assert any(line.startswith("T1 reads") for line in story), story
    assert "no lock or other synchronization" in story[-1]
