"""A recorded execution as lanes: one column per thread, in the order things happened.

Consecutive steps of one thread on one source line make one row. Accesses that
conflict (two threads touch the same name, at least one writes, and the other
thread's access falls between two accesses of the first) are marked with ``*``:
in a lost update that is the read, the other thread's write, and the stale write.
"""

from __future__ import annotations

import itertools
import linecache
import os
import textwrap
from dataclasses import dataclass, field
from typing import Any

from harness.trace import Step

__all__ = ["Interleaving"]

_DATA = ("read", "write", "call")
_MAX_SEGMENT_ROWS = 10
#: More threads than this are shown as a log rather than side-by-side lanes.
MAX_LANES = 4


@dataclass
class _Row:
    thread: int
    file: str | None
    line: int | None
    actions: list[str] = field(default_factory=list)
    offset: int | None = None
    conflict: bool = False

    def source(self) -> str:
        if not self.file or not self.line:
            return ""
        return linecache.getline(self.file, self.line).strip()


def _conflicts(steps: list[Step]) -> set[int]:
    """Indices of steps that take part in an interleaved conflicting access.

    For two successive accesses ``a`` and ``c`` of one thread to a name, the
    accesses of other threads in between that conflict with ``a`` or ``c`` (one
    of the two writes) are the race; ``a``, ``c`` and the first and last of those
    are marked. In a lost update: the first read, the other thread's writes, the
    stale write.
    """
    # The same attribute of different objects is not the same location: key by
    # the object when the recording knows it; an access whose object is unknown
    # may be any of them.
    by_label: dict[str, list[int]] = {}
    for i, step in enumerate(steps):
        if step.kind in ("read", "write") and step.label not in ("()", "[]"):
            by_label.setdefault(step.label, []).append(i)
    by_target: dict[tuple[int | None, str], list[int]] = {}
    for label, indices in by_label.items():
        owners = {steps[i].owner for i in indices} - {None}
        for owner in owners or {None}:
            by_target[(owner, label)] = [i for i in indices if steps[i].owner in (owner, None)]
    marked: set[int] = set()
    for indices in by_target.values():
        threads = {steps[i].thread for i in indices}
        if len(threads) < 2:
            continue
        for thread in threads:
            # Positions in ``indices`` (sorted): what lies between two successive
            # accesses of ``thread`` is other threads' accesses, visited once per
            # thread (a scan of all of them per pair was quadratic: 1.6 s for the
            # 4,000 steps of the 2 x 1,000 counter).
            own = [p for p, i in enumerate(indices) if steps[i].thread == thread]
            for pa, pc in itertools.pairwise(own):
                a, c = indices[pa], indices[pc]
                racing = []
                for b in indices[pa + 1 : pc]:
                    hits = [x for x in (a, c) if "write" in (steps[x].kind, steps[b].kind)]
                    if hits:
                        racing.append(b)
                        marked.update(hits)
                if racing:
                    marked.update((racing[0], racing[-1]))
    return marked


class Interleaving:
    """The steps of one execution, ready to print as lanes or to serialize."""

    def __init__(
        self,
        steps: list[Step],
        threads: list[str],
        preemptions: int,
        marked: frozenset[int] = frozenset(),
    ) -> None:
        self.steps = steps
        self.threads = threads
        self.preemptions = preemptions
        #: Conflicting accesses, and the steps of a reported data race (``marked``).
        self.conflicts = _conflicts(steps) | {i for i in marked if 0 <= i < len(steps)}

    def rows(self, values: bool = False) -> list[_Row]:
        """Rows of the lanes; values are shown at conflicts, or everywhere with ``values``."""
        rows: list[_Row] = []
        for i, step in enumerate(self.steps):
            if step.kind in _DATA:
                action = "call" if step.kind == "call" else f"{step.kind} {step.label}"
                if step.value is not None and (values or i in self.conflicts):
                    action += f" = {step.value}"
            elif step.kind == "end":
                action = "ends"
            elif step.kind == "block":
                action = f"blocks ({step.label})"
            else:
                action = f"{step.kind} {step.label}".strip()
            last = rows[-1] if rows else None
            same_line = last is not None and (last.thread, last.file, last.line) == (
                step.thread,
                step.file,
                step.line,
            )
            # An offset that does not move forward is the line running again (a loop).
            forward = (
                step.offset is None
                or last is None
                or last.offset is None
                or (step.offset > last.offset)
            )
            if same_line and forward and last is not None:
                row = last
            else:
                row = _Row(step.thread, step.file, step.line)
                rows.append(row)
            if step.offset is not None:
                row.offset = step.offset
            if i in self.conflicts:
                action = "*" + action
                row.conflict = True
            row.actions.append(action)
        return rows

    def _segments(self, rows: list[_Row], full: bool) -> list[list[_Row | str]]:
        segments: list[list[_Row | str]] = []
        current: list[_Row] = []
        for row in rows:
            if current and current[-1].thread != row.thread:
                segments.append(self._shorten(current, full))
                current = []
            current.append(row)
        if current:
            segments.append(self._shorten(current, full))
        return segments

    @staticmethod
    def _shorten(rows: list[_Row], full: bool) -> list[_Row | str]:
        if full or len(rows) <= _MAX_SEGMENT_ROWS:
            return list(rows)
        keep = set(range(3)) | set(range(len(rows) - 3, len(rows)))
        keep |= {i for i, row in enumerate(rows) if row.conflict}
        shown: list[_Row | str] = []
        skipped = 0
        for i, row in enumerate(rows):
            if i in keep:
                if skipped:
                    shown.append(f"... {skipped} more rows ...")
                    skipped = 0
                shown.append(row)
            else:
                skipped += 1
        return shown

    def render_text(self, width: int = 110, full: bool = False) -> str:
        """The lanes as plain text, ``width`` columns wide.

        One column per thread holds the line number and what the thread did
        there; the source of that line is shown once, in the last column.
        """
        n = max(len(self.threads), 1)
        if n > MAX_LANES:
            return self._render_log(width, full)
        lane = max(min(34, (width - 32) // n - 3), 14)
        source_width = width - (lane + 3) * n
        if source_width < 16:  # too many threads for the source column
            source_width = 0
        rows = self.rows(values=full)
        show_file = len({row.file for row in rows if row.file}) > 1
        header = " │ ".join(name.ljust(lane) for name in self.threads)
        if source_width:
            header += " │ source"
        lines = [
            f"interleaving: {len(self.steps)} steps, {self.preemptions} preemption"
            f"{'s' if self.preemptions != 1 else ''}; * marks conflicting accesses",
            header,
            "─" * min(len(header) + max(source_width - 6, 0), width),
        ]
        for segment in self._segments(rows, full):
            for item in segment:
                if isinstance(item, str):
                    thread = next(r.thread for r in segment if isinstance(r, _Row))
                    lines.append(self._line(n, lane, thread, [item], ""))
                    continue
                where = f"{item.line:>4} " if item.line else "     "
                texts = textwrap.wrap(
                    where + ", ".join(item.actions), lane, subsequent_indent="     "
                ) or [where]
                source = item.source()
                if show_file and item.file and item.line:
                    source = f"{os.path.basename(item.file)}:{item.line}  {source}"
                lines.append(
                    self._line(n, lane, item.thread, texts[:1], _fit(source, source_width))
                )
                for more in texts[1:]:
                    lines.append(self._line(n, lane, item.thread, [more], ""))
        return "\n".join(line.rstrip() for line in lines)

    def _render_log(self, width: int, full: bool) -> str:
        """Too many threads for side-by-side lanes: one line per row, thread first."""
        name_width = min(max(len(name) for name in self.threads), 16)
        action_width = 38
        source_width = max(width - name_width - action_width - 6, 16)
        lines = [
            f"interleaving: {len(self.steps)} steps, {self.preemptions} preemption"
            f"{'s' if self.preemptions != 1 else ''}, {len(self.threads)} threads; "
            "* marks conflicting accesses",
        ]
        for segment in self._segments(self.rows(values=full), full):
            for item in segment:
                if isinstance(item, str):
                    lines.append(f"{'':<{name_width}}   {item}")
                    continue
                name = _fit(self.threads[item.thread], name_width)
                where = f"{item.line:>4} " if item.line else "     "
                actions = _fit(where + ", ".join(item.actions), action_width)
                source = _fit(item.source(), source_width)
                lines.append(f"{name:<{name_width}} │ {actions:<{action_width}} │ {source}")
        return "\n".join(line.rstrip() for line in lines)

    @staticmethod
    def _line(n: int, lane: int, thread: int, texts: list[str], source: str) -> str:
        cells = [" " * lane] * n
        cells[thread] = _fit(texts[0], lane).ljust(lane)
        line = " │ ".join(cells)
        return line + " │ " + source if source else line

    def to_dict(self) -> dict[str, Any]:
        return {
            "threads": list(self.threads),
            "preemptions": self.preemptions,
            "steps": [
                {
                    "thread": s.thread,
                    "kind": s.kind,
                    "label": s.label,
                    "file": s.file,
                    "line": s.line,
                    "value": s.value,
                    "conflict": i in self.conflicts,
                }
                for i, s in enumerate(self.steps)
            ],
        }


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
