"""Terminal output through rich: tables and colour on a terminal, plain text when
piped, ``NO_COLOR`` respected (rich reads it), width taken from the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from harness.explore.interleaving import Interleaving
from harness.outcome import Result, Verdict, display_unit, replay_command
from harness.report.lanes import lanes_renderable

__all__ = ["make_console", "render_catalogue", "render_list", "render_result"]

#: Details of at most this many distinct failures are printed (JSON has all).
MAX_GROUPS_SHOWN = 5
#: Lines of details printed per distinct failure.
MAX_DETAIL_LINES = 40


class _TrimmedLines:
    """Writes through to ``file`` without the spaces rich pads table lines with.

    On a terminal the padding is invisible; in a file or a pipe it is noise that
    diffs and editors show. (A plain object, not an ``io`` class: those flush
    when collected, and the file below may be closed by then.)
    """

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            self._file.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending.strip(" "):
            self._file.write(self._pending)
            self._pending = ""
        self._file.flush()

    def isatty(self) -> bool:
        return False


def make_console(file: IO[str] | None = None) -> Console:
    """A console for ``file`` (stdout): coloured on a terminal, plain otherwise.

    Width: the terminal's; when not a terminal, ``COLUMNS`` or 110.
    """
    file = file or sys.stdout
    is_tty = hasattr(file, "isatty") and file.isatty()
    if is_tty:
        return Console(file=file, highlight=False, soft_wrap=False)
    width = int(os.environ.get("COLUMNS", "110") or 110)
    trimmed: IO[str] = _TrimmedLines(file)  # type: ignore[assignment]
    return Console(file=trimmed, highlight=False, soft_wrap=False, width=width)


def _verdict_style(verdict: Verdict) -> str:
    return "bold red" if verdict == Verdict.FORBIDDEN else "green"


def _bar(share: float, width: int = 20) -> str:
    filled = round(share * width)
    return "█" * filled + "·" * (width - filled)


def render_result(console: Console, result: Result, full: bool = False) -> None:
    """One engine call: verdict line, outcome histogram, distinct failures."""
    unit = display_unit(result.engine)
    name = f"{result.target}  " if result.target else ""
    head = Text(name, style="bold")
    if result.failed:
        head.append(f"FAILED ({result.kind})", style="bold red")
        head.append(
            f"  in {len(result.failing_runs)} of {result.runs} {unit}, "
            f"first at {unit[:-1]} {result.first_failing_run}"
        )
    elif not result.explored:
        head.append("NOTHING EXPLORED", style="bold red")
        head.append(f"  in {result.runs} {unit} (not a pass)")
    else:
        head.append("no failure", style="bold green")
        head.append(f"  in {result.runs} {unit}")
    head.append(f"  [{result.engine}, seed {result.seed}, {result.duration:.2f}s]", style="dim")
    console.print(head)
    if result.unexplored:
        console.print(Text(f"nothing explored: {result.unexplored}", style="red"))
    if result.gil is not None and result.gil.free_threaded:
        console.print(Text(result.gil.describe(), style="red" if result.gil.reenabled else "dim"))

    if len(result.histogram):
        table = Table(title=None, show_edge=False, pad_edge=False, box=None, padding=(0, 2))
        table.add_column("outcome")
        table.add_column("count", justify="right")
        table.add_column("share", justify="right")
        table.add_column("verdict")
        table.add_column("", no_wrap=True)
        for entry in result.histogram:
            share = result.histogram.share(entry)
            style = _verdict_style(entry.verdict)
            table.add_row(
                escape(entry.outcome),
                f"{entry.count:,}",
                f"{share:.1%}",
                Text(str(entry.verdict), style=style),
                Text(_bar(share), style=style),
            )
        console.print(table)

    for group in result.failures[:MAX_GROUPS_SHOWN]:
        failure = group.failure
        where = f" in {failure.thread}" if failure.thread else ""
        line = Text()
        line.append(f"[{failure.kind}]", style="bold red")
        line.append(f" ×{group.count}{where}: ")
        line.append(failure.message)
        console.print()
        console.print(line)
        if failure.details:
            details = failure.details.rstrip().splitlines()
            shown = details[:MAX_DETAIL_LINES]
            if len(details) > len(shown):
                shown.append(f"... {len(details) - len(shown)} more lines (use --json for all)")
            console.print(Text("\n".join("    " + d for d in shown), style="dim"))
    hidden = len(result.failures) - MAX_GROUPS_SHOWN
    if hidden > 0:
        console.print(f"\n... and {hidden} more distinct failures (use --json for all)")
    for name, section in result.sections.items():
        text = getattr(section, "render_text", None)
        if isinstance(section, Interleaving):
            console.print()
            console.print(lanes_renderable(section, console.width, full=full))
        elif callable(text):
            console.print()
            console.print(Text(text(width=console.width, full=full)))
        elif isinstance(section, str):
            console.print()
            console.print(Text(f"{name}: {section}", style="bold" if name == "verified" else ""))
    if result.schedule:
        # Never wrapped: the token must stay copyable.
        console.print()
        console.print(Text(f"replay token: {result.schedule}", style="bold"), soft_wrap=True)
        console.print(f"replay with:  {replay_command(result)}", soft_wrap=True)


def render_catalogue(console: Console, runs: Iterable[Any], engine: str) -> None:
    """The judged catalogue: one row per variant, expectation met or not."""
    runs = list(runs)
    table = Table(title=f"harness {engine}: the catalogue", title_justify="left")
    table.add_column("scenario", style="bold")
    table.add_column("variant")
    table.add_column("expect")
    table.add_column("runs", justify="right")
    table.add_column("observed")
    table.add_column("time", justify="right")
    table.add_column("result")
    for run in runs:
        ok = run.met
        table.add_row(
            run.scenario.name,
            run.variant.name,
            run.variant.expect,
            f"{run.result.runs:,}",
            escape(run.observed),
            f"{run.result.duration:.1f}s",
            Text("met" if ok else "NOT MET", style="green" if ok else "bold red"),
        )
    console.print(table)
    failed = [r for r in runs if not r.met]
    total = sum(r.result.duration for r in runs)
    if failed:
        console.print(
            Text(
                f"{len(failed)} of {len(runs)} expectations NOT met: "
                + ", ".join(r.name for r in failed),
                style="bold red",
            )
        )
    else:
        console.print(Text(f"all {len(runs)} expectations met in {total:.1f}s", style="bold green"))


def render_list(console: Console, scenarios: Iterable[Any]) -> None:
    table = Table(title="the catalogue", title_justify="left")
    table.add_column("scenario", style="bold")
    table.add_column("threads", justify="right")
    table.add_column("variants")
    table.add_column("title")
    for scenario in scenarios:
        variants = ", ".join(f"{v.name} ({v.expect})" for v in scenario.variants.values())
        table.add_row(scenario.name, str(scenario.threads), variants, escape(scenario.title))
    console.print(table)
