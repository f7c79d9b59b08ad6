"""Wait-for analysis: who waits for what, who holds it, and whether that is a cycle.

Both engines describe blocked threads the same way: the primitive a thread waits
for (named by the attribute or variable it is bound to), the line of the wait,
the thread that holds it and the line where that thread took it. A cycle of
"waits for a lock held by" is a deadlock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Waiter", "describe_waits", "find_cycle"]

Site = tuple[str, int] | None


@dataclass(frozen=True)
class Waiter:
    """A blocked thread: its name and ident, what it waits for, and where."""

    name: str
    ident: int | None
    obj: object
    site: Site
    kind: str = "lock"


def _site(site: Site, prefix: str) -> str:
    return f" {prefix} {os.path.basename(site[0])}:{site[1]}" if site else ""


def _what(w: Waiter, name_of: Callable[[object], str]) -> str:
    """The primitive ``w`` waits for, named, with its type."""
    # A thread in Event.wait() waits on the event's condition: name the event.
    shown = getattr(w.obj, "_outer", None) or w.obj
    return f"{name_of(shown)} ({type(shown).__name__})" if shown is not None else w.kind


def find_cycle(waiters: Sequence[Waiter]) -> list[Waiter]:
    """The waiters forming a cycle of lock waits, in order; empty if there is none."""
    by_ident = {w.ident: w for w in waiters if w.ident is not None}
    for start in waiters:
        path = [start]
        seen = {id(start)}
        node = start
        while True:
            owner = getattr(node.obj, "_owner", None)
            nxt = by_ident.get(owner) if owner is not None else None
            if nxt is None:
                break
            if nxt is start:
                return path
            if id(nxt) in seen:
                break
            seen.add(id(nxt))
            path.append(nxt)
            node = nxt
    return []


def describe_waits(
    waiters: Sequence[Waiter],
    name_of: Callable[[object], str],
    thread_name: Callable[[int], str | None],
) -> tuple[str, str]:
    """A one-line summary and the details of who waits for what and who holds it.

    The summary reads ``T0 waits for lock_b held by T1 -> T1 waits for lock_a
    held by T0`` when the waits form a cycle.
    """
    cycle = find_cycle(waiters)
    lines = []
    for w in waiters:
        lines.append(f"{w.name} waits for {_what(w, name_of)}{_site(w.site, 'at')}")
        owner = getattr(w.obj, "_owner", None)
        if owner is not None:
            holder = thread_name(owner) or "a thread outside the run"
            lines.append(f"    held by {holder}{_site(getattr(w.obj, '_site', None), 'since')}")
    if cycle:
        parts = []
        for w in cycle:
            held_by = thread_name(getattr(w.obj, "_owner", 0))  # in a cycle, always held
            parts.append(f"{w.name} waits for {name_of(w.obj)} held by {held_by}")
        summary = " -> ".join(parts)  # the failure's kind already says "deadlock"
    else:
        summary = _no_cycle_summary(waiters, name_of, thread_name)
    return summary, "\n".join(lines)


#: At most this many waits are spelled out in a one-line summary.
_SUMMARY_WAITS = 3


def _no_cycle_summary(
    waiters: Sequence[Waiter],
    name_of: Callable[[object], str],
    thread_name: Callable[[int], str | None],
) -> str:
    """``T0 waits for items (Condition); T1 waits for lock held by T0``: blocked
    threads whose waits form no cycle of held locks, each wait named (a Condition,
    Event or Queue wait has no holder, so no edge: nobody left will notify it)."""
    if not waiters:
        return "0 threads blocked, none can run"
    parts = []
    for w in waiters[:_SUMMARY_WAITS]:
        what = _what(w, name_of)
        owner = getattr(w.obj, "_owner", None)
        held = f" held by {thread_name(owner) or 'a thread outside the run'}" if owner else ""
        parts.append(f"{w.name} waits for {what}{held}")
    more = len(waiters) - _SUMMARY_WAITS
    tail = f"; and {more} more" if more > 0 else ""
    return f"no thread can run: {'; '.join(parts)}{tail}"
