"""Partial order sampling (POS).

Yuan, Yang and Gu: "Partial Order Aware Concurrency Sampling", CAV 2018. Every
thread's next event gets a random priority, and the highest-priority thread
that can run always runs. After an event runs, the thread that ran gets a fresh
priority for its next event, and so does every other thread whose next event
*races* with the one that ran (the same location with a write among the two,
or the same primitive or thread): those are the events whose order relative to
the executed one matters, and re-drawing their priorities is what makes every
partial order about equally likely. A random walk or PCT instead samples total
orders, and with many threads doing the same independent work most of their
samples differ only in how the independent steps are shuffled; the chance that
two specific threads' conflicting steps meet shrinks with every thread added.
The paper's argument is that POS's chance of a given race depends on the events
that race, not on how many independent threads run around them.

What a thread will do next is the scheduler's ``Choice.ops`` (the access the
tracer announced at the thread's scheduling point, or the primitive of a sync
point). Locations are compared by the names the tracer gives them (``.value``,
``[]``, a global's name), not by object: two threads writing ``.value`` of
different objects count as racing. That only re-draws more priorities than
needed; it never hides a race. A call into code the tracer does not see (a C
function) is treated as writing the location ``()``, so calls race with calls.

A thread that sleeps or times out gets a fresh priority too (it yields), and
when nobody can run, the earliest timed wait times out (the default choice).
Every draw comes from a random stream seeded by ``seed``, so a seed fixes every
schedule, and a failing schedule replays from its token like any other.
"""

from __future__ import annotations

import random

from harness.explore.strategies.base import Choice, Strategy, run

__all__ = ["POS", "races"]

_DATA = frozenset({"read", "write", "call"})
_SYNC = frozenset({"sync", "end"})


def _location(op: tuple[str, object]) -> tuple[bool, object] | None:
    """``(is_sync, what)`` an op touches, or None (a thread that has not begun)."""
    kind, what = op
    if kind in _DATA:
        return False, what
    if kind in _SYNC:
        # A thread's end is what a join of it waits for: the thread is the primitive.
        return (True, id(what)) if what is not None else None
    return None


def races(done: tuple[str, object], pending: tuple[str, object]) -> bool:
    """Whether ``pending`` (a thread's next event) races with ``done`` (the event just run).

    The same primitive (or thread), or the same location with at least one
    write (a call counts as a write).
    """
    a = _location(done)
    if a is None:
        return False
    b = _location(pending)
    if b is None or a != b:
        return False
    if a[0]:
        return True
    return done[0] != "read" or pending[0] != "read"


class POS(Strategy):
    name = "pos"

    def __init__(self, seed: int) -> None:
        self._random = random.Random(f"harness-pos:{seed}")
        self._priority: list[float] = []
        #: The thread chosen at the last decision, and the event it was about to run.
        self._last = -1
        self._last_op: tuple[str, object] | None = None
        #: Threads whose priority was re-drawn at the last decision (for tests).
        self.redrawn: tuple[int, ...] = ()
        #: Which threads' next events touch each location (see _index).
        self._keys: list[object] = []
        self._at: dict[object, set[int]] = {}

    def new_execution(self) -> bool:
        self._priority = []
        self._last = -1
        self._last_op = None
        self._keys = []
        self._at = {}
        return True

    def on_thread(self, index: int) -> None:
        priority = self._priority
        while len(priority) <= index:
            priority.append(0.0)
        priority[index] = self._random.random()

    def on_yield(self, index: int) -> None:
        if index < len(self._priority):
            self._priority[index] = self._random.random()

    def executed(self, thread: int, op: tuple[str, object], ops: list[tuple[str, object]]) -> None:
        """``thread`` ran ``op``; ``ops`` are every thread's next events now.

        Re-draw the priority of ``thread`` (its next event is a new one) and of
        every other thread whose next event races with ``op``.
        """
        draw = self._random.random
        priority = self._priority
        priority[thread] = draw()
        redrawn = [thread]
        kind, what = op
        # races() inlined: this loop runs at every decision, over every thread.
        if kind in _DATA:
            done_reads = kind == "read"
            for other, (pending, where) in enumerate(ops):
                if (
                    pending in _DATA
                    and (not done_reads or pending != "read")
                    and where == what
                    and other != thread
                ):
                    priority[other] = draw()
                    redrawn.append(other)
        elif what is not None and kind in _SYNC:
            for other, (pending, where) in enumerate(ops):
                if where is what and pending in _SYNC and other != thread:
                    priority[other] = draw()
                    redrawn.append(other)
        self.redrawn = tuple(redrawn)

    def _index(self, ops: list[tuple[str, object]], changed: int) -> None:
        """Keep ``_at`` (location -> threads whose next event touches it) up to date.

        Between two decisions only the thread that ran changes its next event
        (a thread's entry in ``ops`` is written by that thread, and only the
        chosen thread runs), and threads are only ever added; so the index
        follows ``ops`` by looking at those alone, instead of scanning every
        thread at every decision (with 100 threads that scan was most of a
        pos schedule's own time).
        """
        keys = self._keys
        while len(keys) < len(ops):
            keys.append(None)
            self._move(len(keys) - 1, _location(ops[len(keys) - 1]))
        if 0 <= changed < len(ops):
            self._move(changed, _location(ops[changed]))

    def _move(self, thread: int, key: object) -> None:
        old = self._keys[thread]
        if old == key:
            return
        if old is not None:
            self._at[old].discard(thread)
        if key is not None:
            self._at.setdefault(key, set()).add(thread)
        self._keys[thread] = key

    def _executed_indexed(
        self, thread: int, op: tuple[str, object], ops: list[tuple[str, object]]
    ) -> None:
        """:meth:`executed`, looking only at the threads the index puts at ``op``'s location."""
        draw = self._random.random
        priority = self._priority
        priority[thread] = draw()
        redrawn = [thread]
        key = _location(op)
        others = self._at.get(key) if key is not None else None
        if others:
            assert key is not None
            # Every thread here races with a sync, a write or a call; with a
            # read, only those about to write. Ascending, as the full scan: the
            # same draws in the same order.
            everyone = key[0] or op[0] != "read"
            for other in sorted(others):
                if other != thread and (everyone or ops[other][0] != "read"):
                    priority[other] = draw()
                    redrawn.append(other)
        self.redrawn = tuple(redrawn)

    def choose(self, choice: Choice) -> int:
        ops = choice.ops
        self._index(ops, self._last)
        if choice.current != self._last:
            self._index(ops, choice.current)
        if self._last_op is not None:
            self._executed_indexed(self._last, self._last_op, ops)
        runnable = choice.runnable
        if not runnable:  # a timed wait times out: that thread runs next
            self._last = choice.default >> 1
            self._last_op = None
            return choice.default
        priority = self._priority
        chosen = max(runnable, key=priority.__getitem__)
        self._last = chosen
        self._last_op = ops[chosen] if chosen < len(ops) else None
        return run(chosen)

    def describe(self) -> dict[str, object]:
        return {"strategy": self.name}
