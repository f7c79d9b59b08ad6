"""Code run by explore and stress tests is still measured by coverage.py.

On CPython <= 3.11 the harness's settrace hook chains coverage's tracer (also in
threads the test body starts); on 3.12+ the harness uses sys.monitoring next to
coverage's own tracer (settrace or sys.monitoring: both cores are tried).
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import coverage
import pytest

pytest_plugins = ["pytester"]

# A free-threaded build has no C tracer for coverage (its CTracer needs the GIL):
# there the settrace core is coverage's Python tracer.
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
CORES = [
    pytest.param(
        "ctrace",
        marks=pytest.mark.skipif(
            FREE_THREADED,
            reason="coverage's C tracer does not exist on a free-threaded build (Py_GIL_DISABLED)",
        ),
    ),
    *(["pytrace"] if FREE_THREADED else []),
    *(["sysmon"] if sys.version_info >= (3, 12) else []),
]


def _lines_of(source: str, *needles: str) -> set[int]:
    return {
        number
        for number, line in enumerate(source.splitlines(), start=1)
        if any(needle in line for needle in needles)
    }


@pytest.mark.timeout(180)
@pytest.mark.parametrize("core", CORES)
def test_coverage_run_counts_explored_code(project, monkeypatch, core):
    monkeypatch.setenv("COVERAGE_CORE", core)
    project.makefile(".coveragerc", "[run]\ninclude = mylib.py\n")
    run = project.run(
        sys.executable,
        "-m",
        "coverage",
        "run",
        "-m",
        "pytest",
        "test_mylib.py::test_counter",
        "test_mylib.py::test_locked_counter",
    )
    out = run.stdout.str()
    # The race is still found while coverage traces the same threads...
    assert "explore: [exception] AssertionError: lost an update" in out, out
    assert "1 failed, 1 passed" in out, out
    # ... and the lines the explored threads ran are counted.
    data = coverage.CoverageData(basename=str(project.path / ".coverage"))
    data.read()
    measured = [name for name in data.measured_files() if Path(name).name == "mylib.py"]
    assert measured, f"mylib.py was not measured: {sorted(data.measured_files())}"
    executed = set(data.lines(measured[0]) or ())
    source = (project.path / "mylib.py").read_text()
    increments = _lines_of(source, "self.value = self.value + 1")
    assert len(increments) == 2 and increments <= executed, (
        f"explored lines {sorted(increments)} not all counted; counted: {sorted(executed)}"
    )


@pytest.mark.timeout(180)
def test_pytest_cov_counts_explored_and_stressed_code(project):
    result = project.runpytest_subprocess("--cov=mylib", "--cov-report=term-missing")
    result.assert_outcomes(failed=2, passed=2)
    result.stdout.fnmatch_lines(["mylib.py * 100%*"])
