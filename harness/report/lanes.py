"""An interleaving as swimlanes: one lane per thread, rows in the order things happened.

:func:`lane_rows` turns a recorded :class:`~harness.explore.interleaving.Interleaving`
into rows (what one thread did on one source line) and gaps (runs of rows left
out of a long stretch of one thread; the rows around a conflicting access are
always kept). :func:`lanes_renderable` draws them for a rich console: a table
with one coloured column per thread when the width allows it, else one row per
step with the thread named. The HTML report draws the same rows as SVG.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from harness.explore.interleaving import Interleaving

__all__ = ["THREAD_COLOURS", "Gap", "LaneRow", "lane_rows", "lanes_renderable"]

#: Colours of the lanes, by thread index (cycled); readable on dark and light.
THREAD_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red")
#: A stretch of one thread longer than this is shortened (unless ``full``).
MAX_STRETCH = 10
#: Narrowest readable lane; below it the table becomes a list.
MIN_LANE = 18
MIN_SOURCE = 16


@dataclass(frozen=True)
class LaneRow:
    """What one thread did on one source line."""

    thread: int
    line: int | None
    actions: tuple[str, ...]
    source: str
    file: str | None
    conflict: bool

    @property
    def text(self) -> str:
        return ", ".join(self.actions)


@dataclass(frozen=True)
class Gap:
    """Rows of one thread left out of a long stretch."""

    thread: int
    count: int

    @property
    def text(self) -> str:
        return f"... {self.count} more row{'s' if self.count != 1 else ''} ..."


def lane_rows(interleaving: Interleaving, full: bool = False) -> list[LaneRow | Gap]:
    """The rows of the lanes; long stretches of one thread shortened unless ``full``.

    Values read and written are shown at conflicting accesses (marked ``*``), or
    at every access with ``full``.
    """
    rows = [
        LaneRow(
            row.thread,
            row.line,
            tuple(row.actions),
            row.source(),
            row.file,
            row.conflict,
        )
        for row in interleaving.rows(values=full)
    ]
    shown: list[LaneRow | Gap] = []
    start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end].thread == rows[start].thread:
            end += 1
        shown.extend(_shorten(rows[start:end], full))
        start = end
    return shown


def _shorten(stretch: list[LaneRow], full: bool) -> list[LaneRow | Gap]:
    if full or len(stretch) <= MAX_STRETCH:
        return list(stretch)
    keep = {0, 1, 2, len(stretch) - 3, len(stretch) - 2, len(stretch) - 1}
    keep |= {i for i, row in enumerate(stretch) if row.conflict}
    shown: list[LaneRow | Gap] = []
    skipped = 0
    for i, row in enumerate(stretch):
        if i in keep:
            if skipped:
                shown.append(Gap(row.thread, skipped))
                skipped = 0
            shown.append(row)
        else:
            skipped += 1
    return shown


def colour(thread: int) -> str:
    return THREAD_COLOURS[thread % len(THREAD_COLOURS)]


def _action_text(row: LaneRow | Gap, width: int | None = None) -> Text:
    """The line number and the actions; wrapped between actions, never inside one
    (``*read .theVar = 1`` stays whole), continuation lines indented."""
    if isinstance(row, Gap):
        return Text(row.text, style="dim italic")
    text = Text()
    text.append(f"{row.line:>4} " if row.line else "     ", style="dim")
    used = 5
    for i, action in enumerate(row.actions):
        if i:
            text.append(",")
            used += 1
            if width is not None and used + 1 + len(action) > width:
                text.append("\n     ")
                used = 5
            else:
                text.append(" ")
                used += 1
        # A conflicting access is the heart of the story, so it stands out.
        text.append(action, style="bold reverse" if action.startswith("*") else "")
        used += len(action)
    return text


def _header(interleaving: Interleaving) -> Text:
    p = interleaving.preemptions
    return Text.assemble(
        ("interleaving", "bold"),
        f": {len(interleaving.steps)} steps, {p} preemption{'s' if p != 1 else ''}; ",
        ("*", "bold reverse"),
        " marks conflicting accesses (values read and written shown there)",
    )


def _source(row: LaneRow, show_file: bool) -> str:
    if show_file and row.file and row.line:
        return f"{os.path.basename(row.file)}:{row.line}  {row.source}"
    return row.source


def lanes_renderable(interleaving: Interleaving, width: int, full: bool = False) -> RenderableType:
    """The interleaving for a rich console ``width`` columns wide."""
    rows = lane_rows(interleaving, full)
    threads = list(interleaving.threads) or ["T0"]
    show_file = len({r.file for r in rows if isinstance(r, LaneRow) and r.file}) > 1
    n = len(threads)
    if n * (MIN_LANE + 3) + MIN_SOURCE <= width:
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
        lane = max(MIN_LANE, min(36, (width - MIN_SOURCE) // n - 3))
        for i, name in enumerate(threads):
            table.add_column(Text(name, style=f"bold {colour(i)}"), width=lane, overflow="fold")
        table.add_column(
            Text("source", style="bold"),
            no_wrap=True,
            overflow="ellipsis",
            max_width=max(width - (lane + 1) * n - 1, MIN_SOURCE),
        )
        for row in rows:
            cells: list[Text | str] = [""] * n
            cells[row.thread % n] = _action_text(row, lane - 2)
            source = Text(_source(row, show_file), style="dim") if isinstance(row, LaneRow) else ""
            table.add_row(*cells, source, style=colour(row.thread))
        return Group(_header(interleaving), table)
    # Too many threads for side-by-side lanes: one row per step, thread named.
    listing = Table(box=None, padding=(0, 1), show_edge=False, expand=True, width=width)
    name_width = min(max(len(name) for name in threads), 22)
    listing.add_column(
        Text("thread", style="bold"), no_wrap=True, overflow="ellipsis", width=max(name_width, 6)
    )
    listing.add_column(Text("what", style="bold"), overflow="fold", ratio=3, min_width=20)
    listing.add_column(Text("source", style="bold"), no_wrap=True, overflow="ellipsis", ratio=2)
    for row in rows:
        name = threads[row.thread] if row.thread < n else f"T{row.thread}"
        source = Text(_source(row, show_file), style="dim") if isinstance(row, LaneRow) else ""
        listing.add_row(
            Text(name, style=colour(row.thread)),
            _action_text(row),
            source,
            style=colour(row.thread),
        )
    return Group(_header(interleaving), listing)
