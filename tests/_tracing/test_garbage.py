"""The freeze that keeps old garbage out of a call's threads must not keep it forever."""

from __future__ import annotations

import gc
import itertools

import pytest

from harness._tracing import garbage


class Node:
    pass


def make_cycles(count):
    for _ in range(count):
        a, b = Node(), Node()
        a.other, b.other = b, a


def test_garbage_hidden_by_back_to_back_freezes_is_collected(monkeypatch):
    """Calls run frozen back to back, each leaving garbage pending when it thaws;
    the next freeze hides it again. Without the amortised full collection it
    piled up (3.11: about 290 objects per engine call; 3.13t: its collector fell
    behind and each call got slower)."""
    if gc.get_freeze_count():
        pytest.skip(
            "objects were frozen before the test (CPython 3.12.1 starts with 375), "
            "so freeze_old_garbage leaves the collector alone"
        )
    # A clock that moves 10 ms per reading, read once per round (twice when it
    # collects): a collection "takes" 10 ms, so the next is due 10 ms / SHARE =
    # 100 ms later, after 10 rounds.
    readings = itertools.count()
    monkeypatch.setattr(garbage, "_clock", lambda: next(readings) * 0.01)
    monkeypatch.setattr(garbage, "SHARE", 0.1)
    monkeypatch.setattr(garbage, "_collected_at", None)
    gc.collect()
    alive = len(gc.get_objects())
    rounds, per_round = 400, 2_000
    for _ in range(rounds):
        froze = garbage.freeze_old_garbage()
        assert froze
        try:
            make_cycles(per_round)  # the call's own garbage, pending at the thaw
        finally:
            garbage.thaw_old_garbage(froze)
    assert gc.get_freeze_count() == 0
    tracked = len(gc.get_objects())
    # At most what 10 rounds can leave pending (each makes 4,000 objects) is
    # hidden at a time; the 400 rounds made 1,600,000.
    bound = alive + 12 * per_round * 2
    assert tracked <= bound, f"{tracked - alive} objects more than the {alive} alive before"
