"""pytest plugin: gate a project's own threaded code with the harness's engines.

Registered through the ``pytest11`` entry point, so installing the package is
enough and plain ``pytest`` runs the marked tests (``-p harness.pytest_plugin``
names this same module). Importing it is cheap, and
``tests/plugin/test_pytest_plugin.py`` checks so: the engines, the instrumented
primitives and the detectors load on first use. This module holds the hooks only,
in the order pytest calls them; the work is in :mod:`harness._pytest`
(``markers``, ``run``, ``shards``, ``lockwatch``, ``config``). It stays near 500
lines because a hook that reads the session's state (replay selection, the JSON
report, the terminal summary) is clearer next to the hooks that fill it.

Markers (their full argument lists: ``pytest --markers``):

``@pytest.mark.stress(threads=4, runs=20, noise=0.001, ...)``
    The test body runs in ``threads`` real threads released together, ``runs``
    times, with noise injection. Every distinct failure is reported with how
    often it occurred, not just the first thread's. The argument
    ``harness_thread_index`` tells a body which thread it is.
``@pytest.mark.explore(budget=200, strategy="mixed", ...)``
    The test body is the one actor of a controlled exploration: it runs
    ``budget`` times, one thread at a time, with the strategy choosing who runs
    at every shared access and lock operation; threads it starts (Thread,
    ThreadPoolExecutor workers) are managed too. A failure prints the shrunk
    interleaving and the command that replays it.

Options (each also an environment variable and an ini key; the command line
beats the environment, which beats the ini file): ``--harness-seed``,
``--harness-budget-scale``, ``--harness-replay``, ``--harness-report``,
``--harness-shards`` and ``--harness-lockorder``; see :mod:`harness._pytest.config`.
"""

from __future__ import annotations

import inspect
import json
import os
import shlex
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from harness._pytest.config import SETTINGS, HarnessConfig, resolve
from harness._pytest.gil import SessionGil
from harness._pytest.lockwatch import LockWatch, inversions
from harness._pytest.markers import (
    EXPLORE_DEFAULTS,
    STATE,
    STRESS_DEFAULTS,
    THREAD_INDEX,
    MarkerError,
    marker_help,
    marker_options,
)
from harness._pytest.markers import (
    plan as plan_of,
)
from harness._pytest.run import report_text, run_explore, run_stress
from harness._pytest.shards import SHARD_PARAM, base_nodeid, shard_count, shard_id, spread
from harness._pytest.suite import (
    MARKERS,
    RunParallelNames,
    run_unmarked,
    threaded_unittest_method,
)
from harness.errors import HarnessError

__all__ = [
    "EXPLORE_DEFAULTS",
    "STATE",
    "STRESS_DEFAULTS",
    "THREAD_INDEX",
    "harness_seed",
    "harness_state",
    "harness_thread_index",
]

_CONFIG = pytest.StashKey["HarnessConfig"]()
_SESSION = pytest.StashKey["_SessionState"]()
_OUTCOME = pytest.StashKey[dict[str, Any]]()

# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def harness_seed(request: pytest.FixtureRequest) -> int:
    """The seed the harness runs this test with (the session's seed, the marker's, or
    a shard's); use it to seed a test's own ``random.Random``."""
    config = request.config.stash[_CONFIG]
    try:
        plan = plan_of(request.node, config)
    except MarkerError:
        plan = None
    return plan.seed if plan is not None else config.seed


@pytest.fixture
def harness_thread_index() -> int:
    """Which thread of a ``@pytest.mark.stress`` test runs the body: 0 .. threads-1.

    Given as a test argument; the body of any other test runs in one thread, 0.
    """
    return 0


@pytest.fixture
def harness_state() -> Any:
    """What ``@pytest.mark.stress(setup=...)`` built for the current run: the state the
    threads of one run share, fresh for every run. None in any other test."""
    return None


@pytest.fixture
def _harness_shard(request: pytest.FixtureRequest) -> tuple[int, int]:
    """(shard index, shard count) of a sharded explore test."""
    return tuple(request.param)


# -- hooks, in the order pytest calls them -------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "thread-harness (stress and explore markers)")
    for setting in SETTINGS:
        help_text = f"{setting.help} [env {setting.env}, ini {setting.ini}]"
        if setting.name in ("lockorder", "gil_ignore", "install"):
            group.addoption(
                setting.flag, action="store_const", const="1", default=None, help=help_text
            )
        else:
            metavar = setting.name.upper().replace("BUDGET_", "")
            group.addoption(setting.flag, default=None, metavar=metavar, help=help_text)
        parser.addini(setting.ini, help=setting.help, default="")
    parser.addini(
        "harness_thread_unsafe_fixtures",
        type="linelist",
        default=[],
        help="more fixtures that make a test run once, in one thread, under --harness-threads",
    )
    parser.addini(
        "harness_thread_unsafe_functions",
        type="linelist",
        default=[],
        help="more function names whose use makes a test run once under --harness-threads",
    )


#: The names pytest-run-parallel is registered under (its entry point, its module).
_RUN_PARALLEL_NAMES = ("run-parallel", "pytest_run_parallel.plugin")


def pytest_configure(config: pytest.Config) -> None:
    for name in ("stress", "explore"):
        config.addinivalue_line("markers", marker_help(name))
    # pytest-run-parallel's names mean the same here; when it is installed too, its
    # own markers and fixtures serve both plugins.
    if not any(config.pluginmanager.hasplugin(name) for name in _RUN_PARALLEL_NAMES):
        for line in MARKERS:
            config.addinivalue_line("markers", line)
        config.pluginmanager.register(RunParallelNames(), "harness-run-parallel-names")
    settings = _settings(config, {s.name: config.getoption(s.flag) for s in SETTINGS})
    if settings.report is not None:
        settings = replace(settings, report=_report_path(config, settings))
    config.stash[_CONFIG] = settings
    config.stash[_SESSION] = _SessionState()
    config.pluginmanager.register(_Recorder(config), "harness-recorder")


def _settings(config: pytest.Config, command_line: dict[str, Any]) -> HarnessConfig:
    """The settings from the command line, the environment and the ini file."""
    ini = {s.ini: str(config.getini(s.ini) or "") for s in SETTINGS}
    inipath = str(config.inipath) if config.inipath else None
    try:
        return resolve(command_line, os.environ, ini, inipath)
    except HarnessError as exc:
        raise pytest.UsageError(f"harness: {exc}") from None


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Install the instrumented primitives before any conftest.py is imported,
    when the settings ask for it (:meth:`HarnessConfig.installs_early`): a lock
    that a library makes at import is then managed wherever it is bound."""
    known = early_config.known_args_namespace
    command_line = {s.name: getattr(known, s.flag[2:].replace("-", "_"), None) for s in SETTINGS}
    if _settings(early_config, command_line).installs_early():
        from harness.sync.early import install

        install()


def _report_path(config: pytest.Config, settings: HarnessConfig) -> str:
    """An absolute report path: relative to the ini file's folder when it came from
    there, else to where pytest was started."""
    assert settings.report is not None
    path = os.path.expanduser(settings.report)
    if settings.source("report").startswith("ini") and config.inipath is not None:
        base = str(config.inipath.parent)
    else:
        base = str(config.invocation_params.dir)
    path = os.path.join(base, path)
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise pytest.UsageError(
            f"harness: bad value for report from the {settings.source('report')}: "
            f"folder {folder} does not exist"
        )
    return path


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    settings = config.stash[_CONFIG]
    # The xdist controller runs no test: only the processes that do watch locks.
    if settings.lockorder and not _is_xdist_controller(config):
        watch = LockWatch()
        watch.start()
        config.stash[_SESSION].lockwatch = watch
    # Every process watches the GIL: a GIL build's watch costs nothing and says nothing.
    config.stash[_SESSION].gil = SessionGil()


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[_CONFIG]
    lines = [f"harness: {settings.describe()}"]
    threads = settings.thread_count()
    if threads is not None:
        lines.append(
            f"harness: every unmarked test body in {threads} threads, "
            f"{settings.iterations} release(s), noise "
            + ("the engine's default" if settings.noise is None else f"{settings.noise:g}")
        )
    gil = config.stash[_SESSION].gil
    header = gil.header() if gil is not None else None
    if header is not None:
        lines.append(f"harness: {header}")
    if settings.installs_early():
        lines.append(
            "harness: threading's primitives were instrumented before the conftests and "
            "test modules were imported (harness.install())"
        )
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Split an explore test into shards, each searching its own seed."""
    marker = metafunc.definition.get_closest_marker("explore")
    if marker is None or metafunc.definition.get_closest_marker("stress") is not None:
        return
    config = metafunc.config
    settings = config.stash[_CONFIG]
    if settings.replay is not None:
        return  # a replay runs one schedule: nothing to split
    try:
        options = marker_options(marker, EXPLORE_DEFAULTS)
    except MarkerError:
        return  # reported when the test runs
    count = shard_count(config, settings, options)
    if count <= 1:
        return
    metafunc.fixturenames.append(SHARD_PARAM)
    metafunc.parametrize(
        SHARD_PARAM,
        [(i, count) for i in range(count)],
        ids=[shard_id(i, count) for i in range(count)],
        indirect=True,
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Spread the shards of each explore test over the run (see :func:`shards.spread`)."""
    spread(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    state = config.stash[_SESSION]
    if state.lockwatch is not None:
        # Modules imported while collecting may hold locks made with _thread.
        state.lockwatch.rescan()
    settings = config.stash[_CONFIG]
    if settings.replay is not None:
        _select_replay(session, settings)


def _select_replay(session: pytest.Session, settings: HarnessConfig) -> None:
    """Find the explore test a replay token belongs to; refuse a token that fits none."""
    from harness.explore.token import decode

    assert settings.replay is not None
    target = decode(settings.replay).target
    if target is not None and "::" not in target:
        raise pytest.UsageError(
            f"harness: this replay token was recorded on the catalogue variant {target}: "
            f"replay it with `harness replay TOKEN`"
        )
    explored = [
        item
        for item in session.items
        if isinstance(item, pytest.Function) and item.get_closest_marker("explore") is not None
    ]
    if target is None:
        if len(explored) == 1:
            session.config.stash[_SESSION].replay_nodeid = base_nodeid(explored[0])
            return
        chosen: list[pytest.Item] = []
    else:
        chosen = [item for item in explored if base_nodeid(item) == target]
        session.config.stash[_SESSION].replay_nodeid = target
    if chosen or _is_xdist_worker(session.config):
        return
    if target is None:
        raise pytest.UsageError(
            "harness: this replay token was recorded through harness.explore(), not by a "
            f"test; select the one explore test to replay it in ({len(explored)} collected)"
        )
    raise pytest.UsageError(
        f"harness: the replay token belongs to {target}, which is not among the collected "
        f"explore tests; run: pytest --harness-replay=TOKEN {shlex.quote(target)}"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # unittest methods run through unittest, not pytest_pyfunc_call: under
    # --harness-threads the method unittest will call is swapped for one that runs
    # it in threads (pytest's own --pdb wrapper swaps it the same way).
    if type(item).__name__ != "TestCaseFunction" or not isinstance(item, pytest.Function):
        return

    def record(outcome: dict[str, Any]) -> None:
        item.stash[_OUTCOME] = outcome

    threaded = threaded_unittest_method(item, item.config.stash[_CONFIG], record)
    if threaded is not None:
        item.obj = threaded


def pytest_runtest_setup(item: pytest.Item) -> None:
    # unittest methods do not go through pytest_pyfunc_call: a marker on one
    # would be ignored without a word, which is exactly the gap this plugin fills.
    if isinstance(item, pytest.Function) and type(item).__name__ != "TestCaseFunction":
        return
    for name in ("stress", "explore"):
        if item.get_closest_marker(name) is not None:
            pytest.fail(
                f"@pytest.mark.{name} runs pytest test functions, not unittest.TestCase "
                "methods or other kinds of test items",
                pytrace=False,
            )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    config = pyfuncitem.config
    settings = config.stash[_CONFIG]
    misuse = None
    try:
        plan = plan_of(pyfuncitem, settings)
    except MarkerError as exc:
        misuse = str(exc)  # failed below, outside the handler: one message, no chain
    if misuse is not None:
        pytest.fail(misuse, pytrace=False)
    if plan is None:
        if inspect.iscoroutinefunction(pyfuncitem.obj):
            return None  # the async plugin's to run

        def record(outcome: dict[str, Any]) -> None:
            pyfuncitem.stash[_OUTCOME] = outcome

        return True if run_unmarked(pyfuncitem, settings, record) else None
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        pytest.fail(
            f"@pytest.mark.{plan.engine} runs plain functions, not coroutines", pytrace=False
        )
    state = config.stash[_SESSION]
    token = None
    replaying = settings.replay is not None and plan.engine == "explore"
    if replaying and state.replay_nodeid == base_nodeid(pyfuncitem):
        token = settings.replay
    try:
        # The engines watch lock order inside each run themselves.
        with state.lockwatch_paused():
            if plan.engine == "stress":
                result = run_stress(pyfuncitem, plan, settings)
            else:
                result = run_explore(pyfuncitem, plan, settings, token)
    except HarnessError as exc:
        misuse = f"@pytest.mark.{plan.engine}: {exc}"
    if misuse is not None:
        pytest.fail(misuse, pytrace=False)
    outcome: dict[str, Any] = {
        "engine": plan.engine,
        "seed": plan.seed,
        "replayed": token is not None,
        "failed": result.failed,
    }
    if result.schedule:
        outcome["replay"] = (
            f"pytest --harness-replay={result.schedule} {shlex.quote(base_nodeid(pyfuncitem))}"
        )
    if settings.report is not None:
        outcome["result"] = json.loads(json.dumps(result.to_dict(), default=str))
    pyfuncitem.stash[_OUTCOME] = outcome
    if result.failed:
        pytest.fail(report_text(pyfuncitem, plan, result, token is not None), pytrace=False)
    if not result.explored and plan.options["shared_state"]:
        pytest.fail(
            f"{plan.engine}: nothing explored, not a pass: {result.unexplored} "
            f"(a test that touches no shared state says so with "
            f"@pytest.mark.{plan.engine}(shared_state=False))",
            pytrace=False,
        )
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    result = yield
    if call.when == "call":
        outcome = item.stash.get(_OUTCOME, None)
        if outcome is not None:
            # A plain attribute of plain data survives xdist's serialisation.
            result.get_result().harness = outcome  # type: ignore[attr-defined]


class _Recorder:
    """Hooks that pytest calls without the config: registered once per config."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        state = self.config.stash[_SESSION]
        state.tests_run += 1
        outcome = getattr(report, "harness", None)
        if outcome is None:
            return
        state.outcomes.append({"nodeid": report.nodeid, "outcome": report.outcome, **outcome})
        if outcome.get("replayed"):
            state.replayed = True
        if outcome.get("engine") == "threads":
            if outcome.get("unsafe"):
                state.unthreaded.append((report.nodeid, outcome["unsafe"]))
            else:
                state.threaded += 1
        elif outcome.get("engine") == "explore":
            state.explored += outcome.get("threads", 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield
    watch = item.config.stash[_SESSION].lockwatch
    if watch is not None:
        watch.after_test(item.nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker finished; keep the lock-order edges and GIL state it sent."""
    output = getattr(node, "workeroutput", None) or {}
    state = node.config.stash[_SESSION]
    edges = output.get("harness_lockorder")
    if edges is not None:
        state.worker_edges.extend(edges)
    if state.gil is not None:
        state.gil.add_worker(output.get("harness_gil"))


def _gil_matters(settings: HarnessConfig, state: _SessionState) -> bool:
    """A re-enabled GIL fails the session when the session used the harness's threads
    (the options, or a marked test ran) and ``--harness-gil-ignore`` was not given; a
    session that only has the plugin installed is left alone."""
    used = settings.threads is not None or settings.explore is not None or bool(state.outcomes)
    return used and not settings.gil_ignore


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    settings = config.stash[_CONFIG]
    state = config.stash[_SESSION]
    watch = state.lockwatch
    edges: list[dict[str, Any]] = list(state.worker_edges)
    if watch is not None:
        try:
            edges.extend(watch.export())
        finally:
            watch.stop()
            state.lockwatch = None
    gil_state = state.gil.stop() if state.gil is not None else None
    if _is_xdist_worker(config):
        if settings.lockorder:
            config.workeroutput["harness_lockorder"] = edges  # type: ignore[attr-defined]
        if gil_state is not None:
            config.workeroutput["harness_gil"] = gil_state.as_json()  # type: ignore[attr-defined]
        return
    if state.gil is not None and state.gil.reenabled() and _gil_matters(settings, state):
        state.gil_failed = True
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if settings.lockorder:
        state.inversions = inversions(edges, str(config.rootpath))
        if state.inversions and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if settings.replay is not None and not state.replayed and state.tests_run:
        state.unused_replay = True
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
    if settings.report is not None:
        _write_report(settings, state)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    settings = config.stash[_CONFIG]
    state = config.stash[_SESSION]
    write = terminalreporter.write_line
    if (settings.threads is not None or settings.explore is not None) and not _is_xdist_worker(
        config
    ):
        terminalreporter.section("harness threads")
        if settings.threads is not None:
            write(
                f"{state.threaded} test(s) ran in {settings.thread_count()} threads; "
                f"{len(state.unthreaded)} ran once, in one thread:"
            )
            for nodeid, reason in sorted(state.unthreaded):
                write(f"    {nodeid}: {reason}")
        if settings.explore is not None:
            write(f"{state.explored} test(s) that start threads were explored")
    gil_line = state.gil.summary() if state.gil is not None else None
    if gil_line is not None and not _is_xdist_worker(config):
        write(f"harness: {gil_line}", red=state.gil_failed)
        if state.gil_failed:
            write(
                "harness: the GIL was re-enabled during the session, so its tests did not all "
                "run in parallel: the run fails (--harness-gil-ignore accepts it)",
                red=True,
            )
    if settings.lockorder and not _is_xdist_worker(config):
        terminalreporter.section("harness lock order")
        if not state.inversions:
            write("no lock-order inversion among the locks the tests took")
        for inversion in state.inversions:
            seen = (
                f" (seen on {inversion['count']} sets of locks)" if inversion["count"] > 1 else ""
            )
            write(inversion["message"] + seen, red=True, bold=True)
            for line in inversion["lines"]:
                write(f"    {line}")
        if state.inversions:
            count = len(state.inversions)
            write(
                f"harness: {count} lock-order inversion{'s' if count > 1 else ''}: the run fails",
                red=True,
            )
    if state.unused_replay:
        write(
            f"harness: --harness-replay was given but no collected explore test is "
            f"{state.replay_nodeid or 'the one it was recorded on'}: nothing was replayed",
            red=True,
        )
    if settings.report is not None and not _is_xdist_worker(config):
        write(f"harness: report written to {settings.report}")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_SESSION, None)
    if state is not None and state.lockwatch is not None:
        state.lockwatch.stop()  # the session ended early (an error, ^C)
        state.lockwatch = None
    recorder = config.pluginmanager.get_plugin("harness-recorder")
    if recorder is not None:
        config.pluginmanager.unregister(recorder)
    settings = config.stash.get(_CONFIG, None)
    if settings is not None and settings.installs_early():
        from harness.sync.early import uninstall

        uninstall()  # pytester runs many sessions in one process


# -- session state ----------------------------------------------------------------------


@dataclass
class _SessionState:
    """What the plugin accumulates during one session (kept in ``config.stash``)."""

    lockwatch: LockWatch | None = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    worker_edges: list[dict[str, Any]] = field(default_factory=list)
    inversions: list[dict[str, Any]] = field(default_factory=list)
    replay_nodeid: str | None = None
    replayed: bool = False
    unused_replay: bool = False
    tests_run: int = 0
    threaded: int = 0  # tests run in threads by --harness-threads
    explored: int = 0  # tests explored by --harness-explore
    unthreaded: list[tuple[str, str]] = field(default_factory=list)  # (nodeid, reason)
    gil: SessionGil | None = None
    gil_failed: bool = False  # an import re-enabled the GIL and that fails the session

    def lockwatch_paused(self) -> AbstractContextManager[None]:
        watch = self.lockwatch
        return watch.paused() if watch is not None else nullcontext()


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _is_xdist_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.get_plugin("dsession") is not None


def _write_report(settings: HarnessConfig, state: _SessionState) -> None:
    import harness

    assert settings.report is not None
    document = {
        "harness": harness.__version__,
        "settings": {
            s.name: {"value": getattr(settings, s.name), "source": settings.source(s.name)}
            for s in SETTINGS
        },
        "tests": sorted(state.outcomes, key=lambda o: o["nodeid"]),
        "lockorder": state.inversions if settings.lockorder else None,
    }
    with open(settings.report, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2, default=str)
        stream.write("\n")
