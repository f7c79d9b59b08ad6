"""Replay tokens: round trip, refusal of other interpreters, and a fuzzed decoder
that only ever raises the documented TokenError."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import TokenError
from harness.explore.token import PREFIX, Schedule, decode, encode, interpreter

here, magic = interpreter()


@given(
    st.lists(
        st.tuples(st.integers(-1, 50), st.integers(0, 10**6), st.integers(0, 200)),
        max_size=50,
    ),
    st.one_of(st.none(), st.text(max_size=40)),
    st.one_of(st.none(), st.integers(1, 10_000)),
)
def test_round_trip(deviations, target, threads):
    schedule = Schedule(tuple(deviations), target, threads, here, magic)
    token = encode(schedule)
    assert token.startswith(PREFIX) and token.isascii() and " " not in token
    assert decode(token) == schedule


def test_token_is_compact():
    token = encode(Schedule(((0, 5, 2), (1, 3, 0)), "thevar:buggy", 2, here, magic))
    assert len(token) < 120, token


def test_another_interpreter_is_refused():
    schedule = decode(encode(Schedule(((0, 1, 2),), None, None, "cpython-399", 9)))
    with pytest.raises(TokenError, match=r"recorded on cpython-399 .* cannot be replayed here"):
        schedule.check_interpreter()


@pytest.mark.parametrize(
    "token, fragment",
    [
        ("", "empty replay token"),
        ("   ", "empty replay token"),
        ("hello", "not a replay token"),
        (PREFIX + "!!!", "malformed"),
        (PREFIX + base64.urlsafe_b64encode(b"not zlib").decode(), "malformed"),
        (PREFIX + "x" * 1_000_001, "too long"),
    ],
)
def test_bad_tokens(token, fragment):
    with pytest.raises(TokenError, match=fragment):
        decode(token)


def _token_of(payload) -> str:
    raw = zlib.compress(json.dumps(payload).encode())
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"py": here, "m": magic},
        {"py": here, "m": magic, "d": [1, 2]},
        {"py": here, "m": magic, "d": [1, 2, "x"]},
        {"py": here, "m": magic, "d": [1, 2, True]},
        {"py": here, "m": magic, "d": [-2, 0, 0]},
        {"py": 3, "m": magic, "d": []},
        {"py": here, "m": "x", "d": []},
        {"py": here, "m": magic, "d": [], "t": 5},
        {"py": here, "m": magic, "d": [], "n": 0},
    ],
)
def test_well_formed_encodings_of_bad_payloads(payload):
    with pytest.raises(TokenError, match="malformed"):
        decode(_token_of(payload))


@settings(max_examples=500)
@given(st.text())
def test_fuzzed_text_only_raises_token_error(text):
    for candidate in (text, PREFIX + text):
        try:
            decode(candidate)
        except TokenError:
            pass


@settings(max_examples=500)
@given(st.binary())
def test_fuzzed_bytes_only_raise_token_error(data):
    for candidate in (
        PREFIX + base64.urlsafe_b64encode(data).decode(),
        PREFIX + base64.urlsafe_b64encode(zlib.compress(data)).decode(),
    ):
        try:
            decode(candidate)
        except TokenError:
            pass


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids),
    )
)
def test_fuzzed_json_payloads_only_raise_token_error(payload):
    try:
        decode(_token_of(payload))
    except TokenError:
        pass


def test_non_string_token():
    with pytest.raises(TokenError, match="string"):
        decode(b"hx1_abc")  # type: ignore[arg-type]
