"""The console: plain text when piped, width from COLUMNS, no padding left behind."""

from __future__ import annotations

import io

from harness.report.text import make_console, render_result
from harness.runner import run_variant
from harness.scenario import resolve


def test_piped_output_is_plain_trimmed_and_columns_wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "72")
    ((scenario, variant),) = resolve("thevar:buggy")
    run = run_variant(scenario, variant, "explore", {"seed": 1}, judged=True)
    out = io.StringIO()
    console = make_console(out)
    assert console.width == 72
    render_result(console, run.result)
    text = out.getvalue()
    assert "\x1b[" not in text, "escape codes in piped output"
    lines = text.splitlines()
    assert not [line for line in lines if line.endswith(" ")], "trailing padding"
    too_wide = [line for line in lines if len(line) > 72 and "replay" not in line]
    assert not too_wide, too_wide  # the replay token alone is kept whole to stay copyable
    assert "*read .theVar = 1" in text and "*write .theVar = 2" in text
