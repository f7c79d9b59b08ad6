"""The pool's tests, run by thread-harness's pytest plugin (installed with the package).

``@pytest.mark.explore`` runs a test body under the controlled scheduler: one
thread at a time, the scheduler choosing who runs at every shared access and
lock operation, for ``budget`` different interleavings. ``@pytest.mark.stress``
runs the body in many real threads at once, with noise injection.
"""

from __future__ import annotations

import random
import threading

import pytest
from connpool import ConnectionPool


class Server:
    """A stand-in for a database server: counts the connections opened to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def connect(self) -> Connection:
        with self._lock:
            self.open += 1
        return Connection()


class Connection:
    def query(self, sql: str) -> int:
        return 1


def use(pool: ConnectionPool) -> None:
    connection = pool.acquire(timeout=5.0)
    try:
        connection.query("select 1")
    finally:
        pool.release(connection)


@pytest.mark.explore(budget=300)
def test_two_threads_share_one_connection():
    server = Server()
    pool = ConnectionPool(server.connect, size=1)
    threads = [threading.Thread(target=use, args=(pool,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.open <= 1, f"a pool of size 1 opened {server.open} connections"


class Rig:
    """What the threads of one stress run share: a server, and a pool of 2 on it."""

    def __init__(self) -> None:
        self.server = Server()
        self.pool = ConnectionPool(self.server.connect, size=2)


def at_most_two_open(rig: Rig) -> None:
    opened = rig.server.open
    assert opened <= 2, f"a pool of size 2 opened {opened} connections"


@pytest.mark.stress(threads=8, runs=30, noise=0.1, setup=Rig, check=at_most_two_open)
def test_eight_threads_share_two_connections(harness_state, harness_seed, harness_thread_index):
    # harness_state is this run's Rig, shared by its 8 threads; a per-thread
    # random workload, reproducible from the seed the harness reports.
    rng = random.Random(harness_seed * 100 + harness_thread_index)
    for _ in range(rng.randint(3, 10)):
        use(harness_state.pool)
