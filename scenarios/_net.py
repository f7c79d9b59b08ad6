"""Loopback plumbing shared by the network scenarios (private: not a scenario).

``thread_server``, ``pool_server``, ``downloader``, ``echo_pool`` and ``ping_sweep``
all run real sockets. What they share lives here:

* sockets that only ever bind ``127.0.0.1`` on an ephemeral port, each with a
  timeout, so nothing a scenario opens can wait forever;
* :class:`Tracker`, the record of every socket and thread one run opens, which a
  variant's ``teardown`` closes and joins, also after a failed or hung run;
* length-prefixed JSON frames (the fix for "one ``recv`` is one message");
* :class:`Countdown`, a count of finished parties that a thread can wait on;
* the client load that ``thread_server`` and ``pool_server`` are measured under,
  and the checks of what their servers received;
* :class:`PageServer`, an HTTP server on loopback with a delay per page;
* :class:`LineReader`, line-by-line reading of a child's pipe with a timeout.
"""

from __future__ import annotations

import http.server
import json
import os
import select
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

__all__ = [
    "IO_TIMEOUT",
    "JOIN_TIMEOUT",
    "LOCALHOST",
    "POLL",
    "ClientBody",
    "ClientRecord",
    "Countdown",
    "FramedServerLog",
    "LineReader",
    "Load",
    "PageServer",
    "Running",
    "ServerRun",
    "Tracker",
    "coarse",
    "connect",
    "describe_load",
    "framed_client",
    "handle_framed_client",
    "listener",
    "load_figures",
    "message_problems",
    "messages_read_once",
    "recv_frame",
    "run_client",
    "send_frame",
]

_T = TypeVar("_T", bound=threading.Thread)

#: Loopback only: no scenario ever listens on another interface.
LOCALHOST = "127.0.0.1"
#: The ceiling of every blocking socket operation.
IO_TIMEOUT = 5.0
#: The ceiling of every join, wait and get.
JOIN_TIMEOUT = 3.0
#: How long teardown waits for the actors it has woken to finish.
SETTLE_TIMEOUT = 2.0
#: How often a loop that waits for a stop request looks at it.
POLL = 0.02


# -- sockets ------------------------------------------------------------------------


def listener(backlog: int = 64, timeout: float | None = IO_TIMEOUT) -> socket.socket:
    """A TCP socket listening on 127.0.0.1 on a port the kernel picks."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((LOCALHOST, 0))
        sock.listen(backlog)
        sock.settimeout(timeout)
    except BaseException:
        sock.close()
        raise
    return sock


def connect(address: tuple[str, int], timeout: float = IO_TIMEOUT) -> socket.socket:
    """A client socket connected to ``address`` (always on loopback)."""
    if address[0] != LOCALHOST:
        raise ValueError(f"scenarios only connect to {LOCALHOST}, not {address[0]}")
    return socket.create_connection(address, timeout=timeout)


def _shutdown(sock: socket.socket) -> None:
    # shutdown() before close(): on Linux it is what wakes a thread blocked in
    # accept() or recv() on this socket; close() alone leaves it asleep.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _join_starting(thread: threading.Thread, deadline: float) -> None:
    """Join ``thread``, which may still be inside its own ``start()``.

    A thread has its ident a moment before ``start()`` marks it started, and
    ``join()`` refuses it in between ("cannot join thread before it is
    started"). With truly parallel threads (free-threaded 3.13t) a teardown
    running beside the program's ``start()`` lands there; wait for the mark
    (``Thread._started``, the Event ``start()`` itself waits on) first.
    """
    started = getattr(thread, "_started", None)
    if started is not None and not started.is_set():
        started.wait(max(deadline - time.monotonic(), 0.0))
    try:
        thread.join(max(deadline - time.monotonic(), 0.0))
    except RuntimeError:
        pass  # still not started by the deadline: live_threads() names it


class Tracker:
    """Every socket and thread one run opens, so that teardown can undo them all.

    After :meth:`close_all` the tracker stays closed: a socket registered later
    (by a thread that was still running) is shut down at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._closed = False

    def socket(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            late = self._closed
        if late:
            _shutdown(sock)
        return sock

    def thread(
        self, target: Callable[..., object], *args: Any, name: str, daemon: bool = False
    ) -> threading.Thread:
        """A new (not yet started) thread, recorded."""
        return self.adopt(threading.Thread(target=target, args=args, name=name, daemon=daemon))

    def adopt(self, thread: _T) -> _T:
        """Record a thread made elsewhere (a Thread subclass, say)."""
        with self._lock:
            self._threads.append(thread)
        return thread

    @property
    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._threads)

    def live_threads(self) -> list[str]:
        return [t.name for t in self.threads if t.is_alive()]

    def open_sockets(self) -> int:
        with self._lock:
            return sum(1 for s in self._sockets if s.fileno() != -1)

    def close_all(self, timeout: float = JOIN_TIMEOUT) -> list[str]:
        """Wake, join and close everything; the names of threads that would not end.

        Sockets are shut down first (that wakes their threads), threads joined,
        and only then are sockets closed, so that no thread still inside a call
        on a descriptor sees its number reused. Threads and sockets that appear
        while this runs are handled too.
        """
        deadline = time.monotonic() + timeout
        current = threading.current_thread()
        with self._lock:
            self._closed = True
        handled = (0, 0)
        while True:
            with self._lock:
                sockets = list(self._sockets)
                threads = list(self._threads)
            if (len(sockets), len(threads)) == handled:
                break
            handled = (len(sockets), len(threads))
            for sock in sockets:
                if sock.fileno() != -1:
                    _shutdown(sock)
            for thread in threads:
                if thread is not current and thread.ident is not None:
                    _join_starting(thread, deadline)
        for sock in sockets:
            sock.close()
        return self.live_threads()


class Countdown:
    """``n`` parties each call :meth:`done` once; :meth:`wait` returns when all have."""

    def __init__(self, n: int) -> None:
        self._left = n
        self._cancelled = False
        self._cond = threading.Condition()

    def done(self) -> None:
        with self._cond:
            self._left -= 1
            if self._left <= 0:
                self._cond.notify_all()

    def wait(self, timeout: float = JOIN_TIMEOUT) -> bool:
        """True once every party is done; False on timeout or after :meth:`cancel`."""
        with self._cond:
            self._cond.wait_for(lambda: self._left <= 0 or self._cancelled, timeout)
            return self._left <= 0

    def cancel(self) -> None:
        """Release every waiter now (teardown of a run that went wrong)."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()


class Running:
    """Counts the actors that are inside their body, so teardown can wait for them.

    After a hung run the engine calls teardown while actors still run; teardown
    wakes them (closes sockets, cancels waits) and then waits here, so that no
    code of the run is still going when the engine moves on.
    """

    def __init__(self) -> None:
        self._count = 0
        self._cond = threading.Condition()

    def wrap(self, body: Callable[[], object]) -> Callable[[], None]:
        def actor() -> None:
            with self._cond:
                self._count += 1
            try:
                body()
            finally:
                with self._cond:
                    self._count -= 1
                    self._cond.notify_all()

        return actor

    def wait_idle(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout)


# -- frames: a length prefix, then JSON (never pickle) --------------------------------

_HEADER = struct.Struct("!I")
#: A frame larger than this is taken for garbage rather than read into memory.
MAX_FRAME = 1 << 20


def send_frame(sock: socket.socket, obj: object) -> None:
    """Send ``obj`` as JSON behind a 4-byte length: the reader knows where it ends."""
    body = json.dumps(obj).encode()
    sock.sendall(_HEADER.pack(len(body)) + body)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    """Exactly ``n`` bytes, however TCP cut them up; fewer only at end of stream."""
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> Any:
    """The next frame's object; ``None`` when the peer closed between frames."""
    header = _recv_exactly(sock, _HEADER.size)
    if not header:
        return None
    if len(header) < _HEADER.size:
        raise ConnectionError("connection closed inside a frame header")
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ConnectionError(f"frame of {size} bytes refused (limit {MAX_FRAME})")
    body = _recv_exactly(sock, size)
    if len(body) < size:
        raise ConnectionError(f"connection closed after {len(body)} of {size} bytes of a frame")
    return json.loads(body)


# -- the client load of thread_server and pool_server --------------------------------


@dataclass(frozen=True)
class Load:
    """What each client does: connect, read the greeting, send ``messages`` messages.

    Message ``big_index`` is ``big_size`` bytes long, more than one ``recv(1024)``
    can return, so a server that takes one ``recv`` for one message must fail.
    Clients pause ``pause`` seconds between messages, like a person typing: each
    keeps its connection (and a server thread) busy for a while.
    """

    clients: int
    messages: int = 10
    big_index: int = 5
    big_size: int = 1500
    pause: float = 0.003

    def message(self, client: int, index: int) -> str:
        text = f"Hey. {index} from client {client}."
        if index == self.big_index:
            text += " " + "x" * (self.big_size - len(text) - 1)
        return text

    def expected(self) -> dict[int, list[str]]:
        return {c: [self.message(c, i) for i in range(self.messages)] for c in range(self.clients)}


@dataclass
class ClientRecord:
    """What one client saw, with the times the load figures are computed from."""

    client: int
    started: float = 0.0
    greeted: float = 0.0
    finished: float = 0.0
    greeting: Any = None
    sent: int = 0
    error: str = ""


def framed_client(
    address: tuple[str, int], load: Load, record: ClientRecord, tracker: Tracker
) -> None:
    """The fixed client: read the JSON greeting frame, send every message as a frame."""
    record.started = time.perf_counter()
    with tracker.socket(connect(address)) as sock:
        record.greeting = recv_frame(sock)
        record.greeted = time.perf_counter()
        for index in range(load.messages):
            if index:
                time.sleep(load.pause)  # think time between messages, not synchronization
            send_frame(sock, load.message(record.client, index))
            record.sent += 1
    record.finished = time.perf_counter()


@dataclass
class FramedServerLog:
    """What a server received, one list of messages per connection it served."""

    connections: list[list[str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_connection(self) -> list[str]:
        received: list[str] = []
        with self.lock:
            self.connections.append(received)
        return received

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def handle_framed_client(conn: socket.socket, greeting: object, log: FramedServerLog) -> None:
    """Serve one client of a fixed server: a JSON greeting, then frames until it closes."""
    received = log.new_connection()
    try:
        with conn:
            send_frame(conn, greeting)
            while (frame := recv_frame(conn)) is not None:
                received.append(str(frame))
    except OSError as exc:  # ConnectionError and socket timeouts included
        log.error(f"{type(exc).__name__}: {exc}")


def message_problems(connections: Iterable[list[str]], load: Load) -> list[str]:
    """How what a server read differs from what the clients sent; [] if not at all.

    Every message of every client must be read exactly once, whole, and in the
    order its client sent it.
    """
    expected = load.expected()
    wanted = {text: (c, i) for c, texts in expected.items() for i, text in enumerate(texts)}
    seen: dict[str, int] = {}
    garbled: list[str] = []
    out_of_order = 0
    for received in connections:
        last = -1
        for text in received:
            if text not in wanted:
                garbled.append(text)
                continue
            seen[text] = seen.get(text, 0) + 1
            index = wanted[text][1]
            if index < last:
                out_of_order += 1
            last = index
    total = sum(len(texts) for texts in expected.values())
    missing = [text for text in wanted if text not in seen]
    duplicated = [text for text, n in seen.items() if n > 1]
    problems = []
    if garbled:
        merged = sum(1 for text in garbled if text.count("Hey.") > 1)
        kinds = []
        if merged:
            kinds.append(f"{merged} held several messages merged")
        if len(garbled) > merged:
            kinds.append(f"{len(garbled) - merged} were pieces of a cut message")
        sample = garbled[0] if len(garbled[0]) <= 40 else garbled[0][:37] + "..."
        problems.append(
            f"{len(garbled)} reads were not one whole message ({', '.join(kinds)}; e.g. {sample!r})"
        )
    if missing:
        problems.append(f"{len(missing)} of {total} messages never read whole")
    if duplicated:
        problems.append(f"{len(duplicated)} messages read twice")
    if out_of_order:
        problems.append(f"{out_of_order} messages read out of order")
    return problems


class ServerRun:
    """One run of a server under the client load (``thread_server``, ``pool_server``).

    ``threads - 1`` clients and one operator: the operator waits for every client
    to finish, then asks the server to shut down, as a program's main thread would.
    """

    def __init__(self, threads: int, listen_timeout: float = IO_TIMEOUT) -> None:
        self.tracker = Tracker()
        self.load = Load(clients=threads - 1)
        self.listener = self.tracker.socket(listener(timeout=listen_timeout))
        self.address: tuple[str, int] = self.listener.getsockname()[:2]
        self.records = [ClientRecord(c) for c in range(self.load.clients)]
        self.clients_done = Countdown(self.load.clients)
        self.log = FramedServerLog()
        self.running = Running()

    def client_errors(self) -> list[str]:
        return [f"client {r.client}: {r.error}" for r in self.records if r.error]


#: A client of the load: ``body(address, load, record, tracker)``.
ClientBody = Callable[[tuple[str, int], Load, ClientRecord, "Tracker"], None]


def run_client(run: ServerRun, client: int, body: ClientBody) -> None:
    """One client of the load: ``body`` does the talking; failures are recorded."""
    record = run.records[client]
    try:
        body(run.address, run.load, record, run.tracker)
    except OSError as exc:
        record.error = f"{type(exc).__name__}: {exc}"
    finally:
        run.clients_done.done()


def messages_read_once(connections: Iterable[list[str]], load: Load) -> int:
    """How many of the clients' messages a server read whole exactly once."""
    counts: dict[str, int] = {}
    for received in connections:
        for text in received:
            counts[text] = counts.get(text, 0) + 1
    return sum(1 for texts in load.expected().values() for text in texts if counts.get(text) == 1)


def load_figures(records: Iterable[ClientRecord]) -> tuple[float, float, float]:
    """(mean wait, longest wait, messages per second) of one run's clients.

    A client's *wait* is the time from its connect to the server's greeting: how
    long it sat unserved. Throughput is every message sent over the whole load's
    wall time.
    """
    done = [r for r in records if r.finished]
    if not done:
        return 0.0, 0.0, 0.0
    waits = [r.greeted - r.started for r in done]
    span = max(r.finished for r in done) - min(r.started for r in done)
    sent = sum(r.sent for r in done)
    return sum(waits) / len(waits), max(waits), sent / span if span > 0 else 0.0


def coarse(value: float) -> str:
    """One significant digit: outcome labels of runs that differ only by noise match."""
    return f"{float(f'{value:.1g}'):g}" if value >= 1 else f"{value:.1g}"


def describe_load(run: ServerRun) -> str:
    """The load figures of one run, coarsely, for its outcome label."""
    _, longest, rate = load_figures(run.records)
    wait = "<10 ms" if longest < 0.01 else f"~{coarse(longest * 1000)} ms"
    return f"wait max {wait}, ~{coarse(rate)} msg/s"


# -- an HTTP server on loopback whose pages take their time ---------------------------


class _PageHandler(http.server.BaseHTTPRequestHandler):
    server: _PageHTTPServer
    timeout = IO_TIMEOUT  # the connection's socket timeout

    def do_GET(self) -> None:
        page = self.server.pages.get(self.path)
        if page is None:
            self.send_error(404)
            return
        delay, body = page
        time.sleep(delay)  # a slow page, as on the real network
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request on stderr would drown the report


class _PageHTTPServer(http.server.ThreadingHTTPServer):
    # Request threads are not daemons and server_close() joins them: when the
    # server is closed, nothing of it runs any more.
    daemon_threads = False
    block_on_close = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of twenty
    # clients, which then retry a second later.
    request_queue_size = 256
    pages: dict[str, tuple[float, str]]

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look our own name up in DNS (getfqdn): slow,
        # and of no use on loopback.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class PageServer:
    """``pages`` (path -> (delay in seconds, body)) served on 127.0.0.1:ephemeral."""

    def __init__(self, pages: dict[str, tuple[float, str]]) -> None:
        self._http = _PageHTTPServer((LOCALHOST, 0), _PageHandler)
        self._http.pages = pages
        self._http.socket.settimeout(IO_TIMEOUT)
        self.port: int = self._http.server_address[1]
        self._thread = threading.Thread(
            target=self._http.serve_forever, args=(POLL,), name="page-server"
        )
        self._thread.start()

    def close(self) -> None:
        self._http.shutdown()  # serve_forever returns within one POLL
        self._http.server_close()  # closes the socket, joins the request threads
        self._thread.join(JOIN_TIMEOUT)


# -- reading a child process's pipe without blocking forever --------------------------


class LineReader:
    """Lines from a child's pipe, each read with a timeout; :meth:`close` is safe
    to call from another thread while a read is under way (teardown)."""

    #: A read looks at :attr:`closed` at least this often.
    SLICE = 0.05

    def __init__(self, pipe: IO[bytes]) -> None:
        self._pipe = pipe
        self._fd = pipe.fileno()
        self._buffer = b""
        self._lock = threading.Lock()
        self.closed = False
        self.eof = False

    def _fill(self, timeout: float) -> None:
        # Under the lock, so that close() can never free the descriptor (and let
        # the next socket reuse its number) between our select() and read().
        with self._lock:
            if self.closed:
                self.eof = True
                return
            ready, _, _ = select.select([self._fd], [], [], timeout)
            if ready:
                chunk = os.read(self._fd, 4096)
                if chunk:
                    self._buffer += chunk
                else:
                    self.eof = True

    def readline(self, timeout: float = JOIN_TIMEOUT) -> str:
        """The next line (without its newline); ``""`` at end of file.

        Raises TimeoutError when no whole line arrives in time.
        """
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer and not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line from the pipe within {timeout:g}s")
            self._fill(min(left, self.SLICE))
        if b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
        else:
            line, self._buffer = self._buffer, b""
        return line.decode(errors="replace")

    def read_rest(self, timeout: float = JOIN_TIMEOUT) -> list[str]:
        """Every remaining line, up to end of file or ``timeout``."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            try:
                line = self.readline(max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                break
            if not line and self.eof and not self._buffer:
                break
            lines.append(line)
        return lines

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._pipe.close()
