"""Recording values never runs code of the program under test (issue 15)."""

from __future__ import annotations

import threading

import harness
from harness.explore.values import Probe, opaque, show


class LockedRepr:
    """A value whose ``__repr__`` takes the program's own lock."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def __repr__(self) -> str:
        with self.lock:
            return "LockedRepr()"


class MutatingRepr:
    """A value whose ``__repr__`` clears the state it describes (seen in a real library)."""

    def __init__(self) -> None:
        self.pending = [1, 2, 3]
        self.calls = 0

    def __repr__(self) -> str:
        self.calls += 1
        self.pending.clear()
        return "MutatingRepr()"

    def __eq__(self, other: object) -> bool:
        self.calls += 1
        return False

    __hash__ = None  # type: ignore[assignment]


class Shared:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value = 0
        self.locked = LockedRepr(self.lock)
        self.mutating = MutatingRepr()


def racer(s: Shared) -> None:
    with s.lock:
        seen = s.locked  # a recorded read of the object whose repr takes s.lock
    keep = s.mutating  # a recorded read of the object whose repr clears its state
    assert keep is not None and seen is not None
    s.value = s.value + 1


def check(s: Shared) -> bool:
    return s.value == 2 and s.mutating.pending == [1, 2, 3] and s.mutating.calls == 0


def threads(s: Shared):
    return [lambda: racer(s), lambda: racer(s)]


def test_user_repr_never_runs_and_the_replay_reproduces_the_failure():
    result = harness.explore(Shared, threads, check, seed=0, budget=200, timeout=5.0)
    assert result.failed and result.kind == "assert", str(result)
    # The failure is the lost update only: the reprs never ran (pending intact).
    assert "interleaving" in result.sections, str(result)
    assert "MutatingRepr()" not in str(result) and "LockedRepr()" not in str(result)
    for _ in range(3):
        again = harness.replay(result.schedule, Shared, threads, check, timeout=5.0)
        assert again.failed and again.kind == "assert", str(again)


def test_builtins_are_shown_by_value():
    assert show(3) == "3"
    assert show("ab") == "'ab'"
    assert show(None) == "None"
    assert show([1, "x", (2,)]) == "[1, 'x', (2,)]"
    assert show({"a": 1}) == "{'a': 1}"
    assert show(set()) == "set()"
    assert show(list(range(10))) == "[0, 1, 2, 3, 4, 5, ...]"
    assert show("x" * 100).count("...") == 1 and len(show("x" * 100)) < 50
    assert show(10**100).startswith("<int of ")


def test_other_objects_are_shown_by_type_and_short_id_without_running_them():
    m = MutatingRepr()
    text = show(m)
    assert text.startswith("<MutatingRepr #") and m.calls == 0
    assert show([m]).startswith("[<MutatingRepr #") and m.calls == 0
    assert show({1: m}).startswith("{1: <MutatingRepr #") and m.calls == 0

    class Sub(int):
        def __repr__(self) -> str:  # pragma: no cover - must not run
            raise AssertionError("ran")

    assert show(Sub(1)).startswith("<")
    assert opaque(m) == text


def test_attributes_are_read_without_properties_or_getattr():
    ran = []

    class Lazy:
        __slots__ = ("slot",)

        def __init__(self) -> None:
            self.slot = 7

        @property
        def prop(self) -> int:  # pragma: no cover - must not run
            ran.append("prop")
            return 1

        def __getattr__(self, name: str) -> int:  # pragma: no cover - must not run
            ran.append(name)
            return 2

    holder = {"obj": Lazy()}

    class Frame:
        f_locals = holder

    assert Probe("local", "obj", "slot").read(Frame()) == 7  # type: ignore[arg-type]
    assert Probe("local", "obj", "prop").value_text(Frame()) is None  # type: ignore[arg-type]
    assert Probe("local", "obj", "missing").value_text(Frame()) is None  # type: ignore[arg-type]
    assert ran == []
