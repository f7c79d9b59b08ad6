"""Is a history linearizable? A search for a sequential order that explains it.

A history is linearizable (Herlihy and Wing, TOPLAS 1990) when its operations can
be put in one sequential order that (a) keeps every operation that returned
before another was invoked ahead of it, and (b) gives, when run one at a time on
the sequential model, the very results that were observed. Pending operations
(invoked, never returned) may be placed anywhere after their invocation, or left
out: they may or may not have taken effect.

The search is Wing and Gong's ("Testing and verifying concurrent objects",
JPDC 1993): repeatedly pick, among the operations invoked before the earliest
outstanding response, one whose model result matches, and backtrack when none
does. Lowe's memoisation ("Testing for linearizability", CCPE 2017) prunes it:
a configuration is the set of operations linearised so far plus the model state,
and a configuration seen before (reached by another order) is not searched
again. The operations waiting to be linearised sit in two linked lists, by
invocation and by response, so choosing and backtracking cost O(1) each, as in
Porcupine. A model may split a history by key (``partition``): operations on
different keys are independent, and each part is checked alone (Horn and
Kroening, "Faster linearizability checking via P-compositionality", FORTE 2015).

A search that exceeds its state limit answers "undecided", never a guess.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.linearize.history import Call, describe_call

__all__ = ["DEFAULT_MAX_STATES", "Check", "Model", "ObjectModel", "Verdict", "check"]

#: Model steps a check may try before it answers "undecided".
DEFAULT_MAX_STATES = 1_000_000


class Model(Protocol):
    """A sequential specification.

    ``init()`` gives the initial state; ``step(state, call)`` returns the state
    after ``call`` and the outcome it gives (``("returned", value)`` or
    ``("raised", ExceptionType)``, as :meth:`Call.outcome`); ``key(state)`` is a
    hashable fingerprint of a state (for memoisation) or None when states cannot
    be compared; ``partition(call)`` names the independent part a call belongs
    to, or None when the history cannot be split.
    """

    def init(self) -> Any: ...

    def step(self, state: Any, call: Call) -> tuple[Any, Any]: ...

    def key(self, state: Any) -> Hashable | None: ...

    def partition(self, call: Call) -> Hashable | None: ...


class Verdict(str, enum.Enum):
    LINEARIZABLE = "linearizable"
    NOT_LINEARIZABLE = "not linearizable"
    UNDECIDED = "undecided"

    def __str__(self) -> str:
        return self.value


@dataclass
class Check:
    """The answer, with what a report needs to explain a violation."""

    verdict: Verdict
    calls: list[Call]
    states: int = 0
    #: The longest prefix of a sequential order that explains the results.
    best_order: list[Call] = field(default_factory=list)
    #: For a violation: the operation that no order could place next, and what
    #: the model gives for it after ``best_order``.
    stuck: Call | None = None
    expected: Any = None

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.LINEARIZABLE

    def explain(self) -> str:
        """In plain words: why no sequential order explains the results."""
        if self.verdict == Verdict.LINEARIZABLE:
            order = "; ".join(f"{c.thread} {describe_call(c)}" for c in self.best_order)
            return f"linearizable: {order}"
        if self.verdict == Verdict.UNDECIDED:
            return f"undecided after {self.states} states (limit reached): no answer"
        done = [c for c in self.best_order]
        prefix = "; ".join(f"{c.thread} {describe_call(c)}" for c in done) or "nothing"
        stuck = self.stuck
        why = ""
        if stuck is not None:
            kind, value = self.expected if self.expected is not None else ("?", None)
            would = (
                f"return {value!r}"
                if kind == "returned"
                else f"raise {getattr(value, '__name__', value)}"
            )
            why = (
                f"; after that, {stuck.thread} {describe_call(stuck)} cannot come next "
                f"(run sequentially it would {would}), and no other order consistent "
                "with real time does better"
            )
        return (
            f"not linearizable: no sequential order of the {len(self.calls)} operations "
            f"explains their results; the longest explainable order is: {prefix}{why}"
        )


class _Node:
    __slots__ = ("bit", "call", "next", "prev", "rnext", "rprev")

    def __init__(self, call: Call, bit: int) -> None:
        self.call = call
        self.bit = bit
        self.prev: _Node | None = None
        self.next: _Node | None = None
        self.rprev: _Node | None = None
        self.rnext: _Node | None = None


class _Lists:
    """The unlinearised calls, by invocation and (complete ones) by response."""

    def __init__(self, calls: Sequence[Call]) -> None:
        self.nodes = [_Node(c, 1 << i) for i, c in enumerate(calls)]
        by_inv = sorted(self.nodes, key=lambda n: n.call.invoked)
        by_ret = sorted(
            (n for n in self.nodes if not n.call.pending), key=lambda n: n.call.returned or 0
        )
        self.head = self._link(by_inv, "prev", "next")
        self.rhead = self._link(by_ret, "rprev", "rnext")

    @staticmethod
    def _link(nodes: list[_Node], prev: str, nxt: str) -> _Node | None:
        for a, b in itertools.pairwise(nodes):
            setattr(a, nxt, b)
            setattr(b, prev, a)
        return nodes[0] if nodes else None

    def lift(self, node: _Node) -> None:
        if node.prev is not None:
            node.prev.next = node.next
        else:
            self.head = node.next
        if node.next is not None:
            node.next.prev = node.prev
        if not node.call.pending:
            if node.rprev is not None:
                node.rprev.rnext = node.rnext
            else:
                self.rhead = node.rnext
            if node.rnext is not None:
                node.rnext.rprev = node.rprev

    def unlift(self, node: _Node) -> None:
        if node.prev is not None:
            node.prev.next = node
        else:
            self.head = node
        if node.next is not None:
            node.next.prev = node
        if not node.call.pending:
            if node.rprev is not None:
                node.rprev.rnext = node
            else:
                self.rhead = node
            if node.rnext is not None:
                node.rnext.rprev = node


def _search(model: Model, calls: Sequence[Call], max_states: int) -> Check:
    lists = _Lists(calls)
    state = model.init()
    linearized = 0
    seen: set[tuple[int, Hashable]] = set()
    stack: list[tuple[_Node, Any]] = []
    cursor = lists.head
    tried = 0
    best: list[_Node] = []
    while lists.rhead is not None:
        earliest = lists.rhead.call.returned or 0
        node = cursor
        moved = False
        while node is not None and node.call.invoked < earliest:
            tried += 1
            if tried > max_states:
                return Check(Verdict.UNDECIDED, list(calls), tried)
            after, outcome = model.step(state, node.call)
            if node.call.pending or outcome == node.call.outcome():
                fingerprint = model.key(after)
                config = (linearized | node.bit, fingerprint)
                if fingerprint is None or config not in seen:
                    if fingerprint is not None:
                        seen.add(config)
                    stack.append((node, state))
                    lists.lift(node)
                    linearized |= node.bit
                    state = after
                    cursor = lists.head
                    moved = True
                    if len(stack) > len(best):
                        best = [n for n, _ in stack]
                    break
            node = node.next
        if moved:
            continue
        if not stack:
            return _violation(model, calls, best, tried)
        node, state = stack.pop()
        lists.unlift(node)
        linearized &= ~node.bit
        cursor = node.next
    order = [n.call for n, _ in stack]
    return Check(Verdict.LINEARIZABLE, list(calls), tried, order)


def _violation(model: Model, calls: Sequence[Call], best: list[_Node], tried: int) -> Check:
    """The longest explainable order, and the first response it cannot reach."""
    state = model.init()
    for node in best:
        state, _ = model.step(state, node.call)
    placed = {id(n.call) for n in best}
    waiting = sorted(
        (c for c in calls if id(c) not in placed and not c.pending), key=lambda c: c.returned or 0
    )
    stuck = waiting[0] if waiting else None
    expected = model.step(state, stuck)[1] if stuck is not None else None
    return Check(
        Verdict.NOT_LINEARIZABLE, list(calls), tried, [n.call for n in best], stuck, expected
    )


def check(calls: Sequence[Call], model: Model, *, max_states: int = DEFAULT_MAX_STATES) -> Check:
    """Decide whether ``calls`` is linearizable with respect to ``model``."""
    parts: dict[Hashable, list[Call]] = {}
    for call in calls:
        key = model.partition(call)
        parts.setdefault(key, []).append(call)
    if len(parts) > 1 and None in parts:
        parts = {None: list(calls)}  # some call belongs to no key: no split
    total = 0
    order: list[Call] = []
    for part in parts.values():
        found = _search(model, part, max_states - total)
        total += found.states
        if not found.ok:
            found.calls = list(calls)
            found.states = total
            return found
        order += found.best_order
    return Check(Verdict.LINEARIZABLE, list(calls), total, order)


class ObjectModel:
    """The default specification: the object itself, run one operation at a time.

    As Lincheck does, ``make()`` builds a fresh object and each operation is
    applied to it sequentially. A state is the sequence of calls applied so far
    (objects with locks cannot be copied); its fingerprint, for memoisation, is
    a hashable picture of the object (:func:`_fingerprint`) where one can be
    taken, else the sequence itself.
    """

    def __init__(self, make: Callable[[], Any], functions: dict[str, Callable[..., Any]]) -> None:
        self.make = make
        self.functions = functions
        self._outcomes: dict[tuple[tuple[int, ...], int], Any] = {}
        self._keys: dict[tuple[int, ...], Hashable] = {}
        self._calls: dict[int, Call] = {}

    def init(self) -> tuple[int, ...]:
        return ()

    def _replay(self, applied: tuple[int, ...]) -> Any:
        obj = self.make()
        for ident in applied:
            call = self._calls[ident]
            try:
                self.functions[call.name](obj, *call.args)
            except Exception:
                pass
        return obj

    def step(self, state: tuple[int, ...], call: Call) -> tuple[tuple[int, ...], Any]:
        self._calls[call.id] = call
        memo = (state, call.id)
        outcome = self._outcomes.get(memo)
        if outcome is None:
            obj = self._replay(state)
            try:
                outcome = ("returned", self.functions[call.name](obj, *call.args))
            except Exception as exc:
                outcome = ("raised", type(exc))
            self._outcomes[memo] = outcome
        return (*state, call.id), outcome

    def key(self, state: tuple[int, ...]) -> Hashable:
        found = self._keys.get(state)
        if found is None:
            found = _fingerprint(self._replay(state))
            if found is None:
                found = state  # not comparable: this order stands for itself
            self._keys[state] = found
        return found

    def partition(self, call: Call) -> Hashable | None:
        return None


_ATOMS = (int, float, complex, str, bytes, bool, type(None))


def _fingerprint(value: Any, depth: int = 0) -> Hashable | None:
    """A hashable picture of an object's state, or None when it cannot be taken.

    Containers become tuples (in order: an LRU's order is its state), objects the
    pair of their type and their attributes; primitives such as locks, which
    carry no state a sequential run can see, count by type alone.
    """
    if depth > 20:
        return None
    if isinstance(value, _ATOMS):
        return (type(value), value)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "deque":
        items = [_fingerprint(v, depth + 1) for v in value]
        return None if None in items else (type(value), tuple(items))
    if isinstance(value, dict):
        pairs = [(_fingerprint(k, depth + 1), _fingerprint(v, depth + 1)) for k, v in value.items()]
        return None if any(None in p for p in pairs) else (type(value), tuple(pairs))
    if isinstance(value, (set, frozenset)):
        members = [_fingerprint(v, depth + 1) for v in value]
        return None if None in members else (type(value), frozenset(members))
    if type(value).__module__ in (
        "_thread",
        "threading",
        "harness.sync.locks",
        "harness.sync.condition",
        "harness.sync.event",
        "harness.sync.semaphore",
        "harness.sync.barrier",
    ):
        return (type(value),)
    attributes = getattr(value, "__dict__", None)
    if attributes is None:
        return None
    inner = _fingerprint(attributes, depth + 1)
    return None if inner is None else (type(value), inner)
