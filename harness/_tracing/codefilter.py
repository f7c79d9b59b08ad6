"""Which code is *under test*: everything but the harness, the standard library
and the test tooling that surrounds a run.

Tracing the standard library would cost time and would put scheduling points
inside ``queue.Queue``'s own (correctly locked) code; the harness's own frames must
never be traced at all.
"""

from __future__ import annotations

import functools
import os
import sysconfig
from collections.abc import Iterable
from types import CodeType

__all__ = ["CodeFilter"]

_HARNESS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Third-party packages that drive a test run rather than being tested by it.
_TOOLING = (
    "_pytest",
    "pytest",
    "pluggy",
    "coverage",
    "hypothesis",
    "rich",
    "xdist",
    "execnet",
    "pytest_timeout",
    "pytest_cov",
    "pytest_benchmark",
    "exceptiongroup",
    "_hypothesis_pytestplugin",
)


@functools.lru_cache(maxsize=1)
def _stdlib_dirs() -> tuple[str, ...]:
    dirs = set()
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(os.path.normcase(os.path.abspath(path)) + os.sep)
    return tuple(sorted(dirs))


#: Verdicts per filter settings (CodeFilter.key), then per file name.
_VERDICTS: dict[tuple[object, ...], dict[str, bool]] = {}


class CodeFilter:
    """Decides, once per file name, whether code is under test.

    ``include`` and ``exclude`` are path prefixes (or file names) that override the
    defaults: an included prefix wins over an excluded one. ``only``, when given,
    replaces the defaults: exactly the code under those prefixes is under test.
    """

    def __init__(
        self,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        only: Iterable[str] | None = None,
    ) -> None:
        self._include = tuple(os.path.normcase(os.path.abspath(p)) for p in include)
        self._exclude = tuple(os.path.normcase(os.path.abspath(p)) for p in exclude)
        self._only = (
            None if only is None else tuple(os.path.normcase(os.path.abspath(p)) for p in only)
        )
        self._stdlib = _stdlib_dirs()
        # Shared by every filter with the same settings: a verdict depends on
        # nothing else, and an exploration builds a new filter per call.
        self._cache: dict[str, bool] = _VERDICTS.setdefault(self.key, {})

    @property
    def key(self) -> tuple[object, ...]:
        """Filters with equal keys judge every file alike."""
        return (self._include, self._exclude, self._only)

    def __call__(self, code: CodeType) -> bool:
        return self.covers_file(code.co_filename)

    def covers_file(self, filename: str) -> bool:
        verdict = self._cache.get(filename)
        if verdict is None:
            verdict = self._cache[filename] = self._judge(filename)
        return verdict

    def _judge(self, filename: str) -> bool:
        if filename.startswith("<"):
            # Pseudo-files: frozen modules, and code that libraries generate
            # with exec (dataclass and namedtuple methods are "<string>").
            # Interactive input and doctests are the user's own code.
            return filename.startswith(("<stdin>", "<doctest"))
        path = os.path.normcase(os.path.abspath(filename))
        if self._only is not None:
            return any(path.startswith(p) for p in self._only)
        if any(path.startswith(p) for p in self._include):
            return True
        if any(path.startswith(p) for p in self._exclude):
            return False
        if path.startswith(os.path.normcase(_HARNESS_DIR) + os.sep):
            return False
        parts = path.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts:
            idx = max(i for i, p in enumerate(parts) if p in ("site-packages", "dist-packages"))
            top = parts[idx + 1] if idx + 1 < len(parts) else ""
            top = top[:-3] if top.endswith(".py") else top
            return top not in _TOOLING
        return not any(path.startswith(d) for d in self._stdlib)
