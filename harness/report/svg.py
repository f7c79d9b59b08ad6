"""Inline SVG pictures for the HTML report: histogram bars, swimlanes, lock graphs.

Every function returns one ``<svg>`` element as a string, with every piece of
text escaped (outcomes, source lines and lock names come from user code), no
script and no reference to anything outside the element, so that the page is
self-contained and safe to open.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from harness.explore.interleaving import Interleaving
from harness.outcome import Histogram, Verdict
from harness.report.lanes import Gap, LaneRow, lane_rows

__all__ = ["graph_svg", "histogram_svg", "swimlane_svg"]

#: Lane colours of the SVG swimlane (thread index, cycled); same order as the terminal's.
LANE_COLOURS = ("#0e7490", "#a21caf", "#15803d", "#a16207", "#1d4ed8", "#b91c1c")
ACCEPTABLE = "#16a34a"
FORBIDDEN = "#dc2626"
CONFLICT = "#f59e0b"
#: Approximate width of one character of the 12px monospace font, in pixels.
CHAR = 7.3
MAX_BARS = 15


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _clip(text: str, width_px: float) -> str:
    limit = max(int(width_px / CHAR), 4)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def histogram_svg(histogram: Histogram, width: int = 760) -> str:
    """Outcomes as horizontal bars, longest first; red for forbidden, green for acceptable."""
    entries = list(histogram)[:MAX_BARS]
    hidden = len(histogram) - len(entries)
    top = max((e.count for e in entries), default=1) or 1
    row = 44
    height = row * len(entries) + (24 if hidden else 0) + 8
    bar_space = width - 150
    parts = [
        f'<svg class="histogram" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="outcome histogram">'
    ]
    for i, entry in enumerate(entries):
        y = i * row + 4
        share = histogram.share(entry)
        colour = FORBIDDEN if entry.verdict == Verdict.FORBIDDEN else ACCEPTABLE
        bar = max(bar_space * entry.count / top, 2)
        label = _clip(entry.outcome, width - 110)
        parts.append(
            f'<g class="bar {entry.verdict.value.lower()}"><title>{_e(entry.outcome)}: '
            f"{entry.count} ({share:.1%}), {entry.verdict.value}</title>"
            f'<text x="0" y="{y + 12}" class="label">{_e(label)}</text>'
            f'<text x="{width}" y="{y + 12}" class="verdict" text-anchor="end" '
            f'fill="{colour}">{_e(entry.verdict.value)}</text>'
            f'<rect x="0" y="{y + 18}" width="{bar:.1f}" height="16" rx="3" fill="{colour}"/>'
            f'<text x="{bar + 8:.1f}" y="{y + 31}" class="count">{entry.count:,} '
            f"({share:.1%})</text></g>"
        )
    if hidden:
        parts.append(
            f'<text x="0" y="{height - 8}" class="more">... and {hidden} more outcomes '
            f"(the JSON output has them all)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def swimlane_svg(interleaving: Interleaving, full: bool = False) -> str:
    """One lane per thread, time going down; conflicting accesses highlighted."""
    rows = lane_rows(interleaving, full)
    threads = list(interleaving.threads) or ["T0"]
    n = len(threads)
    lane = 260 if n <= 3 else 190
    source_x = lane * n + 16
    source_width = 420
    width = source_x + source_width
    row_h = 22
    head = 30
    height = head + row_h * len(rows) + 10
    parts = [
        f'<svg class="swimlane" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="interleaving swimlane">'
    ]
    for t, name in enumerate(threads):
        x = t * lane
        colour = LANE_COLOURS[t % len(LANE_COLOURS)]
        parts.append(
            f'<rect x="{x + 2}" y="0" width="{lane - 4}" height="{height}" fill="{colour}" '
            f'fill-opacity="0.06" rx="4"/>'
            f'<text x="{x + 8}" y="19" class="thread" fill="{colour}">{_e(_clip(name, lane - 16))}'
            f"</text>"
        )
    parts.append(f'<text x="{source_x}" y="19" class="thread">source</text>')
    for i, row in enumerate(rows):
        y = head + i * row_h
        t = row.thread % n
        x = t * lane
        colour = LANE_COLOURS[t % len(LANE_COLOURS)]
        if isinstance(row, Gap):
            parts.append(f'<text x="{x + 10}" y="{y + 15}" class="gap">{_e(row.text)}</text>')
            continue
        parts.append(_lane_row(row, x, y, lane, row_h, colour))
        if row.source:
            parts.append(
                f'<text x="{source_x}" y="{y + 15}" class="source">'
                f"{_e(_clip(row.source, source_width))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _lane_row(row: LaneRow, x: float, y: float, lane: float, row_h: float, colour: str) -> str:
    fill = CONFLICT if row.conflict else colour
    opacity = "0.35" if row.conflict else "0.14"
    where = f"{row.line:>4} " if row.line else "     "
    text = where + row.text
    title = f"line {row.line}: {row.source}" if row.line else row.text
    return (
        f'<g class="step{" conflict" if row.conflict else ""}"><title>{_e(title)}\n{_e(row.text)}'
        f"</title>"
        f'<rect x="{x + 6}" y="{y + 2}" width="{lane - 12}" height="{row_h - 4}" rx="3" '
        f'fill="{fill}" fill-opacity="{opacity}"'
        + (f' stroke="{CONFLICT}" stroke-width="1.5"' if row.conflict else "")
        + f'/><text x="{x + 10}" y="{y + 15}" class="action">{_e(_clip(text, lane - 20))}'
        f"</text></g>"
    )


def graph_svg(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str, str]],
    kinds: dict[str, str] | None = None,
    size: int = 420,
    ident: str = "graph",
) -> str:
    """A directed graph on a circle: ``edges`` are ``(from, to, label)``.

    ``kinds`` maps a node to ``"lock"`` or ``"thread"`` (drawn as a box or a
    circle); every node is a lock when it is left out. ``ident`` makes the
    arrow marker's id unique within the page.
    """
    marker = f"arrow-{ident}"
    kinds = kinds or {}
    n = max(len(nodes), 1)
    width = size + 280  # room beside the circle for the edge labels
    centre = size / 2
    radius = size / 2 - 70 if n > 1 else 0
    where = {}
    for i, node in enumerate(nodes):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        where[node] = (width / 2 + radius * math.cos(angle), centre + radius * math.sin(angle))
    parts = [
        f'<svg class="graph" width="{width}" height="{size}" '
        f'viewBox="0 0 {width} {size}" role="img" aria-label="lock graph">'
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#b91c1c"/></marker></defs>'
    ]
    for source, target, label in edges:
        if source not in where or target not in where:
            continue
        (x1, y1), (x2, y2) = where[source], where[target]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1
        # Stop short of the node, and bend a little so that a <-> b edges do not overlap.
        ux, uy = dx / length, dy / length
        sx, sy = x1 + ux * 42, y1 + uy * 42
        ex, ey = x2 - ux * 42, y2 - uy * 42
        mx, my = (sx + ex) / 2 - uy * 30, (sy + ey) / 2 + ux * 30
        # The label sits beside the curve's middle, on its outer side.
        lx, ly = (sx + ex) / 4 + mx / 2 - uy * 6, (sy + ey) / 4 + my / 2 + ux * 6 + 4
        anchor = "middle" if abs(uy) < 0.3 else ("end" if uy > 0 else "start")
        parts.append(
            f'<g class="edge"><title>{_e(source)} → {_e(target)}: {_e(label)}</title>'
            f'<path d="M {sx:.1f} {sy:.1f} Q {mx:.1f} {my:.1f} {ex:.1f} {ey:.1f}" fill="none" '
            f'stroke="#b91c1c" stroke-width="2" marker-end="url(#{marker})"/>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" class="edge-label" text-anchor="{anchor}">'
            f"{_e(_clip(label, 250))}</text></g>"
        )
    for node in nodes:
        x, y = where[node]
        label = _e(_clip(node, 80))
        if kinds.get(node) == "thread":
            shape = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="34" fill="#e0f2fe" stroke="#0369a1"/>'
        else:
            shape = (
                f'<rect x="{x - 44:.1f}" y="{y - 18:.1f}" width="88" height="36" rx="6" '
                f'fill="#fef3c7" stroke="#b45309"/>'
            )
        parts.append(
            f'<g class="node {kinds.get(node, "lock")}"><title>{_e(node)}</title>{shape}'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" class="node-label">'
            f"{label}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
