"""Mutual exclusion by a token passed around a ring, passed on too early.

Pattern of SCTBench's ``CS/token_ring_bad``. Each node waits until it holds the
token, enters its critical section, and hands the token to the next node. The
buggy node hands the token on *before* leaving its critical section, so the next
node may enter while it is still inside. The fix leaves first, then passes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

NODES = 3
ROUNDS = 2


class Ring:
    def __init__(self) -> None:
        self.holder = 0
        self.cond = threading.Condition()
        self.inside = 0
        self.overlaps = 0


def _wait_for_token(ring: Ring, me: int) -> None:
    with ring.cond:
        while ring.holder != me:
            ring.cond.wait()


def _pass_token(ring: Ring, me: int) -> None:
    with ring.cond:
        ring.holder = (me + 1) % NODES
        ring.cond.notify_all()


def _enter(ring: Ring) -> None:
    ring.inside += 1
    if ring.inside > 1:
        ring.overlaps += 1


def node_passes_early(ring: Ring, me: int) -> None:
    for _ in range(ROUNDS):
        _wait_for_token(ring, me)
        _enter(ring)
        _pass_token(ring, me)  # the next node may enter now ...
        ring.inside -= 1  # ... while this one is still inside


def node_passes_after(ring: Ring, me: int) -> None:
    for _ in range(ROUNDS):
        _wait_for_token(ring, me)
        _enter(ring)
        ring.inside -= 1
        _pass_token(ring, me)


def check(ring: Ring) -> None:
    assert ring.overlaps == 0, (
        f"two nodes were in the critical section together {ring.overlaps} time(s)"
    )


def _actors(node: Callable[[Ring, int], None]) -> Callable[[Ring], list[Callable[[], None]]]:
    def actors(ring: Ring) -> list[Callable[[], None]]:
        return [lambda me=me: node(ring, me) for me in range(NODES)]  # type: ignore[misc]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Ring,
        "check": check,
        "threads": NODES,
        "origin": "CS/token_ring_bad",
    }
    return [
        CorpusProgram(
            "token_ring",
            BUGGY,
            "a node passes the token on before leaving its critical section",
            actors=_actors(node_passes_early),
            budget=300,
            **common,
        ),
        CorpusProgram(
            "token_ring",
            FIXED,
            "a node leaves its critical section, then passes the token",
            actors=_actors(node_passes_after),
            budget=200,
            **common,
        ),
    ]
