"""The noise section of BENCHMARKS.md: one row per target, one column per noise level."""

from __future__ import annotations

from bench import report


def test_noise_section_shows_failing_runs_per_level() -> None:
    rows = [
        {
            "build": "3.13t",
            "target": "thevar:buggy",
            "noise": n,
            "detected": d,
            "runs": 100,
            "seconds": 0.5,
        }
        for n, d in ((0.0, 98), (0.001, 100), (0.05, 100))
    ]
    lines = report._noise_section({"build": "3.13t", "runs": 100, "seed": 0, "rows": rows})
    text = "\n".join(lines)
    assert "on 3.13t" in text
    assert "| noise 0 | noise 0.001 | noise 0.05 |" in text, text
    assert "`thevar:buggy` | 98/100 (0.5 s) | 100/100 (0.5 s) | 100/100 (0.5 s)" in text, text
