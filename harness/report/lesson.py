"""``harness explain`` on a terminal: the lessons of :mod:`harness.explain` through rich.

Each lesson reads top to bottom as a learner needs it: what the program is for,
its code, what happened when the engines ran it (the lanes and the story in
numbered sentences), what kind of bug that is, and the fix with its evidence.
Colour and syntax highlighting on a terminal, plain text when piped, nothing
wider than the console.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from harness.explore.interleaving import Interleaving
from harness.lesson import Lesson
from harness.outcome import display_unit, replay_command
from harness.report.lanes import lanes_renderable

__all__ = ["render_lessons"]

_INDENT = 2


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _heading(console: Console, number: int, title: str) -> None:
    console.print()
    console.print(Text(f"{number}. {title}", style="bold underline"))


def _para(console: Console, text: str, style: str = "") -> None:
    width = max(console.width - _INDENT, 20)
    for paragraph in text.strip().split("\n\n"):
        lines = textwrap.fill(" ".join(paragraph.split()), width)
        console.print(Padding(Text(lines, style=style), (0, 0, 0, _INDENT), expand=False))


def _description(text: str) -> list[str]:
    """The scenario's description as paragraphs; bullet points kept apart."""
    paragraphs: list[str] = []
    for block in textwrap.dedent(text).strip().split("\n\n"):
        items = [block]
        if block.lstrip().startswith("* "):
            items = ["* " + item.strip() for item in block.split("\n* ")]
            items[0] = items[0].replace("* * ", "* ", 1)
        paragraphs.extend(" ".join(item.split()).replace("``", "") for item in items)
    return paragraphs


def _code(console: Console, lesson: Lesson) -> None:
    for listing in lesson.code:
        where = f"{os.path.basename(listing.file)}, from line {listing.first_line}"
        console.print(
            Padding(
                Text(f"{listing.name}  ({where})", style="dim"), (0, 0, 0, _INDENT), expand=False
            )
        )
        syntax = Syntax(
            listing.text.rstrip("\n"),
            "python",
            line_numbers=True,
            start_line=listing.first_line,
            word_wrap=True,
            theme="ansi_dark",
            background_color="default",
        )
        console.print(Padding(syntax, (0, 0, 0, _INDENT), expand=False))


def _happened(console: Console, lesson: Lesson, full: bool) -> None:
    result = lesson.caught.result
    unit = display_unit(result.engine)
    if result.engine == "explore":
        settings = result.settings
        intro = (
            f"The explorer ran the program with {settings.get('threads')} threads, one "
            f"thread at a time, choosing at every shared access and lock operation who "
            f"runs next (strategy {settings.get('strategy')}, seed {result.seed})."
        )
        if lesson.observed:
            shrink = result.sections.get("shrink", {})
            to = shrink.get("to", {}) if isinstance(shrink, dict) else {}
            preemptions = to.get("preemptions", 0)
            if preemptions:
                shrunk = (
                    f"It was shrunk to {_plural(preemptions, 'preemption')} (a thread "
                    "paused in the middle of its work so that another could run)"
                )
            else:
                shrunk = (
                    "It needs no preemption at all: each thread runs until it has to wait, "
                    "and still the program fails"
                )
            nth = (result.first_failing_run or 0) + 1
            found = (
                "The very first schedule failed."
                if nth == 1
                else f"The first {nth - 1} schedules passed; schedule {nth} failed."
            )
            intro += f" {found} {shrunk}. Here it is, one column per thread, time going down:"
    else:
        intro = (
            "This bug is not about which thread runs when, so there is no interleaving "
            "to show: the program uses real sockets, subprocesses or the interpreter's "
            "exit, which only real threads can run. Here is what a short stress run "
            f"(real threads, {result.settings.get('threads')} per run, seed {result.seed}) "
            f"observed in {result.runs} {unit}:"
        )
    _para(console, intro)
    section = lesson.caught.result.sections.get("interleaving")
    interleaving = section if isinstance(section, Interleaving) else None
    if interleaving is not None:
        console.print()
        console.print(
            Padding(
                lanes_renderable(interleaving, console.width - _INDENT, full), (0, 0, 0, _INDENT)
            )
        )
    elif len(result.histogram):
        table = Table(box=None, padding=(0, 2), show_edge=False)
        table.add_column("outcome")
        table.add_column("count", justify="right")
        table.add_column("verdict")
        for entry in result.histogram:
            style = "bold red" if entry.verdict.value == "FORBIDDEN" else "green"
            table.add_row(
                escape(entry.outcome), str(entry.count), Text(entry.verdict.value, style=style)
            )
        console.print(Padding(table, (0, 0, 0, _INDENT), expand=False))
    console.print()
    console.print(
        Padding(
            Text("In words:" if interleaving else "What went wrong:", style="bold"),
            (0, 0, 0, _INDENT),
        )
    )
    width = max(console.width - _INDENT - 4, 20)
    for i, sentence in enumerate(lesson.story, 1):
        lines = textwrap.wrap(sentence, width - 4) or [""]
        console.print(Padding(Text(f"{i:>2}. {lines[0]}"), (0, 0, 0, _INDENT), expand=False))
        for more in lines[1:]:
            console.print(Padding(Text(f"    {more}"), (0, 0, 0, _INDENT), expand=False))
    if not lesson.observed:
        _para(console, "The engines did not observe the bug this time.", "bold red")
    if result.schedule:
        console.print()
        console.print(
            Padding(
                Text("Replay exactly this schedule:", style="bold"),
                (0, 0, 0, _INDENT),
                expand=False,
            )
        )
        console.print(f"  {replay_command(result)}", soft_wrap=True)


def _fix(console: Console, lesson: Lesson) -> None:
    fix = lesson.fix
    if fix is None:
        _para(console, "This scenario has no fixed variant.")
        return
    _para(console, f"The fix '{fix.name}': {fix.summary}")
    others = [
        v.name
        for v in lesson.scenario.variants.values()
        if v.expect == "holds" and v.name != fix.name
    ]
    if others:
        names = ", ".join(f"{lesson.scenario.name}:{name}" for name in others)
        _para(
            console,
            f"(Other fixes: {names}; `harness explain` one of them to see its diff.)",
            "dim",
        )
    console.print()
    diff = "\n".join(lesson.diff) if lesson.diff else "(the same code)"
    syntax = Syntax(diff, "diff", word_wrap=True, theme="ansi_dark", background_color="default")
    console.print(Padding(syntax, (0, 0, 0, _INDENT), expand=False))
    console.print()
    console.print(
        Padding(
            Text("Evidence that the fix holds:", style="bold"), (0, 0, 0, _INDENT), expand=False
        )
    )
    table = Table(box=None, padding=(0, 2), show_edge=False)
    table.add_column("how")
    table.add_column("what was seen", overflow="fold")
    table.add_column("verdict")
    for evidence in lesson.evidence:
        verdict = (
            Text("holds", style="bold green") if evidence.held else Text("FAILED", style="bold red")
        )
        table.add_row(escape(evidence.how), escape(evidence.summary()), verdict)
    console.print(Padding(table, (0, 0, 0, _INDENT), expand=False))


def render_lessons(console: Console, lessons: Sequence[Lesson], full: bool = False) -> None:
    """Every lesson of one ``harness explain`` call."""
    shown_scenarios: set[str] = set()
    for lesson in lessons:
        scenario = lesson.scenario
        if scenario.name not in shown_scenarios:
            shown_scenarios.add(scenario.name)
            console.print(
                Rule(Text(f"{scenario.name}: {scenario.title}", style="bold"), align="left")
            )
            console.print(Text(f"from {scenario.article}", style="dim"))
            console.print()
            for paragraph in _description(scenario.description):
                _para(console, paragraph)
                console.print()
        console.print(
            Rule(
                Text(f"{lesson.name}: {lesson.buggy.summary}", style="bold"),
                align="left",
                style="red",
            )
        )
        _heading(console, 1, "The code")
        _code(console, lesson)
        _heading(console, 2, "What happened")
        _happened(console, lesson, full)
        _heading(console, 3, f"The bug: {lesson.bug_class}")
        if lesson.meaning:
            _para(console, lesson.meaning)
        _heading(console, 4, "The fix")
        _fix(console, lesson)
        console.print()
