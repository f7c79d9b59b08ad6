"""Operand recovery: the closure cell and the container item a point touches."""

from __future__ import annotations

import sys
from types import CodeType, FrameType
from typing import Any

from harness._tracing import Point, points_of
from harness.explore.operands import (
    WHOLE,
    Operand,
    cell_name,
    cell_of,
    item_key,
    item_name,
    item_of,
    operand_text,
)

G: dict[int, int] = {}


class Holder:
    def __init__(self) -> None:
        self.items: dict[str, int] = {"a": 1}


def _subscripts(code: CodeType) -> list[tuple[str, Any]]:
    """(kind, recovered operands) of each subscript point of ``code``, in order."""
    out = []
    for point in sorted(points_of(code).values(), key=lambda p: p.offset):
        if point.target == "[]":
            item = item_of(code, point)
            out.append((point.kind, None if item is None else (item.container, item.key)))
    return out


def test_container_and_key_are_recovered_from_the_simple_loads_before() -> None:
    def f(d: dict[Any, int], k: str, h: Holder, lst: list[int]) -> None:
        a = d["a"]
        d[k] = a
        d[k] += 1
        h.items["a"] = 2
        del lst[0]
        G[3] = G[1]

    d, k, lst = Operand("local", "d"), Operand("local", "k"), Operand("local", "lst")
    assert _subscripts(f.__code__) == [
        ("read", (d, Operand("const", "a"))),
        ("write", (d, k)),
        ("read", (d, k)),  # the read half of d[k] += 1 (after the duplication)
        ("write", (d, k)),  # its write, after the stack shuffle
        ("write", (Operand("local", "h", ("items",)), Operand("const", "a"))),
        ("write", (lst, Operand("const", 0))),
        ("read", (Operand("global", "G"), Operand("const", 1))),
        ("write", (Operand("global", "G"), Operand("const", 3))),
    ]


def test_a_swap_and_an_augmented_assignment_with_a_subscript_on_the_right() -> None:
    def f(a: list[int], i: int, j: int, d: dict[int, int], k: int) -> None:
        a[i], a[j] = a[j], a[i]
        d[k] += a[i]

    a, i, j = Operand("local", "a"), Operand("local", "i"), Operand("local", "j")
    d, k = Operand("local", "d"), Operand("local", "k")
    assert _subscripts(f.__code__) == [
        ("read", (a, j)),
        ("read", (a, i)),
        ("write", (a, i)),
        ("write", (a, j)),
        ("read", (d, k)),
        ("read", (a, i)),
        ("write", (d, k)),  # not a[i]: the read half is the duplicated subscript
    ]


def test_anything_less_simple_is_not_recovered() -> None:
    def f(d: dict[Any, int], k: Any, lst: list[int]) -> Any:
        x = d[k.upper()]  # the key is a call's result
        y = lst[1:3]  # a slice
        z = d[k if x else 0]  # the key comes from two branches
        return x, y, z

    got = _subscripts(f.__code__)
    assert got and all(found is None for _, found in got), got


def test_cell_of_finds_the_closure_cell_in_the_inner_and_the_defining_frame() -> None:
    found: dict[str, Any] = {}

    def outer() -> Any:
        shared = 1

        def inner() -> int:
            frame = sys._getframe()
            found["inner"] = [cell_of(frame, p) for p in _deref_points(frame, "shared")]
            return shared

        frame = sys._getframe()
        inner()
        found["outer"] = [cell_of(frame, p) for p in _deref_points(frame, "shared")]
        return inner

    inner = outer()
    cell = inner.__closure__[inner.__code__.co_freevars.index("shared")]
    assert found["inner"] and all(c is cell for c in found["inner"])
    assert found["outer"] and all(c is cell for c in found["outer"])
    names = {cell_name(inner.__code__, "shared"), cell_name(outer.__code__, "shared")}
    assert len(names) == 1 and names.pop().endswith("<locals>.outer.shared"), names


def _deref_points(frame: FrameType, name: str) -> list[Point]:
    return [
        p
        for p in points_of(frame.f_code).values()
        if p.op in ("LOAD_DEREF", "STORE_DEREF") and p.target == name
    ]


def test_two_closures_of_one_variable_share_the_cell() -> None:
    def make() -> tuple[Any, Any]:
        n = 0

        def get() -> Any:
            return cell_of(sys._getframe(), _deref_points(sys._getframe(), "n")[0]), n

        def put() -> Any:
            nonlocal n
            n = 1
            return cell_of(sys._getframe(), _deref_points(sys._getframe(), "n")[0])

        return get, put

    get, put = make()
    assert get()[0] is put() is get.__closure__[0]
    other_get, _ = make()
    assert other_get()[0] is not get()[0]  # another call of make: another variable


def test_item_keys_and_names() -> None:
    lst = [1, 2, 3]
    assert item_key(lst, -1) == 2  # lst[-1] is lst[2]
    assert item_key({}, -1) == -1  # a dict key is a key
    assert item_key({}, ("a", 1)) == ("a", 1)
    assert item_key({}, object()) is WHOLE  # not simple: the container as a whole
    assert item_key({}, [1]) is WHOLE
    assert item_name({}, "Registry.items", "a") == "dict Registry.items['a']"
    assert item_name(lst, "buffer", 3) == "list buffer[3]"
    assert item_name(lst, "buffer", WHOLE) == "list buffer[*]"


def test_operand_text_names_an_attribute_by_its_owners_type() -> None:
    h = Holder()
    frame = sys._getframe()
    assert operand_text(Operand("local", "h", ("items",)), frame) == "Holder.items"
    assert operand_text(Operand("local", "lst"), frame) == "lst"
    assert Operand("local", "h", ("items",)).evaluate(frame) is h.items
