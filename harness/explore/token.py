"""Replay tokens: a failing schedule as one compact, copyable string.

A token holds the schedule's deviations from the default scheduling decision
(see :mod:`harness.explore.strategies.replay`), the program it belongs to when
that is a catalogue variant, and the interpreter it was recorded on. Schedules
are sequences of bytecode-level decisions, so a token recorded on one CPython
bytecode version is refused, with a clear message, on another.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import sys
import zlib
from dataclasses import dataclass
from typing import Any

from harness._validate import show
from harness.errors import TokenError

__all__ = ["PREFIX", "Schedule", "decode", "encode", "interpreter"]

PREFIX = "hx1_"
_MAX_TOKEN = 1_000_000


def interpreter() -> tuple[str, int]:
    """This interpreter's name and bytecode magic number."""
    magic = int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")
    return sys.implementation.cache_tag or sys.implementation.name, magic


@dataclass(frozen=True)
class Schedule:
    """A schedule: deviations ``(thread, thread step, choice)`` and provenance."""

    deviations: tuple[tuple[int, int, int], ...]
    target: str | None = None
    threads: int | None = None
    python: str = ""
    magic: int = 0

    def check_interpreter(self) -> None:
        """Refuse to replay a schedule recorded on different bytecode."""
        here, magic = interpreter()
        if (self.python, self.magic) != (here, magic):
            raise TokenError(
                f"this token was recorded on {self.python} (bytecode {self.magic}) and this is "
                f"{here} (bytecode {magic}): instructions differ, so its schedule cannot be "
                "replayed here; record a new one with `harness explore` on this Python"
            )


def encode(schedule: Schedule) -> str:
    flat: list[int] = [n for deviation in schedule.deviations for n in deviation]
    payload: dict[str, Any] = {"py": schedule.python, "m": schedule.magic, "d": flat}
    if schedule.target is not None:
        payload["t"] = schedule.target
    if schedule.threads is not None:
        payload["n"] = schedule.threads
    raw = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 9)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> Schedule:
    """Parse a token; any problem raises :class:`TokenError`, nothing else."""
    if not isinstance(token, str):
        raise TokenError(f"a replay token is a string, got {show(token)}")
    token = token.strip()
    if not token:
        raise TokenError("empty replay token")
    if len(token) > _MAX_TOKEN:
        raise TokenError(f"replay token too long ({len(token):,} characters)")
    if not token.startswith(PREFIX):
        raise TokenError(f"not a replay token (they start with {PREFIX!r}): {token[:40]!r}")
    body = token[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        payload = json.loads(zlib.decompress(raw, bufsize=1 << 16))
    except (
        binascii.Error,
        ValueError,
        zlib.error,
        RecursionError,
        MemoryError,
        UnicodeDecodeError,
    ):
        raise TokenError(f"malformed replay token: {token[:40]!r}...") from None
    return _schedule_from(payload, token)


def _schedule_from(payload: Any, token: str) -> Schedule:
    def bad(why: str) -> TokenError:
        return TokenError(f"malformed replay token ({why}): {token[:40]!r}")

    if not isinstance(payload, dict):
        raise bad("not a mapping")
    flat = payload.get("d")
    python = payload.get("py")
    magic = payload.get("m")
    target = payload.get("t")
    threads = payload.get("n")
    if not isinstance(flat, list) or len(flat) % 3:
        raise bad("no schedule")
    # Thread -1 is "before any thread ran" (the first decision of an execution).
    if not all(isinstance(n, int) and not isinstance(n, bool) and -1 <= n < 1 << 40 for n in flat):
        raise bad("schedule entries must be small integers")
    if not isinstance(python, str) or not isinstance(magic, int) or isinstance(magic, bool):
        raise bad("no interpreter")
    if target is not None and not isinstance(target, str):
        raise bad("target must be a string")
    if threads is not None and (
        not isinstance(threads, int) or isinstance(threads, bool) or threads < 1
    ):
        raise bad("thread count must be a positive integer")
    deviations = tuple((flat[i], flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3))
    return Schedule(deviations, target, threads, python, magic)
