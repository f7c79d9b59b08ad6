"""Shared fixtures. Every test is checked for interpreter hygiene afterwards."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

import pytest


@pytest.fixture(autouse=True)
def interpreter_hygiene():
    """Whatever a test does, the harness must leave the interpreter as it found it."""
    interval = sys.getswitchinterval()
    trace = sys.gettrace()
    excepthook = threading.excepthook
    yield
    assert sys.getswitchinterval() == interval, "switch interval not restored"
    assert sys.gettrace() is trace, "trace function left installed"
    assert threading.excepthook is excepthook, "threading.excepthook not restored"
    if sys.version_info >= (3, 12):
        for tool in range(6):
            name = sys.monitoring.get_tool(tool)
            assert name != "thread-harness", f"sys.monitoring tool {tool} left registered"


def _open_fds() -> dict[int, str]:
    fds = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # not Linux: nothing to compare
        return fds
    for name in names:
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed while listing (the listing's own descriptor)
    return fds


@pytest.fixture
def no_leaks():
    """Fail the test if it leaves threads or file descriptors (sockets) behind.

    Threads get a short grace join first: a thread that is finishing is not a leak.
    """
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    yield
    deadline = time.monotonic() + 2.0
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(max(deadline - time.monotonic(), 0.0))
    leftover = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    gc.collect()
    new_fds = {fd: target for fd, target in _open_fds().items() if fds_before.get(fd) != target}
    assert not leftover, f"threads left running: {leftover}"
    assert not new_fds, f"file descriptors left open: {new_fds}"
