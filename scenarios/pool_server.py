"""A pool of two worker threads, fed by a Queue, serves the clients.

From "Basic Threading in Python", page 3, "Pooling Threads" (Peyton McCullough;
seeds 001 and 003). The accept loop puts each connection in an unbounded
``Queue``; two workers take connections out and serve them. The article's
workers loop ``while True: client = q.get(); if client != None: serve(client)``:

* nothing can stop them. ``None``, which that ``if`` seems to anticipate as a
  signal, is skipped and the worker goes straight back to ``get()``; the accept loop never ends
  either, and no thread is ever joined. Asked to shut down, the pool keeps
  running: that is what the check catches.
* clients beyond the pool wait: with five clients and two workers, three sit in
  the queue until a worker is free, and the queue has no bound at all.

The wire protocol here is the framed JSON of ``thread_server``'s fix, so that only
the pool's own bugs show. The ``sentinel`` fix ends the accept loop with a stop
``Event``, then puts one sentinel per worker *after* the last client, so each
worker finishes the clients before it and returns; every thread is joined. The
``bounded`` fix also gives the queue a ``maxsize``: when the workers are busy and
the queue is full, the accept loop stops accepting and waiting clients stay in the
kernel's listen backlog instead of in the server's memory.

The article says pooling is the efficient choice. Under the same load as
``thread_server`` (five clients that each keep their connection for ten messages
a few milliseconds apart), the outcome shows each run's longest client wait and
its throughput: with clients that hold their connection, two workers make the
other three wait one or two whole sessions, and thread-per-client serves everyone
at once. Saving a thread start, a fraction of a millisecond, does not pay for that.
When the clients send without pausing, the sessions are short and busy, and the
pool can come out ahead in throughput (fewer threads competing for the GIL).
``python -m scenarios.pool_server`` measures both servers under both loads.
"""

from __future__ import annotations

import dataclasses
import functools
import queue
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import cast

import harness
from harness import CAUGHT, HOLDS, Scenario, Variant

from ._net import (
    IO_TIMEOUT,
    JOIN_TIMEOUT,
    POLL,
    ServerRun,
    describe_load,
    framed_client,
    handle_framed_client,
    load_figures,
    message_problems,
    messages_read_once,
    run_client,
)

#: The buggy pool fails its shutdown in every run (its workers cannot stop), so one
#: run catches it with certainty; each fix must hold over the same 15 runs.
#: Noise is off: the bugs are in the stop logic and the queue, not between two
#: bytecodes, and tracing would only slow the sockets down.
STRESS = {"runs": 15, "noise": 0.0, "timeout": 5.0}

GREETING = [1, 2, 7, 9, 0]
#: Worker threads in the pool (the article starts two).
WORKERS = 2
#: The ``bounded`` queue's capacity.
QUEUE_SIZE = 2
#: How long the buggy pool's caller waits for its workers to notice a None.
ARTICLE_STOP_WAIT = 0.5
#: A fixed worker that gets no client and no sentinel for this long gives up,
#: loudly (queue.Empty), rather than wait forever.
IDLE_LIMIT = 10.0

SCENARIO = Scenario(
    name="pool_server",
    title="Thread pool server fed by a Queue",
    article="Basic Threading in Python, page 3: Pooling Threads (seeds 001, 003)",
    description=__doc__ or "",
    threads=6,  # five clients, as in thread_server, and the operator
    min_threads=2,
)


# -- buggy: the article's pool -------------------------------------------------------


class Unplugged(BaseException):
    """Raised inside a worker that can never stop, by teardown, to end its thread."""


class _Unplug:
    """What teardown puts in the queue: any comparison with it raises Unplugged."""

    def __eq__(self, other: object) -> bool:
        raise Unplugged

    def __ne__(self, other: object) -> bool:
        raise Unplugged

    __hash__ = object.__hash__


def _unpluggable(loop: Callable[[], None]) -> None:
    """Run an endless worker loop until teardown unplugs it (harness plumbing)."""
    try:
        loop()
    except Unplugged:
        pass


class ArticlePool:
    """Two workers on an unbounded Queue; ``while True`` everywhere."""

    def __init__(self, run: ServerRun) -> None:
        self.run = run
        self.clients: queue.Queue[object] = queue.Queue(0)  # 0: no bound
        self.workers = [
            run.tracker.thread(_unpluggable, self.client_thread, name=f"worker-{i}")
            for i in range(WORKERS)
        ]
        for worker in self.workers:
            worker.start()
        self.accept_thread = run.tracker.thread(self.serve_forever, name="accept-loop")
        self.accept_thread.start()

    def client_thread(self) -> None:
        """The article's ClientThread.run."""
        while True:  # BUG: no way out
            client = self.clients.get()
            if client != None:  # noqa: E711 (the article's test: a None is skipped)
                conn, _ = cast("tuple[socket.socket, object]", client)
                conn.settimeout(IO_TIMEOUT)
                self.run.tracker.socket(conn)
                handle_framed_client(conn, GREETING, self.run.log)

    def serve_forever(self) -> None:
        while True:  # BUG: nothing ever ends this loop
            try:
                self.clients.put(self.run.listener.accept())
            except OSError:  # only teardown, closing the listener, gets us here
                return

    def shutdown(self) -> None:
        """All a caller can try: a None per worker, then wait a little for them."""
        for _ in self.workers:
            self.clients.put(None)
        deadline = time.monotonic() + ARTICLE_STOP_WAIT
        for worker in self.workers:
            worker.join(max(deadline - time.monotonic(), 0.0))

    def unplug(self) -> None:
        for _ in self.workers:
            self.clients.put(_Unplug())

    def deepest(self) -> int | None:
        return None


# -- fixes: a stop Event, a sentinel per worker, joins; optionally a bounded queue ----


class SentinelPool:
    """A pool that stops: Event for the accept loop, one sentinel per worker, joins."""

    def __init__(self, run: ServerRun, maxsize: int = 0) -> None:
        self.run = run
        self.maxsize = maxsize
        self.stop = threading.Event()
        self.clients: queue.Queue[socket.socket | None] = queue.Queue(maxsize)
        self.most_queued = 0
        self._lock = threading.Lock()
        run.listener.settimeout(POLL)  # wake up often enough to see the stop Event
        self.workers = [run.tracker.thread(self.worker, name=f"worker-{i}") for i in range(WORKERS)]
        for worker in self.workers:
            worker.start()
        self.accept_thread = run.tracker.thread(self.accept_loop, name="accept-loop")
        self.accept_thread.start()

    def accept_loop(self) -> None:
        listener = self.run.listener
        with listener:
            while not self.stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:  # TimeoutError included: look at the Event again
                    if listener.fileno() == -1:
                        return
                    continue
                conn.settimeout(IO_TIMEOUT)
                self.run.tracker.socket(conn)
                self.hand_over(conn)

    def hand_over(self, conn: socket.socket) -> None:
        """Queue a client; with a full bounded queue, wait (or give up on shutdown)."""
        while True:
            try:
                self.clients.put(conn, timeout=POLL)
                break
            except queue.Full:
                if self.stop.is_set():
                    conn.close()
                    return
        with self._lock:
            self.most_queued = max(self.most_queued, self.clients.qsize())

    def worker(self) -> None:
        while True:
            conn = self.clients.get(timeout=IDLE_LIMIT)
            if conn is None:  # the sentinel: every client before it has been served
                return
            handle_framed_client(conn, GREETING, self.run.log)

    def shutdown(self, timeout: float = JOIN_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        self.stop.set()
        self.accept_thread.join(timeout)  # after this, no client is queued any more
        for _ in self.workers:
            if not self.put_sentinel(deadline):
                break
        for worker in self.workers:
            worker.join(max(deadline - time.monotonic(), 0.0))

    def put_sentinel(self, deadline: float) -> bool:
        """Queue one sentinel, waiting for room as long as some worker can make it."""
        while any(worker.is_alive() for worker in self.workers):
            try:
                self.clients.put(None, timeout=POLL)
                return True
            except queue.Full:
                if time.monotonic() > deadline:
                    break
        return False

    def unplug(self) -> None:
        self.stop.set()
        for _ in self.workers:
            try:
                self.clients.put_nowait(None)
            except queue.Full:
                break

    def deepest(self) -> int | None:
        return self.most_queued


# -- the run: clients, operator, check ------------------------------------------------

Pool = ArticlePool | SentinelPool


class Run(ServerRun):
    server: Pool


def _setup(make_pool: Callable[[ServerRun], Pool]) -> Callable[[int], Run]:
    def setup(threads: int) -> Run:
        run = Run(threads)
        try:
            run.server = make_pool(run)
        except BaseException:
            run.tracker.close_all()
            raise
        return run

    return setup


def operator(run: Run) -> None:
    """The program's main thread: once every client is done, shut the pool down."""
    run.clients_done.wait(JOIN_TIMEOUT)
    run.server.shutdown()


def actors(run: Run) -> list[Callable[[], None]]:
    clients = [
        functools.partial(run_client, run, c, framed_client) for c in range(run.load.clients)
    ]
    return [run.running.wrap(a) for a in [*clients, functools.partial(operator, run)]]


def problems(run: Run) -> list[str]:
    found = message_problems(run.log.connections, run.load)
    found += run.client_errors()
    found += [f"server: {e}" for e in run.log.errors]
    pool = run.server
    workers = [w.name for w in pool.workers if w.is_alive()]
    if workers:
        found.append(f"{len(workers)} of {len(pool.workers)} workers still running after shutdown")
    if pool.accept_thread.is_alive():
        found.append("accept loop still running after shutdown")
    open_sockets = run.tracker.open_sockets()
    if open_sockets:
        found.append(f"{open_sockets} server sockets still open")
    if isinstance(pool, SentinelPool) and pool.maxsize and pool.most_queued > pool.maxsize:
        found.append(f"{pool.most_queued} clients queued, maxsize {pool.maxsize}")
    return found


def check(run: Run) -> None:
    found = problems(run)
    assert not found, "; ".join(found)


def observe(run: Run) -> str:
    total = run.load.clients * run.load.messages
    if not message_problems(run.log.connections, run.load):
        delivered = f"all {total} messages once"
    else:
        delivered = f"{messages_read_once(run.log.connections, run.load)} of {total} messages once"
    alive = sum(1 for w in run.server.workers if w.is_alive())
    stopped = "pool stopped" if not alive else f"{alive} workers still running"
    queued = run.server.deepest()
    depth = f", queue peak {queued}" if queued is not None else ""
    return f"{delivered}; {stopped}{depth}; {describe_load(run)}"


def teardown(run: Run) -> None:
    run.clients_done.cancel()  # an operator still waiting (a run that hung) goes on
    run.server.unplug()
    run.tracker.close_all()
    run.running.wait_idle()  # the actors just woken finish before we go on
    stuck = run.tracker.close_all()  # again: whatever they opened on their way out
    if stuck:
        raise RuntimeError(f"threads would not stop: {', '.join(stuck)}")


SCENARIO.add(
    Variant(
        name="buggy",
        summary="two workers loop forever on an unbounded Queue; None does not stop them",
        setup=_setup(ArticlePool),
        actors=actors,
        check=check,
        observe=observe,
        teardown=teardown,
        expect=CAUGHT,
        bug_class="missing shutdown",
        kinds=("assert",),
        engines=("stress",),
        settings={"stress": STRESS},
        source=(ArticlePool.client_thread, ArticlePool.serve_forever, ArticlePool.shutdown),
    )
)
SCENARIO.add(
    Variant(
        name="sentinel",
        summary="a stop Event for the accept loop, one sentinel per worker, every thread joined",
        setup=_setup(SentinelPool),
        actors=actors,
        check=check,
        observe=observe,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress",),
        settings={"stress": STRESS},
        source=(
            SentinelPool.accept_loop,
            SentinelPool.worker,
            SentinelPool.shutdown,
            SentinelPool.put_sentinel,
        ),
    )
)
SCENARIO.add(
    Variant(
        name="bounded",
        summary=f"sentinel, and Queue(maxsize={QUEUE_SIZE}): waiting clients stay in the backlog",
        setup=_setup(functools.partial(SentinelPool, maxsize=QUEUE_SIZE)),
        actors=actors,
        check=check,
        observe=observe,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress",),
        settings={"stress": STRESS},
        source=(SentinelPool.__init__, SentinelPool.hand_over, SentinelPool.shutdown),
    )
)


# -- pool vs thread-per-client, under the same load ------------------------------------


def compare_with_thread_server(runs: int = 30, pause: float | None = None) -> list[str]:
    """Median client wait and throughput of each server, ``runs`` runs each.

    The same load for all: five clients of ten messages (one of 1,500 bytes),
    ``pause`` seconds apart (the Load default when None), through the stress
    engine without noise.
    """
    from . import thread_server

    lines = []
    for module, name, label in (
        (thread_server, "framed", "thread per client"),
        (thread_server, "bounded", f"thread per client, {thread_server.LIMIT} slots"),
        (sys.modules[__name__], "sentinel", f"pool of {WORKERS}"),
        (sys.modules[__name__], "bounded", f"pool of {WORKERS}, queue {QUEUE_SIZE}"),
    ):
        variant = module.SCENARIO.variant(name)
        figures: list[tuple[float, float, float]] = []

        def setup(variant: Variant = variant) -> ServerRun:
            run: ServerRun = variant.setup(6)
            if pause is not None:
                run.load = dataclasses.replace(run.load, pause=pause)
            return run

        def observe(run: ServerRun, figures: list[tuple[float, float, float]] = figures) -> str:
            figures.append(load_figures(run.records))
            return "measured"

        result = harness.stress(
            setup,
            variant.actors,
            variant.check,
            observe=observe,
            teardown=variant.teardown,
            runs=runs,
            noise=0.0,
            timeout=5.0,
        )
        if result.failed:
            raise AssertionError(str(result))
        mean = statistics.median(f[0] for f in figures) * 1000
        longest = statistics.median(f[1] for f in figures) * 1000
        rate = statistics.median(f[2] for f in figures)
        lines.append(
            f"{label:28} mean wait {mean:6.1f} ms, longest wait {longest:6.1f} ms, "
            f"{rate:7.0f} msg/s"
        )
    return lines


if __name__ == "__main__":
    for think in (None, 0.0):
        shown = "default" if think is None else f"{think * 1000:g} ms"
        print(f"5 clients x 10 messages, pause {shown}; medians of 30 runs each:")
        for line in compare_with_thread_server(30, think):
            print("  " + line)
