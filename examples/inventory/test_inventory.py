"""A project's own tests of ``inventory``, written with no thought of threads.

Every test passes when pytest runs it once. Under ``--harness-threads=4`` the four
whose code is not thread-safe fail (a lost update, a check-then-act, a lock-order
inversion and a leaked thread), and the rest pass; the one that uses ``capsys``
runs once, in one thread, and is listed as such.
"""

from __future__ import annotations

from inventory import (
    Account,
    Ids,
    LockedAccount,
    LockedIds,
    Refresher,
    audit,
    audit_in_order,
    restock,
)

ids = Ids()
issued: set[int] = set()
locked_ids = LockedIds()
locked_issued: set[int] = set()
account = Account()
locked_account = LockedAccount()


def test_every_id_is_new():
    for _ in range(500):
        item = ids.issue()
        assert item not in issued  # another call already handed out this id
        issued.add(item)


def test_every_locked_id_is_new():
    for _ in range(500):
        item = locked_ids.issue()
        assert item not in locked_issued
        locked_issued.add(item)


def test_withdrawing_never_overdraws():
    for _ in range(200):
        account.deposit(2)
        while account.withdraw(1):
            pass
        assert account.balance >= 0


def test_locked_withdrawing_never_overdraws():
    for _ in range(200):
        locked_account.deposit(2)
        while locked_account.withdraw(1):
            pass
        assert locked_account.balance >= 0


def test_restock_then_audit():
    restock("widget", 1)
    assert audit() >= 11


def test_restock_then_audit_in_order():
    restock("widget", 1)
    assert audit_in_order() >= 11


def test_refresher_refreshes():
    refresher = Refresher()
    assert refresher.refreshes >= 0  # forgets refresher.stop(): its thread lives on


def test_refresher_stopped():
    refresher = Refresher()
    refresher.stop()


def test_pure_function():
    assert sorted([3, 1, 2]) == [1, 2, 3]


def test_prints(capsys):
    print("stock checked")
    assert capsys.readouterr().out == "stock checked\n"
