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
from collections.abc import Callable
from dataclasses import dataclass

from harness.outcome import Failure

__all__ = ["Edge", "LockOrderGraph"]

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

    def released(self, lock: object) -> None:
        with self._mutex:
            # A Lock may be released by another thread than the one that took it.
            for _, held in self._held.values():
                for i in range(len(held) - 1, -1, -1):
                    if held[i][0] is lock:
                        del held[i]
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
            order = " -> ".join(name_of(edge.held) for edge in cycle)
            message = f"lock order inversion: {order} -> {name_of(cycle[0].held)}"
            lines = [
                "These threads take the same locks in different orders. If they run at "
                "the same time, each can hold one lock while waiting for the next: a "
                "deadlock. Take them in one global order.",
            ]
            for edge in cycle:
                lines.append(
                    f"{edge.thread} took {name_of(edge.taken)} at {_where(edge.taken_site)} "
                    f"while holding {name_of(edge.held)} (taken at {_where(edge.held_site)})"
                )
            failures.append(Failure("lock-order", message, "\n".join(lines)))
        return failures
