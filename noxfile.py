"""Sessions: `nox -s tests`, `nox -s stress`, `nox -s lint`, `nox -s typecheck`, `nox -s report`,
`nox -s bench`, `nox -s soak`.

Extra arguments after `--` pass through to the tool each session runs.
"""

from __future__ import annotations

import shutil

import nox

# "3.13t" is the free-threaded 3.13 (python3.13t; nox >= 2024.10 knows the suffix).
# CI builds it with .ci/build-freethreaded and puts it on PATH; elsewhere it is
# skipped like any other missing interpreter.
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.13t"]

nox.options.sessions = ["tests", "stress", "lint", "typecheck"]
# Test on every CPython 3.10-3.13 that is installed; skip the others.
nox.options.error_on_missing_interpreters = False


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite with coverage on each CPython 3.10-3.13 (and 3.13t) found."""
    session.install("-e", ".[test]", *_binary_only(session))
    args = list(session.posargs)
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args):
        # One xdist worker per core: the suite is mostly many small, independent runs.
        args = ["-n", "auto", *args]
    env = {}
    if str(session.python).endswith("t"):
        # A free-threaded build has no coverage C tracer; its Python tracer made
        # the 3.13t leg 19 minutes (and timed out a 1,000-call test at 180 s).
        # coverage's sys.monitoring core measures the same lines at C speed there:
        # 10 minutes for the whole suite.
        env["COVERAGE_CORE"] = "sysmon"
    session.run("pytest", "--cov", "--cov-report=term", *args, env=env)


def _binary_only(session: nox.Session) -> list[str]:
    """pip options for a free-threaded interpreter.

    The newest hypothesis has no cp313t wheel and builds a Rust extension from
    source, which needs the network; the newest release with a wheel that installs
    there is as good for the tests.
    """
    return ["--only-binary", "hypothesis"] if str(session.python).endswith("t") else []


@nox.session
def stress(session: nox.Session) -> None:
    """Run the whole catalogue: every bug must be caught, every fix must hold."""
    session.install(".")
    session.run("harness", "stress", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and common mistakes with ruff."""
    session.install("ruff==0.17.6")  # pinned: new releases format more (Markdown code blocks)
    session.run("ruff", "check", ".", *session.posargs)
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Check types with mypy."""
    session.install("-e", ".[test]", "mypy")
    session.run("mypy", *session.posargs)


@nox.session(python=["3.11", "3.12", "3.13t"])
def bench(session: nox.Session) -> None:
    """Benchmark against frontrun and plain stress (not a default session; `-- --quick`)."""
    if str(session.python).endswith("t"):
        # frontrun has no free-threaded wheel (its Rust extension needs the network).
        session.install("-e", ".", "pytest-run-parallel==0.10.0")
    else:
        session.install("-e", ".", "frontrun==0.7.0", "pytest-run-parallel==0.10.0", "py-spy")
    args = list(session.posargs)
    if session.python != "3.11" and not any(a.startswith("--sections") for a in args):
        # The other sections do not depend on the tracing backend; running them
        # once keeps the whole session well under an hour. On 3.13t the cost
        # section is the free-threaded column (py-spy's profile is not needed there).
        sections = "cost" if str(session.python).endswith("t") else "cost,profile"
        args = ["--sections", sections, *args]
    session.run("python", "-m", "bench", *args)


@nox.session(python="3.11")
def soak(session: nox.Session) -> None:
    """Soak (not a default session): 10,000 stress runs of every fix, RSS over explore calls."""
    session.install("-e", ".")
    session.run("python", "-m", "harness.soak", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Write sample HTML reports and screenshot them in headless Chromium (build/report)."""
    if not shutil.which("chromium"):
        session.error("Chromium not found: install it with `apt-get install -y chromium`")
    session.install("-e", ".")
    session.run("python", "-m", "harness.report.browser", "--out", "build/report", *session.posargs)
