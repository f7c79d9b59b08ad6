"""A thread-per-client TCP server and its threaded clients, over loopback.

From "Basic Threading in Python" (Peyton McCullough; seeds 003 and 000). The
server accepts connections forever and starts one thread per client; the thread
sends the client a pickled list, then calls ``recv(1024)`` ten times and takes
each result for one message. Three things go wrong:

* TCP is a byte stream, not a message queue: one ``recv`` may return half a
  message or several messages glued together. Here one message of each client is
  1,500 bytes, which no ``recv(1024)`` can return whole, so messages arrive cut,
  merged or not at all.
* The client unpickles bytes that came from the network. Unpickling runs code
  chosen by whoever wrote the bytes; here the payload is the article's harmless
  list of ints from our own loopback server, which is the only reason the buggy
  variant may do it at all.
* ``while True: accept()`` never ends: the server cannot be shut down, its
  listening socket stays open and nobody ever joins its threads.

In each run five clients send ten messages each, a few milliseconds apart; an
operator thread waits for them and then asks the server to shut down. The check
wants every message read whole, exactly once, in order, and no thread or socket
of the server left behind.

The ``framed`` fix sends every message (and the greeting) as JSON behind a 4-byte
length, so the reader knows where each one ends; the server's accept loop watches
a stop ``Event`` between short ``accept`` timeouts, and ``shutdown()`` sets it,
then joins the accept thread and every handler thread. The ``bounded`` fix adds a
``BoundedSemaphore``: at most three clients are served at once, the others wait
in the listen backlog, and the server never runs more than three handler threads.
"""

from __future__ import annotations

import functools
import pickle
import socket
import threading
import time
from collections.abc import Callable

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._net import (
    IO_TIMEOUT,
    JOIN_TIMEOUT,
    POLL,
    ClientBody,
    ClientRecord,
    FramedServerLog,
    Load,
    ServerRun,
    Tracker,
    connect,
    describe_load,
    framed_client,
    handle_framed_client,
    message_problems,
    messages_read_once,
    run_client,
)

#: The buggy variant fails every run: the 1,500-byte message cannot come out of
#: one recv(1024), and its accept loop never stops, so one run catches it with
#: certainty. 20 runs of 5 clients x 10 messages is what each fix must hold over.
#: Noise is off: these bugs live in TCP and in the shutdown logic, not between
#: two bytecodes, and tracing would only slow the sockets down.
STRESS = {"runs": 20, "noise": 0.0, "timeout": 5.0}

#: What the server greets each client with (the article's list).
GREETING = [1, 2, 7, 9, 0]
#: Clients served at once by the ``bounded`` server.
LIMIT = 3

SCENARIO = Scenario(
    name="thread_server",
    title="Thread-per-client TCP server and threaded clients",
    article="Basic Threading in Python (seeds 003, 000)",
    description=__doc__ or "",
    threads=6,  # five clients, as in the article, and the operator
    min_threads=2,
)


# -- buggy: the article's server and client ----------------------------------------


class ClientThread(threading.Thread):
    """The article's handler: a pickled greeting, then ten recv(1024) as ten messages."""

    def __init__(self, channel: socket.socket, details: tuple[str, int], log: FramedServerLog):
        super().__init__(name=f"client-thread-{details[1]}")
        self.channel = channel
        self.details = details
        self.log = log

    def run(self) -> None:
        received = self.log.new_connection()
        self.channel.sendall(pickle.dumps(GREETING))
        for _ in range(10):
            data = self.channel.recv(1024)  # BUG: one recv is taken for one message
            if data:
                received.append(data.decode(errors="replace"))
        self.channel.close()


class ArticleServer:
    """``while True: accept()`` and a new ClientThread per connection: no way to stop."""

    def __init__(self, run: ServerRun) -> None:
        self.run = run
        self.accept_thread = run.tracker.thread(self.serve_forever, name="accept-loop")
        self.accept_thread.start()

    def serve_forever(self) -> None:
        tracker = self.run.tracker
        while True:  # BUG: nothing ever ends this loop
            try:
                channel, details = self.run.listener.accept()
            except OSError:  # only teardown, closing the listener, gets us here
                return
            channel.settimeout(IO_TIMEOUT)
            tracker.socket(channel)
            tracker.adopt(ClientThread(channel, details, self.run.log)).start()

    def shutdown(self) -> None:
        """The article's server has no shutdown: it serves until the process is killed."""


def connection_thread(
    address: tuple[str, int], load: Load, record: ClientRecord, tracker: Tracker
) -> None:
    """The article's client: unpickle the greeting, send the messages as raw bytes."""
    record.started = time.perf_counter()
    client = tracker.socket(connect(address))
    try:
        # BUG: unpickling network bytes runs whatever code they describe. Harmless
        # here only because our own loopback server sent a list of five ints.
        record.greeting = pickle.loads(client.recv(1024))
        record.greeted = time.perf_counter()
        for index in range(load.messages):
            if index:
                time.sleep(load.pause)  # think time between messages
            client.sendall(load.message(record.client, index).encode())
            record.sent += 1
    finally:
        client.close()
    record.finished = time.perf_counter()


# -- fixes: frames, JSON, an Event-driven shutdown, optionally a bound ---------------


class FramedServer:
    """One thread per client, JSON frames, and a shutdown that joins every thread.

    With ``limit``, a ``BoundedSemaphore`` caps the clients served at once: the
    accept loop takes a slot before it accepts, the handler gives it back.
    """

    def __init__(self, run: ServerRun, limit: int | None = None) -> None:
        self.run = run
        self.limit = limit
        self.stop = threading.Event()
        self.slots = threading.BoundedSemaphore(limit) if limit else None
        self.handlers: list[threading.Thread] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()
        run.listener.settimeout(POLL)  # wake up often enough to see the stop Event
        self.accept_thread = run.tracker.thread(self.accept_loop, name="accept-loop")
        self.accept_thread.start()

    def accept_loop(self) -> None:
        listener = self.run.listener
        with listener:
            while not self.stop.is_set():
                if self.slots is not None and not self.slots.acquire(timeout=POLL):
                    continue  # every slot busy: the client waits in the listen backlog
                try:
                    conn, _ = listener.accept()
                except OSError:  # TimeoutError included: look at the Event again
                    if self.slots is not None:
                        self.slots.release()
                    if listener.fileno() == -1:
                        return
                    continue
                conn.settimeout(IO_TIMEOUT)
                self.run.tracker.socket(conn)
                handler = self.run.tracker.thread(
                    self.handle, conn, name=f"handler-{len(self.handlers)}"
                )
                self.handlers.append(handler)
                handler.start()

    def handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            handle_framed_client(conn, GREETING, self.run.log)
        finally:
            with self._lock:
                self.active -= 1
            if self.slots is not None:
                self.slots.release()

    def shutdown(self, timeout: float = JOIN_TIMEOUT) -> None:
        """Stop accepting, then wait for every handler to finish its client."""
        self.stop.set()
        deadline = time.monotonic() + timeout
        self.accept_thread.join(timeout)
        for handler in self.handlers:  # complete: the accept thread has ended
            handler.join(max(deadline - time.monotonic(), 0.0))


# -- the run: clients, operator, check ------------------------------------------------


class Run(ServerRun):
    server: Server


Server = ArticleServer | FramedServer


def _setup(make_server: Callable[[ServerRun], Server]) -> Callable[[int], Run]:
    def setup(threads: int) -> Run:
        run = Run(threads)
        try:
            run.server = make_server(run)
        except BaseException:
            run.tracker.close_all()
            raise
        return run

    return setup


def operator(run: Run) -> None:
    """The program's main thread: once every client is done, shut the server down."""
    run.clients_done.wait(JOIN_TIMEOUT)
    run.server.shutdown()


def _actors(client: ClientBody) -> Callable[[Run], list[Callable[[], None]]]:
    def actors(run: Run) -> list[Callable[[], None]]:
        clients = [functools.partial(run_client, run, c, client) for c in range(run.load.clients)]
        return [run.running.wrap(a) for a in [*clients, functools.partial(operator, run)]]

    return actors


def problems(run: Run) -> list[str]:
    found = message_problems(run.log.connections, run.load)
    found += run.client_errors()
    found += [f"server: {e}" for e in run.log.errors]
    alive = run.tracker.live_threads()
    if alive:
        found.append(f"server still running after shutdown: {', '.join(alive)}")
    open_sockets = run.tracker.open_sockets()
    if open_sockets:
        found.append(f"{open_sockets} server sockets still open")
    server = run.server
    if isinstance(server, FramedServer) and server.limit and server.most_active > server.limit:
        found.append(f"{server.most_active} clients served at once, limit {server.limit}")
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
    stopped = "server stopped" if not run.tracker.live_threads() else "server still running"
    extra = ""
    if isinstance(run.server, FramedServer) and run.server.limit:
        extra = f", at most {run.server.most_active} at once"
    return f"{delivered}; {stopped}{extra}; {describe_load(run)}"


def teardown(run: Run) -> None:
    run.clients_done.cancel()  # an operator still waiting (a run that hung) goes on
    if isinstance(run.server, FramedServer):
        run.server.stop.set()
    run.tracker.close_all()
    run.running.wait_idle()  # the actors just woken finish before we go on
    stuck = run.tracker.close_all()  # again: whatever they opened on their way out
    if stuck:
        raise RuntimeError(f"threads would not stop: {', '.join(stuck)}")


SCENARIO.add(
    Variant(
        name="buggy",
        summary="one recv(1024) per message, a pickled greeting, an accept loop that never ends",
        setup=_setup(ArticleServer),
        actors=_actors(connection_thread),
        check=check,
        observe=observe,
        teardown=teardown,
        expect=CAUGHT,
        bug_class="message framing",
        kinds=("assert",),
        engines=("stress",),
        settings={"stress": STRESS},
        source=(ClientThread, ArticleServer, connection_thread),
    )
)
SCENARIO.add(
    Variant(
        name="framed",
        summary="length-prefixed JSON frames; a stop Event, then every handler joined",
        setup=_setup(FramedServer),
        actors=_actors(framed_client),
        check=check,
        observe=observe,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress",),
        settings={"stress": STRESS},
        source=(FramedServer, handle_framed_client, framed_client),
    )
)
SCENARIO.add(
    Variant(
        name="bounded",
        summary=f"framed, and a BoundedSemaphore: at most {LIMIT} clients served at once",
        setup=_setup(functools.partial(FramedServer, limit=LIMIT)),
        actors=_actors(framed_client),
        check=check,
        observe=observe,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress",),
        settings={"stress": STRESS},
        source=(FramedServer.__init__, FramedServer.accept_loop, FramedServer.handle),
    )
)
