"""Gating an unmodified test suite: ``--harness-threads`` runs every test body in N
threads through the stress engine, ``--harness-explore`` runs every test that starts
threads under the controlled scheduler, and failures are remembered in pytest's cache.

What a test's threads share: the fixtures (set up once per test, before the threads
start, and torn down after they all end), module globals and the test's arguments.
What each thread has of its own: ``tmp_path`` (a fresh ``thread-<i>`` folder under the
test's), and the values of ``thread_index``, ``iteration_index`` and
``num_parallel_threads``. Per-thread state is built in the body (a local variable),
or keyed by ``thread_index``, or with ``threading.local()``.

A test that uses something known not to be safe across threads (pytest's capture,
monkeypatch, warning recorders, ``unittest.mock.patch``) runs once, in one thread,
and the terminal summary lists it with the reason; ``@pytest.mark.thread_unsafe``
asks for the same. The markers and fixtures keep pytest-run-parallel's names and
meanings so that a project switches by changing its command line.

About 430 lines, over the usual 400: the two modes share the thread plan, the
failure text and the remembered failures (``memory.py``); the explore mode is the
part to split out if either grows.
"""

from __future__ import annotations

import functools
import shlex
import sys
import threading
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from harness._pytest.config import HarnessConfig
from harness._pytest.memory import Memory
from harness._pytest.shards import base_nodeid

if TYPE_CHECKING:
    from harness.outcome import Result

__all__ = [
    "MARKERS",
    "UNSAFE_FIXTURES",
    "UNSAFE_FUNCTIONS",
    "RunParallelNames",
    "ThreadPlan",
    "run_explored",
    "run_threaded",
    "starts_threads",
    "thread_plan",
    "threaded_unittest_method",
]

#: Fixtures whose one value cannot serve several threads at once: capture is per
#: process, monkeypatch and recwarn change process-wide state and undo it once.
UNSAFE_FIXTURES = frozenset(
    {
        "capsys",
        "capsysbinary",
        "capfd",
        "capfdbinary",
        "caplog",
        "monkeypatch",
        "recwarn",
    }
)
#: Names whose call in a test body changes process-wide state for the duration of a
#: ``with`` block (the warnings filters, a patched attribute): two threads doing it
#: at once undo each other. Matched against every name the body's code uses.
UNSAFE_FUNCTIONS = frozenset(
    {
        "warns",
        "deprecated_call",
        "catch_warnings",
        "simplefilter",
        "filterwarnings",
        "patch",
        "setattr",
        "delattr",
        "setenv",
        "chdir",
    }
)
#: pytest-run-parallel's marker lines, registered only when it is not installed.
MARKERS = (
    "thread_unsafe(reason=None): run this test once, in one thread, under --harness-threads",
    "parallel_threads(n): run this test in N threads under --harness-threads (1: once)",
    "parallel_threads_limit(n): at most N threads for this test under --harness-threads",
    "iterations(n): release this test's threads N times under --harness-threads",
)


@dataclass(frozen=True)
class ThreadPlan:
    """How many threads and iterations one test gets, or why it runs once."""

    threads: int
    iterations: int
    unsafe_reason: str | None = None


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def thread_plan(
    item: pytest.Function,
    settings: HarnessConfig,
    extra_fixtures: Iterable[str] = (),
    extra_functions: Iterable[str] = (),
) -> ThreadPlan:
    """The threads of ``item`` under ``--harness-threads`` and its markers."""
    threads = settings.thread_count() or 1
    iterations = settings.iterations
    marker = item.get_closest_marker("iterations")
    if marker is not None and marker.args:
        iterations = int(marker.args[0])
    marker = item.get_closest_marker("parallel_threads")
    if marker is not None and marker.args:
        threads = int(marker.args[0])
    marker = item.get_closest_marker("parallel_threads_limit")
    if marker is not None and marker.args:
        threads = min(threads, int(marker.args[0]))
    marker = item.get_closest_marker("thread_unsafe")
    if marker is not None:
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else None)
        return ThreadPlan(1, 1, f"marked thread_unsafe{f': {reason}' if reason else ''}")
    fixtures = sorted(set(item.fixturenames) & (UNSAFE_FIXTURES | set(extra_fixtures)))
    if fixtures:
        return ThreadPlan(1, 1, f"uses thread-unsafe fixture {', '.join(fixtures)}")
    code = getattr(getattr(item, "obj", None), "__code__", None)
    if isinstance(code, types.CodeType):
        called = sorted(_code_names(code) & (UNSAFE_FUNCTIONS | set(extra_functions)))
        if called:
            return ThreadPlan(1, 1, f"calls thread-unsafe {', '.join(called)}")
    if threads <= 1:
        return ThreadPlan(1, iterations, "parallel_threads(1)")
    return ThreadPlan(threads, iterations)


class RunParallelNames:
    """pytest-run-parallel's fixtures, registered as a plugin only when it is absent.

    Outside ``--harness-threads`` they give the values of a test run once; inside,
    the threaded run passes each thread its own values instead.
    """

    @pytest.fixture
    def thread_index(self) -> int:
        """Which thread runs the body: 0 .. num_parallel_threads-1."""
        return 0

    @pytest.fixture
    def iteration_index(self) -> int:
        """Which release of the threads this is: 0 .. iterations-1."""
        return 0

    @pytest.fixture
    def num_parallel_threads(self) -> int:
        """How many threads run the body together."""
        return 1


def _arguments(item: pytest.Function) -> dict[str, Any]:
    return {name: item.funcargs[name] for name in item._fixtureinfo.argnames}


def run_threaded(
    item: pytest.Function,
    plan: ThreadPlan,
    seed: int,
    settings: HarnessConfig,
    function: Callable[..., object] | None = None,
) -> Result:
    """The body in ``plan.threads`` threads released together, ``plan.iterations``
    times, with noise, the hang watchdog and the leak and lock-order detectors.

    ``function`` is the body when it is not ``item.obj`` with its fixtures (a
    unittest method, bound to its one TestCase instance, takes no argument)."""
    from harness.stress import DEFAULT_NOISE, stress

    arguments = _arguments(item) if function is None else {}
    function = item.obj if function is None else function
    count = plan.threads
    iteration = [-1]
    tmp_root = arguments.get("tmp_path")

    def body(index: int, run: int) -> Callable[[], object]:
        given = dict(arguments)
        for name, value in (
            ("thread_index", index),
            ("iteration_index", run),
            ("num_parallel_threads", count),
            ("harness_thread_index", index),
        ):
            if name in given:
                given[name] = value
        if tmp_root is not None:
            own = tmp_root / f"thread-{index}"
            own.mkdir(exist_ok=True)
            given["tmp_path"] = own
        return functools.partial(function, **given)

    def actors(_state: object) -> list[Callable[[], object]]:
        iteration[0] += 1
        return [body(i, iteration[0]) for i in range(count)]

    result = stress(
        _none,
        actors,
        None,
        runs=plan.iterations,
        noise=DEFAULT_NOISE if settings.noise is None else settings.noise,
        seed=seed,
        timeout=_THREAD_TIMEOUT,
        target=item.nodeid,
    )
    result.settings["threads"] = count
    return result


#: Seconds before the watchdog calls a threaded test hung and prints its stacks.
_THREAD_TIMEOUT = 30.0


def _none() -> None:
    return None


def starts_threads(body: Callable[[], object]) -> tuple[bool, BaseException | None]:
    """Run ``body`` once, normally; say whether it started a thread (``threading``'s
    bootstrap calls the hook installed by ``threading.settrace`` in every new thread),
    and what it raised."""
    started = threading.Event()
    previous = threading.gettrace()

    def hook(frame: Any, event: Any, arg: Any) -> Any:
        started.set()
        sys.settrace(previous)
        return previous(frame, event, arg) if previous is not None else None

    threading.settrace(hook)
    try:
        body()
    except BaseException as exc:  # reported by the caller, as pytest would
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return started.is_set(), exc
    finally:
        threading.settrace(previous)
    return started.is_set(), None


def run_explored(item: pytest.Function, budget: int, seed: int, token: str | None) -> Result:
    """The body as the one actor of an exploration of ``budget`` schedules (or the
    replay of ``token``); the threads it starts are managed."""
    from harness._pytest.run import thread_tracing_chained
    from harness.explore import explore, replay

    body = functools.partial(item.obj, **_arguments(item))

    def actors(_state: object) -> list[Callable[[], object]]:
        return [body]

    target = base_nodeid(item)
    with thread_tracing_chained():
        if token is not None:
            return replay(token, _none, actors, target=target)
        # Bounded DFS: on a two-thread lost update started from a test body it fails
        # at schedule 33, where the markers' "mixed" needs about 66 (measured on
        # tests/plugin/test_suite_gate.py's RACE); it is also seed-independent.
        return explore(
            _none, actors, budget=budget, seed=seed, strategy=EXPLORE_STRATEGY, target=target
        )


#: The strategy of ``--harness-explore``.
EXPLORE_STRATEGY = "dfs"


def rerun_command(item: pytest.Item, settings: HarnessConfig, threads: int, seed: int) -> str:
    """The command line that runs just this test again the same way."""
    parts = ["pytest", f"--harness-threads={threads}"]
    if settings.iterations != 1:
        parts.append(f"--harness-iterations={settings.iterations}")
    if settings.noise is not None:
        noise = settings.noise
        parts.append(f"--harness-noise={noise if isinstance(noise, str) else format(noise, 'g')}")
    parts += [f"--harness-seed={seed}", shlex.quote(base_nodeid(item))]
    return " ".join(parts)


def _failure_text(result: Result, lines: list[str]) -> str:
    from dataclasses import replace

    text = str(replace(result, schedule=None, target=None))
    return "\n".join([*lines, text]).rstrip()


def run_unmarked(
    item: pytest.Function, settings: HarnessConfig, record: Callable[[dict[str, Any]], None]
) -> bool:
    """Run an unmarked test as ``--harness-threads`` / ``--harness-explore`` ask.

    Returns False when pytest should run it as usual; gives ``record`` what the
    session keeps about it, then fails the test with the engine's report when a run
    failed.
    """
    if settings.explore is not None:
        _explore_if_threaded(item, settings, Memory(item.config), record)
        return True
    if settings.thread_count() is None:
        return False
    _run_in_threads(item, settings, record, None)
    return True


def threaded_unittest_method(
    item: pytest.Function, settings: HarnessConfig, record: Callable[[dict[str, Any]], None]
) -> Callable[[], None] | None:
    """For a ``unittest.TestCase`` method under ``--harness-threads``: the method to run
    in its place, which runs it in threads (None: run it as usual).

    unittest calls it between the one ``setUp`` and ``tearDown`` of the test, so the
    threads share the TestCase instance as function tests share their fixtures.
    ``--harness-explore`` leaves unittest methods to run as usual.
    """
    if settings.explore is not None or settings.thread_count() is None:
        return None
    method = item.obj

    def in_threads() -> None:
        _run_in_threads(item, settings, record, method)

    return in_threads


def _run_in_threads(
    item: pytest.Function,
    settings: HarnessConfig,
    record: Callable[[dict[str, Any]], None],
    method: Callable[[], object] | None,
) -> None:
    config = item.config
    memory = Memory(config)
    extra_fixtures = config.getini("harness_thread_unsafe_fixtures")
    extra_functions = config.getini("harness_thread_unsafe_functions")
    plan = thread_plan(item, settings, extra_fixtures, extra_functions)
    if plan.unsafe_reason is not None and plan.threads == 1:
        record({"engine": "threads", "threads": 1, "unsafe": plan.unsafe_reason})
        if method is not None:
            method()
        else:
            item.obj(**_arguments(item))
        return
    remembered = memory.get("seed", item)
    seed = int(remembered) if isinstance(remembered, int) else settings.seed
    result = run_threaded(item, plan, seed, settings, method)
    record({"engine": "threads", "threads": plan.threads, "seed": seed})
    if not result.failed:
        memory.drop("seed", item)
        return
    memory.put("seed", item, seed)
    group = result.failures[0]
    thread = group.failure.thread
    where = f" in thread {thread}" if thread and thread not in group.failure.message else ""
    more = len(result.failures) - 1
    headline = (
        f"threads: [{group.failure.kind}] {group.failure.message}{where} "
        f"(x{group.count}; {len(result.failing_runs)} of {result.runs} releases of "
        f"{plan.threads} threads failed"
        + (f"; {more} other distinct failure{'s' if more > 1 else ''}" if more else "")
        + ")"
    )
    rerun = rerun_command(item, settings, plan.threads, seed)
    pytest.fail(
        _failure_text(
            result, [headline, f"rerun just this test: {rerun}", "(seed remembered in the cache)"]
        ),
        pytrace=False,
    )


def _explore_if_threaded(
    item: pytest.Function,
    settings: HarnessConfig,
    memory: Memory,
    record: Callable[[dict[str, Any]], None],
) -> None:
    token = memory.get("explore", item)
    if isinstance(token, str):
        record({"engine": "explore", "threads": 1, "replayed_saved": True})
        result = run_explored(item, 1, settings.seed, token)
        if result.failed:
            _fail_explored(
                item, result, token, "replayed the failing schedule saved by an earlier run"
            )
        memory.drop("explore", item)  # fixed: explore afresh below
    threaded, error = starts_threads(functools.partial(item.obj, **_arguments(item)))
    if error is not None:
        raise error
    record({"engine": "explore", "threads": 1 if threaded else 0})
    if not threaded:
        return
    result = run_explored(item, settings.explore or 1, settings.seed, None)
    if result.failed:
        if result.schedule:
            memory.put("explore", item, result.schedule)
        _fail_explored(
            item, result, result.schedule, "saved in the cache: the next run replays it first"
        )


def _fail_explored(item: pytest.Function, result: Result, token: str | None, note: str) -> None:
    group = result.failures[0]
    headline = (
        f"explore: [{group.failure.kind}] {group.failure.message} "
        f"({len(result.failing_runs)} of {result.runs} schedules failed)"
    )
    lines = [headline]
    lanes = result.sections.get("interleaving")
    render = getattr(lanes, "render_text", None)
    if callable(render):
        lines += [render(width=110, full=False), ""]
    if token:
        lines.append(
            f"replay with:  pytest --harness-replay={token} {shlex.quote(base_nodeid(item))}"
        )
    lines.append(f"({note})")
    pytest.fail(_failure_text(result, lines), pytrace=False)
