"""A self-contained HTML report of engine runs (``--report PATH.html``).

One file, nothing outside it: inline CSS and SVG, no script, no font or image
to fetch, so it opens the same on a laptop, in a CI artifact viewer or with
JavaScript off. For each variant run it shows the verdict, the outcome
histogram as an SVG bar chart, every distinct failure with its details, the
lock-order graph (or the wait-for cycle of a deadlock) when there is one, the
interleaving of a failing schedule as an SVG swimlane, and the replay token.
A judged catalogue run starts with one row per variant, linked to its section.

Every string that comes from user code (outcomes, messages, tracebacks, source
lines, lock and thread names) is escaped.
"""

from __future__ import annotations

import itertools
import platform
import re
from collections.abc import Sequence
from html import escape
from typing import Any

from harness._version import __version__
from harness.explore.interleaving import Interleaving
from harness.outcome import FailureGroup, Result, display_unit, replay_command
from harness.report.svg import graph_svg, histogram_svg, swimlane_svg

__all__ = [
    "lock_graph",
    "render_report",
    "render_result_html",
    "wait_graph",
    "write_report",
    "write_result_report",
]

_LOCK_ORDER = re.compile(r"lock order inversion: (?P<chain>.+)$")
_TOOK = re.compile(r"^(?P<thread>\S+) took (?P<taken>\S+) at .+? while holding (?P<held>\S+) \(")
_WAIT = re.compile(r"(?P<waiter>\S+) waits for (?P<lock>\S+) held by (?P<holder>\S+)")

_CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; padding: 24px 32px 48px; max-width: 1280px; color: #1f2937;
       background: #f9fafb; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 20px 0 8px; text-transform: uppercase; letter-spacing: .04em;
     color: #4b5563; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
                   font-size: 13px; }
pre { background: #111827; color: #e5e7eb; padding: 12px 14px; border-radius: 6px;
      overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.meta, .cmd { color: #6b7280; margin: 0; }
section.run { background: #fff; border: 1px solid #e5e7eb; border-left: 6px solid #16a34a;
              border-radius: 8px; padding: 16px 20px; margin: 20px 0; }
section.run.failed { border-left-color: #dc2626; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 13px;
         font-weight: 600; vertical-align: middle; margin-left: 8px; }
.badge.failed { background: #fee2e2; color: #991b1b; }
.badge.ok { background: #dcfce7; color: #166534; }
.badge.notmet { background: #dc2626; color: #fff; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e5e7eb;
         vertical-align: top; }
th { background: #f3f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failure { margin: 8px 0 14px; }
.kind { font-weight: 700; color: #b91c1c; }
.figure { overflow-x: auto; background: #fff; border: 1px solid #f3f4f6; border-radius: 6px;
          padding: 8px; }
.token { user-select: all; }
.note { color: #374151; }
svg text { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
           font-size: 12px; fill: #1f2937; }
svg text.thread { font-weight: 700; font-size: 13px; }
svg text.gap, svg text.more { fill: #6b7280; font-style: italic; }
svg text.source { fill: #4b5563; }
svg g.conflict text.action { font-weight: 700; }
svg text.verdict { font-weight: 700; }
svg text.edge-label { fill: #7f1d1d; font-size: 11px; }
svg text.node-label { font-weight: 700; }
footer { color: #9ca3af; font-size: 12px; margin-top: 32px; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _anchor(name: str) -> str:
    return "run-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name)


# -- graphs -------------------------------------------------------------------------


def lock_graph(groups: Sequence[FailureGroup]) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Nodes and edges of the lock-order cycles among ``groups``' failures.

    An edge ``a -> b`` means some thread took ``b`` while holding ``a``; its label
    names that thread.
    """
    nodes: list[str] = []
    edges: list[tuple[str, str, str]] = []
    for group in groups:
        failure = group.failure
        if failure.kind != "lock-order":
            continue
        match = _LOCK_ORDER.search(failure.message)
        if not match:
            continue
        chain = [name.strip() for name in match["chain"].split(" -> ")]
        takers = {}
        for line in failure.details.splitlines():
            took = _TOOK.match(line.strip())
            if took:
                takers[(took["held"], took["taken"])] = took["thread"]
        for name in chain:
            if name not in nodes:
                nodes.append(name)
        for held, taken in itertools.pairwise(chain):
            thread = takers.get((held, taken), "")
            label = f"{thread} takes {taken} holding {held}" if thread else "taken while holding"
            if (held, taken, label) not in edges:
                edges.append((held, taken, label))
    return nodes, edges


def wait_graph(
    groups: Sequence[FailureGroup],
) -> tuple[list[str], list[tuple[str, str, str]], dict[str, str]]:
    """The wait-for cycle of a deadlock: thread -waits for-> lock -held by-> thread."""
    nodes: list[str] = []
    edges: list[tuple[str, str, str]] = []
    kinds: dict[str, str] = {}
    for group in groups:
        if group.failure.kind != "deadlock":
            continue
        for match in _WAIT.finditer(group.failure.message):
            for name, kind in (
                (match["waiter"], "thread"),
                (match["lock"], "lock"),
                (match["holder"], "thread"),
            ):
                if name not in nodes:
                    nodes.append(name)
                kinds[name] = kind
            edges.append((match["waiter"], match["lock"], "waits for"))
            edges.append((match["lock"], match["holder"], "held by"))
        break  # one cycle is the picture; the failures list names any other
    return nodes, edges, kinds


# -- one result ---------------------------------------------------------------------------


#: Distinct failures shown open; the others are folded (a <details> element).
OPEN_FAILURES = 5


def _failures(result: Result) -> str:
    parts = []
    for i, group in enumerate(result.failures):
        if i == OPEN_FAILURES:
            hidden = len(result.failures) - OPEN_FAILURES
            parts.append(f"<details><summary>{hidden} more distinct failures</summary>")
        failure = group.failure
        where = f" in {_e(failure.thread)}" if failure.thread else ""
        parts.append(
            f'<div class="failure"><p><span class="kind">[{_e(failure.kind)}]</span> '
            f"×{group.count}{where}: {_e(failure.message)}</p>"
        )
        if failure.details:
            parts.append(f"<pre>{_e(failure.details.rstrip())}</pre>")
        parts.append("</div>")
    if len(result.failures) > OPEN_FAILURES:
        parts.append("</details>")
    return "".join(parts)


def _verdict(result: Result) -> tuple[str, str]:
    unit = display_unit(result.engine)
    if result.failed:
        return (
            f'<span class="badge failed">FAILED ({_e(result.kind)})</span>',
            f"in {len(result.failing_runs)} of {result.runs} {unit}, first at "
            f"{unit[:-1]} {result.first_failing_run}",
        )
    if not result.explored:
        return (
            '<span class="badge failed">NOTHING EXPLORED</span>',
            f"in {result.runs} {unit} (not a pass): {_e(result.unexplored)}",
        )
    return '<span class="badge ok">no failure</span>', f"in {result.runs} {unit}"


def _settings(result: Result) -> str:
    shown = {k: v for k, v in result.settings.items() if v is not None}
    return ", ".join(f"{_e(k)}={_e(v)}" for k, v in shown.items())


def render_result_html(result: Result, title: str | None = None, ident: str = "r") -> str:
    """One ``<section>`` for one result."""
    name = title or result.target or "result"
    badge, where = _verdict(result)
    out = [
        f'<section class="run{" failed" if result.failed else ""}" id="{_anchor(name)}">',
        f"<h2>{_e(name)} {badge}</h2>",
        f'<p class="meta">{where} · {_e(result.engine)} · seed {_e(result.seed)} · '
        f"{result.duration:.2f} s</p>",
        f'<p class="meta mono">{_settings(result)}</p>',
    ]
    if result.gil is not None and result.gil.free_threaded:
        out.append(f'<p class="meta">{_e(result.gil.describe())}</p>')
    if len(result.histogram):
        out.append("<h3>Outcomes</h3>")
        out.append(f'<div class="figure">{histogram_svg(result.histogram)}</div>')
    if result.failures:
        out.append("<h3>Failures</h3>")
        out.append(_failures(result))
    nodes, edges = lock_graph(result.failures)
    if edges:
        out.append("<h3>Lock-order graph</h3>")
        out.append(
            '<p class="note">An arrow from one lock to another: some thread took the second '
            "while holding the first. A cycle means two threads can each hold one lock and "
            "wait for the other: a deadlock waiting to happen.</p>"
        )
        out.append(f'<div class="figure">{graph_svg(nodes, edges, ident=f"{ident}-lo")}</div>')
    nodes, edges, kinds = wait_graph(result.failures)
    if edges:
        out.append("<h3>Wait-for cycle</h3>")
        out.append(
            '<p class="note">Each thread waits for a lock that another thread of the cycle '
            "holds: none can go on.</p>"
        )
        out.append(
            f'<div class="figure">{graph_svg(nodes, edges, kinds, ident=f"{ident}-wf")}</div>'
        )
    for key, section in result.sections.items():
        if isinstance(section, Interleaving):
            out.append("<h3>Interleaving</h3>")
            out.append(
                '<p class="note">One lane per thread, time going down; each box is what a '
                "thread did on one source line. Highlighted boxes are conflicting accesses "
                "to shared data, with the values read and written.</p>"
            )
            out.append(f'<div class="figure">{swimlane_svg(section)}</div>')
        elif isinstance(section, str):
            out.append(f'<p class="note"><b>{_e(key)}:</b> {_e(section)}</p>')
    if result.schedule:
        out.append("<h3>Replay</h3>")
        out.append(f'<pre class="token">{_e(replay_command(result))}</pre>')
    out.append("</section>")
    return "\n".join(out)


# -- the page -------------------------------------------------------------------------


def _summary_table(runs: Sequence[Any]) -> str:
    rows = []
    for run in runs:
        ok = run.met
        badge = (
            '<span class="badge ok">met</span>'
            if ok
            else '<span class="badge notmet">NOT MET</span>'
        )
        rows.append(
            f'<tr><td><a href="#{_anchor(run.name)}">{_e(run.name)}</a></td>'
            f"<td>{_e(run.variant.expect)}</td><td class=num>{run.result.runs:,}</td>"
            f"<td>{_e(run.observed)}</td><td class=num>{run.result.duration:.1f} s</td>"
            f"<td>{badge}</td></tr>"
        )
    met = sum(1 for run in runs if run.met)
    return (
        f"<p><b>{met} of {len(runs)}</b> expectations met.</p>"
        "<table><thead><tr><th>variant</th><th>expect</th><th>runs</th><th>observed</th>"
        "<th>time</th><th>result</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _page(title: str, command: str, body: Sequence[str]) -> str:

    head = [f"<header><h1>{_e(title)}</h1>"]
    if command:
        head.append(f'<p class="cmd mono">$ {_e(command)}</p>')
    head.append("</header>")
    footer = (
        f"<footer>thread-harness {_e(__version__)} · Python {_e(platform.python_version())} "
        f"({_e(platform.python_implementation())})</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join([*head, *body, footer])
        + "\n</body>\n</html>\n"
    )


def render_report(
    runs: Sequence[Any], engine: str, *, judged: bool = False, command: str = ""
) -> str:
    """The whole page for the variant runs of one ``stress`` or ``explore`` call."""
    title = f"harness {engine}" + (": the catalogue" if judged else "")
    if not judged and len(runs) == 1:
        title = f"harness {engine} {runs[0].name}"
    body = []
    if judged or len(runs) > 1:
        body.append(_summary_table(runs))
    for i, run in enumerate(runs):
        body.append(render_result_html(run.result, run.name, ident=f"r{i}"))
    return _page(title, command, body)


def write_report(
    path: str, runs: Sequence[Any], engine: str, *, judged: bool = False, command: str = ""
) -> None:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    _write(path, render_report(runs, engine, judged=judged, command=command))


def write_result_report(path: str, result: Result, title: str | None = None) -> None:
    """Write the report of one :class:`~harness.Result` of the Python API to ``path``.

    >>> result = harness.stress(setup, actors, check)              # doctest: +SKIP
    >>> write_result_report("report.html", result, "my counter")   # doctest: +SKIP
    """
    name = title or result.target or f"harness.{result.engine}"
    _write(path, _page(name, "", [render_result_html(result, name)]))


def _write(path: str, page: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(page)
