"""Bad arguments to the Python API: a HarnessError naming the argument and the value.

Never a bare TypeError (or worse, a hang) from deep inside an engine: every case
below fails before anything runs, with a message a user can act on.
"""

from __future__ import annotations

import math

import pytest

import harness
from harness.explore.token import Schedule, encode, interpreter

NAN = float("nan")
INF = float("inf")


class Unprintable:
    """A user object whose repr fails: the error message must not."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def setup():
    return [0]


def actors(state):
    return [lambda: None, lambda: None]


def shown(value) -> tuple[str, ...]:
    """The ways a message may show ``value``."""
    if isinstance(value, Unprintable):
        return ("Unprintable",)
    if isinstance(value, int) and not isinstance(value, bool):
        return (str(value), f"{value:,}")
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (repr(value),)


def good_token() -> str:
    here, magic = interpreter()
    return encode(Schedule((), None, None, here, magic))


CALLABLES = {
    "setup": [None, 1, "setup", Unprintable()],
    "actors": [None, 3, [lambda: None]],
    "check": [1, "yes", True],
    "observe": [2.5, "outcome"],
    "teardown": [0, b"x"],
}
COUNT = [0, -1, True, False, 2.5, NAN, "3", None, 10**12, 2**80]
SECONDS = [0, -1, NAN, INF, True, "1", 10**12]
SEED = [1.5, "1", True, None, b"0", Unprintable()]

STRESS = {
    **CALLABLES,
    "runs": [c for c in COUNT if c is not None],  # runs=None means the default
    "threads": [c for c in COUNT if c is not None],  # threads=None means "one per actor"
    "noise": [-0.1, 1.01, NAN, INF, -INF, True, "0.1", None, [0.1]],
    "seed": SEED,
    "timeout": SECONDS,
    "seconds": SECONDS,
    "switch_interval": [0, -1e-6, 2.0, NAN, "1e-6"],
    "progress": [1, "bar"],
}
EXPLORE = {
    **CALLABLES,
    "budget": COUNT,
    "threads": [c for c in COUNT if c is not None],
    "strategy": ["bfs", "", "PCT", "pct ", None, 3, ("pct",), Unprintable()],
    "seed": SEED,
    # None is legal: dfs takes 2, dpor searches without a bound
    "bound": [-1, 11, 1.5, True, "2", 10**12],
    "depth": [0, 11, True, None, 2.5],
    "max_steps": COUNT,
    "timeout": SECONDS,
    "progress": [1, "bar"],
}
REPLAY = {
    **CALLABLES,
    "token": [123, None, b"hx1_abc", ["hx1_"], 1.5, Unprintable()],
    "threads": [c for c in COUNT if c is not None],
    "max_steps": COUNT,
    "timeout": SECONDS,
}


def label(value) -> str:
    """A test id that is the same in every process (no addresses in it)."""
    if isinstance(value, Unprintable) or callable(value) or isinstance(value, list):
        return type(value).__name__
    return repr(value)[:30]


def cases(engine, table):
    return [
        pytest.param(engine, name, value, id=f"{engine}-{name}-{label(value)}")
        for name, values in table.items()
        for value in values
    ]


def call(engine, name, value):
    kwargs = {"setup": setup, "actors": actors}
    if engine == "stress":
        return harness.stress(**{**kwargs, "runs": 1, name: value})
    if engine == "explore":
        return harness.explore(**{**kwargs, "budget": 1, name: value})
    return harness.replay(**{"token": good_token(), **kwargs, name: value})


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "engine, name, value",
    cases("stress", STRESS) + cases("explore", EXPLORE) + cases("replay", REPLAY),
)
def test_bad_argument_is_a_harness_error_naming_it(engine, name, value):
    with pytest.raises(harness.HarnessError) as caught:
        call(engine, name, value)
    assert isinstance(caught.value, harness.UsageError)
    message = str(caught.value)
    label = "replay token" if name == "token" else name
    assert label in message, message
    assert any(s in message for s in shown(value)), message
    assert "\n" not in message


@pytest.mark.parametrize("engine", ["stress", "explore"])
@pytest.mark.parametrize(
    "bad_actors, fragment",
    [
        (lambda s: [], "returned no actors"),
        (lambda s: 5, "must return a list of callables, got int"),
        (lambda s: "ab", "must return a list of callables, got str"),
        (lambda s: [print, 1], r"actors(state)[1] must be a zero-argument callable, got int"),
    ],
)
@pytest.mark.timeout(30)
def test_actors_returning_no_callables_is_a_usage_error(engine, bad_actors, fragment):
    run = harness.stress if engine == "stress" else harness.explore
    budget = {"runs": 1} if engine == "stress" else {"budget": 1}
    with pytest.raises(harness.UsageError) as caught:
        run(setup, bad_actors, **budget)
    assert fragment in str(caught.value)


def needs_two(a, b):
    return None


@pytest.mark.parametrize("engine", ["stress", "explore", "replay"])
@pytest.mark.parametrize(
    "name, value, fragment",
    [
        ("setup", needs_two, "setup is called with no argument, but needs_two(a, b) is not"),
        ("setup", lambda state: 0, "setup is called with no argument, but <lambda>(state)"),
        ("actors", lambda: [print], "actors is called with one argument (the state), but"),
        ("check", lambda: True, "check is called with one argument (the state), but"),
        ("check", lambda s, *, strict: True, "<lambda>(s, *, strict) is not"),
        ("observe", needs_two, "observe is called with one argument"),
        ("teardown", lambda: None, "teardown is called with one argument"),
    ],
)
def test_a_callable_that_cannot_take_its_arguments_is_a_usage_error(engine, name, value, fragment):
    with pytest.raises(harness.UsageError) as caught:
        call(engine, name, value)
    assert fragment in str(caught.value)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"setup": dict},  # a builtin: its call is its own check
        {"setup": lambda x=1: [0], "check": lambda *state: True},
        {"actors": lambda state, extra=None: [print, print], "observe": str},
    ],
    ids=["builtin", "defaults-and-varargs", "optional-extra"],
)
def test_callables_with_defaults_or_no_readable_signature_are_accepted(kwargs):
    assert not harness.stress(**{"setup": setup, "actors": actors, **kwargs}, runs=1).failed


@pytest.mark.timeout(30)
def test_the_good_arguments_of_these_tests_do_run():
    # Guards the table above: the only bad thing in each case is the one value.
    assert not harness.stress(setup, actors, runs=1).failed
    assert not harness.explore(setup, actors, budget=1).failed
    assert not harness.replay(good_token(), setup, actors).failed
