"""Throwaway projects for the plugin's tests, as a new user would write them.

Each test runs pytest in a subprocess (``pytester.runpytest_subprocess``) in a fresh
folder, with the plugin loaded through its entry point, as after ``pip install``.
"""

from __future__ import annotations

import os
import re

import pytest

#: A small threaded library: racy classes and their locked twins.
LIBRARY = """
import threading


class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value = self.value + 1


class LockedCounter(Counter):
    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def increment(self):
        with self._lock:
            self.value = self.value + 1


class IdGenerator:
    def __init__(self):
        self._last = 0

    def next_id(self):
        self._last += 1
        return self._last


class LockedIdGenerator(IdGenerator):
    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def next_id(self):
        with self._lock:
            return super().next_id()
"""

#: Its tests: each race and its locked twin, with the markers.
TESTS = """
import threading

import pytest
from mylib import Counter, IdGenerator, LockedCounter, LockedIdGenerator


def bump_in_two_threads(counter):
    threads = [threading.Thread(target=counter.increment) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counter.value


@pytest.mark.explore
def test_counter():
    assert bump_in_two_threads(Counter()) == 2, "lost an update"


@pytest.mark.explore
def test_locked_counter():
    assert bump_in_two_threads(LockedCounter()) == 2, "lost an update"


class Registry:
    def __init__(self):
        self.seen = set()
        self.lock = threading.Lock()

    def claim(self, new):
        with self.lock:
            assert new not in self.seen, "an id was handed out twice"
            self.seen.add(new)


@pytest.fixture
def registry():
    return Registry()


@pytest.mark.stress(threads=4, runs=20, noise=0.01)
def test_ids(registry):
    generator = GENERATORS["racy"]
    for _ in range(200):
        registry.claim(generator.next_id())


@pytest.mark.stress(threads=4, runs=20, noise=0.01)
def test_locked_ids(registry):
    generator = GENERATORS["locked"]
    for _ in range(200):
        registry.claim(generator.next_id())


GENERATORS = {"racy": IdGenerator(), "locked": LockedIdGenerator()}
"""

#: Environment variables that would change what the subprocess does.
_LEAKY = re.compile(r"^(HARNESS_|PYTEST_ADDOPTS$|PYTEST_XDIST_|PYTEST_PLUGINS$|COVERAGE_)")


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A fresh folder holding ``mylib.py`` and ``test_mylib.py``, with a clean environment."""
    for name in list(os.environ):
        if _LEAKY.match(name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "120")
    # Hypothesis's plugin alone doubles the start-up time of every run.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest -p no:cacheprovider")
    pytester.makepyfile(mylib=LIBRARY, test_mylib=TESTS)
    return pytester


def _replay_token(output: str) -> str:
    found = re.search(r"replay with:  pytest --harness-replay=(hx1_[A-Za-z0-9_-]+) ", output)
    assert found, f"no replay command in the output:\n{output}"
    return found.group(1)


@pytest.fixture
def replay_token():
    """Finds the token of the first ``replay with: pytest --harness-replay=TOKEN`` line."""
    return _replay_token
