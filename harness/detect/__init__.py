"""Detectors shared by both engines: wait-for cycles and lock-order inversions."""

from harness.detect.waitfor import Waiter, describe_waits, find_cycle

__all__ = ["Waiter", "describe_waits", "find_cycle"]
