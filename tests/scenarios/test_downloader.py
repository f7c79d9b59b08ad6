"""downloader: a target that never puts its page is caught; the queue fix holds."""

from __future__ import annotations

import pickle
import queue
import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios import downloader

SCENARIO = catalogue()["downloader"]


@pytest.mark.timeout(60)
def test_buggy_is_caught_in_its_first_run(no_leaks):
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.first_failing_run == 0, str(run.result)
    kinds = {group.failure.kind: group.failure.message for group in run.result.failures}
    assert kinds.get("exception") == "ValueError: cannot compile: 0 of 20 pages in the queue", kinds
    assert "nothing compiled" in kinds.get("assert", ""), kinds


@pytest.mark.timeout(120)
def test_queue_holds_under_the_same_budget(no_leaks):
    variant = SCENARIO.variant("queue")
    assert variant.settings == SCENARIO.variant("buggy").settings
    run = run_variant(SCENARIO, variant, overrides={"seed": 1})
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    (entry,) = list(run.result.histogram)
    assert entry.outcome == "all 20 pages compiled in order", str(run.result)


@pytest.mark.timeout(60)
def test_several_downloads_share_one_server(no_leaks):
    run = run_variant(SCENARIO, SCENARIO.variant("queue"), overrides={"runs": 3, "threads": 4})
    assert run.met, str(run.result)


def test_pages_finish_out_of_order():
    delays = [downloader.page_delay(n) for n in range(downloader.PAGES)]
    assert sorted(range(downloader.PAGES), key=lambda n: delays[n]) != list(range(downloader.PAGES))


@pytest.mark.timeout(60)
def test_check_accepts_a_correct_end_and_rejects_a_wrong_one():
    variant = SCENARIO.variant("queue")
    state = variant.setup(1)
    try:
        (actor,) = variant.actors(state)
        actor()
        variant.check(state)
        job = state.jobs[0]
        assert job.document is not None
        job.document[0], job.document[1] = job.document[1], job.document[0]
        with pytest.raises(AssertionError, match="not pages 0-19 once each in order"):
            variant.check(state)
        job.document = None
        with pytest.raises(AssertionError, match="nothing compiled"):
            variant.check(state)
    finally:
        variant.teardown(state)


def test_compile_refuses_an_incomplete_set_and_orders_a_full_one():
    pages: queue.Queue[tuple[int, str]] = queue.Queue(maxsize=3)
    for number in (2, 0):
        pages.put((number, f"p{number}"))
    with pytest.raises(ValueError, match="2 of 3 pages"):
        downloader.compile_pages(pages, 3)
    pages.put((1, "p1"))
    assert downloader.compile_pages(pages, 3) == ["p0", "p1", "p2"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["buggy", "queue"])
def test_teardown_during_a_download_leaves_nothing(name, no_leaks, monkeypatch):
    # Teardown while the download is under way, as after a hung run: the fetch
    # threads must end (their errors are expected and silenced here).
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    variant = SCENARIO.variant(name)
    state = variant.setup(1)
    (actor,) = variant.actors(state)
    errors = []

    def body():
        try:
            actor()
        except Exception as exc:
            errors.append(exc)

    program = threading.Thread(target=body)
    program.start()
    try:
        variant.teardown(state)
    finally:
        program.join(20)
    assert not program.is_alive()
    assert not state.tracker.live_threads(), state.tracker.live_threads()


@pytest.mark.timeout(60)
def test_no_variant_unpickles_network_bytes(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle.loads called on network bytes")

    monkeypatch.setattr(pickle, "loads", refuse)
    run = run_variant(SCENARIO, SCENARIO.variant("queue"), overrides={"runs": 2})
    assert run.met, str(run.result)
    for variant in SCENARIO.variants.values():
        for _, text in variant.sources():
            assert "pickle" not in text, variant.name
