"""Layered, immutable settings of the pytest plugin: command line, environment, ini file.

Each :class:`Setting` can be given three ways, and the first one found wins:

1. on the command line (``--harness-seed=7``);
2. in the environment (``HARNESS_SEED=7``);
3. in the ini file (``harness_seed = 7`` under ``[pytest]``/``[tool:pytest]``).

:func:`resolve` reads the three layers and returns one frozen
:class:`HarnessConfig`, which records where each value came from. A value that
does not parse is a :class:`~harness.errors.UsageError` whose message names the
layer it came from, so a stray ``HARNESS_SEED=abc`` in a CI environment is found
at once. Nothing here imports pytest or the engines: the module is cheap to
import and usable by any front end.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from harness.errors import UsageError

__all__ = [
    "AUTO",
    "SETTINGS",
    "HarnessConfig",
    "Setting",
    "resolve",
    "setting",
]

#: The value of ``shards`` that means "one shard per pytest-xdist worker".
AUTO = "auto"

#: Largest accepted budget scale: a typo like ``1e9`` should not run for a year.
MAX_BUDGET_SCALE = 10_000.0
#: Most threads ``--harness-threads`` runs each test body in.
MAX_TEST_THREADS = 256
#: Most shards one explore test may be split into.
MAX_SHARDS = 1024

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _parse_scale(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"expected a positive number, got {text!r}")
    if value > MAX_BUDGET_SCALE:
        raise ValueError(f"expected at most {MAX_BUDGET_SCALE:g}, got {text!r}")
    return value


def _parse_token(text: str) -> str:
    # Imported here: decoding is cheap, but the package it lives in is not.
    from harness.explore.token import decode

    token = text.strip()
    decode(token)  # raises TokenError (a UsageError) with what is wrong
    return token


def _parse_threads(text: str) -> int | str:
    if text.strip().lower() == AUTO:
        return AUTO
    value = _parse_int(text)
    if not 1 <= value <= MAX_TEST_THREADS:
        raise ValueError(f"expected 'auto' or 1 to {MAX_TEST_THREADS}, got {text!r}")
    return value


def _parse_positive(text: str) -> int:
    value = _parse_int(text)
    if value < 1:
        raise ValueError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _parse_noise(text: str) -> float | str:
    if text.strip() == "auto":
        return "auto"
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"expected a probability or 'auto', got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"expected a probability from 0 to 1, got {text!r}")
    return value


def _parse_path(text: str) -> str:
    path = text.strip()
    if not path:
        raise ValueError("expected a file name, got an empty string")
    return path


def _parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"expected one of 1/0, true/false, yes/no, on/off, got {text!r}")


def _parse_shards(text: str) -> int | str:
    word = text.strip().lower()
    if word == AUTO:
        return AUTO
    try:
        value = int(word)
    except ValueError:
        raise ValueError(f"expected 'auto' or a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_SHARDS:
        raise ValueError(f"expected 'auto' or a number in 1..{MAX_SHARDS}, got {text!r}")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting and the three names it goes by."""

    #: Attribute of :class:`HarnessConfig`.
    name: str
    #: Command-line flag.
    flag: str
    #: Environment variable.
    env: str
    #: Ini-file key.
    ini: str
    #: Text to value; raises ValueError (or UsageError) with what is wrong.
    parse: Callable[[str], Any]
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "seed",
        "--harness-seed",
        "HARNESS_SEED",
        "harness_seed",
        _parse_int,
        0,
        "seed of the stress and explore tests whose marker sets none (default 0)",
    ),
    Setting(
        "budget_scale",
        "--harness-budget-scale",
        "HARNESS_BUDGET_SCALE",
        "harness_budget_scale",
        _parse_scale,
        1.0,
        "multiply every explore budget and stress run count by this factor (default 1)",
    ),
    Setting(
        "replay",
        "--harness-replay",
        "HARNESS_REPLAY",
        "harness_replay",
        _parse_token,
        None,
        "replay this token in the explore test it was recorded on, instead of exploring",
    ),
    Setting(
        "report",
        "--harness-report",
        "HARNESS_REPORT",
        "harness_report",
        _parse_path,
        None,
        "write what every stress and explore test observed to this JSON file",
    ),
    Setting(
        "lockorder",
        "--harness-lockorder",
        "HARNESS_LOCKORDER",
        "harness_lockorder",
        _parse_bool,
        False,
        "watch every lock of the session and report locks taken in inconsistent orders",
    ),
    Setting(
        "races",
        "--harness-races",
        "HARNESS_RACES",
        "harness_races",
        _parse_bool,
        False,
        "run the happens-before race detector in explore tests whose marker sets no races=",
    ),
    Setting(
        "shards",
        "--harness-shards",
        "HARNESS_SHARDS",
        "harness_shards",
        _parse_shards,
        AUTO,
        "split each explore test into this many shards by seed ('auto': one per xdist worker)",
    ),
    Setting(
        "threads",
        "--harness-threads",
        "HARNESS_THREADS",
        "harness_threads",
        _parse_threads,
        None,
        "run every unmarked test body in this many threads released together, with noise "
        "('auto': one per CPU)",
    ),
    Setting(
        "iterations",
        "--harness-iterations",
        "HARNESS_ITERATIONS",
        "harness_iterations",
        _parse_positive,
        1,
        "with --harness-threads: release the threads this many times per test (default 1)",
    ),
    Setting(
        "noise",
        "--harness-noise",
        "HARNESS_NOISE",
        "harness_noise",
        _parse_noise,
        None,
        "with --harness-threads: probability of a forced thread switch at each read or "
        "write of shared state, or 'auto' (the default: high at a thread's first "
        "points, falling to 0.001 with a GIL, 0.05 free-threaded; 0: off)",
    ),
    Setting(
        "explore",
        "--harness-explore",
        "HARNESS_EXPLORE",
        "harness_explore",
        _parse_positive,
        None,
        "explore every unmarked test that starts threads for this many schedules",
    ),
    Setting(
        "install",
        "--harness-install",
        "HARNESS_INSTALL",
        "harness_install",
        _parse_bool,
        None,
        "install the instrumented threading primitives before conftest.py and the test "
        "modules are imported, so the locks a library makes at import are managed "
        "(default: on with --harness-explore; HARNESS_INSTALL=0 turns it off)",
    ),
    Setting(
        "gil_ignore",
        "--harness-gil-ignore",
        "HARNESS_GIL_IGNORE",
        "harness_gil_ignore",
        _parse_bool,
        False,
        "on a free-threaded build, do not fail the session when an import re-enabled the GIL",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class HarnessConfig:
    """The plugin's settings for one pytest run. Frozen: build a new one to change it."""

    seed: int = 0
    budget_scale: float = 1.0
    replay: str | None = None
    report: str | None = None
    lockorder: bool = False
    races: bool = False
    shards: int | str = AUTO
    threads: int | str | None = None
    iterations: int = 1
    noise: float | str | None = None
    explore: int | None = None
    install: bool | None = None
    gil_ignore: bool = False
    #: Where each value came from: "default", "command line (--harness-seed)",
    #: "environment (HARNESS_SEED)" or "ini file (harness_seed in setup.cfg)".
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def source(self, name: str) -> str:
        """Where setting ``name`` came from."""
        return self.sources.get(name, "default")

    def is_set(self, name: str) -> bool:
        """Whether setting ``name`` was given rather than defaulted."""
        return self.source(name) != "default"

    def thread_count(self) -> int | None:
        """``--harness-threads`` as a number ('auto': the CPUs this process may use)."""
        if self.threads == AUTO:
            cpus = os.process_cpu_count() if hasattr(os, "process_cpu_count") else None
            return max(2, cpus or os.cpu_count() or 2)
        return None if self.threads is None else int(self.threads)

    def installs_early(self) -> bool:
        """Whether :func:`harness.install` runs before the conftests are imported:
        as asked, else when every threaded test is explored (``--harness-explore``)."""
        return self.install if self.install is not None else self.explore is not None

    def scaled(self, count: int) -> int:
        """``count`` runs or schedules times the budget scale; never below 1."""
        return max(1, math.ceil(count * self.budget_scale - 1e-9))

    def describe(self) -> str:
        """One line for the pytest header: the settings that differ from the defaults."""
        parts = []
        for setting in SETTINGS:
            if self.is_set(setting.name):
                value = getattr(self, setting.name)
                if setting.name == "replay":
                    value = f"{value[:16]}..."
                parts.append(f"{setting.name}={value} ({self.source(setting.name)})")
        return ", ".join(parts) if parts else "defaults"


def resolve(
    command_line: Mapping[str, str | None],
    environ: Mapping[str, str],
    ini: Mapping[str, str],
    ini_file: str | None = None,
) -> HarnessConfig:
    """Build the configuration from its three layers.

    ``command_line`` maps setting names to the text given on the command line
    (None: not given); ``environ`` is the environment (``os.environ``); ``ini``
    maps ini keys to their text (missing or empty: not given); ``ini_file``
    names the ini file in error messages. Raises :class:`UsageError` naming the
    layer of the first value that does not parse.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    ini_where = os.path.basename(ini_file) if ini_file else "the ini file"
    for setting in SETTINGS:
        given = command_line.get(setting.name)
        where = f"command line ({setting.flag})"
        if given is None:
            given = environ.get(setting.env) or None
            where = f"environment ({setting.env})"
        if given is None:
            given = ini.get(setting.ini) or None
            where = f"ini file ({setting.ini} in {ini_where})"
        if given is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(given)
        except (ValueError, UsageError) as exc:
            raise UsageError(f"bad value for {setting.name} from the {where}: {exc}") from None
        sources[setting.name] = where
    return HarnessConfig(**values, sources=MappingProxyType(sources))


def setting(name: str) -> Setting:
    """The :class:`Setting` called ``name``."""
    return _BY_NAME[name]
