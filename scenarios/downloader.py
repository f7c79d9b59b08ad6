"""Download twenty pages in twenty threads, then compile them into one document.

From "Multithreading in Python" (notes for professionals; seed 002), "Joining a
Thread". The program starts one thread per page, joins them all, then compiles,
and compiling needs every page. But the thread's target only *fetches* the page:
whatever a thread's target returns is thrown away, and nothing ever puts the page
in the queue that compile reads. Every join succeeds, and compile finds an empty
queue. Joining tells you that a thread ended, not that its work went anywhere.

The pages come from a local HTTP server on 127.0.0.1, each after its own delay,
so they arrive in an order unlike the order they were asked for. In the ``queue``
fix each thread's target puts ``(page number, page)`` into a ``Queue`` sized for
all the pages; the program joins every thread, then compile checks that the queue
is full and orders the pages by number: all twenty, each once, in order.
"""

from __future__ import annotations

import functools
import http.client
import queue
import threading
from collections.abc import Callable

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._net import IO_TIMEOUT, JOIN_TIMEOUT, LOCALHOST, PageServer, Running, Tracker

#: The bug is not a race: compile fails in every run, so one run catches it with
#: certainty; the fix must hold over the same 20 runs (400 pages). Noise is off:
#: nothing here depends on the order of two bytecodes, and tracing would only
#: slow the HTTP traffic down.
STRESS = {"runs": 20, "noise": 0.0, "timeout": 5.0}

#: Pages per download (the article fetches twenty).
PAGES = 20

SCENARIO = Scenario(
    name="downloader",
    title="Join all page downloads, then compile",
    article="Multithreading in Python, Joining a Thread (seed 002)",
    description=__doc__ or "",
    threads=1,  # one download program; more threads run several against one server
    min_threads=1,
)


def page_path(number: int) -> str:
    return f"/page_{number}.html"


def page_body(number: int) -> str:
    return f"<p>This is page {number}.</p>"


def page_delay(number: int) -> float:
    """0 to 36 ms, scrambled, so that pages finish out of order."""
    return (number * 7 % 10) * 0.004


def fetch(port: int, number: int) -> str:
    """GET one page from the loopback server (http.client: no proxy in the way)."""
    conn = http.client.HTTPConnection(LOCALHOST, port, timeout=IO_TIMEOUT)
    try:
        conn.request("GET", page_path(number))
        response = conn.getresponse()
        body = response.read().decode()
        if response.status != 200:
            raise OSError(f"GET {page_path(number)}: HTTP {response.status}")
        return body
    finally:
        conn.close()


def compile_pages(pages: queue.Queue[tuple[int, str]], count: int) -> list[str]:
    """The step that needs every page: refuses an incomplete set, orders the rest."""
    if not pages.full():
        raise ValueError(f"cannot compile: {pages.qsize()} of {count} pages in the queue")
    found = [pages.get_nowait() for _ in range(count)]
    return [body for _, body in sorted(found)]


class Download:
    """One run of the program: its threads and, if compile got that far, its document."""

    def __init__(self, port: int, tracker: Tracker, count: int = PAGES) -> None:
        self.port = port
        self.tracker = tracker
        self.count = count
        self.threads: list[threading.Thread] = []
        self.queued = 0  # pages in the queue when compile started
        self.document: list[str] | None = None


# -- buggy: the target fetches, and the page goes nowhere -----------------------------


def fetch_page(port: int, number: int) -> str:
    """The article's thread target: returns the page, which a Thread discards."""
    return fetch(port, number)


def download_buggy(job: Download) -> None:
    pages: queue.Queue[tuple[int, str]] = queue.Queue(maxsize=job.count)
    for number in range(job.count):
        # BUG: the target fetches the page but nobody puts it in `pages`
        thread = job.tracker.thread(fetch_page, job.port, number, name=f"page-{number}")
        job.threads.append(thread)
        thread.start()
    for thread in job.threads:
        thread.join(JOIN_TIMEOUT)
    job.queued = pages.qsize()
    job.document = compile_pages(pages, job.count)


# -- fix: each thread puts its page in the queue; join all; then compile -------------


def put_page(pages: queue.Queue[tuple[int, str]], port: int, number: int) -> None:
    pages.put((number, fetch(port, number)), timeout=JOIN_TIMEOUT)


def download(job: Download) -> None:
    pages: queue.Queue[tuple[int, str]] = queue.Queue(maxsize=job.count)
    for number in range(job.count):
        thread = job.tracker.thread(put_page, pages, job.port, number, name=f"page-{number}")
        job.threads.append(thread)
        thread.start()
    for thread in job.threads:
        thread.join(JOIN_TIMEOUT)
    job.queued = pages.qsize()
    job.document = compile_pages(pages, job.count)


# -- the run ------------------------------------------------------------------------


class Run:
    def __init__(self, threads: int) -> None:
        pages = {page_path(n): (page_delay(n), page_body(n)) for n in range(PAGES)}
        self.server = PageServer(pages)
        self.tracker = Tracker()
        self.jobs = [Download(self.server.port, self.tracker) for _ in range(threads)]
        self.running = Running()


def _actors(program: Callable[[Download], None]) -> Callable[[Run], list[Callable[[], None]]]:
    def actors(run: Run) -> list[Callable[[], None]]:
        return [run.running.wrap(functools.partial(program, job)) for job in run.jobs]

    return actors


def check(run: Run) -> None:
    expected = [page_body(n) for n in range(PAGES)]
    for i, job in enumerate(run.jobs):
        running = [t.name for t in job.threads if t.is_alive()]
        assert not running, f"download {i}: threads still running after join: {running}"
        assert job.document is not None, f"download {i}: nothing compiled"
        got = len(job.document)
        assert job.document == expected, (
            f"download {i}: compiled {got} pages, not pages 0-{PAGES - 1} once each in order"
        )


def observe(run: Run) -> str:
    outcomes = []
    expected = [page_body(n) for n in range(PAGES)]
    for job in run.jobs:
        if job.document is None:
            outcomes.append(f"nothing compiled: {job.queued} of {job.count} pages in the queue")
        elif job.document == expected:
            outcomes.append(f"all {PAGES} pages compiled in order")
        else:
            outcomes.append(f"{len(job.document)} pages compiled, wrong or out of order")
    return "; ".join(sorted(set(outcomes)))


def teardown(run: Run) -> None:
    run.server.close()  # first: a thread still waiting for a page gets its answer or EOF
    run.tracker.close_all()
    run.running.wait_idle()  # the actors just woken finish before we go on
    stuck = run.tracker.close_all()  # again: whatever they opened on their way out
    if stuck:
        raise RuntimeError(f"threads would not stop: {', '.join(stuck)}")


SCENARIO.add(
    Variant(
        name="buggy",
        summary="the thread target fetches the page and returns it: nothing reaches the queue",
        setup=Run,
        actors=_actors(download_buggy),
        check=check,
        observe=observe,
        teardown=teardown,
        expect=CAUGHT,
        bug_class="lost result",
        kinds=("exception", "assert"),
        engines=("stress",),
        settings={"stress": STRESS},
        source=(fetch_page, download_buggy, compile_pages),
    )
)
SCENARIO.add(
    Variant(
        name="queue",
        summary="each thread puts (number, page) in a Queue; join all; compile in page order",
        setup=Run,
        actors=_actors(download),
        check=check,
        observe=observe,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress",),
        settings={"stress": STRESS},
        source=(put_page, download, compile_pages),
    )
)
