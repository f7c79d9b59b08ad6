"""pytest plugin: run a test's body under the harness's engines.

Registered through the ``pytest11`` entry point, so installing the package is
enough. Importing this module is cheap: the engines load on first use.

``@pytest.mark.stress(threads=4, runs=20, noise=0.001, seed=0)`` runs the test
body in ``threads`` threads at once, released together, ``runs`` times, with
noise injection; every distinct failure is reported with how often it occurred,
not just the first thread's.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

STRESS_DEFAULTS: dict[str, Any] = {
    "threads": 4,
    "runs": 20,
    "noise": 0.001,
    "seed": 0,
    "timeout": 60.0,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stress(threads=4, runs=20, noise=0.001, seed=0, timeout=60): run the test body "
        "in THREADS threads released together, RUNS times, with noise injection",
    )


def _options(marker: pytest.Mark, defaults: dict[str, Any]) -> dict[str, Any]:
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{marker.name} takes keyword arguments only")
    unknown = set(marker.kwargs) - set(defaults)
    if unknown:
        known = ", ".join(sorted(defaults))
        raise pytest.UsageError(
            f"@pytest.mark.{marker.name}: unknown argument(s) {', '.join(sorted(unknown))} "
            f"(known: {known})"
        )
    return {**defaults, **marker.kwargs}


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    marker = pyfuncitem.get_closest_marker("stress")
    if marker is None:
        return None
    import harness

    options = _options(marker, STRESS_DEFAULTS)
    names = pyfuncitem._fixtureinfo.argnames
    body = functools.partial(pyfuncitem.obj, **{n: pyfuncitem.funcargs[n] for n in names})
    threads = options.pop("threads")
    try:
        result = harness.stress(
            lambda: None,
            lambda _state: [body],
            threads=threads,
            target=pyfuncitem.nodeid,
            **options,
        )
    except harness.HarnessError as exc:
        raise pytest.UsageError(f"{pyfuncitem.nodeid}: @pytest.mark.stress: {exc}") from None
    if result.failed:
        pytest.fail(str(result), pytrace=False)
    return True
