"""SVG pictures: bars in proportion, text escaped, long histograms cut with a note."""

from __future__ import annotations

import re

from harness.outcome import Histogram, Verdict
from harness.report.svg import MAX_BARS, graph_svg, histogram_svg


def test_bars_are_in_proportion_and_coloured_by_verdict():
    histogram = Histogram()
    for run in range(30):
        histogram.add("ok", Verdict.ACCEPTABLE, run)
    for run in range(10):
        histogram.add("x=<1>", Verdict.FORBIDDEN, 30 + run)
    svg = histogram_svg(histogram, width=760)
    widths = [float(w) for w in re.findall(r'<rect x="0" y="[\d.]+" width="([\d.]+)"', svg)]
    assert len(widths) == 2
    assert abs(widths[0] / widths[1] - 3.0) < 0.01, widths
    assert "x=&lt;1&gt;" in svg and "x=<1>" not in svg
    assert svg.count('class="bar forbidden"') == 1 and svg.count('class="bar acceptable"') == 1


def test_many_outcomes_are_cut_with_a_note():
    histogram = Histogram()
    for run in range(MAX_BARS + 4):
        histogram.add(f"outcome {run}", Verdict.ACCEPTABLE, run)
    svg = histogram_svg(histogram)
    assert svg.count('<g class="bar') == MAX_BARS
    assert "and 4 more outcomes" in svg


def test_graph_marker_ids_are_unique_per_graph_and_names_escaped():
    one = graph_svg(["a<", "b"], [("a<", "b", "x&y")], ident="one")
    two = graph_svg(["a", "b"], [("a", "b", "")], ident="two")
    assert 'id="arrow-one"' in one and "url(#arrow-one)" in one
    assert 'id="arrow-two"' in two
    assert "a&lt;" in one and "x&amp;y" in one and "a<" not in one
