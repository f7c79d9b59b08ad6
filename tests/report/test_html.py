"""The HTML report: self-contained, escaped, with histogram, lanes, graphs and token."""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

import pytest

import harness
from harness.outcome import Failure, FailureGroup
from harness.report.html import lock_graph, render_report, wait_graph, write_result_report
from harness.runner import run_variant
from harness.scenario import CAUGHT, Scenario, Variant, resolve

HOSTILE = "<script>alert('owned')</script> & \"quotes\""


def _run(spec, engine, **overrides):
    ((scenario, variant),) = resolve(spec)
    return run_variant(scenario, variant, engine, {"seed": 1, **overrides})


class _Counter:
    def __init__(self):
        self.value = 0


def _raise_hostile(counter):
    raise RuntimeError(HOSTILE)


@pytest.fixture(scope="module")
def explore_page():
    # PCT passes a few schedules before the lost update: both kinds of bar.
    run = _run("thevar:buggy", "explore", strategy="pct")
    assert run.result.failed, "exploration must catch thevar:buggy for this page"
    return run, render_report([run], "explore", command="harness explore thevar:buggy")


class _Balance(HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "rect", "path", "circle"})

    def __init__(self):
        super().__init__()
        self.stack = []
        self.errors = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_strings_from_user_code_show_as_text_not_markup(tmp_path):
    result = harness.stress(_Counter, lambda c: [lambda: _raise_hostile(c)], runs=2, seed=0)
    assert result.failed and result.kind == "exception", str(result)
    path = tmp_path / "hostile.html"
    write_result_report(str(path), result, title="<b>title</b>")
    page = path.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert "<script" not in page, "an unescaped <script> from an exception message"
    assert "<b>title</b>" not in page and "&lt;b&gt;title&lt;/b&gt;" in page


@pytest.mark.timeout(60)
@pytest.mark.parametrize("engine", ["stress", "explore"])
def test_a_scenarios_hostile_exception_shows_as_text_in_the_catalogue_page(engine):
    # The catalogue page's other path: the summary table ("observed") and each
    # variant's section, for a scenario whose code raises markup.
    scenario = Scenario(name="hostile", title=HOSTILE, article="", description=HOSTILE)
    variant = scenario.add(
        Variant(
            name="buggy",
            setup=lambda threads: _Counter(),
            actors=lambda c: [lambda: _raise_hostile(c), lambda: None],
            expect=CAUGHT,
            summary=HOSTILE,
            engines=("stress", "explore"),
        )
    )
    run = run_variant(
        scenario, variant, engine, {"seed": 0, "runs" if engine == "stress" else "budget": 2}
    )
    assert run.result.kind == "exception" and HOSTILE in run.observed, run.observed
    page = render_report([run, run], engine, judged=True, command=f"harness {engine} {HOSTILE}")
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page
    assert "<script" not in page, "an unescaped <script> from a scenario's exception"
    parser = _Balance()
    parser.feed(page)
    assert not parser.errors and not parser.stack, parser.errors or parser.stack


def test_page_is_self_contained_and_well_formed(explore_page):
    _, page = explore_page
    for needle in ("http://", "https://", "<link", "<img", "<script", "@import", " src="):
        assert needle not in page, f"external resource or script: {needle!r} in the page"
    assert not re.search(r"url\((?!#)", page), "a CSS/SVG url() that is not a local reference"
    assert "<style>" in page and "<svg" in page
    checker = _Balance()
    checker.feed(page)
    assert not checker.errors, checker.errors[:5]
    assert checker.stack == [], f"unclosed tags: {checker.stack}"


def test_histogram_has_one_bar_per_outcome(explore_page):
    run, page = explore_page
    bars = re.findall(r'<g class="bar (forbidden|acceptable)">', page)
    assert len(bars) == len(run.result.histogram), bars
    assert "forbidden" in bars and "acceptable" in bars


def test_swimlane_shows_threads_and_conflicting_values(explore_page):
    _, page = explore_page
    assert 'class="swimlane"' in page
    lanes = page[page.index('class="swimlane"') :]
    assert ">T0</text>" in lanes and ">T1</text>" in lanes
    step = r'<g class="step conflict">.*?class="action">([^<]*)</text>'
    conflicts = re.findall(step, lanes, re.S)
    assert any("*read .theVar = 1" in c for c in conflicts), conflicts
    assert any("*write .theVar = 2" in c for c in conflicts), conflicts


def test_replay_token_is_in_the_page(explore_page):
    run, page = explore_page
    assert f"harness replay {run.result.schedule}" in page


class _Accounts:
    def __init__(self):
        self.savings = threading.Lock()
        self.checking = threading.Lock()
        self.first_done = threading.Event()


def _out(accounts):
    with accounts.savings, accounts.checking:
        pass
    accounts.first_done.set()


def _in(accounts):
    assert accounts.first_done.wait(10), "the first transfer never finished"
    with accounts.checking, accounts.savings:
        pass


@pytest.mark.timeout(60)
def test_lock_order_failures_draw_the_lock_graph(tmp_path):
    result = harness.stress(_Accounts, lambda a: [lambda: _out(a), lambda: _in(a)], runs=2, seed=0)
    assert result.kind == "lock-order", str(result)
    nodes, edges = lock_graph(result.failures)
    assert set(nodes) == {"savings", "checking"}
    assert {(a, b) for a, b, _ in edges} == {("savings", "checking"), ("checking", "savings")}
    assert all("takes" in label for _, _, label in edges), edges
    path = tmp_path / "lo.html"
    write_result_report(str(path), result)
    page = path.read_text(encoding="utf-8")
    assert "Lock-order graph" in page
    assert page.count('<g class="node lock">') == 2
    assert page.count('<g class="edge">') == 2


def test_lock_graph_ignores_other_failures_and_parses_the_chain():
    groups = [
        FailureGroup(Failure("assert", "lock order inversion: x -> y -> x")),
        FailureGroup(
            Failure(
                "lock-order",
                "lock order inversion: a -> b -> c -> a",
                "T1 took b at f.py:3 while holding a (taken at f.py:2)",
            )
        ),
    ]
    nodes, edges = lock_graph(groups)
    assert nodes == ["a", "b", "c"]
    assert [(a, b) for a, b, _ in edges] == [("a", "b"), ("b", "c"), ("c", "a")]
    assert edges[0][2] == "T1 takes b holding a"
    assert edges[1][2] == "taken while holding"


@pytest.mark.timeout(60)
def test_deadlock_draws_its_wait_for_cycle():
    run = _run("deadlock:buggy", "explore")
    nodes, edges, kinds = wait_graph(run.result.failures)
    assert set(nodes) == set(kinds)
    assert kinds == {"T0": "thread", "lock_b": "lock", "T1": "thread", "lock_a": "lock"}
    assert ("T0", "lock_b", "waits for") in edges and ("lock_b", "T1", "held by") in edges
    page = render_report([run], "explore")
    assert "Wait-for cycle" in page and "Lock-order graph" not in page


def test_no_graph_without_lock_failures(explore_page):
    _, page = explore_page
    assert "Lock-order graph" not in page and "Wait-for cycle" not in page


def test_several_runs_get_a_summary_table_linking_each_section():
    runs = [_run("thevar:buggy", "stress", runs=5), _run("thevar:lock", "stress", runs=5)]
    page = render_report(runs, "stress", judged=True)
    for run in runs:
        anchor = "run-" + run.name.replace(":", "-")
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page
    assert "2 of 2</b> expectations met" in page
