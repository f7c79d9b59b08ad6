"""echo_pool: Ctrl-C cuts the daemon pool's echoes; sentinel and executor drain and close."""

from __future__ import annotations

import signal
import threading

import pytest

from harness.runner import run_variant
from harness.scenario import catalogue
from scenarios import echo_pool

SCENARIO = catalogue()["echo_pool"]
FIXES = ["sentinel", "executor"]


@pytest.mark.timeout(60)
def test_buggy_is_caught_in_its_first_run(no_leaks):
    run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1}, judged=True)
    assert run.met, str(run.result)
    assert run.result.kind == "assert", str(run.result)
    # Not a matter of luck: the clients speak again only once the server is dead.
    assert run.result.first_failing_run == 0, str(run.result)
    message = run.result.failures[0].failure.message
    assert "replies cut off: 4 of 24 echoes returned" in message, message
    assert "KeyboardInterrupt" in message, message
    assert "no clean-exit report" in message, message


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["ignored", "blocked"])
def test_the_server_sees_ctrl_c_even_when_its_parent_does_not(how, no_leaks):
    """A test process started as a background job of a script ignores SIGINT;
    its children inherit that (and a blocked SIGINT): the server must not."""
    previous = signal.getsignal(signal.SIGINT)
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())  # reads it, changes nothing
    try:
        if how == "ignored":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        run = run_variant(SCENARIO, SCENARIO.variant("buggy"), overrides={"seed": 1})
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        signal.signal(signal.SIGINT, previous)
    # The runs whose server saw the Ctrl-C die of KeyboardInterrupt (the bug). On a
    # loaded machine one run's server child may also start too slowly for the 3 s
    # pipe wait (an `exception` group, seen once in a CI rehearsal): what this test
    # checks is that such KeyboardInterrupt runs exist at all, whatever comes first.
    interrupted = [
        g.failure.message
        for g in run.result.failures
        if g.failure.kind == "assert" and "KeyboardInterrupt" in g.failure.message
    ]
    assert run.met and interrupted, str(run.result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fix", FIXES)
def test_fix_holds_under_the_same_budget(fix, no_leaks):
    variant = SCENARIO.variant(fix)
    assert variant.settings == SCENARIO.variant("buggy").settings
    run = run_variant(SCENARIO, variant, overrides={"seed": 1})
    assert run.met, str(run.result)
    assert run.result.runs == variant.settings["stress"]["runs"], str(run.result)
    (entry,) = list(run.result.histogram)
    assert entry.outcome == (
        "24 of 24 echoes returned; server exited cleanly, open sockets 0, threads 0"
    ), str(run.result)


@pytest.mark.timeout(60)
def test_check_rejects_a_cut_echo_and_an_unclean_exit():
    variant = SCENARIO.variant("sentinel")
    state = variant.setup(3)
    try:
        threads = [threading.Thread(target=a) for a in variant.actors(state)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        variant.check(state)
        state.echoes[1].pop()
        with pytest.raises(AssertionError, match="replies cut off: 11 of 12 echoes returned"):
            variant.check(state)
        state.echoes[1].append(echo_pool.message(1, echo_pool.MESSAGES - 1))
        state.exit_report = f"{echo_pool.CLEAN_EXIT} open sockets 2, threads 0"
        with pytest.raises(AssertionError, match="open sockets 2"):
            variant.check(state)
    finally:
        variant.teardown(state)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["buggy", *FIXES])
def test_teardown_ends_a_run_that_cannot_finish(name, no_leaks):
    # One client never runs, so the operator never presses Ctrl-C: the clients
    # wait for it and the server runs on, as in a hung run. Teardown must end the
    # server process and release everyone.
    variant = SCENARIO.variant(name)
    state = variant.setup(4)
    errors = []

    def body(actor):
        try:
            actor()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(a,)) for a in variant.actors(state)[1:]]
    for thread in threads:
        thread.start()
    try:
        variant.teardown(state)
    finally:
        for thread in threads:
            thread.join(10)
    assert not [t for t in threads if t.is_alive()], "actors still running after teardown"
    assert state.proc.returncode is not None


@pytest.mark.timeout(60)
def test_no_variant_unpickles_network_bytes():
    for variant in SCENARIO.variants.values():
        for _, text in variant.sources():
            assert "pickle" not in text, variant.name
    with open(echo_pool.__file__) as f:
        assert "pickle" not in f.read()


def test_servers_are_spawned_without_a_shell():
    with open(echo_pool.__file__) as f:
        source = f.read()
    assert "shell=True" not in source
    assert "os.system" not in source
