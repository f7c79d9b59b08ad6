"""harness explain on a console: the four parts, in words, within the width."""

from __future__ import annotations

import io

import pytest

from harness.explain import explain
from harness.report.lesson import render_lessons
from harness.report.text import make_console


@pytest.fixture(scope="module")
def thevar_lessons():
    return explain("thevar:buggy", budget=200)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("width", [80, 120])
def test_lesson_reads_in_four_parts_within_the_width(thevar_lessons, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    out = io.StringIO()
    render_lessons(make_console(out), thevar_lessons)
    text = out.getvalue()
    parts = ["1. The code", "2. What happened", "3. The bug: lost update", "4. The fix"]
    positions = [text.index(part) for part in parts]
    assert positions == sorted(positions), positions
    assert "66     number = shared.theVar" in text, "buggy code with its file's line numbers"
    assert "*read .theVar = 1" in text and "*write .theVar = 2" in text
    assert "overwritten and lost" in " ".join(text.split()), "the story, wrapped, says it"
    assert "+    with shared.lock:" in text
    assert "exhausted" in text and "FAILED" not in text
    assert "\x1b[" not in text
    wide = [ln for ln in text.splitlines() if len(ln) > width and "harness replay" not in ln]
    assert not wide, wide
