"""A bank account whose withdrawal reads the balance outside the lock.

Pattern of SCTBench's ``CS/account_bad``. Deposit holds the account's lock for its
whole read-modify-write; withdrawal reads the balance first and takes the lock
only to write the new balance back. A deposit that lands between the read and
the write is overwritten: the money vanishes. The fix reads inside the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram

OPENING, DEPOSIT, WITHDRAWAL = 100, 50, 30


class Account:
    def __init__(self) -> None:
        self.balance = OPENING
        self.lock = threading.Lock()


def deposit(account: Account) -> None:
    with account.lock:
        account.balance = account.balance + DEPOSIT


def withdraw_stale(account: Account) -> None:
    balance = account.balance  # read outside the lock ...
    with account.lock:
        account.balance = balance - WITHDRAWAL  # ... write back a value that may be stale


def withdraw_locked(account: Account) -> None:
    with account.lock:
        account.balance = account.balance - WITHDRAWAL


def check(account: Account) -> None:
    expected = OPENING + DEPOSIT - WITHDRAWAL
    assert account.balance == expected, (
        f"balance {account.balance}, expected {expected}: an update was lost"
    )


def _actors(withdraw: Callable[[Account], None]) -> Callable[[Account], list[Callable[[], None]]]:
    def actors(account: Account) -> list[Callable[[], None]]:
        return [lambda: deposit(account), lambda: withdraw(account)]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Account,
        "check": check,
        "threads": 2,
        "origin": "CS/account_bad",
    }
    return [
        CorpusProgram(
            "account",
            BUGGY,
            "withdraw reads the balance, then locks only to write it back",
            actors=_actors(withdraw_stale),
            budget=100,
            **common,
        ),
        CorpusProgram(
            "account",
            FIXED,
            "withdraw reads and writes the balance under the lock",
            actors=_actors(withdraw_locked),
            budget=200,
            **common,
        ),
    ]
