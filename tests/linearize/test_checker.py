"""The checker on hand-written histories whose answer is known."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pytest

from harness.linearize import Call, Verdict, check
from harness.linearize.checker import ObjectModel
from harness.linearize.models import FifoQueue as Queue
from harness.linearize.models import Register


class KeyedRegisters(Register):
    """One register per key; operations on different keys are independent."""

    def init(self) -> int:
        return 0

    def partition(self, call: Call) -> Hashable | None:
        return call.args[0]

    def step(self, state: int, call: Call) -> tuple[int, Any]:
        if call.name == "write":
            return call.args[1], ("returned", None)
        return state, ("returned", state)


def c(
    ident: int,
    thread: str,
    name: str,
    args: tuple[Any, ...],
    inv: int,
    ret: int | None,
    result: Any = None,
    error: BaseException | None = None,
) -> Call:
    return Call(ident, thread, name, args, inv, ret, result, error)


def test_sequential_history_is_linearizable():
    calls = [c(0, "T0", "write", (1,), 1, 2), c(1, "T1", "read", (), 3, 4, 1)]
    assert check(calls, Register()).verdict == Verdict.LINEARIZABLE


def test_a_stale_read_after_the_write_returned_is_not_linearizable():
    # write(1) returned (2) before read was invoked (3): read must see 1.
    calls = [c(0, "T0", "write", (1,), 1, 2), c(1, "T1", "read", (), 3, 4, 0)]
    found = check(calls, Register())
    assert found.verdict == Verdict.NOT_LINEARIZABLE
    assert found.stuck is calls[1] and found.expected == ("returned", 1)
    assert "read() -> 0 cannot come next" in found.explain()
    assert "return 1" in found.explain()


def test_overlapping_calls_may_take_effect_in_either_order():
    # read overlaps write: 0 (before) and 1 (after) are both explainable.
    for seen in (0, 1):
        calls = [c(0, "T0", "write", (1,), 1, 4), c(1, "T1", "read", (), 2, 3, seen)]
        assert check(calls, Register()).ok, seen
    calls = [c(0, "T0", "write", (1,), 1, 4), c(1, "T1", "read", (), 2, 3, 7)]
    assert not check(calls, Register()).ok


def test_a_pending_write_may_or_may_not_have_taken_effect():
    for seen in (0, 1):
        calls = [c(0, "T0", "write", (1,), 1, None), c(1, "T1", "read", (), 2, 3, seen)]
        assert check(calls, Register()).ok, seen
    # but it cannot be seen before it was invoked
    calls = [c(0, "T1", "read", (), 1, 2, 1), c(1, "T0", "write", (1,), 3, None)]
    assert not check(calls, Register()).ok


def test_exceptions_are_results():
    empty = IndexError("empty")
    ok = [c(0, "T0", "get", (), 1, 2, error=empty), c(1, "T1", "put", (5,), 3, 4)]
    assert check(ok, Queue()).ok
    # get raised Empty although put(5) had returned before it was invoked
    bad = [c(0, "T1", "put", (5,), 1, 2), c(1, "T0", "get", (), 3, 4, error=empty)]
    found = check(bad, Queue())
    assert not found.ok and "get() raised IndexError cannot come next" in found.explain()


def test_fifo_order_violation_needs_the_search_to_backtrack():
    # put(1) and put(2) overlap; get()s after both returned see 2 then 1: fine
    # (put(2) first); seeing 1 then 1 is not.
    base = [c(0, "A", "put", (1,), 1, 4), c(1, "B", "put", (2,), 2, 3)]
    good = [*base, c(2, "A", "get", (), 5, 6, 2), c(3, "A", "get", (), 7, 8, 1)]
    assert check(good, Queue()).ok
    bad = [*base, c(2, "A", "get", (), 5, 6, 1), c(3, "A", "get", (), 7, 8, 1)]
    assert not check(bad, Queue()).ok


def test_a_checker_that_always_says_yes_would_fail_here():
    """Four threads, one lost update in a queue: only a real search finds it."""
    calls = [
        c(0, "T0", "put", (1,), 1, 5),
        c(1, "T1", "put", (2,), 2, 6),
        c(2, "T2", "put", (3,), 3, 7),
        c(3, "T3", "get", (), 8, 9, 1),
        c(4, "T3", "get", (), 10, 11, 2),
        c(5, "T3", "get", (), 12, 13, error=IndexError()),  # 3 was lost
    ]
    assert check(calls, Queue()).verdict == Verdict.NOT_LINEARIZABLE


def test_partitioned_history_is_checked_key_by_key():
    calls = [
        c(0, "T0", "write", ("a", 1), 1, 2),
        c(1, "T1", "write", ("b", 2), 1, 3),
        c(2, "T0", "read", ("a",), 4, 5, 1),
        c(3, "T1", "read", ("b",), 4, 6, 2),
    ]
    assert check(calls, KeyedRegisters()).ok
    calls[3] = c(3, "T1", "read", ("b",), 4, 6, 1)  # b never held 1
    assert not check(calls, KeyedRegisters()).ok


def test_state_limit_gives_undecided_not_a_guess():
    calls = [c(i, f"T{i}", "put", (i,), 1, 100) for i in range(8)]
    calls.append(c(8, "T9", "get", (), 101, 102, 99))  # nothing put 99: not linearizable
    found = check(calls, Queue(), max_states=50)
    assert found.verdict == Verdict.UNDECIDED and "undecided after" in found.explain()
    assert check(calls, Queue()).verdict == Verdict.NOT_LINEARIZABLE


def test_default_model_runs_the_object_itself():
    model = ObjectModel(list, {"append": list.append, "pop": lambda xs: xs.pop(0)})
    calls = [
        c(0, "T0", "append", (1,), 1, 4),
        c(1, "T1", "append", (2,), 2, 3),
        c(2, "T0", "pop", (), 5, 6, 2),
    ]
    assert check(calls, model).ok
    calls[2] = c(2, "T0", "pop", (), 5, 6, 3)
    assert not check(calls, model).ok


@pytest.mark.parametrize("size", [100, 1000])
def test_long_linearizable_histories_decide_quickly(size: int):
    # 4 threads writing and reading a register in overlapping pairs.
    calls = []
    stamp = 0
    value = 0
    for i in range(size // 2):
        stamp += 1
        w = c(len(calls), f"T{i % 4}", "write", (i,), stamp, stamp + 2)
        calls.append(w)
        r = c(len(calls), f"T{(i + 1) % 4}", "read", (), stamp + 1, stamp + 3, i)
        calls.append(r)
        stamp += 3
        value = i
    found = check(calls, Register())
    assert found.ok and value == size // 2 - 1
