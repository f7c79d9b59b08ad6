"""Swimlanes for the terminal: rows, shortening, colour only on terminals, width."""

from __future__ import annotations

import io
import threading

import pytest
from rich.console import Console

import harness
from harness.explore.interleaving import Interleaving
from harness.report.lanes import Gap, LaneRow, lane_rows, lanes_renderable
from harness.runner import run_variant
from harness.scenario import resolve


def _interleaving(spec):
    ((scenario, variant),) = resolve(spec)
    run = run_variant(scenario, variant, "explore", {"seed": 1, "strategy": "pct"}, judged=True)
    section = run.result.sections.get("interleaving")
    assert isinstance(section, Interleaving), f"{spec}: no interleaving in {run.result}"
    return section


@pytest.fixture(scope="module")
def thevar():
    return _interleaving("thevar:buggy")


class _Sweep:
    def __init__(self):
        self.replies = 0


def _pinger(sweep):
    for _ in range(20):  # a long stretch of one thread, to be shortened
        sweep.replies += 0
    sweep.replies = sweep.replies + 1  # the lost update


def _sweep(sweep):
    threads = [
        threading.Thread(target=_pinger, args=(sweep,), name=f"ping 192.168.200.{60 + i}")
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.fixture(scope="module")
def many_threads():
    """A main thread and six named pingers: too many for side-by-side lanes."""
    result = harness.explore(
        _Sweep,
        lambda s: [lambda: _sweep(s)],
        lambda s: s.replies == 6,
        seed=1,
        budget=2000,
    )
    section = result.sections.get("interleaving")
    assert isinstance(section, Interleaving), f"no interleaving in {result}"
    assert len(section.threads) > 4, section.threads
    return section


def _render(renderable, width, **console):
    out = io.StringIO()
    Console(file=out, width=width, **console).print(renderable)
    return out.getvalue()


def test_rows_carry_the_conflicting_values(thevar):
    rows = [r for r in lane_rows(thevar) if isinstance(r, LaneRow)]
    conflicts = [a for r in rows if r.conflict for a in r.actions if a.startswith("*")]
    assert conflicts.count("*read .theVar = 1") == 2, conflicts
    assert conflicts.count("*write .theVar = 2") == 2, conflicts
    assert {r.thread for r in rows} == {0, 1}


def test_long_stretches_are_shortened_but_keep_every_conflict(many_threads):
    full = lane_rows(many_threads, full=True)
    short = lane_rows(many_threads)
    assert not any(isinstance(r, Gap) for r in full)
    gaps = [r for r in short if isinstance(r, Gap)]
    assert gaps, "a long interleaving should be shortened"
    kept = sum(1 for r in short if isinstance(r, LaneRow))
    assert kept + sum(g.count for g in gaps) == len(full)
    assert sum(1 for r in short if isinstance(r, LaneRow) and r.conflict) == sum(
        1 for r in full if r.conflict
    )


def test_side_by_side_lanes_when_they_fit(thevar):
    text = _render(lanes_renderable(thevar, 100), 100)
    header = next(line for line in text.splitlines() if "source" in line)
    assert header.index("T0") < header.index("T1") < header.index("source"), header
    read_rows = [line for line in text.splitlines() if "*read .theVar = 1" in line]
    # T1 reads first (its lane is the second column), then T0 (first column).
    assert len(read_rows) == 2
    assert read_rows[0].index("*read") > read_rows[1].index("*read"), read_rows


@pytest.mark.parametrize("width", [50, 80, 120])
def test_no_line_is_wider_than_the_console(many_threads, thevar, width):
    for interleaving in (thevar, many_threads):
        text = _render(lanes_renderable(interleaving, width), width)
        widest = max(len(line) for line in text.splitlines())
        assert widest <= width, f"a {widest}-column line at width {width}"


def test_too_many_threads_become_a_list_naming_the_thread(many_threads):
    text = _render(lanes_renderable(many_threads, 100), 100)
    header = next(line for line in text.splitlines() if "source" in line)
    assert header.split()[:3] == ["thread", "what", "source"], header
    assert any(line.lstrip().startswith("ping 192.168.200.6") for line in text.splitlines())


def test_colour_on_a_terminal_none_when_piped_or_no_color(thevar, monkeypatch):
    coloured = _render(lanes_renderable(thevar, 100), 100, force_terminal=True)
    assert "\x1b[" in coloured
    assert "\x1b[" not in _render(lanes_renderable(thevar, 100), 100)
    monkeypatch.setenv("NO_COLOR", "1")
    no_color = _render(lanes_renderable(thevar, 100), 100, force_terminal=True)
    assert "\x1b[3" not in no_color and "\x1b[9" not in no_color, "a colour despite NO_COLOR"
