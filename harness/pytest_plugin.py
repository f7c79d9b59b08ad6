"""pytest plugin: gate a project's own threaded code with the harness's engines.

Registered through the ``pytest11`` entry point, so installing the package is
enough and plain ``pytest`` runs the marked tests. Importing this module is
cheap: the engines, the instrumented primitives and the detectors load on first
use.

Markers:

``@pytest.mark.stress(threads=4, runs=20, noise=0.001, seed=None, timeout=60)``
    The test body runs in ``threads`` real threads released together, ``runs``
    times, with noise injection. Every distinct failure is reported with how
    often it occurred, not just the first thread's. The argument
    ``harness_thread_index`` tells a body which thread it is.
``@pytest.mark.explore(budget=200, strategy="mixed", seed=None, timeout=10)``
    The test body is the one actor of a controlled exploration: it runs
    ``budget`` times, one thread at a time, with the strategy choosing who runs
    at every shared access and lock operation; threads it starts (Thread,
    ThreadPoolExecutor workers) are managed too. A failure prints the shrunk
    interleaving and the command that replays it.

Options (each also an environment variable and an ini key; the command line
beats the environment, which beats the ini file): ``--harness-seed``,
``--harness-budget-scale``, ``--harness-replay``, ``--harness-report``,
``--harness-shards`` and ``--harness-lockorder``; see :mod:`harness.config`.

Hooks below appear in the order pytest calls them.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pytest

from harness.config import AUTO, SETTINGS, HarnessConfig, resolve
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.detect.lockorder import Edge
    from harness.outcome import Result

__all__ = [
    "EXPLORE_DEFAULTS",
    "STATE",
    "STRESS_DEFAULTS",
    "THREAD_INDEX",
    "harness_seed",
    "harness_state",
    "harness_thread_index",
]

STRESS_DEFAULTS: dict[str, Any] = {
    "threads": 4,
    "runs": 20,
    "noise": 0.001,
    "seed": None,  # None: the session's seed (--harness-seed)
    "timeout": 60.0,
    "lockorder": True,
    "leaks": True,
    "setup": None,  # builds the state the threads of one run share: harness_state
    "check": None,  # judges that state after every run
}

EXPLORE_DEFAULTS: dict[str, Any] = {
    "budget": 200,
    "strategy": "mixed",
    "seed": None,
    "timeout": 10.0,
    "bound": 2,
    "max_steps": 100_000,
    "lockorder": True,
    "leaks": True,
}

#: The test argument that holds a stress thread's index (0 .. threads-1).
THREAD_INDEX = "harness_thread_index"
#: The test argument that holds what the stress marker's ``setup`` built for the run.
STATE = "harness_state"
#: The hidden parameter that splits an explore test into shards.
_SHARD_PARAM = "_harness_shard"
#: Strategies whose schedules depend on the seed; only these are sharded.
_SEEDED_STRATEGIES = ("random", "pct", "mixed")

_CONFIG = pytest.StashKey["HarnessConfig"]()
_SESSION = pytest.StashKey["_SessionState"]()
_OUTCOME = pytest.StashKey[dict[str, Any]]()


# -- marked tests -------------------------------------------------------------------


class _MarkerError(Exception):
    """A marker used with arguments it does not take."""


@dataclass(frozen=True)
class _Plan:
    """What the marker of one test asks for, with the session's settings applied."""

    engine: str  # "stress" or "explore"
    options: dict[str, Any]
    seed: int
    seed_source: str  # where the seed came from, for the rerun hint
    shard: tuple[int, int] | None = None  # (index, count)


def _marker_options(marker: pytest.Mark, defaults: dict[str, Any]) -> dict[str, Any]:
    if marker.args:
        raise _MarkerError(f"@pytest.mark.{marker.name} takes keyword arguments only")
    unknown = set(marker.kwargs) - set(defaults)
    if unknown:
        known = ", ".join(sorted(defaults))
        raise _MarkerError(
            f"@pytest.mark.{marker.name}: unknown argument(s) {', '.join(sorted(unknown))} "
            f"(known: {known})"
        )
    return {**defaults, **marker.kwargs}


def _engine_marker(item: pytest.Item) -> pytest.Mark | None:
    stress = item.get_closest_marker("stress")
    explore = item.get_closest_marker("explore")
    if stress is not None and explore is not None:
        raise _MarkerError("a test takes @pytest.mark.stress or @pytest.mark.explore, not both")
    return stress or explore


def _plan(item: pytest.Item, config: HarnessConfig) -> _Plan | None:
    marker = _engine_marker(item)
    if marker is None:
        return None
    defaults = STRESS_DEFAULTS if marker.name == "stress" else EXPLORE_DEFAULTS
    options = _marker_options(marker, defaults)
    shard = None
    callspec = getattr(item, "callspec", None)
    if callspec is not None and _SHARD_PARAM in callspec.params:
        shard = tuple(callspec.params[_SHARD_PARAM])
    if options["seed"] is not None:
        seed, source = options["seed"], f"@pytest.mark.{marker.name}(seed=...)"
    else:
        seed, source = config.seed, config.source("seed")
    if shard is not None and isinstance(seed, int) and not isinstance(seed, bool):
        seed += shard[0]  # shards search disjoint seed ranges: seed, seed+1, ...
    return _Plan(marker.name, options, seed, source, shard)


def _base_nodeid(item: pytest.Item) -> str:
    """The node id without the shard parameter: what a replay selects."""
    nodeid = item.nodeid
    callspec = getattr(item, "callspec", None)
    if callspec is None or _SHARD_PARAM not in callspec.params:
        return nodeid
    shard_id = _shard_id(*callspec.params[_SHARD_PARAM])
    for old, new in (
        (f"[{shard_id}]", ""),
        (f"-{shard_id}]", "]"),
        (f"[{shard_id}-", "["),
        (f"-{shard_id}-", "-"),
    ):
        if old in nodeid:
            return nodeid.replace(old, new, 1)
    return nodeid  # pragma: no cover - the id is always one of the above


def _shard_id(index: int, count: int) -> str:
    return f"shard{index + 1}of{count}"


def _test_arguments(item: pytest.Function) -> dict[str, Any]:
    """The arguments pytest would pass to the test function."""
    return {name: item.funcargs[name] for name in item._fixtureinfo.argnames}


def _run_stress(item: pytest.Function, plan: _Plan, config: HarnessConfig) -> Result:
    import harness
    from harness import _program, _validate
    from harness.stress import MAX_RUNS

    options = plan.options
    arguments = _test_arguments(item)
    threads = options["threads"]
    _validate.count("threads", threads, _program.MAX_THREADS)
    # Checked before scaling, which would turn runs=0 into 1.
    _validate.count("runs", options["runs"], MAX_RUNS)
    function = item.obj

    def actors(state: object) -> list[Callable[[], object]]:
        shared = {**arguments, STATE: state} if STATE in arguments else arguments
        if THREAD_INDEX in arguments:
            return [
                functools.partial(function, **{**shared, THREAD_INDEX: i}) for i in range(threads)
            ]
        return [functools.partial(function, **shared)] * threads

    result = harness.stress(
        options["setup"] or _no_state,
        actors,
        options["check"],
        runs=config.scaled(options["runs"]),
        noise=options["noise"],
        seed=plan.seed,
        timeout=options["timeout"],
        lockorder=options["lockorder"],
        leaks=options["leaks"],
        target=item.nodeid,
    )
    result.settings["threads"] = threads
    return result


def _run_explore(
    item: pytest.Function, plan: _Plan, config: HarnessConfig, token: str | None
) -> Result:
    import harness
    from harness import _validate
    from harness.explore.engine import MAX_BUDGET

    options = plan.options
    body = functools.partial(item.obj, **_test_arguments(item))

    def actors(_state: object) -> list[Callable[[], object]]:
        return [body]

    target = _base_nodeid(item)
    with _thread_tracing_chained():
        if token is not None:
            return harness.replay(
                token,
                _no_state,
                actors,
                max_steps=options["max_steps"],
                timeout=options["timeout"],
                target=target,
            )
        _validate.count("budget", options["budget"], MAX_BUDGET)  # before scaling
        budget = config.scaled(options["budget"])
        if plan.shard is not None:
            index, count = plan.shard
            budget = budget // count + (1 if index < budget % count else 0)
        return harness.explore(
            _no_state,
            actors,
            strategy=options["strategy"],
            budget=max(budget, 1),
            seed=plan.seed,
            bound=options["bound"],
            max_steps=options["max_steps"],
            timeout=options["timeout"],
            lockorder=options["lockorder"],
            leaks=options["leaks"],
            target=target,
        )


@contextmanager
def _thread_tracing_chained() -> Iterator[None]:
    """Keep the explore engine's tracer in threads that the test body starts, under a
    settrace-based tool such as coverage.py on CPython <= 3.11.

    The engine attaches its tracer to such a thread before ``Thread._bootstrap_inner``
    runs, and ``_bootstrap_inner`` then installs ``threading.settrace``'s hook
    (coverage's) in its place: the thread would run untraced by the engine, so a
    race in it could not be found. While exploring, the hook is wrapped: it
    installs the tool's tracer as before, then attaches the engine's again,
    chained in front of it, so both see the code.
    """
    hook = threading.gettrace() if sys.version_info < (3, 12) else None
    if hook is None:
        yield
        return
    from harness.sync.context import managed

    def install_both(frame: Any, event: Any, arg: Any) -> Any:
        local = hook(frame, event, arg)
        record = managed()
        if record is not None:
            record.runtime.backend.attach(record.hook)
        return local

    threading.settrace(install_both)
    try:
        yield
    finally:
        threading.settrace(hook)


def _no_state() -> None:
    """The engines' ``setup``: a marked test builds its own state in its body."""
    return None


def _headline(plan: _Plan, result: Result) -> str:
    """The first line, which pytest's short summary shows: what failed, how often."""
    group = result.failures[0]
    failure = group.failure
    unit = "schedules" if plan.engine == "explore" else "runs"
    times = f"x{group.count}; " if group.count > 1 else ""
    more = len(result.failures) - 1
    also = f"; {more} other distinct failure{'s' if more > 1 else ''}" if more else ""
    return (
        f"{plan.engine}: [{failure.kind}] {failure.message} "
        f"({times}{len(result.failing_runs)} of {result.runs} {unit} failed{also})"
    )


def _report_text(item: pytest.Function, plan: _Plan, result: Result, replayed: bool) -> str:
    """The engine's report, with rerun instructions that fit pytest."""
    token = result.schedule
    # The engine's own text ends with `harness replay TOKEN`, which only knows
    # the catalogue: leave it out and say how to replay through pytest instead.
    # pytest names the test already, so the result need not.
    sections = dict(result.sections)
    lanes = sections.pop("interleaving", None)
    text = str(replace(result, schedule=None, target=None, sections=sections))
    nodeid = shlex.quote(_base_nodeid(item))
    lines = [_headline(plan, result), text, ""]
    render = getattr(lanes, "render_text", None)
    if callable(render):
        # As wide as the terminal; every step with -vv.
        lines += [render(width=_width(item.config), full=item.config.get_verbosity() >= 2), ""]
    if token:
        lines.append(f"replay token: {token}")
        lines.append(f"replay with:  pytest --harness-replay={token} {nodeid}")
    elif replayed:
        lines.append("(replayed the schedule of --harness-replay)")
    elif plan.engine == "stress":
        if plan.seed_source.startswith("@pytest.mark"):
            rerun = f"pytest {nodeid}"
        else:
            rerun = f"pytest --harness-seed={plan.seed} {nodeid}"
        lines.append(
            f"seed {plan.seed} (from {plan.seed_source}); rerun with: {rerun}  "
            "(real threads: a rerun may interleave differently)"
        )
    return "\n".join(lines).rstrip()


def _width(config: pytest.Config) -> int:
    """The terminal's width, or 110 columns (as the CLI) when output goes to a file."""
    terminal = sys.__stdout__ is not None and sys.__stdout__.isatty()
    if terminal or os.environ.get("COLUMNS"):
        return max(config.get_terminal_writer().fullwidth, 60)
    return 110


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def harness_seed(request: pytest.FixtureRequest) -> int:
    """The seed the harness runs this test with (the session's seed, the marker's, or
    a shard's); use it to seed a test's own ``random.Random``."""
    config = request.config.stash[_CONFIG]
    try:
        plan = _plan(request.node, config)
    except _MarkerError:
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
        if setting.name == "lockorder":
            group.addoption(
                setting.flag, action="store_const", const="1", default=None, help=help_text
            )
        else:
            metavar = setting.name.upper().replace("BUDGET_", "")
            group.addoption(setting.flag, default=None, metavar=metavar, help=help_text)
        parser.addini(setting.ini, help=setting.help, default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stress(threads=4, runs=20, noise=0.001, seed=None, timeout=60, setup=None, "
        "check=None): run the test body in THREADS threads released together, RUNS times, "
        "with noise injection; SETUP() builds each run's shared state (harness_state), "
        "CHECK(state) judges it",
    )
    config.addinivalue_line(
        "markers",
        "explore(budget=200, strategy='mixed', seed=None, timeout=10): run the test body under "
        "the controlled scheduler for BUDGET schedules; a failure prints the interleaving "
        "and how to replay it",
    )
    command_line = {s.name: config.getoption(s.flag) for s in SETTINGS}
    ini = {s.ini: str(config.getini(s.ini) or "") for s in SETTINGS}
    inipath = str(config.inipath) if config.inipath else None
    try:
        settings = resolve(command_line, os.environ, ini, inipath)
    except HarnessError as exc:
        raise pytest.UsageError(f"harness: {exc}") from None
    if settings.report is not None:
        settings = replace(settings, report=_report_path(config, settings))
    config.stash[_CONFIG] = settings
    config.stash[_SESSION] = _SessionState()
    config.pluginmanager.register(_Recorder(config), "harness-recorder")


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
        watch = _LockWatch()
        watch.start()
        config.stash[_SESSION].lockwatch = watch


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash[_CONFIG]
    return f"harness: {settings.describe()}"


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
        options = _marker_options(marker, EXPLORE_DEFAULTS)
    except _MarkerError:
        return  # reported when the test runs
    count = _shard_count(config, settings, options)
    if count <= 1:
        return
    metafunc.fixturenames.append(_SHARD_PARAM)
    metafunc.parametrize(
        _SHARD_PARAM,
        [(i, count) for i in range(count)],
        ids=[_shard_id(i, count) for i in range(count)],
        indirect=True,
    )


def _shard_count(config: pytest.Config, settings: HarnessConfig, options: dict[str, Any]) -> int:
    if options.get("strategy") not in _SEEDED_STRATEGIES:
        return 1  # a bounded DFS does not depend on the seed: shards would repeat it
    if options.get("seed") is not None:
        return 1  # the marker pins one seed
    budget = options.get("budget")
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        return 1  # reported when the test runs
    if settings.shards == AUTO:
        workerinput = getattr(config, "workerinput", None)
        count = int(workerinput.get("workercount", 1)) if workerinput else 1
    else:
        count = int(settings.shards)
    return max(1, min(count, settings.scaled(budget)))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Spread the shards of each explore test over the run, so that xdist, which
    hands out runs of consecutive tests, gives them to different workers."""
    positions: dict[int, float] = {}
    first: dict[str, int] = {}
    total = len(items)
    for i, item in enumerate(items):
        callspec = getattr(item, "callspec", None)
        if callspec is None or _SHARD_PARAM not in callspec.params:
            positions[id(item)] = i
            continue
        index, count = callspec.params[_SHARD_PARAM]
        start = first.setdefault(_base_nodeid(item), i)
        positions[id(item)] = start + index * total / count
    items.sort(key=lambda item: positions[id(item)])


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
            session.config.stash[_SESSION].replay_nodeid = _base_nodeid(explored[0])
            return
        chosen: list[pytest.Item] = []
    else:
        chosen = [item for item in explored if _base_nodeid(item) == target]
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
        plan = _plan(pyfuncitem, settings)
    except _MarkerError as exc:
        misuse = str(exc)  # failed below, outside the handler: one message, no chain
    if misuse is not None:
        pytest.fail(misuse, pytrace=False)
    if plan is None:
        return None
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        pytest.fail(
            f"@pytest.mark.{plan.engine} runs plain functions, not coroutines", pytrace=False
        )
    state = config.stash[_SESSION]
    token = None
    replaying = settings.replay is not None and plan.engine == "explore"
    if replaying and state.replay_nodeid == _base_nodeid(pyfuncitem):
        token = settings.replay
    try:
        # The engines watch lock order inside each run themselves.
        with state.lockwatch_paused():
            if plan.engine == "stress":
                result = _run_stress(pyfuncitem, plan, settings)
            else:
                result = _run_explore(pyfuncitem, plan, settings, token)
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
            f"pytest --harness-replay={result.schedule} {shlex.quote(_base_nodeid(pyfuncitem))}"
        )
    if settings.report is not None:
        outcome["result"] = json.loads(json.dumps(result.to_dict(), default=str))
    pyfuncitem.stash[_OUTCOME] = outcome
    if result.failed:
        pytest.fail(_report_text(pyfuncitem, plan, result, token is not None), pytrace=False)
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield
    watch = item.config.stash[_SESSION].lockwatch
    if watch is not None:
        watch.after_test(item.nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist controller: a worker finished; keep the lock-order edges it saw."""
    output = getattr(node, "workeroutput", None) or {}
    edges = output.get("harness_lockorder")
    if edges is not None:
        node.config.stash[_SESSION].worker_edges.extend(edges)


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
    if _is_xdist_worker(config):
        if settings.lockorder:
            config.workeroutput["harness_lockorder"] = edges  # type: ignore[attr-defined]
        return
    if settings.lockorder:
        state.inversions = _inversions(edges, str(config.rootpath))
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


# -- session state ----------------------------------------------------------------------


@dataclass
class _SessionState:
    """What the plugin accumulates during one session (kept in ``config.stash``)."""

    lockwatch: _LockWatch | None = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    worker_edges: list[dict[str, Any]] = field(default_factory=list)
    inversions: list[dict[str, Any]] = field(default_factory=list)
    replay_nodeid: str | None = None
    replayed: bool = False
    unused_replay: bool = False
    tests_run: int = 0

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


# -- lock order over the whole session --------------------------------------------------


class _LockWatch:
    """Instrumented locks for the whole session, feeding one lock-order graph.

    Installed before the test modules are imported, so that locks the code under
    test creates at import time are instrumented too (those created earlier,
    by a conftest's imports, are swapped in place).
    """

    def __init__(self) -> None:
        from harness._tracing.codefilter import CodeFilter
        from harness.detect.lockorder import LockOrderGraph
        from harness.sync.patching import Patcher

        self.filter = CodeFilter()
        self.graph = LockOrderGraph()
        self.patcher = Patcher()
        self._paused = 0
        self._first_test: dict[tuple[int, int], str] = {}
        self._started = False

    # the monitor protocol of harness.sync.context
    def acquired(self, lock: object, site: Any, can_block: bool) -> None:
        if not self._paused:
            self.graph.acquired(lock, site, can_block)

    def released(self, lock: object) -> None:
        self.graph.released(lock)

    def start(self) -> None:
        from harness.sync import context
        from harness.sync.patching import install_primitives

        install_primitives(self.patcher, self.filter)
        context.monitors.append(self)
        self._started = True

    def rescan(self) -> None:
        from harness.sync.patching import install_primitives

        install_primitives(self.patcher, self.filter)

    def paused(self) -> _Pause:
        return _Pause(self)

    def after_test(self, nodeid: str) -> None:
        for edge in self.graph.edges():
            self._first_test.setdefault((id(edge.held), id(edge.taken)), nodeid)

    def stop(self) -> None:
        if not self._started:
            return
        from harness.sync import context

        self._started = False
        if self in context.monitors:
            context.monitors.remove(self)
        self.patcher.restore()

    def export(self) -> list[dict[str, Any]]:
        """The edges seen, as plain data that can cross to the xdist controller.

        A lock is named by its module-level name or its creation line; when this
        process saw only one lock by that name, the name is its identity across
        processes, so that edges seen by different workers join up. Other locks
        are identified by this process and object.
        """
        edges = self.graph.edges()
        objects: dict[str, set[int]] = {}
        for edge in edges:
            for lock in (edge.held, edge.taken):
                objects.setdefault(_lock_key(lock) or "", set()).add(id(lock))
        pid = os.getpid()
        names = _module_names({id(e.held) for e in edges} | {id(e.taken) for e in edges})

        def node(lock: object) -> str:
            key = _lock_key(lock)
            if key is not None and len(objects[key]) == 1:
                return key
            return f"object:{pid}:{id(lock)}"

        return [
            {
                "held": node(edge.held),
                "taken": node(edge.taken),
                "held_name": names.get(id(edge.held)) or _lock_name(edge.held),
                "taken_name": names.get(id(edge.taken)) or _lock_name(edge.taken),
                "held_site": list(edge.held_site) if edge.held_site else None,
                "taken_site": list(edge.taken_site) if edge.taken_site else None,
                "thread": edge.thread,
                "test": self._first_test.get((id(edge.held), id(edge.taken))),
                "user": self._is_user(edge),
            }
            for edge in edges
        ]

    def _is_user(self, edge: Edge) -> bool:
        sites = (edge.held_site, edge.taken_site)
        return any(site is not None and self.filter.covers_file(site[0]) for site in sites)


class _Pause:
    def __init__(self, watch: _LockWatch) -> None:
        self.watch = watch

    def __enter__(self) -> None:
        self.watch._paused += 1

    def __exit__(self, *exc: object) -> None:
        self.watch._paused -= 1


def _lock_key(lock: object) -> str | None:
    label = getattr(lock, "_label", None)
    if label:
        return f"name:{label}"
    created = getattr(lock, "_created", None)
    if created:
        return f"site:{created[0]}:{created[1]}"
    return None


def _module_names(wanted: set[int]) -> dict[int, str]:
    """``module.name`` of the objects in ``wanted`` that are module globals."""
    import sys
    from types import ModuleType

    found: dict[int, str] = {}
    for module in list(sys.modules.values()):
        if not isinstance(module, ModuleType):
            continue
        for name, value in list(getattr(module, "__dict__", {}).items()):
            if id(value) in wanted and id(value) not in found:
                found[id(value)] = f"{module.__name__}.{name}"
    return found


def _lock_name(lock: object) -> str:
    """The harness's label of a swapped module-level lock, else where it was created."""
    label = getattr(lock, "_label", None)
    if label:
        return str(label)
    created = getattr(lock, "_created", None)
    kind = type(lock).__name__
    if created:
        return f"the {kind} created at {os.path.basename(created[0])}:{created[1]}"
    return f"a {kind}"


def _inversions(edges: list[dict[str, Any]], rootdir: str) -> list[dict[str, Any]]:
    """Cycles among the edges of every process, once per distinct pair of code sites."""
    from harness.detect.lockorder import LockOrderGraph

    # Replay the edges into a fresh graph, one pair of acquisitions each: the
    # detector then finds the cycles, over nodes that may span processes.
    graph = LockOrderGraph()
    nodes: dict[str, _Node] = {}
    first: dict[tuple[str, str], dict[str, Any]] = {}

    def node_of(name: str) -> _Node:
        return nodes.setdefault(name, _Node(name))

    for edge in edges:
        key = (edge["held"], edge["taken"])
        if key in first:
            continue
        first[key] = edge
        held, taken = node_of(edge["held"]), node_of(edge["taken"])
        graph.acquired(held, None, True)
        graph.acquired(taken, None, True)
        graph.released(taken)
        graph.released(held)
    found: dict[frozenset[tuple[Any, ...]], dict[str, Any]] = {}
    for cycle in graph.cycles():
        records = [first[(e.held.name, e.taken.name)] for e in cycle]  # type: ignore[attr-defined]
        if not any(record["user"] for record in records):
            continue  # locks of the test tooling or the standard library only
        signature = frozenset(
            (str(r["held_site"]), str(r["taken_site"]), r["held_name"], r["taken_name"])
            for r in records
        )
        if signature in found:
            found[signature]["count"] += 1
            continue
        names = [r["held_name"] for r in records]
        message = "lock-order inversion: " + " -> ".join([*names, names[0]])
        lines = [
            f"{r['thread']} took {r['taken_name']} at {_where(r['taken_site'], rootdir)} "
            f"while holding {r['held_name']} (taken at {_where(r['held_site'], rootdir)})"
            + (f"  [{r['test']}]" if r["test"] else "")
            for r in records
        ]
        lines.append(
            "these locks are taken in different orders: threads doing both at once can "
            "deadlock; take them in one global order"
        )
        found[signature] = {"message": message, "lines": lines, "count": 1, "edges": records}
    return list(found.values())


class _Node:
    """A lock of some process, by name, for the merged graph."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def _where(site: list[Any] | None, rootdir: str) -> str:
    if not site:
        return "an unknown line"
    path = str(site[0])
    try:
        relative = os.path.relpath(path, rootdir)
    except ValueError:  # another drive (Windows)
        relative = path
    if not relative.startswith(".."):
        path = relative
    return f"{path}:{site[1]}"
