"""The race detector under explore on closure cells and container items, and the
stacks of a race report. Each "ordered" test runs the unordered twin too, so that it
fails both when the location is not checked at all and when the order is ignored."""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest

import harness


def _races(
    setup: Callable[[], Any], threads: Callable[[Any], list[Callable[[], None]]], budget: int = 30
) -> list[str]:
    result = harness.explore(setup, threads, None, races=True, budget=budget)
    return [g.failure.message for g in result.failures if g.failure.kind == "race"]


def _details(setup: Callable[[], Any], threads: Callable[[Any], list[Callable[[], None]]]) -> str:
    result = harness.explore(setup, threads, None, races=True, budget=30)
    races = [g.failure for g in result.failures if g.failure.kind == "race"]
    assert races, result.failures
    return races[0].details


# -- closure cells ----------------------------------------------------------------
class Cells:
    """Two closures over one ``hits`` variable, and its lock, event and queue."""

    def __init__(self) -> None:
        hits = 0
        lock = threading.Lock()
        ready = threading.Event()
        handoff: queue.Queue[int] = queue.Queue()

        def bump() -> None:
            nonlocal hits
            hits += 1

        def bump_locked() -> None:
            nonlocal hits
            with lock:
                hits += 1

        def publish() -> None:
            nonlocal hits
            hits = 10
            ready.set()
            handoff.put(1)

        def read_after_event() -> None:
            ready.wait(timeout=5)
            assert hits >= 10

        def read_after_queue() -> None:
            handoff.get(timeout=5)
            assert hits >= 10

        def read_unordered() -> None:
            assert hits >= 0

        def spawn_and_join() -> None:
            nonlocal hits
            hits = 1
            child = threading.Thread(target=bump)
            child.start()
            child.join(timeout=5)
            hits += 1

        def spawn_no_join() -> None:
            child = threading.Thread(target=bump)
            child.start()
            assert hits >= 0
            child.join(timeout=5)

        self.bump, self.bump_locked, self.publish = bump, bump_locked, publish
        self.read_after_event, self.read_after_queue = read_after_event, read_after_queue
        self.read_unordered = read_unordered
        self.spawn_and_join, self.spawn_no_join = spawn_and_join, spawn_no_join


def test_a_closure_cell_shared_by_two_threads_is_a_race_naming_the_variable() -> None:
    messages = _races(Cells, lambda c: [c.bump, c.bump])
    assert len(messages) == 1
    assert "cell " in messages[0] and "hits" in messages[0], messages


def test_two_closures_sharing_one_cell_are_one_location() -> None:
    # bump and read_unordered are different functions: only the cell makes them meet.
    messages = _races(Cells, lambda c: [c.bump, c.read_unordered])
    assert len(messages) == 1 and "hits" in messages[0], messages


@pytest.mark.parametrize(
    ("ordered", "unordered"),
    [
        pytest.param(lambda c: [c.bump_locked] * 2, lambda c: [c.bump] * 2, id="lock"),
        pytest.param(
            lambda c: [c.publish, c.read_after_event],
            lambda c: [c.publish, c.read_unordered],
            id="event",
        ),
        pytest.param(
            lambda c: [c.publish, c.read_after_queue],
            lambda c: [c.publish, c.read_unordered],
            id="queue",
        ),
        pytest.param(lambda c: [c.spawn_and_join], lambda c: [c.spawn_no_join], id="join"),
    ],
)
def test_synchronization_orders_a_closure_cell(
    ordered: Callable[[Any], list[Callable[[], None]]],
    unordered: Callable[[Any], list[Callable[[], None]]],
) -> None:
    assert _races(Cells, ordered, budget=60) == []
    assert any("hits" in m for m in _races(Cells, unordered, budget=60))


def _parent(join_first: bool) -> None:
    count = 0

    def child() -> None:
        nonlocal count
        count += 1

    t = threading.Thread(target=child)
    t.start()
    if join_first:
        t.join(timeout=5)
    count += 1  # the defining frame's own access to the cell the child shares
    t.join(timeout=5)


def test_the_defining_frame_and_a_closure_share_the_cell() -> None:
    messages = _races(object, lambda _: [lambda: _parent(False)], budget=60)
    assert len(messages) == 1 and "_parent.count" in messages[0], messages
    assert _races(object, lambda _: [lambda: _parent(True)], budget=60) == []


# -- container items ---------------------------------------------------------------
class Registry:
    def __init__(self) -> None:
        self.items: dict[str, int] = {"a": 0, "b": 0}
        self.buffer = [0, 0, 0, 0]
        self.ring: collections.deque[int] = collections.deque([0, 0])
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.handoff: queue.Queue[int] = queue.Queue()


def _add_a(r: Registry) -> None:
    r.items["a"] += 1


def _add_b(r: Registry) -> None:
    r.items["b"] += 1


def _add_a_locked(r: Registry) -> None:
    with r.lock:
        r.items["a"] += 1


def _fill(r: Registry) -> None:
    buffer = r.buffer
    buffer[3] = buffer[3] + 1


def _fill_last_locked(r: Registry) -> None:
    buffer = r.buffer
    with r.lock:
        buffer[-1] = buffer[-1] + 1  # buffer[-1] is buffer[3]


def _publish(r: Registry) -> None:
    buffer = r.buffer
    buffer[3] = 5
    r.ready.set()
    r.handoff.put(1)


def _read_after_event(r: Registry) -> None:
    r.ready.wait(timeout=5)
    buffer = r.buffer
    assert buffer[3] == 5


def _read_after_queue(r: Registry) -> None:
    r.handoff.get(timeout=5)
    buffer = r.buffer
    assert buffer[3] == 5


def _read_unordered(r: Registry) -> None:
    buffer = r.buffer
    assert buffer[3] >= 0


def _join_child(r: Registry) -> None:
    child = threading.Thread(target=lambda: _add_a(r))
    child.start()
    child.join(timeout=5)
    _add_a(r)


def _no_join_child(r: Registry) -> None:
    child = threading.Thread(target=lambda: _add_a(r))
    child.start()
    _add_a(r)
    child.join(timeout=5)


def _ring_put(r: Registry) -> None:
    ring = r.ring
    ring[0] = ring[0] + 1


def test_a_dict_item_is_a_race_named_by_container_and_key() -> None:
    messages = _races(Registry, lambda r: [lambda: _add_a(r)] * 2)
    assert len(messages) == 1 and "dict Registry.items['a']" in messages[0], messages


def test_a_list_item_is_a_race_named_by_container_and_index() -> None:
    messages = _races(Registry, lambda r: [lambda: _fill(r)] * 2)
    assert len(messages) == 1 and "list buffer[3]" in messages[0], messages


def test_a_deque_item_is_a_race() -> None:
    messages = _races(Registry, lambda r: [lambda: _ring_put(r)] * 2)
    assert len(messages) == 1 and "deque ring[0]" in messages[0], messages


def test_different_keys_of_one_dict_are_different_locations() -> None:
    assert _races(Registry, lambda r: [lambda: _add_a(r), lambda: _add_b(r)], budget=60) == []
    # ... while one key from both threads is one location (so the items are checked):
    assert _races(Registry, lambda r: [lambda: _add_a(r), lambda: _add_a(r)])


def test_a_negative_index_is_the_same_list_item() -> None:
    messages = _races(Registry, lambda r: [lambda: _fill(r), lambda: _fill_last_locked(r)])
    assert len(messages) == 1 and "buffer[3]" in messages[0], messages


@pytest.mark.parametrize(
    ("ordered", "unordered"),
    [
        pytest.param(
            lambda r: [lambda: _add_a_locked(r)] * 2, lambda r: [lambda: _add_a(r)] * 2, id="lock"
        ),
        pytest.param(
            lambda r: [lambda: _publish(r), lambda: _read_after_event(r)],
            lambda r: [lambda: _publish(r), lambda: _read_unordered(r)],
            id="event",
        ),
        pytest.param(
            lambda r: [lambda: _publish(r), lambda: _read_after_queue(r)],
            lambda r: [lambda: _publish(r), lambda: _read_unordered(r)],
            id="queue",
        ),
        pytest.param(
            lambda r: [lambda: _join_child(r)], lambda r: [lambda: _no_join_child(r)], id="join"
        ),
    ],
)
def test_synchronization_orders_container_items(
    ordered: Callable[[Any], list[Callable[[], None]]],
    unordered: Callable[[Any], list[Callable[[], None]]],
) -> None:
    assert _races(Registry, ordered, budget=60) == []
    assert any("[" in m for m in _races(Registry, unordered, budget=60))


# -- stacks ---------------------------------------------------------------------
def _outer_a(r: Registry) -> None:
    _middle(r)


def _outer_b(r: Registry) -> None:
    _middle(r)


def _middle(r: Registry) -> None:
    _add_a(r)


def test_the_report_shows_both_accesses_stacks() -> None:
    details = _details(Registry, lambda r: [lambda: _outer_a(r), lambda: _outer_b(r)])
    assert details.count("(innermost last):") == 2, details
    # Each stack: the thread's own outer function, the shared middle, the access.
    for outer in ("_outer_a", "_outer_b"):
        at = details.index(f"in {outer}")
        assert details.index("in _middle", at) < details.index("in _add_a", at), details
    assert 'r.items["a"] += 1' in details
    assert "harness" + "/explore" not in details  # the harness's own frames are left out
