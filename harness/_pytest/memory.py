"""Failures remembered between pytest sessions, in pytest's cache directory.

A failing ``--harness-explore`` schedule (its replay token) and a failing
``--harness-threads`` seed are kept per test, as Hypothesis keeps its example
database, so a race found once fails at once next time until it is fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness._pytest.shards import base_nodeid

__all__ = ["Memory"]


class Memory:
    """Failures remembered between sessions in pytest's cache directory, as Hypothesis
    keeps its example database: the replay token of a failing exploration, the seed
    of a failing threaded run. A remembered failure is tried first next time; once
    it passes, the entry is dropped."""

    def __init__(self, config: pytest.Config) -> None:
        self.cache = getattr(config, "cache", None)

    def _key(self, kind: str, item: pytest.Item) -> str:
        return f"harness/{kind}/{base_nodeid(item)}"

    def get(self, kind: str, item: pytest.Item) -> Any:
        if self.cache is None:
            return None
        return self.cache.get(self._key(kind, item), None)

    def put(self, kind: str, item: pytest.Item, value: Any) -> None:
        if self.cache is not None:
            self.cache.set(self._key(kind, item), value)

    def drop(self, kind: str, item: pytest.Item) -> None:
        """Forget the entry: its file goes (pytest's cache has no delete, so where its
        folder is not known the value becomes null, which ``get`` reads as absent)."""
        if self.cache is None or self.get(kind, item) is None:
            return
        folder = getattr(self.cache, "_cachedir", None)
        path = Path(folder, "v", self._key(kind, item)) if folder is not None else None
        if path is not None and path.is_file():
            path.unlink()
        else:
            self.cache.set(self._key(kind, item), None)
