"""A small stock-keeping library with the thread-safety bugs real libraries ship.

Each buggy piece sits beside its fixed twin, so that ``test_inventory.py`` (a plain
pytest file, written as a project would, with no harness marker) shows which tests
an unmodified suite gate catches: run it with and without ``--harness-threads=4``.
"""

from __future__ import annotations

import threading


class Ids:
    """Issues item ids; ``n = self.last + 1; self.last = n`` can hand one id to two
    threads: both read the same ``last`` before either writes it back."""

    def __init__(self) -> None:
        self.last = 0

    def issue(self) -> int:
        n = self.last + 1
        self.last = n
        return n


class LockedIds(Ids):
    """The fix: the read and the write happen under one lock."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def issue(self) -> int:
        with self._lock:
            n = self.last + 1
            self.last = n
            return n


class Account:
    """A balance that must never go below zero."""

    def __init__(self) -> None:
        self.balance = 0
        self.withdrawals = 0

    def deposit(self, amount: int) -> None:
        self.balance += amount

    def withdraw(self, amount: int) -> bool:
        """Check, then act: two threads can both see enough and both take it."""
        if self.balance >= amount:
            self.withdrawals += 1
            self.balance -= amount
            return True
        return False


class LockedAccount(Account):
    """The fix: the check and the act are one step under the lock."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def deposit(self, amount: int) -> None:
        with self._lock:
            self.balance += amount

    def withdraw(self, amount: int) -> bool:
        with self._lock:
            if self.balance >= amount:
                self.withdrawals += 1
                self.balance -= amount
                return True
            return False


_stock_lock = threading.Lock()
_audit_lock = threading.Lock()
stock = {"widget": 10}
audit_log: list[str] = []


def restock(item: str, count: int) -> None:
    """Takes the stock lock, then the audit lock."""
    with _stock_lock:
        stock[item] = stock.get(item, 0) + count
        with _audit_lock:
            audit_log.append(f"restock {item} {count}")


def audit() -> int:
    """Takes the audit lock, then the stock lock: the other order, a deadlock waiting
    for two threads to meet in the middle."""
    with _audit_lock:
        with _stock_lock:
            total = sum(stock.values())
        audit_log.append(f"audit {total}")
    return total


def audit_in_order() -> int:
    """The fix: the same two locks in restock's order."""
    with _stock_lock, _audit_lock:
        total = sum(stock.values())
        audit_log.append(f"audit {total}")
    return total


class Refresher:
    """Refreshes a value in a background thread until ``stop()``."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.refreshes = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(timeout=0.01):
            self.refreshes += 1
            if self.refreshes > 500:  # gives up by itself after about 5 s
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
