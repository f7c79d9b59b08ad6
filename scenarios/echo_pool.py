"""An echo server with a pool of worker threads, stopped with Ctrl-C mid-conversation.

From "Multithreading in Python" (notes for professionals; seed 002), "Creating a
worker pool", after the Python Cookbook. The server starts its workers as daemon
threads fed by a ``Queue`` and then accepts clients ``while True``. The only way
to stop it is Ctrl-C, and then the interpreter exits at once and kills the daemon
workers wherever they are: clients in the middle of a conversation lose the rest
of their echoes, and sockets are never closed by the program, only torn down by
the operating system when the process dies. ``daemon=True`` means "may be killed
at any instruction", which is never right for a thread that holds a conversation.

Each server runs in its own Python process (``python -m <catalogue>.echo_pool``),
because interpreter exit is the event under test. Every client gets its first
echo, then the operator sends the server SIGINT, the client goes on talking, and
the check counts the echoes that came back.

The ``sentinel`` fix makes Ctrl-C set a stop ``Event``: the accept loop ends and
closes the listener, one ``None`` per worker follows the last client, and the
workers, no longer daemons, finish their conversations, close their sockets and
are joined. The ``executor`` fix does the same with ``ThreadPoolExecutor`` as a
context manager: leaving the ``with`` block is ``shutdown(wait=True)``. Both
servers report their open sockets and threads as they exit: none.

The article's own ThreadPoolExecutor version fares better than its daemon pool on
Python >= 3.9, because the interpreter joins an executor's workers at exit: after
Ctrl-C its conversations go on (tried on 3.11). But it never closes its listener
or its pool, so while it waits, new clients are still let in by the kernel and
never served.
"""

from __future__ import annotations

import functools
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._net import (
    IO_TIMEOUT,
    JOIN_TIMEOUT,
    POLL,
    Countdown,
    LineReader,
    Running,
    Tracker,
    connect,
    listener,
)

#: Ctrl-C kills the buggy server's daemon workers in every run, before the
#: clients' second messages, so one run catches it with certainty; each fix must
#: hold over the same 8 runs (each starts a Python process, about 0.2 s). Noise is
#: off: the bug is interpreter exit, not the order of two bytecodes.
STRESS = {"runs": 8, "noise": 0.0, "timeout": 8.0}

#: Messages per client: one before Ctrl-C, the rest after.
MESSAGES = 6
#: Worker threads in the pool (the article has 128); at least one per client, so
#: that every client is in a conversation when Ctrl-C comes.
WORKERS = 8
#: A server process never outlives this, whatever happens to its parent.
CHILD_LIFETIME = 30.0
#: What a server that stopped properly prints last.
CLEAN_EXIT = "exited cleanly:"

SCENARIO = Scenario(
    name="echo_pool",
    title="Echo server with a worker pool: daemon threads vs graceful shutdown",
    article="Multithreading in Python, Creating a worker pool (seed 002)",
    description=__doc__ or "",
    threads=5,  # four clients and the operator
    min_threads=2,
)


# -- buggy: the article's server (runs in the child process) --------------------------


def echo_client(client_sock: socket.socket) -> None:
    """The Cookbook's echo handler: echo until the client closes, then close."""
    while True:
        msg = client_sock.recv(65536)
        if not msg:
            break
        client_sock.sendall(msg)
    client_sock.close()


def echo_worker_daemon(q: queue.Queue[tuple[socket.socket, object]]) -> None:
    while True:
        client_sock, _client_addr = q.get()
        echo_client(client_sock)


def echo_server_daemon(sock: socket.socket, nworkers: int) -> None:
    q: queue.Queue[tuple[socket.socket, object]] = queue.Queue()
    for _ in range(nworkers):
        # BUG: daemon workers are killed wherever they are when the interpreter exits
        t = threading.Thread(target=echo_worker_daemon, args=(q,), daemon=True)
        t.start()
    sock.settimeout(CHILD_LIFETIME)
    while True:  # BUG: only Ctrl-C (KeyboardInterrupt) ends this, and the process with it
        client_sock, client_addr = sock.accept()
        client_sock.settimeout(IO_TIMEOUT)
        q.put((client_sock, client_addr))


# -- fixes: Ctrl-C asks for a stop; workers finish, close, and are joined -------------


def stop_on_ctrl_c() -> threading.Event:
    """An Event that SIGINT sets, instead of a KeyboardInterrupt at a random line."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    return stop


def accept_until(
    sock: socket.socket, stop: threading.Event, hand_over: Callable[[socket.socket], object]
) -> None:
    """Accept clients until ``stop`` is set, looking at it between short timeouts."""
    sock.settimeout(POLL)
    while not stop.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        conn.settimeout(IO_TIMEOUT)
        hand_over(conn)


def echo_session(conn: socket.socket) -> None:
    """Echo until the client closes; the socket is closed however the session ends."""
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


def echo_worker(q: queue.Queue[socket.socket | None]) -> None:
    while (conn := q.get(timeout=CHILD_LIFETIME)) is not None:  # None: the sentinel
        echo_session(conn)


def echo_server_sentinel(sock: socket.socket, nworkers: int) -> None:
    stop = stop_on_ctrl_c()
    q: queue.Queue[socket.socket | None] = queue.Queue()
    workers = [threading.Thread(target=echo_worker, args=(q,)) for _ in range(nworkers)]
    for worker in workers:  # not daemons: each finishes its conversation
        worker.start()
    with sock:
        accept_until(sock, stop, q.put)
    print("draining", flush=True)
    for _ in workers:
        q.put(None)  # after the last client: every client before it is served
    for worker in workers:
        worker.join(JOIN_TIMEOUT)


def echo_server_executor(sock: socket.socket, nworkers: int) -> None:
    stop = stop_on_ctrl_c()
    with sock, ThreadPoolExecutor(max_workers=nworkers) as pool:
        accept_until(sock, stop, lambda conn: pool.submit(echo_session, conn))
        print("draining", flush=True)
    # leaving the with block ran pool.shutdown(wait=True): every echo is finished


# -- the child process ------------------------------------------------------------------

SERVERS: dict[str, Callable[[socket.socket, int], None]] = {
    "buggy": echo_server_daemon,
    "sentinel": echo_server_sentinel,
    "executor": echo_server_executor,
}


def open_sockets() -> int:
    """Sockets this process holds open (Linux), or -1 where that cannot be seen."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return -1
    count = 0
    for name in names:
        try:
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
        except OSError:
            continue
    return count


def _exit_with_parent() -> None:
    """Harness plumbing: a server whose parent is gone (stdin closed) exits at once."""

    def watch() -> None:
        while os.read(0, 1024):
            pass
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    signal.signal(signal.SIGALRM, lambda signum, frame: os._exit(4))
    signal.alarm(int(CHILD_LIFETIME))


def _ctrl_c_as_in_a_terminal() -> None:
    """Harness plumbing: Ctrl-C raises KeyboardInterrupt, whatever the parent did to it.

    A process started with SIGINT ignored (a ``cmd &`` background job of a
    shell script, some CI runners) hands that on to its children, and Python
    then installs no KeyboardInterrupt handler; a blocked SIGINT is handed on too.
    Either way the buggy server would never see the operator's Ctrl-C.
    """
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.default_int_handler)


def child_main(argv: list[str]) -> None:
    """``python -m <catalogue>.echo_pool MODE FD WORKERS``: serve on the inherited socket."""
    mode, fd, nworkers = argv
    _ctrl_c_as_in_a_terminal()  # first: the threads started below inherit the signal mask
    _exit_with_parent()
    SERVERS[mode](socket.socket(fileno=int(fd)), int(nworkers))
    threads = [
        t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
    ]
    print(f"{CLEAN_EXIT} open sockets {open_sockets()}, threads {len(threads)}", flush=True)


# -- the parent: clients, operator, check ---------------------------------------------


def _catalogue_root() -> str:
    """The directory the catalogue package is imported from.

    One level above this file in a checkout (``scenarios``), two when installed
    (``harness.catalogue``). The server child starts there, so ``python -m`` finds
    this very package first (a checkout's ``harness/`` in the parent's working
    directory would otherwise shadow the installed one).
    """
    root = os.path.dirname(os.path.abspath(__file__))
    for _ in (__package__ or "scenarios").split("."):
        root = os.path.dirname(root)
    return root


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = _catalogue_root()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class Run:
    """One server process and the clients that talk to it."""

    def __init__(self, threads: int, mode: str) -> None:
        self.tracker = Tracker()
        self.clients = threads - 1
        server_sock = listener(timeout=None)  # the child sets its own timeouts
        try:
            self.address: tuple[str, int] = server_sock.getsockname()[:2]
            fd = server_sock.fileno()
            workers = max(WORKERS, self.clients)
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"{__package__}.echo_pool", mode, str(fd), str(workers)],
                pass_fds=(fd,),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_child_env(),
                cwd=_catalogue_root(),
            )
        finally:
            server_sock.close()  # the child has its own copy
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.out = LineReader(self.proc.stdout)
        self.err = LineReader(self.proc.stderr)
        self.echoes: list[list[str]] = [[] for _ in range(self.clients)]
        self.errors = [""] * self.clients
        self.in_conversation = Countdown(self.clients)
        self.resume = threading.Event()
        self.clients_done = Countdown(self.clients)
        self.returncode: int | None = None
        self.exit_report = ""
        self.stderr: list[str] = []
        self.running = Running()


def message(client: int, index: int) -> str:
    return f"echo {index} from client {client}"


def exchange(sock: socket.socket, text: str) -> str:
    """Send ``text``, read its echo back."""
    data = text.encode()
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(len(data) - len(got))
        if not chunk:
            raise ConnectionError(f"server closed the connection {len(got)} bytes into an echo")
        got += chunk
    return got.decode(errors="replace")


def client(run: Run, number: int) -> None:
    """One message, then wait for the operator's Ctrl-C, then the rest."""
    waiting = True
    try:
        with run.tracker.socket(connect(run.address)) as sock:
            run.echoes[number].append(exchange(sock, message(number, 0)))
            run.in_conversation.done()
            waiting = False
            if not run.resume.wait(JOIN_TIMEOUT):
                raise TimeoutError("the operator never pressed Ctrl-C")
            for index in range(1, MESSAGES):
                run.echoes[number].append(exchange(sock, message(number, index)))
    except OSError as exc:
        run.errors[number] = f"{type(exc).__name__}: {exc}"
    finally:
        if waiting:
            run.in_conversation.done()
        run.clients_done.done()


def operator(run: Run) -> None:
    """Once every client is mid-conversation: Ctrl-C, then wait for the server to end."""
    try:
        run.in_conversation.wait(JOIN_TIMEOUT)
        run.proc.send_signal(signal.SIGINT)
        # A server that drains says so; one that dies closes its stdout. Either way
        # the server has reacted before the clients say another word.
        run.out.readline(JOIN_TIMEOUT)
    finally:
        run.resume.set()
    run.clients_done.wait(JOIN_TIMEOUT)
    try:
        run.returncode = run.proc.wait(JOIN_TIMEOUT)
    finally:
        lines = run.out.read_rest(0.5)
        run.exit_report = next((x for x in lines if x.startswith(CLEAN_EXIT)), "")
        run.stderr = run.err.read_rest(0.5)


def _actors(run: Run) -> list[Callable[[], None]]:
    clients = [functools.partial(client, run, n) for n in range(run.clients)]
    return [run.running.wrap(a) for a in [*clients, functools.partial(operator, run)]]


def problems(run: Run) -> list[str]:
    found = []
    total = run.clients * MESSAGES
    returned = sum(len(e) for e in run.echoes)
    if returned < total:
        cut = [n for n, e in enumerate(run.echoes) if len(e) < MESSAGES]
        example = next((run.errors[n] for n in cut if run.errors[n]), "")
        found.append(
            f"replies cut off: {returned} of {total} echoes returned, {len(cut)} clients "
            f"cut short ({example})"
        )
    wrong = [
        (n, i)
        for n, e in enumerate(run.echoes)
        for i, text in enumerate(e)
        if text != message(n, i)
    ]
    if wrong:
        found.append(f"{len(wrong)} echoes differ from what was sent")
    if run.returncode is None:
        found.append("the server did not exit after Ctrl-C")
    elif run.returncode != 0:
        last = run.stderr[-1] if run.stderr else "no message"
        found.append(f"the server died with status {run.returncode} ({last})")
    if not run.exit_report:
        found.append("no clean-exit report: sockets and threads left to the OS")
    elif not run.exit_report.endswith("open sockets 0, threads 0"):
        found.append(f"server {run.exit_report}")
    return found


def check(run: Run) -> None:
    found = problems(run)
    assert not found, "; ".join(found)


def observe(run: Run) -> str:
    total = run.clients * MESSAGES
    returned = sum(len(e) for e in run.echoes)
    if run.exit_report:
        ending = run.exit_report.replace(CLEAN_EXIT, "server exited cleanly,")
    elif run.returncode is not None:
        ending = f"server died with status {run.returncode}"
    else:
        ending = "server still running"
    return f"{returned} of {total} echoes returned; {ending}"


def teardown(run: Run) -> None:
    # Release whoever still waits (a run that hung), then end the server process.
    run.in_conversation.cancel()
    run.clients_done.cancel()
    run.resume.set()
    proc = run.proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(JOIN_TIMEOUT)
    run.out.close()
    run.err.close()
    if proc.stdin is not None:
        proc.stdin.close()
    run.tracker.close_all()
    run.running.wait_idle()  # the actors just woken finish before we go on
    stuck = run.tracker.close_all()  # again: whatever they opened on their way out
    if stuck:
        raise RuntimeError(f"threads would not stop: {', '.join(stuck)}")


def _variant(
    name: str, expect: str, summary: str, source: tuple[object, ...], bug_class: str = ""
) -> Variant:
    return Variant(
        name=name,
        summary=summary,
        setup=functools.partial(Run, mode=name),
        actors=_actors,
        check=check,
        observe=observe,
        teardown=teardown,
        expect=expect,
        kinds=("assert",) if expect == CAUGHT else None,
        bug_class=bug_class,
        engines=("stress",),
        settings={"stress": STRESS},
        source=source,
    )


SCENARIO.add(
    _variant(
        "buggy",
        CAUGHT,
        "daemon workers on a Queue, accept forever: Ctrl-C kills conversations mid-echo",
        (echo_server_daemon, echo_worker_daemon, echo_client),
        bug_class="work lost at exit",
    )
)
SCENARIO.add(
    _variant(
        "sentinel",
        HOLDS,
        "Ctrl-C sets an Event; a None per worker after the last client; workers joined",
        (stop_on_ctrl_c, echo_server_sentinel, echo_worker, echo_session),
    )
)
SCENARIO.add(
    _variant(
        "executor",
        HOLDS,
        "Ctrl-C sets an Event; ThreadPoolExecutor's with block waits for every echo",
        (stop_on_ctrl_c, echo_server_executor, accept_until, echo_session),
    )
)

if __name__ == "__main__":
    child_main(sys.argv[1:])
