"""Happens-before data race detection: vector clocks with FastTrack's epochs.

The algorithm of Flanagan and Freund, "FastTrack: Efficient and Precise Dynamic
Race Detection" (PLDI 2009), written for the explorer. Each thread ``t`` has a
vector clock ``C[t]``; each lock ``m`` the clock ``L[m]`` of its last release.
Happens-before is built only from synchronization:

* ``release(t, m)``: ``L[m] := C[t]``, then ``t`` ticks;
* ``acquire(t, m)``: ``C[t] := C[t] join L[m]``;
* ``fork(t, u)`` (thread start): ``C[u] := C[u] join C[t]``, then ``t`` ticks;
* ``join(t, u)``: ``C[t] := C[t] join C[u]``, then ``u`` ticks.

Every Condition, Event, Semaphore, Barrier and Queue of :mod:`harness.sync` (and
so every executor future) is built on the instrumented Lock, so their orders
come through ``release`` and ``acquire``. The virtual clock's sleeps imply
nothing.

Per shared location the detector keeps the last write as an *epoch* ``c@t``
(one thread's clock value) and the reads as an epoch too while they are totally
ordered, inflating to a vector clock only for concurrent reads: the common case
is O(1) per access, as in the paper. An access races with an earlier one when
that one is not ordered before it (``c@t`` is ordered before thread ``u`` iff
``c <= C[u][t]``), they come from different threads and one of them writes.

The module is pure (no threads, no frames): the scheduler feeds it thread
indices, opaque lock keys, location keys and :class:`Access` records.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Access", "Frames", "Name", "Race", "RaceDetector", "VectorClock"]


#: A location's report name, or a function that makes it: called only the first
#: time the location is seen (a name built for every access was most of the cost).
Name = str | Callable[[], str]

#: An access's stack: (file, line, function) of the code under test, innermost last.
Frames = tuple[tuple[str, int, str], ...]


class VectorClock:
    """A map from thread index to clock value; missing entries are 0."""

    __slots__ = ("_c",)

    def __init__(self, values: dict[int, int] | None = None) -> None:
        self._c: dict[int, int] = dict(values) if values else {}

    def get(self, tid: int) -> int:
        return self._c.get(tid, 0)

    def tick(self, tid: int) -> None:
        self._c[tid] = self._c.get(tid, 0) + 1

    def join(self, other: VectorClock) -> None:
        """This clock becomes the pointwise maximum of itself and ``other``."""
        mine = self._c
        for tid, value in other._c.items():
            if mine.get(tid, 0) < value:
                mine[tid] = value

    def copy(self) -> VectorClock:
        return VectorClock(self._c)

    def leq(self, other: VectorClock) -> bool:
        """Pointwise ``<=``: everything this clock saw, ``other`` saw."""
        return all(value <= other.get(tid) for tid, value in self._c.items())

    def __repr__(self) -> str:
        return f"VectorClock({self._c})"


class Access(NamedTuple):
    """One access to a shared location, as a report shows it.

    A named tuple, not a dataclass: one is built for every checked access, and a
    frozen dataclass's ``__init__`` cost several times more.
    """

    thread: int
    kind: str  # "read" or "write"
    file: str | None = None
    line: int | None = None
    source: str = ""
    thread_name: str = ""
    #: Its index in the recorded trace, when the execution is recorded.
    step: int | None = None
    #: Where it was made from; filled in only when the access is kept (stored as
    #: an epoch, or reported), by the detector's ``stack_of``.
    stack: Frames = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else "?"


@dataclass(frozen=True)
class Race:
    """Two conflicting accesses to ``location`` with no happens-before order."""

    location: str
    first: Access  # the earlier access (in this execution's order)
    second: Access  # the access that revealed the race


class _Epoch:
    """``clock@thread`` with the access that set it."""

    __slots__ = ("access", "clock", "tid")

    def __init__(self, tid: int, clock: int, access: Access) -> None:
        self.tid = tid
        self.clock = clock
        self.access = access


class _Location:
    """FastTrack's shadow state of one location: last write, reads."""

    __slots__ = ("keep", "name", "read", "reads", "write")

    def __init__(self, name: str, keep: object) -> None:
        self.name = name
        self.keep = keep  # the owner, held so that its id is not reused
        self.write: _Epoch | None = None
        self.read: _Epoch | None = None  # the read epoch, while reads are ordered
        self.reads: dict[int, _Epoch] | None = None  # concurrent reads, by thread


class RaceDetector:
    """The happens-before state of one execution."""

    def __init__(
        self,
        ignore: frozenset[str] = frozenset(),
        stack_of: Callable[[object], Frames] | None = None,
    ) -> None:
        self.ignore = ignore
        #: Makes an access's stack from the ``where`` that read and write are given
        #: (opaque here: the explorer passes a frame), only for an access it keeps.
        self.stack_of = stack_of
        self._threads: dict[int, VectorClock] = {}
        self._locks: dict[Hashable, VectorClock] = {}
        self._locations: dict[Hashable, _Location] = {}
        self.races: list[Race] = []
        self._reported: set[Hashable] = set()
        self._benign: dict[Hashable, object] = {}

    def mark_benign(self, key: Hashable, keep: object = None) -> None:
        """Never report the location ``key`` (unsynchronized on purpose)."""
        self._benign[key] = keep
        self._locations.pop(key, None)

    # -- clocks ------------------------------------------------------------------
    def clock(self, tid: int) -> VectorClock:
        c = self._threads.get(tid)
        if c is None:
            c = self._threads[tid] = VectorClock({tid: 1})
        return c

    def _ordered(self, epoch: _Epoch, tid: int) -> bool:
        return epoch.tid == tid or epoch.clock <= self.clock(tid).get(epoch.tid)

    # -- synchronization ---------------------------------------------------------
    def acquire(self, tid: int, lock: Hashable) -> None:
        released = self._locks.get(lock)
        if released is not None:
            self.clock(tid).join(released)

    def release(self, tid: int, lock: Hashable) -> None:
        c = self.clock(tid)
        self._locks[lock] = c.copy()
        c.tick(tid)

    def fork(self, parent: int, child: int) -> None:
        c = self.clock(parent)
        self.clock(child).join(c)
        c.tick(parent)

    def join(self, parent: int, child: int) -> None:
        u = self.clock(child)
        self.clock(parent).join(u)
        u.tick(child)

    # -- accesses ----------------------------------------------------------------
    def read(
        self,
        tid: int,
        key: Hashable,
        name: Name,
        access: Access,
        keep: object = None,
        where: object = None,
    ) -> None:
        loc = self._locations.get(key) or self._location(key, name, keep)
        if loc is None:
            return
        mine = (self._threads.get(tid) or self.clock(tid))._c  # (inlined: every access)
        now = mine.get(tid, 0)
        r = loc.read
        if r is not None and r.tid == tid and r.clock == now:
            return  # same epoch: FastTrack's fast path
        if loc.reads is not None:
            mine_read = loc.reads.get(tid)
            if mine_read is not None and mine_read.clock == now:
                return  # same epoch among concurrent reads (a write would have reset them)
        if where is not None and self.stack_of is not None:
            access = access._replace(stack=self.stack_of(where))  # kept from here on
        w = loc.write
        if w is not None and w.tid != tid and w.clock > mine.get(w.tid, 0):
            self._race(key, loc, w.access, access)
        if loc.reads is not None:
            loc.reads[tid] = _Epoch(tid, now, access)
        elif r is None or r.tid == tid or r.clock <= mine.get(r.tid, 0):
            if r is not None and r.tid == tid:
                r.clock = now  # this thread's own epoch, moved on: no new object
                r.access = access
            else:
                loc.read = _Epoch(tid, now, access)
        else:  # concurrent reads: inflate to a read vector
            loc.reads = {r.tid: r, tid: _Epoch(tid, now, access)}
            loc.read = None

    def write(
        self,
        tid: int,
        key: Hashable,
        name: Name,
        access: Access,
        keep: object = None,
        where: object = None,
    ) -> None:
        loc = self._locations.get(key) or self._location(key, name, keep)
        if loc is None:
            return
        mine = (self._threads.get(tid) or self.clock(tid))._c
        now = mine.get(tid, 0)
        w = loc.write
        if w is not None and w.tid == tid and w.clock == now:
            return
        if where is not None and self.stack_of is not None:
            access = access._replace(stack=self.stack_of(where))
        if w is not None and w.tid != tid and w.clock > mine.get(w.tid, 0):
            self._race(key, loc, w.access, access)
        if loc.reads is not None:
            for r in loc.reads.values():
                if not self._ordered(r, tid):
                    self._race(key, loc, r.access, access)
                    break
            loc.reads = None
        elif loc.read is not None and not self._ordered(loc.read, tid):
            self._race(key, loc, loc.read.access, access)
        loc.read = None
        if w is not None and w.tid == tid:
            w.clock = now
            w.access = access
        else:
            loc.write = _Epoch(tid, now, access)

    def _location(self, key: Hashable, name: Name, keep: object) -> _Location | None:
        loc = self._locations.get(key)
        if loc is None:
            if not isinstance(name, str):
                name = name()
            if name in self.ignore or key in self._benign:
                return None
            loc = self._locations[key] = _Location(name, keep)
        return loc

    def _race(self, key: Hashable, loc: _Location, first: Access, second: Access) -> None:
        if key in self._reported:
            return  # one report per location
        self._reported.add(key)
        self.races.append(Race(loc.name, first, second))
