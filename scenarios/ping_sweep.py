"""Ping ten hosts one after another, then all at once with one thread per host.

From "Python threads - a first example" (Well House Consultants; seed 004). A
host that does not answer costs the whole ping timeout, so a sequential sweep of
mostly silent hosts takes about (silent hosts) x (timeout); with one thread per
host the waits overlap and the sweep takes about one timeout. Each thread keeps
its result on itself, ``status``, which starts at -1 ("not known yet"). Read the
statuses before joining the threads and most are still -1, and the report table
``("No response", "Partial Response", "Alive")`` indexed with -1 says "Alive":
silent hosts are reported alive, because a negative index counts from the end.

The hosts are ten listeners on 127.0.0.1 that the scenario starts: one answers
both pings at once, one answers each after a delay, one answers only the first
ping (a partial response), and seven are silent: their accept queue is full, so
the kernel drops the pinger's handshake and the pinger gives up after a fixed
0.2 s. Every run times both sweeps. The ``join`` fix reads each status only
after joining every thread: all ten statuses are right, and the threaded sweep is
at least four times faster than the sequential one (about eight times, by design:
eight hosts cost a full timeout each when pinged one after another).
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from collections.abc import Callable

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._net import (
    IO_TIMEOUT,
    JOIN_TIMEOUT,
    POLL,
    Running,
    Tracker,
    coarse,
    connect,
    listener,
)

#: Reading before joining gets -1 for every silent host in every run (they cannot
#: answer before their 0.2 s timeout), so one run catches the bug with certainty.
#: A run times both sweeps (about 1.9 s); the fix must hold over the same 3 runs.
#: Noise is off: the bug is the order of reads and joins, not of two bytecodes.
STRESS = {"runs": 3, "noise": 0.0, "timeout": 6.0}

#: How long the pinger waits for a host's answers (``ping -w``).
DEADLINE = 0.2
#: Pings per host (``ping -c2``).
PINGS = 2
#: How long the slow host takes to answer each ping.
SLOW_DELAY = 0.03
#: The fix must make the threaded sweep at least this much faster.
MIN_SPEEDUP = 4.0

HOSTS = ("alive", "slow", "flaky", *["silent"] * 7)
#: The article's report, indexed by the number of answers received.
REPORT = ("No response", "Partial Response", "Alive")
#: What each kind of host must be reported as.
EXPECTED = {"alive": "Alive", "slow": "Alive", "flaky": "Partial Response", "silent": "No response"}

SCENARIO = Scenario(
    name="ping_sweep",
    title="Sequential vs threaded ping sweep; statuses read before join",
    article="Python threads - a first example (seed 004)",
    description=__doc__ or "",
    threads=1,  # one sweep program; more threads run several sweeps side by side
    min_threads=1,
)


# -- the hosts: loopback listeners with a temperament ----------------------------------


class Host:
    """A loopback "host". A ping is a TCP handshake, then ``ping`` -> ``pong``.

    The handshake is answered by the kernel, like an ICMP echo: a listener whose
    accept queue is full drops the SYN, exactly as a switched-off machine ignores
    it, and the pinger's connect times out. A silent host is such a listener,
    its one queue slot taken by a connection made in setup. A flaky host answers
    the first ping, then fills its queue the same way, so the second is dropped.
    """

    def __init__(self, behaviour: str, tracker: Tracker, stop: threading.Event) -> None:
        self.behaviour = behaviour
        self.tracker = tracker
        self.stop = stop
        backlog = 32 if behaviour in ("alive", "slow") else 0  # 0: one slot in the queue
        self.sock = tracker.socket(listener(backlog=backlog, timeout=POLL))
        self.address: tuple[str, int] = self.sock.getsockname()[:2]
        if behaviour == "silent":
            self.fill_queue()
        else:
            tracker.thread(self.serve, name=f"host-{behaviour}").start()

    def fill_queue(self) -> None:
        """Take the accept queue's only slot: from now on every SYN is dropped."""
        self.tracker.socket(connect(self.address))

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by teardown
                return
            conn.settimeout(IO_TIMEOUT)
            self.tracker.socket(conn)
            with conn:
                if not self.answer(conn):
                    return

    def answer(self, conn: socket.socket) -> bool:
        """Answer one ping; False when this host will take no more connections."""
        try:
            if conn.recv(16) != b"ping\n":
                return True
            if self.behaviour == "slow":
                time.sleep(SLOW_DELAY)  # a host far away
            if self.behaviour == "flaky":
                self.fill_queue()  # before the pong: the next ping's SYN finds no room
            conn.sendall(b"pong\n")
        except OSError:
            pass  # the pinger hung up or teardown closed us
        return self.behaviour != "flaky"


def ping(address: tuple[str, int], count: int = PINGS, deadline: float = DEADLINE) -> int:
    """Like ``ping -c count -w deadline``: how many pings were answered.

    Each ping is a new connection. A handshake that does not complete before the
    deadline means no answer; a host that did answer it is then given
    ``IO_TIMEOUT`` to say ``pong``.
    """
    give_up = time.monotonic() + deadline
    received = 0
    for _ in range(count):
        left = give_up - time.monotonic()
        if left <= 0:
            break
        try:
            with connect(address, timeout=left) as sock:
                sock.settimeout(IO_TIMEOUT)
                sock.sendall(b"ping\n")
                reply = b""
                while not reply.endswith(b"\n") and (chunk := sock.recv(16)):
                    reply += chunk
                received += reply == b"pong\n"
        except OSError:  # timed out (SYN dropped), refused or reset: no answer
            pass
    return received


# -- the sweeps ---------------------------------------------------------------------------


def sweep_sequential(addresses: list[tuple[str, int]]) -> list[str]:
    """The article's first program: one host after the other."""
    return [REPORT[ping(address)] for address in addresses]


class PingThread(threading.Thread):
    """The article's ``testit``: pings one host, keeps the result on itself."""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(name=f"ping-{address[1]}")
        self.address = address
        self.status = -1  # not known yet

    def run(self) -> None:
        self.status = ping(self.address)


def sweep_threaded_buggy(addresses: list[tuple[str, int]], tracker: Tracker) -> list[str]:
    pinglist = [tracker.adopt(PingThread(address)) for address in addresses]
    for thread in pinglist:
        thread.start()
    # BUG: read before join: every ping still running says -1, and REPORT[-1] is "Alive"
    report = [REPORT[thread.status] for thread in pinglist]
    for thread in pinglist:
        thread.join(JOIN_TIMEOUT)
    return report


def sweep_threaded(addresses: list[tuple[str, int]], tracker: Tracker) -> list[str]:
    pinglist = [tracker.adopt(PingThread(address)) for address in addresses]
    for thread in pinglist:
        thread.start()
    for thread in pinglist:  # in start order; the ones that finished early just return
        thread.join(JOIN_TIMEOUT)
    if any(thread.is_alive() for thread in pinglist):
        raise TimeoutError("a ping thread outlived its join timeout")
    return [REPORT[thread.status] for thread in pinglist]


# -- the run ------------------------------------------------------------------------------

ThreadedSweep = Callable[[list[tuple[str, int]], Tracker], list[str]]


class Sweep:
    """One program: its own two sets of hosts, both reports, how long each sweep took."""

    def __init__(self, tracker: Tracker, stop: threading.Event) -> None:
        # Two sets: a flaky host's queue stays full after its first sweep.
        self.sequential_hosts = [Host(b, tracker, stop) for b in HOSTS]
        self.threaded_hosts = [Host(b, tracker, stop) for b in HOSTS]
        self.sequential: list[str] = []
        self.threaded: list[str] = []
        self.sequential_seconds = 0.0
        self.threaded_seconds = 0.0

    @property
    def speedup(self) -> float:
        return self.sequential_seconds / max(self.threaded_seconds, 1e-9)


class Run:
    def __init__(self, threads: int) -> None:
        self.tracker = Tracker()
        self.stop = threading.Event()
        self.running = Running()
        try:
            self.sweeps = [Sweep(self.tracker, self.stop) for _ in range(threads)]
        except BaseException:
            self.stop.set()
            self.tracker.close_all()
            raise


def program(run: Run, sweep: Sweep, threaded: ThreadedSweep) -> None:
    """Sweep sequentially, then with threads, timing each."""
    started = time.perf_counter()
    sweep.sequential = sweep_sequential([h.address for h in sweep.sequential_hosts])
    middle = time.perf_counter()
    sweep.threaded = threaded([h.address for h in sweep.threaded_hosts], run.tracker)
    sweep.threaded_seconds = time.perf_counter() - middle
    sweep.sequential_seconds = middle - started


def _actors(threaded: ThreadedSweep) -> Callable[[Run], list[Callable[[], None]]]:
    def actors(run: Run) -> list[Callable[[], None]]:
        return [
            run.running.wrap(functools.partial(program, run, sweep, threaded))
            for sweep in run.sweeps
        ]

    return actors


def wrong_statuses(report: list[str]) -> list[str]:
    wrong = []
    for behaviour, said in zip(HOSTS, report, strict=False):
        if said != EXPECTED[behaviour]:
            wrong.append(f"{behaviour} host reported {said!r}")
    if len(report) != len(HOSTS):
        wrong.append(f"{len(report)} statuses for {len(HOSTS)} hosts")
    return wrong


def check(run: Run) -> None:
    for i, sweep in enumerate(run.sweeps):
        wrong = wrong_statuses(sweep.sequential)
        assert not wrong, f"sweep {i}, sequential: {', '.join(sorted(set(wrong)))}"
        wrong = wrong_statuses(sweep.threaded)
        assert not wrong, (
            f"sweep {i}, threaded: {len(wrong)} of {len(HOSTS)} statuses wrong "
            f"({', '.join(sorted(set(wrong)))})"
        )
        assert sweep.speedup >= MIN_SPEEDUP, (
            f"sweep {i}: threaded sweep only {sweep.speedup:.1f}x faster "
            f"({sweep.sequential_seconds:.2f}s sequential, {sweep.threaded_seconds:.2f}s "
            f"threaded); at least {MIN_SPEEDUP:g}x required"
        )


def observe(run: Run) -> str:
    parts = []
    for sweep in run.sweeps:
        right = len(HOSTS) - len(wrong_statuses(sweep.threaded))
        parts.append(
            f"threaded ~{coarse(sweep.speedup)}x faster ({sweep.sequential_seconds:.1f}s vs "
            f"{sweep.threaded_seconds:.1f}s), {right}/{len(HOSTS)} threaded statuses right"
        )
    return "; ".join(sorted(set(parts)))


def teardown(run: Run) -> None:
    run.stop.set()
    run.tracker.close_all()
    run.running.wait_idle()  # the actors just woken finish before we go on
    stuck = run.tracker.close_all()  # again: whatever they opened on their way out
    if stuck:
        raise RuntimeError(f"threads would not stop: {', '.join(stuck)}")


SCENARIO.add(
    Variant(
        name="buggy",
        summary="threaded sweep reads each status before joining: -1 reads as REPORT[-1]",
        setup=Run,
        actors=_actors(sweep_threaded_buggy),
        check=check,
        observe=observe,
        teardown=teardown,
        expect=CAUGHT,
        bug_class="order violation",
        kinds=("assert",),
        engines=("stress",),
        settings={"stress": STRESS},
        source=(PingThread, sweep_threaded_buggy, sweep_sequential),
    )
)
SCENARIO.add(
    Variant(
        name="join",
        summary="start every ping thread, join them all, then read the statuses",
        setup=Run,
        actors=_actors(sweep_threaded),
        check=check,
        observe=observe,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress",),
        settings={"stress": STRESS},
        source=(PingThread, sweep_threaded, sweep_sequential),
    )
)
