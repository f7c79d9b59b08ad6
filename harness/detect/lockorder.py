"""Lock-order analysis: report a deadlock that could happen, from a run where it did not.

Every time a thread takes a lock while it holds others, the graph gains the edges
*held -> taken*, each remembering where both locks were taken. A cycle in this
graph (thread 1 took A then B, thread 2 took B then A) means the two threads can
deadlock under some other timing, whether or not this run did. This is the idea
of Linux's lockdep and of ThreadSanitizer's lock-order checker.

Only acquisitions that could wait for ever make edges: a non-blocking or timed
acquire gives up instead of deadlocking. Re-entering an RLock is no acquisition;
a lock released before the next is taken leaves no edge.
"""

from __future__ import annotations

import _thread
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.outcome import Failure

__all__ = ["Edge", "LockOrderGraph", "inversion_message", "merge_inversions"]

Site = tuple[str, int] | None


@dataclass(frozen=True)
class Edge:
    """``held`` was held (taken at ``held_site``) when ``taken`` was taken at ``taken_site``."""

    held: object
    taken: object
    held_site: Site
    taken_site: Site
    thread: str


def _where(site: Site) -> str:
    return f"{os.path.basename(site[0])}:{site[1]}" if site else "an unknown line"


def inversion_message(names: Sequence[str]) -> str:
    """The headline of one cycle, from the names of the locks held along it."""
    return "lock order inversion: " + " -> ".join([*names, names[0]])


#: The advice under every inversion, in both the per-run and the session report.
_ADVICE = (
    "These threads take the same locks in different orders. If they run at the same "
    "time, each can hold one lock while waiting for the next: a deadlock. Take them in "
    "one global order."
)


class LockOrderGraph:
    """Collects held -> taken edges from instrumented locks; finds cycles.

    Thread safe: real threads report acquisitions concurrently under stress.
    The graph keeps references to the locks, so their identities stay unique for
    as long as it lives; make a new one per run.
    """

    def __init__(self) -> None:
        self._mutex = _thread.allocate_lock()
        # Per ident, with the Thread object seen there: idents of ended threads
        # are reused, and a new thread must not inherit an old one's held locks.
        self._held: dict[int, tuple[object, list[tuple[object, Site]]]] = {}
        self._edges: dict[tuple[int, int], Edge] = {}
        self._objects: dict[int, object] = {}

    # -- events from the primitives --------------------------------------------
    def acquired(self, lock: object, site: Site, can_block: bool) -> None:
        ident = _thread.get_ident()
        # Not threading.current_thread(): while a thread bootstraps (and takes
        # threading's own locks) it would register a dummy thread as a side effect.
        thread = threading._active.get(ident)  # type: ignore[attr-defined]
        with self._mutex:
            owner, held = self._held.get(ident, (None, []))
            if owner is not None and thread is not None and owner is not thread:
                held = []  # a new thread under a reused ident
            self._held[ident] = (thread if thread is not None else owner, held)
            if can_block and held:
                name = thread.name if thread is not None else f"thread {ident}"
                for other, other_site in held:
                    if other is lock:
                        continue
                    key = (id(other), id(lock))
                    if key not in self._edges:
                        self._edges[key] = Edge(other, lock, other_site, site, name)
                        self._objects[id(other)] = other
                        self._objects[id(lock)] = lock
            held.append((lock, site))

    def add_edge(
        self, held: object, taken: object, held_site: Site, taken_site: Site, thread: str
    ) -> Edge:
        """Record *held -> taken* directly, as seen elsewhere (another process): the
        first edge between two locks is kept."""
        with self._mutex:
            key = (id(held), id(taken))
            edge = self._edges.get(key)
            if edge is None:
                edge = self._edges[key] = Edge(held, taken, held_site, taken_site, thread)
                self._objects[id(held)] = held
                self._objects[id(taken)] = taken
            return edge

    def released(self, lock: object) -> None:
        with self._mutex:
            # Almost always the releasing thread took it: look there first, so a
            # release costs the same with 100 threads as with 2.
            mine = self._held.get(_thread.get_ident())
            if mine is not None and _drop(mine[1], lock):
                return
            # A Lock may be released by another thread than the one that took it.
            for _, held in self._held.values():
                if _drop(held, lock):
                    return

    # -- analysis -------------------------------------------------------------------
    def edges(self) -> list[Edge]:
        with self._mutex:
            return list(self._edges.values())

    def cycles(self) -> list[list[Edge]]:
        """Elementary cycles of the graph, each once, shortest first."""
        edges = self.edges()
        out: dict[int, list[Edge]] = {}
        for edge in edges:
            out.setdefault(id(edge.held), []).append(edge)
        found: list[list[Edge]] = []
        seen: set[frozenset[int]] = set()

        def walk(start: int, node: int, path: list[Edge], visited: set[int]) -> None:
            for edge in out.get(node, []):
                nxt = id(edge.taken)
                if nxt == start:
                    key = frozenset(id(e) for e in [*path, edge])
                    if key not in seen:
                        seen.add(key)
                        found.append([*path, edge])
                elif nxt not in visited and nxt > start:  # each cycle from its smallest node
                    walk(start, nxt, [*path, edge], visited | {nxt})

        for start in sorted(out):
            walk(start, start, [], {start})
        found.sort(key=len)
        return found

    def failures(self, name_of: Callable[[object], str]) -> list[Failure]:
        """One ``lock-order`` failure per cycle, naming the locks and their sites."""
        failures = []
        for found in self.cycles():
            # The same cycle read from another lock is the same inversion: start
            # each at the lock whose name sorts first, so that runs agree.
            first = min(range(len(found)), key=lambda i: name_of(found[i].held))
            cycle = found[first:] + found[:first]
            message = inversion_message([name_of(edge.held) for edge in cycle])
            lines = [_ADVICE]
            for edge in cycle:
                lines.append(
                    f"{edge.thread} took {name_of(edge.taken)} at {_where(edge.taken_site)} "
                    f"while holding {name_of(edge.held)} (taken at {_where(edge.held_site)})"
                )
            failures.append(Failure("lock-order", message, "\n".join(lines)))
        return failures


def merge_inversions(
    edges: Sequence[dict[str, Any]], where: Callable[[Site], str]
) -> list[dict[str, Any]]:
    """The cycles among edges exported by several processes, once per distinct set of
    code sites, with how many sets of locks showed each.

    An edge is a dict with ``held``/``taken`` (a lock's identity across processes),
    ``held_name``/``taken_name``, ``held_site``/``taken_site``, ``thread``, ``test``
    (the first test that made it, or None) and ``user`` (whether a site is in the
    code under test). Cycles among locks of the tooling or the standard library
    only are left out. ``where`` renders a site.
    """
    graph = LockOrderGraph()
    nodes: dict[str, str] = {}  # one object per identity: the graph keys on id()
    record_of: dict[int, dict[str, Any]] = {}
    for record in edges:
        held = nodes.setdefault(record["held"], record["held"])
        taken = nodes.setdefault(record["taken"], record["taken"])
        if held is taken:
            continue
        edge = graph.add_edge(held, taken, None, None, str(record["thread"]))
        record_of.setdefault(id(edge), record)
    found: dict[frozenset[tuple[Any, ...]], dict[str, Any]] = {}
    for cycle in graph.cycles():
        records = [record_of[id(edge)] for edge in cycle]
        if not any(record["user"] for record in records):
            continue
        signature = frozenset(
            (str(r["held_site"]), str(r["taken_site"]), r["held_name"], r["taken_name"])
            for r in records
        )
        if signature in found:
            found[signature]["count"] += 1
            continue
        lines = [
            f"{r['thread']} took {r['taken_name']} at {where(_site(r['taken_site']))} "
            f"while holding {r['held_name']} (taken at {where(_site(r['held_site']))})"
            + (f"  [{r['test']}]" if r["test"] else "")
            for r in records
        ]
        lines.append(_ADVICE)
        found[signature] = {
            "message": inversion_message([r["held_name"] for r in records]),
            "lines": lines,
            "count": 1,
            "edges": records,
        }
    return list(found.values())


def _drop(held: list[tuple[object, Site]], lock: object) -> bool:
    """Remove the innermost hold of ``lock`` from ``held``; whether there was one."""
    for i in range(len(held) - 1, -1, -1):
        if held[i][0] is lock:
            del held[i]
            return True
    return False


def _site(value: Any) -> Site:
    return (str(value[0]), int(value[1])) if value else None
