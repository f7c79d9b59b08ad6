"""The strategies on their own, fed synthetic decisions."""

from __future__ import annotations

from harness.explore.strategies import PCT, Choice, Mixed, RandomWalk, Strategy, run


def _drive(strategy: Strategy, executions: int, steps: int = 40) -> list[list[int]]:
    """Codes chosen over ``executions`` executions of three always-runnable threads."""
    out = []
    for _ in range(executions):
        assert strategy.new_execution()
        for index in range(3):
            strategy.on_thread(index)
        choice, codes, current = Choice(), [], -1
        for step in range(steps):
            choice.current, choice.current_runnable = current, current >= 0
            choice.runnable = (0, 1, 2)
            choice.default = run(max(current, 0))
            choice.step = step
            code = strategy.choose(choice)
            codes.append(code)
            current = code // 2
        strategy.end_execution(steps, failed=False)
        out.append(codes)
    return out


def test_mixed_alternates_random_walk_and_pct_each_with_its_own_stream():
    mixed = _drive(Mixed(seed=7), 4)
    walks = _drive(RandomWalk(seed=7), 2)
    pct = _drive(PCT(seed=7), 2)
    assert mixed == [walks[0], pct[0], walks[1], pct[1]]
    assert walks[0] != pct[0], "the members must schedule differently"


def test_mixed_is_reproducible_from_its_seed():
    assert _drive(Mixed(seed=3), 6) == _drive(Mixed(seed=3), 6)
    assert _drive(Mixed(seed=3), 6) != _drive(Mixed(seed=4), 6)
