"""Detectors shared by both engines: wait-for cycles (:mod:`.waitfor`), lock-order
inversions (:mod:`.lockorder`), pool futures whose exception nobody read
(:mod:`.futures`) and exceptions escaping threads (:mod:`.excepthook`)."""

from harness.detect.waitfor import Waiter, describe_waits, find_cycle

__all__ = ["Waiter", "describe_waits", "find_cycle"]
