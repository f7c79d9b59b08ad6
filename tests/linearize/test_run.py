"""harness.linearizable end to end: generated scenarios under the real engines."""

from __future__ import annotations

import collections
import importlib.util
import queue
from pathlib import Path

import pytest
from hypothesis import strategies as st

import harness
from harness.linearize import replay

_spec = importlib.util.spec_from_file_location(
    "lru_example", Path(__file__).resolve().parents[2] / "examples" / "lru" / "lru.py"
)
assert _spec is not None and _spec.loader is not None
lru = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lru)

_spec = importlib.util.spec_from_file_location(
    "buffer_example", Path(__file__).resolve().parents[2] / "examples" / "buffer" / "buffer.py"
)
assert _spec is not None and _spec.loader is not None
buffer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(buffer)

KEYS = st.integers(0, 2)


def cache_operations(cls: type) -> list[object]:
    return [harness.op(cls.put, KEYS, st.integers(0, 3)), harness.op(cls.get, KEYS), cls.size]


@pytest.mark.timeout(180)
def test_the_lockless_lru_cache_is_not_linearizable():
    operations = cache_operations(lru.LRUCache)

    def make() -> object:
        return lru.LRUCache(capacity=1)  # evictions on the second key: short scenarios

    result = harness.linearizable(make, operations, scenarios=50, budget=50, seed=0)
    assert result.failed and result.kind == "linearizability", str(result)
    size = int(result.sections["scenario"].rsplit("(", 1)[1].split()[0])
    assert size <= 4, result.sections["scenario"]
    text = str(result)
    assert "not linearizable" in text and "interleaving" in text
    assert "harness.linearize.replay(" in text
    again = replay(result.schedule, make, operations)
    assert again.failed and again.kind == "linearizability", str(again)
    assert result.to_dict()["failures"][0]["kind"] == "linearizability"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_locked_lru_cache_passes_a_hundred_scenarios():
    operations = cache_operations(lru.LockedLRUCache)
    result = harness.linearizable(lru.LockedLRUCache, operations, scenarios=100, budget=30)
    assert not result.failed, str(result)
    assert result.settings["scenarios"] >= 90 and result.runs >= 90 * 30 * 0.5


def buffer_operations(cls: type) -> list[object]:
    return [harness.op(cls.offer, st.integers(0, 3)), cls.poll, cls.size]


@pytest.mark.timeout(180)
def test_the_unguarded_bounded_buffer_overfills_and_the_guarded_one_holds():
    result = harness.linearizable(buffer.UnsafeBuffer, buffer_operations(buffer.UnsafeBuffer))
    assert result.failed and result.kind == "linearizability", str(result)
    fixed = harness.linearizable(
        buffer.Buffer, buffer_operations(buffer.Buffer), scenarios=25, budget=30
    )
    assert not fixed.failed, str(fixed)


@pytest.mark.timeout(180)
def test_queue_and_deque_are_linearizable():
    queue_ops = [
        harness.op(queue.Queue.put, st.integers(0, 3)),
        queue.Queue.get_nowait,
        queue.Queue.qsize,
    ]
    result = harness.linearizable(queue.Queue, queue_ops, scenarios=25, budget=30)
    assert not result.failed, str(result)
    deque_ops = [
        harness.op(collections.deque.append, st.integers(0, 3)),
        collections.deque.popleft,
        len,
    ]
    result = harness.linearizable(collections.deque, deque_ops, scenarios=25, budget=30)
    assert not result.failed, str(result)
    assert result.settings["scenarios"] >= 20


@pytest.mark.timeout(180)
def test_the_stress_engine_can_run_the_scenarios():
    operations = cache_operations(lru.LockedLRUCache)
    result = harness.linearizable(
        lru.LockedLRUCache, operations, scenarios=5, budget=10, engine="stress"
    )
    assert not result.failed and result.engine == "stress", str(result)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operations": []}, "operations must be a non-empty list"),
        ({"threads": 1}, "threads must be an integer >= 2"),
        ({"engine": "magic"}, "unknown engine 'magic'"),
        ({"budget": 0}, "budget must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(kwargs, message):
    args = {"operations": [len], **kwargs}
    with pytest.raises(harness.UsageError, match=message):
        harness.linearizable(list, args.pop("operations"), **args)


def test_an_argument_that_is_not_a_strategy_is_a_usage_error():
    with pytest.raises(harness.UsageError, match="must be a hypothesis strategy, got 3"):
        harness.op(len, 3)


def test_a_foreign_token_is_refused():
    with pytest.raises(harness.TokenError):
        replay("hx1_abc", list, [len])
