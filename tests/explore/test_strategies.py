"""The strategies on their own, fed synthetic decisions."""

from __future__ import annotations

import itertools

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


# -- DFS: backtracking and nondeterminism ---------------------------------------------


def _drive_dfs(dfs, steps: int, runnable=(0, 1)) -> list[list[int]] | None:
    """Every execution of two always-runnable threads, until the search is exhausted."""
    executions = []
    while dfs.new_execution():
        choice, codes, current = Choice(), [], -1
        for step in range(steps):
            choice.current, choice.current_runnable = current, current >= 0
            choice.runnable = runnable
            choice.default = run(max(current, 0))
            choice.step = step
            code = dfs.choose(choice)
            codes.append(code)
            current = code // 2
        dfs.end_execution(steps, failed=False)
        executions.append(codes)
        assert len(executions) < 100, "the search must end"
    return executions


def test_dfs_runs_every_schedule_within_the_bound_once_then_is_exhausted():
    from harness.explore.strategies import DFS

    # Three decisions: the first is free (nobody runs yet), each later switch is a
    # preemption. bound 0: the two free first picks; bound 1: each of those with no
    # preemption, or one at decision 1 or 2 (2 * 3).
    for bound, expected in ((0, 2), (1, 6), (2, 8)):
        dfs = DFS(bound=bound)
        executions = _drive_dfs(dfs, steps=3)
        assert len(executions) == expected, (bound, executions)
        assert len({tuple(e) for e in executions}) == expected, "no schedule twice"
        assert dfs.exhausted and not dfs.new_execution()
        for codes in executions:
            switches = sum(1 for a, b in itertools.pairwise(codes) if a != b)
            assert switches <= bound, (bound, codes)
    assert _drive_dfs(DFS(bound=0), steps=3)[0] == [run(0)] * 3, "the default first"


def test_dfs_reports_a_program_that_offers_other_options_on_the_same_prefix():
    import pytest

    from harness.explore.strategies import DFS, NondeterminismError

    dfs = DFS(bound=1)
    assert dfs.new_execution()
    choice = Choice()
    choice.runnable, choice.default = (0, 1), run(0)
    dfs.choose(choice)
    dfs.end_execution(1, failed=False)
    assert dfs.new_execution()
    choice.runnable = (0, 1, 2)  # a third thread appeared on the same (empty) prefix
    # Not raised in the program's thread: the execution ends on defaults, and the
    # next one cannot start.
    assert dfs.choose(choice) == choice.default
    assert dfs.choose(choice) == choice.default
    dfs.end_execution(1, failed=False)
    with pytest.raises(NondeterminismError, match="does not behave the same way"):
        dfs.new_execution()


# -- PCT: change points ---------------------------------------------------------------


def test_pct_switches_threads_exactly_at_its_depth_minus_one_change_points():
    for depth in (1, 2, 3):
        for seed in range(5):
            # 70 steps cover every change point (drawn among the first 64 decisions).
            (codes,) = _drive(PCT(seed=seed, depth=depth), 1, steps=70)
            switches = sum(1 for a, b in itertools.pairwise(codes) if a != b)
            assert switches == depth - 1, (depth, seed, codes)


def test_pct_lets_a_thread_that_yields_drop_to_the_lowest_priority():
    pct = PCT(seed=1, depth=1)
    assert pct.new_execution()
    for index in range(3):
        pct.on_thread(index)
    choice = Choice()
    choice.current, choice.current_runnable, choice.runnable = 0, True, (0, 1, 2)
    first = pct.choose(choice)
    pct.on_yield(first // 2)
    second = pct.choose(choice)
    assert second != first, "the yielding thread must not be chosen again at once"


# -- Replay: taken and missed deviations ----------------------------------------------


def test_replay_takes_recorded_deviations_and_counts_those_it_cannot_take():
    from harness.explore.strategies import Replay, fire

    replay = Replay([(0, 0, run(1)), (1, 0, fire(2)), (0, 5, run(0))])
    assert replay.new_execution()
    choice = Choice()
    choice.runnable, choice.default = (0, 1), run(0)
    choice.current, choice.thread_step = 0, 0
    assert replay.choose(choice) == run(1), "a recorded, legal deviation is taken"
    choice.current, choice.thread_step = 1, 0
    assert replay.choose(choice) == run(0), "no timed wait to fire: the default instead"
    choice.current, choice.thread_step = 1, 1
    assert replay.choose(choice) == run(0), "an unrecorded decision takes the default"
    assert (replay.used, replay.missed) == (1, 1)
    assert replay.new_execution() and (replay.used, replay.missed) == (0, 0)
