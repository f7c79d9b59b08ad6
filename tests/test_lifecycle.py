"""One execution lifecycle: both engines give a failure the same kind, label and verdict.

The stress engine used to compute the histogram label before its leak and
unread-future checks ran, so a run that failed only for those read "check
passed" with the verdict FORBIDDEN, while the explorer labelled the same failure
correctly. These tests run the same program through both engines.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import harness
from harness import Verdict


def _leaking_program():
    """An actor starts a daemon thread that waits for an Event nobody sets."""

    def setup():
        return {"never": threading.Event(), "threads": []}

    def start_waiter(state):
        waiter = threading.Thread(target=state["never"].wait, name="waiter", daemon=True)
        state["threads"].append(waiter)
        waiter.start()

    return setup, lambda state: [lambda: start_waiter(state)]


def _unread_future_program():
    """A pool task raises and nobody reads its future."""

    def setup():
        return {}

    def submit(state):
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(lambda: 1 // 0)

    return setup, lambda state: [lambda: submit(state)]


def _run(engine: str, setup, actors):
    check = lambda state: True  # noqa: E731 - the check passes: only the detector fails
    if engine == "stress":
        return harness.stress(setup, actors, check, runs=1, noise=0, seed=0)
    return harness.explore(setup, actors, check, strategy="random", budget=1, seed=0)


def _seen(result):
    entries = list(result.histogram)
    assert len(entries) == 1, [(e.outcome, e.verdict) for e in entries]
    return result.kind, entries[0].outcome, entries[0].verdict


@pytest.mark.parametrize(
    ("program", "kind", "label_start"),
    [
        (_leaking_program, "leak", "leak: thread waiter (daemon) still alive"),
        (_unread_future_program, "exception", "exception: ZeroDivisionError"),
    ],
    ids=["leak", "unread-future"],
)
def test_both_engines_label_a_detector_failure_alike(program, kind, label_start):
    stress = _seen(_run("stress", *program()))
    explore = _seen(_run("explore", *program()))
    assert stress == explore, f"stress saw {stress}, explore saw {explore}"
    seen_kind, label, verdict = stress
    assert seen_kind == kind, stress
    assert label.startswith(label_start), label
    assert label != "check passed"
    assert verdict is Verdict.FORBIDDEN


def test_a_passing_program_is_labelled_check_passed_by_both():
    def setup():
        return {}

    for engine in ("stress", "explore"):
        result = _run(engine, setup, lambda state: [lambda: None, lambda: None])
        assert _seen(result) == (None, "check passed", Verdict.ACCEPTABLE), engine


def test_stress_tears_down_before_its_leak_check_and_explore_after():
    """The one documented difference (``teardown_first``): a server's teardown is what
    frees its threads under stress, while the explorer judges leaks when the actors end."""
    setup, actors = _leaking_program()
    freed = []

    def teardown(state):
        freed.append(True)
        state["never"].set()

    check = lambda state: True  # noqa: E731
    stressed = harness.stress(setup, actors, check, runs=1, noise=0, teardown=teardown)
    assert not stressed.failed, str(stressed)
    assert freed == [True], "one run, one teardown"
    explored = harness.explore(
        setup, actors, check, strategy="random", budget=1, seed=0, teardown=teardown
    )
    assert explored.kind == "leak", str(explored)
    assert len(freed) > 1, "the explorer tears down after its leak check, too"
