"""Drivers for ``bench.real``: one module per real library with a known, fixed threading bug.

Each driver module declares where its bug is documented and which two releases
to pin, and drives the library through its public API only:

* ``PACKAGE``: the name on PyPI; ``BUGGY`` and ``FIXED``: the two releases, exact.
* ``ISSUE``: the public issue, pull request or changelog entry the bug comes from.
* ``KIND``: the failure kind explore must report on the buggy release
  (one of :data:`harness.FAILURE_KINDS`).
* ``BUG``: one line saying what goes wrong, for the table.
* ``THREADS``: how many callables ``actors`` returns (frontrun wants its workers
  before any state exists, and calling ``setup`` early would import the library
  before frontrun patches the clock and ``threading``).
* ``setup()``, ``actors(state)``, ``check(state)``: the program, in the form
  ``harness.explore`` takes. ``setup`` imports the library, so that the release
  on ``sys.path`` (put there by ``bench.real``) is the one driven.

Optional: ``EXPLORE`` (keyword arguments for ``harness.explore``, such as a
``timeout``), ``FRONTRUN`` (keyword arguments for ``frontrun.explore``) and
``NOTE`` (a caveat for the table).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["DRIVERS", "REQUIRED", "load"]

#: The driver modules, in the order the table lists them.
DRIVERS: tuple[str, ...] = (
    "six_moves",
    "fasteners_rwlock",
    "ratelimit_retry",
    "tqdm_instances",
    "pyparsing_packrat",
    "filelock_singleton",
    "prometheus_timer",
    "lazy_loader_load",
)

#: What every driver module must define.
REQUIRED: tuple[str, ...] = (
    "PACKAGE",
    "BUGGY",
    "FIXED",
    "ISSUE",
    "KIND",
    "BUG",
    "THREADS",
    "setup",
    "actors",
    "check",
)


def load(name: str) -> ModuleType:
    """The driver module ``name`` (from :data:`DRIVERS`, or any dotted module path)."""
    module = importlib.import_module(name if "." in name else f"{__name__}.{name}")
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise TypeError(f"driver {module.__name__} lacks {', '.join(missing)}")
    return module
