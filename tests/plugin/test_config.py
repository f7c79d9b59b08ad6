"""harness._pytest.config: three layers (command line, environment, ini), one frozen result,
and errors that say which layer a bad value came from."""

from __future__ import annotations

import dataclasses

import pytest

from harness import UsageError
from harness._pytest.config import AUTO, SETTINGS, HarnessConfig, resolve, setting


def _token() -> str:
    from harness.explore.token import Schedule, encode, interpreter

    python, magic = interpreter()
    return encode(Schedule(((0, 1, 2),), "tests/test_x.py::test_y", None, python, magic))


def test_nothing_given_means_the_defaults():
    config = resolve({}, {}, {})
    assert config == HarnessConfig(sources=config.sources), f"not the defaults: {config}"
    assert (config.seed, config.budget_scale, config.replay) == (0, 1.0, None)
    assert (config.report, config.lockorder, config.shards) == (None, False, AUTO)
    assert all(config.source(s.name) == "default" for s in SETTINGS), dict(config.sources)
    assert config.describe() == "defaults"


def test_command_line_beats_environment_beats_ini():
    ini = {"harness_seed": "1", "harness_budget_scale": "0.5", "harness_shards": "3"}
    env = {"HARNESS_SEED": "2", "HARNESS_BUDGET_SCALE": "4"}
    config = resolve({"seed": "3"}, env, ini, "/project/setup.cfg")
    assert config.seed == 3, "the command line did not win over the environment"
    assert config.budget_scale == 4.0, "the environment did not win over the ini file"
    assert config.shards == 3, "the ini value was not used when nothing else was given"
    assert config.source("seed") == "command line (--harness-seed)"
    assert config.source("budget_scale") == "environment (HARNESS_BUDGET_SCALE)"
    assert config.source("shards") == "ini file (harness_shards in setup.cfg)"
    assert config.source("report") == "default"


def test_empty_values_count_as_not_given():
    config = resolve({"seed": None}, {"HARNESS_SEED": ""}, {"harness_seed": "9"})
    assert config.seed == 9, f"an empty environment variable hid the ini value: {config}"


@pytest.mark.parametrize(
    ("command_line", "environ", "ini", "where"),
    [
        ({"seed": "ten"}, {}, {}, "from the command line (--harness-seed)"),
        ({}, {"HARNESS_SEED": "ten"}, {"harness_seed": "1"}, "from the environment (HARNESS_SEED)"),
        ({}, {}, {"harness_seed": "ten"}, "from the ini file (harness_seed in tox.ini)"),
    ],
)
def test_a_bad_value_names_the_layer_it_came_from(command_line, environ, ini, where):
    with pytest.raises(UsageError) as caught:
        resolve(command_line, environ, ini, "/somewhere/tox.ini")
    message = str(caught.value)
    assert message.startswith(f"bad value for seed {where}:"), message
    assert "'ten'" in message, f"the bad value is not quoted: {message}"


def test_a_good_command_line_value_hides_a_bad_environment_one():
    config = resolve({"seed": "5"}, {"HARNESS_SEED": "ten"}, {})
    assert config.seed == 5


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("seed", "-3", -3),
        ("budget_scale", "0.1", 0.1),
        ("budget_scale", "10", 10.0),
        ("lockorder", "yes", True),
        ("lockorder", "OFF", False),
        ("lockorder", "1", True),
        ("shards", "auto", AUTO),
        ("shards", "4", 4),
        ("report", "out/harness.json", "out/harness.json"),
    ],
)
def test_values_parse(name, text, expected):
    config = resolve({name: text}, {}, {})
    assert getattr(config, name) == expected


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("budget_scale", "0", "positive"),
        ("budget_scale", "-1", "positive"),
        ("budget_scale", "nan", "positive"),
        ("budget_scale", "1e9", "at most"),
        ("budget_scale", "fast", "expected a number"),
        ("lockorder", "maybe", "true/false"),
        ("shards", "0", "1..1024"),
        ("shards", "many", "'auto' or a whole number"),
        ("report", "  ", "empty"),
        ("replay", "hx1_garbage", "malformed replay token"),
        ("replay", "not-a-token", "not a replay token"),
    ],
)
def test_bad_values_say_what_is_wrong(name, text, why):
    with pytest.raises(UsageError, match=f"bad value for {name} from the command line") as caught:
        resolve({name: text}, {}, {})
    assert why in str(caught.value), str(caught.value)


def test_a_replay_token_is_checked_and_kept():
    token = _token()
    config = resolve({}, {"HARNESS_REPLAY": f"  {token} "}, {})
    assert config.replay == token, "the token was not stripped and kept"
    assert config.is_set("replay") and not config.is_set("seed")
    assert config.describe().startswith(f"replay={token[:16]}... (environment (HARNESS_REPLAY))")


def test_the_config_is_immutable():
    config = resolve({"seed": "1"}, {}, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.sources["seed"] = "default"  # type: ignore[index]


@pytest.mark.parametrize(
    ("scale", "count", "expected"),
    [(1.0, 200, 200), (0.1, 200, 20), (0.001, 200, 1), (2.5, 3, 8), (0.3, 10, 3)],
)
def test_scaled_counts_round_up_and_never_reach_zero(scale, count, expected):
    assert HarnessConfig(budget_scale=scale).scaled(count) == expected


def test_every_setting_has_three_distinct_names():
    for item in SETTINGS:
        assert item.flag == "--harness-" + item.name.replace("_", "-"), item
        assert item.env == "HARNESS_" + item.name.upper(), item
        assert item.ini == "harness_" + item.name, item
        assert setting(item.name) is item
        assert item.help, item
