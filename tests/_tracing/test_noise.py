"""The stress engine's noise levels: a fixed probability, and ``auto``."""

from __future__ import annotations

import itertools
import random

import pytest

import harness
from harness._tracing.noise import (
    AUTO,
    AUTO_CEILING,
    AUTO_YIELDS,
    DEFAULT_NOISE,
    NOISE_FLOOR,
    NoiseHook,
    noise_on,
)
from harness.errors import UsageError


def test_auto_is_the_default_and_falls_from_the_ceiling_to_the_floor():
    assert DEFAULT_NOISE == AUTO
    hook = NoiseHook(random.Random(0), AUTO)
    seen = []
    for _ in range(20_000):
        hook(None)  # type: ignore[arg-type]
        seen.append(hook.probability)
    assert seen[0] == AUTO_CEILING, "a thread's first points are preempted often"
    assert seen[99] == pytest.approx(AUTO_YIELDS / 100), seen[99]
    assert seen[-1] == NOISE_FLOOR, "a long body falls to the fixed floor"
    assert all(a >= b for a, b in itertools.pairwise(seen)), "the level never rises"


def test_a_fixed_level_stays_fixed():
    hook = NoiseHook(random.Random(0), 0.2)
    for _ in range(1_000):
        hook(None)  # type: ignore[arg-type]
    assert hook.probability == 0.2 and not hook.adaptive
    assert 150 < hook.yields < 250, hook.yields


def test_auto_yields_about_log_many_times_on_a_long_body():
    # Harmonic: about AUTO_YIELDS * ln(points / AUTO_YIELDS) yields before the
    # floor takes over, so 100,000 points cost far fewer yields than 0.05 would.
    hook = NoiseHook(random.Random(3), AUTO)
    for _ in range(100_000):
        hook(None)  # type: ignore[arg-type]
    floor_yields = NOISE_FLOOR * 100_000
    assert hook.yields < floor_yields + 20 * AUTO_YIELDS, hook.yields
    assert hook.yields > floor_yields / 2, hook.yields


def test_noise_on():
    assert noise_on(AUTO) and noise_on(0.001) and not noise_on(0) and not noise_on(0.0)


@pytest.mark.parametrize("bad", ["loud", "", 1.5, -0.1, True])
def test_stress_rejects_a_noise_that_is_neither_a_probability_nor_auto(bad):
    with pytest.raises(UsageError, match="noise must be"):
        harness.stress(lambda: None, lambda s: [lambda: None], runs=1, noise=bad)


_made: list[object] = []
_instance: object | None = None


def _check(_: None) -> None:
    assert len(_made) == 1, f"made {len(_made)} instances"


def _setup() -> None:
    global _instance
    _instance = None
    _made.clear()


def _get() -> object:
    global _instance
    if _instance is None:  # a check-then-set with a window of one bytecode
        _instance = object()
        _made.append(_instance)
    return _instance


@pytest.mark.timeout(120)
def test_auto_catches_a_one_bytecode_window_that_the_floor_rarely_does():
    # Measured (3.11, seed 0, 300 runs): 5 failures at 0.001, 173 under auto
    # (3.13t: 16 and 129). Over 200 runs, 20 is far below auto's rate and far
    # above the floor's (about 3 expected at 0.001 on a GIL build).
    result = harness.stress(
        _setup,
        lambda _: [_get, _get],
        _check,
        runs=200,
        seed=0,
    )
    assert result.settings["noise"] == AUTO
    assert len(result.failing_runs) >= 20, str(result)
