"""Shared fixtures. Every test is checked for interpreter hygiene afterwards."""

from __future__ import annotations

import sys
import threading

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
