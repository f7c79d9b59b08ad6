"""Results are there only after the threads that compute them have ended: join first.

From "Python threads - a first example" (seed 004), which pings ten hosts from
ten threads and keeps each host's status on its thread object (``-1`` until the
ping answers), and "Basic Threading in Python" (seed 003), where one thread
joins another. Three lessons about waiting:

* ``buggy`` reads the statuses right after starting the threads, before they
  finished. Every status is still ``-1``, and the article's report table, indexed
  by status, turns ``-1`` into its last entry: a host that was never heard from
  is reported "Alive".
* The ``join`` fix joins every thread, then reads. It joins in start order while
  the threads finish in another order (the hosts answer at different speeds);
  that is harmless, because a join on a thread that already ended returns at
  once, and after the last join every result is there.
* ``buggy_join``: the program's main thread, a client, starts a service thread
  and needs its *state* (its loaded configuration); it waits for it with
  ``service.join()``, which waits for the service to *end*. The service keeps
  serving until the client says it is done, so each waits for the other: without
  a timeout the program hangs; with one, the join times out every time and the
  client learns (from ``is_alive()``; ``join()`` itself returns None either way)
  that it waited for nothing. The ``event`` fix has the service set an Event
  once its state is ready, and the client wait on that Event: it waits exactly
  as long as needed.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness import CAUGHT, HOLDS, Scenario, Variant

from ._lifecycle_util import LONG, Tracked, latency_bucket, still_running

#: The ping sweeps. The bug needs no luck: a ping takes milliseconds and the
#: report is read microseconds after the threads start, so every run shows it.
PING_STRESS = {"runs": 30, "timeout": 5.0}
#: The service and its client. ``buggy_join`` fails in every run (it needs no
#: luck) and each of its runs costs ``JOIN_SECONDS``, so the runs are few.
HANDSHAKE_STRESS = {"runs": 10, "timeout": 5.0}

#: How long the article's client waits in ``service.join()``. The service cannot
#: end before the client tells it to, so the join always times out; the timeout
#: only bounds the cost of showing that (a virtual wait when explored).
JOIN_SECONDS = 0.25

#: Explored: one program (stress runs two side by side), whose sweep pings two
#: hosts (``hosts_for``). The programs of a run are independent copies, and every
#: thread added multiplies the schedules that the bounded exhaustive search must
#: run; two hosts already answer in another order than they are joined in.
EXPLORE = {"threads": 1}

SCENARIO = Scenario(
    name="join_order",
    title="Reading results before join; join() used to wait for a state",
    article="Python threads - a first example (seed 004); Basic Threading in Python (seed 003)",
    description=__doc__ or "",
    threads=2,
    min_threads=1,
)

#: The article's report table, indexed by the number of ping replies received.
REPORT = ("No response", "Partial Response", "Alive")


@dataclass(frozen=True)
class Host:
    ip: str
    #: How long its ping takes to settle (a sleep: a virtual one when explored).
    seconds: float
    #: Replies received: an index into ``REPORT``.
    status: int


#: They answer in another order than the one they are pinged in: .61, .63, .60, .62.
HOSTS = (
    Host("192.168.200.60", 0.004, 0),
    Host("192.168.200.61", 0.001, 2),
    Host("192.168.200.62", 0.006, 1),
    Host("192.168.200.63", 0.002, 2),
)


def hosts_for(threads: int) -> tuple[Host, ...]:
    """The hosts each sweep pings: two per program, at most all four of ``HOSTS``.

    Stress runs two programs (every host, twice). A lone program, as explored,
    pings the first two: they too answer in another order (.61, .60) than they
    are pinged and joined in, which is the lesson, and the exhaustive search of
    their interleavings stays small.
    """
    return HOSTS[: min(len(HOSTS), 2 * threads)]


# -- the ping sweep -----------------------------------------------------------------


class Pinger(threading.Thread):
    """One host's ping, its result kept on the thread object (as in the article)."""

    def __init__(self, host: Host, finished: list[str]) -> None:
        super().__init__(name=f"ping {host.ip}")
        self.host = host
        self.ip = host.ip
        self.status = -1  # "not known yet"
        self._finished = finished

    def run(self) -> None:
        time.sleep(self.host.seconds)  # the ping's round trips
        self.status = self.host.status
        self._finished.append(self.ip)


class Sweep:
    """One ping sweep: the report it printed and the order threads finished in."""

    def __init__(self) -> None:
        self.report: list[tuple[str, int, str]] = []  # (ip, status read, text printed)
        self.finished: list[str] = []
        self.joined: list[str] = []
        self.alive_when_read: list[str] = []


class SweepState(Tracked):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.hosts = hosts_for(threads)
        self.sweeps = [Sweep() for _ in range(threads)]


def _start_pingers(state: SweepState, sweep: Sweep) -> list[Pinger]:
    pingers = [Pinger(host, sweep.finished) for host in state.hosts]
    state.track(*pingers)
    for pinger in pingers:
        pinger.start()
    return pingers


def _print_report(sweep: Sweep, pingers: list[Pinger]) -> None:
    sweep.alive_when_read = still_running(pingers)
    for pinger in pingers:
        status = pinger.status
        sweep.report.append((pinger.ip, status, REPORT[status]))


def sweep_without_join(state: SweepState, sweep: Sweep) -> None:
    pingers = _start_pingers(state, sweep)
    _print_report(sweep, pingers)  # the threads are still pinging
    # The article never waits at all; the harness needs every thread gone.
    for pinger in pingers:
        pinger.join(LONG)


def sweep_then_join(state: SweepState, sweep: Sweep) -> None:
    pingers = _start_pingers(state, sweep)
    for pinger in pingers:  # in start order; they finish in another one
        pinger.join(LONG)
        sweep.joined.append(pinger.ip)
    _print_report(sweep, pingers)


def _sweep_problems(hosts: tuple[Host, ...], sweep: Sweep) -> list[str]:
    truth = {host.ip: host.status for host in hosts}
    early = [(ip, text) for ip, status, text in sweep.report if status != truth[ip]]
    problems = []
    if len(sweep.report) != len(hosts):
        problems.append(f"{len(sweep.report)} of {len(hosts)} hosts reported")
    if early:
        shown = ", ".join(f"{ip} {text!r}" for ip, text in early)
        problems.append(f"{len(early)} statuses read as -1, before their ping ended: {shown}")
    if sweep.alive_when_read:
        problems.append(f"{len(sweep.alive_when_read)} pingers still running at the report")
    return problems


def check_sweep(state: SweepState) -> None:
    for i, sweep in enumerate(state.sweeps):
        problems = _sweep_problems(state.hosts, sweep)
        assert not problems, f"sweep {i}: " + "; ".join(problems)


def _last_octets(ips: list[str]) -> str:
    return ",".join(ip.rsplit(".", 1)[-1] for ip in ips) or "-"


def observe_sweep(state: SweepState) -> str:
    truth = {host.ip: host.status for host in state.hosts}
    reported = [row for sweep in state.sweeps for row in sweep.report]
    known = sum(1 for ip, status, _ in reported if status == truth[ip])
    first = state.sweeps[0]
    order = f"finished {_last_octets(first.finished)}"
    if first.joined:
        order += f", joined {_last_octets(first.joined)}"
    total = len(state.hosts) * len(state.sweeps)
    early = len(reported) - known
    return f"{known}/{total} known when read, {early} read as -1 -> 'Alive'; {order}"


# -- a thread that needs another's state ------------------------------------------


class Service(threading.Thread):
    """The service thread: loads its configuration, then serves until its client is done."""

    def __init__(self, link: Link) -> None:
        super().__init__(name="service")
        self.link = link
        self.config: str | None = None
        self.ready = threading.Event()  # set once ``config`` is loaded
        self.done = threading.Event()  # set by the client when it no longer needs us

    def run(self) -> None:
        self.config = "port=2727"
        self.ready.set()
        self.link.served_to_the_end = self.done.wait(LONG)


class Link:
    def __init__(self) -> None:
        self.config_seen: str | None = None
        self.join_timed_out = False
        #: Seconds the client waited before it could use the config.
        self.waited: float | None = None
        self.served_to_the_end: bool | None = None


class LinkState(Tracked):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self.links = [Link() for _ in range(threads)]


def _start_service(state: LinkState, link: Link) -> Service:
    service = Service(link)
    state.wake.append(service.done)  # teardown's way to end a hung service
    state.track(service)
    service.start()
    return service


def client_joins_service(state: LinkState, link: Link) -> None:
    """The client, as in the article: waits for the service thread with ``join()``."""
    service = _start_service(state, link)
    began = time.monotonic()
    service.join(JOIN_SECONDS)  # waits for the service to END
    # join() returns None whether or not the thread ended: ask is_alive().
    link.join_timed_out = service.is_alive()
    link.config_seen = service.config
    link.waited = time.monotonic() - began
    service.done.set()
    service.join(LONG)


def client_waits_for_ready(state: LinkState, link: Link) -> None:
    """The client, fixed: waits for the service's state, not for its end."""
    service = _start_service(state, link)
    began = time.monotonic()
    service.ready.wait(LONG)  # the config is loaded: that is all we need
    link.config_seen = service.config
    link.waited = time.monotonic() - began
    service.done.set()
    service.join(LONG)


def check_link(state: LinkState) -> None:
    for i, link in enumerate(state.links):
        waited = f"{link.waited:.3f}s" if link.waited is not None else "?"
        assert not link.join_timed_out, (
            f"pair {i}: the client waited {waited} in service.join({JOIN_SECONDS:g}) and it "
            "timed out: the service serves until the client is done, so it cannot end first"
        )
        assert link.config_seen == "port=2727", f"pair {i}: client saw config {link.config_seen!r}"
        assert link.served_to_the_end, f"pair {i}: the service was never told the client was done"


def observe_link(state: LinkState) -> str:
    timed_out = sum(1 for link in state.links if link.join_timed_out)
    seen = sum(1 for link in state.links if link.config_seen is not None)
    waits = [link.waited for link in state.links if link.waited is not None]
    wait = latency_bucket(max(waits)) if waits else "?"
    return (
        f"{seen}/{len(state.links)} clients got the config, waited {wait}; "
        f"{timed_out} joins timed out"
    )


# -- the catalogue entries --------------------------------------------------------


def teardown(state: Tracked) -> None:
    state.release()


def _each(body: Callable[..., None], attr: str) -> Callable[[Tracked], list[Callable[[], None]]]:
    def actors(state: Tracked) -> list[Callable[[], None]]:
        return [functools.partial(body, state, item) for item in getattr(state, attr)]

    return actors


SCENARIO.add(
    Variant(
        name="buggy",
        summary="start the pingers and read their statuses at once: still -1, reported 'Alive'",
        setup=SweepState,
        actors=_each(sweep_without_join, "sweeps"),
        check=check_sweep,
        observe=observe_sweep,
        teardown=teardown,
        expect=CAUGHT,
        bug_class="order violation",
        kinds=("assert",),
        engines=("stress", "explore"),
        settings={"stress": PING_STRESS, "explore": EXPLORE},
        source=(Pinger, sweep_without_join),
    )
)
SCENARIO.add(
    Variant(
        name="join",
        summary="join every pinger (in start order, whatever order they end in), then read",
        setup=SweepState,
        actors=_each(sweep_then_join, "sweeps"),
        check=check_sweep,
        observe=observe_sweep,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress", "explore"),
        settings={"stress": PING_STRESS, "explore": EXPLORE},
        source=(sweep_then_join,),
    )
)
SCENARIO.add(
    Variant(
        name="buggy_join",
        summary="the client join()s the service for its state; the service ends only when "
        "the client is done",
        setup=LinkState,
        actors=_each(client_joins_service, "links"),
        check=check_link,
        observe=observe_link,
        teardown=teardown,
        expect=CAUGHT,
        bug_class="deadlock",
        kinds=("assert", "hang", "deadlock"),
        engines=("stress", "explore"),
        settings={"stress": HANDSHAKE_STRESS, "explore": EXPLORE},
        source=(Service, client_joins_service),
    )
)
SCENARIO.add(
    Variant(
        name="event",
        summary="the service sets a ready Event once its state is loaded; the client waits on it",
        setup=LinkState,
        actors=_each(client_waits_for_ready, "links"),
        check=check_link,
        observe=observe_link,
        teardown=teardown,
        expect=HOLDS,
        engines=("stress", "explore"),
        settings={"stress": HANDSHAKE_STRESS, "explore": EXPLORE},
        source=(Service, client_waits_for_ready),
    )
)
