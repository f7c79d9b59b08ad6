"""The Bluetooth driver of the Windows NT kernel, stopped while it does I/O.

Pattern of SCTBench's ``CS/bluetooth_driver_bad``, after Qadeer and Wu, "KISS:
Keep It Simple and Sequential" (PLDI 2004). Every I/O dispatch first calls
``io_increment``: if the device is stopping it gives up, else it counts itself
in ``pending_io``. The stopper raises the stopping flag, drops the device's own
count, waits until the count reaches zero and marks the device stopped. The bug:
``io_increment`` checks the flag and bumps the count in two steps. A stopper that
runs in between sees zero pending I/O and stops the device under the feet of a
dispatch that goes on to use it. The fix checks the flag and counts itself in
one critical section, and the stopper raises the flag under the same lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bench.corpus import BUGGY, FIXED, CorpusProgram


class Device:
    def __init__(self) -> None:
        self.pending_io = 1  # the device's own reference, dropped by the stopper
        self.stopping_flag = False
        self.stopped = False
        self.stopping_event = threading.Event()
        self.lock = threading.Lock()
        self.used_after_stop = False


def io_increment_racy(device: Device) -> bool:
    if device.stopping_flag:  # checked outside the lock ...
        return False
    with device.lock:
        device.pending_io += 1  # ... and counted later: the stopper may have run
    return True


def io_increment_locked(device: Device) -> bool:
    with device.lock:
        if device.stopping_flag:
            return False
        device.pending_io += 1
    return True


def io_decrement(device: Device) -> None:
    with device.lock:
        device.pending_io -= 1
        last = device.pending_io == 0
    if last:
        device.stopping_event.set()


def stop_racy(device: Device) -> None:
    device.stopping_flag = True
    io_decrement(device)
    device.stopping_event.wait()
    device.stopped = True


def stop_locked(device: Device) -> None:
    with device.lock:
        device.stopping_flag = True
    io_decrement(device)
    device.stopping_event.wait()
    device.stopped = True


def _dispatch(increment: Callable[[Device], bool]) -> Callable[[Device], None]:
    def dispatch(device: Device) -> None:
        if increment(device):
            if device.stopped:
                device.used_after_stop = True  # I/O on a device that was stopped
            io_decrement(device)

    return dispatch


def check(device: Device) -> None:
    assert not device.used_after_stop, "a dispatch did I/O on a device already stopped"
    assert device.stopped, "the stopper never stopped the device"


def _actors(
    dispatch: Callable[[Device], None], stop: Callable[[Device], None]
) -> Callable[[Device], list[Callable[[], None]]]:
    def actors(device: Device) -> list[Callable[[], None]]:
        return [lambda: dispatch(device), lambda: stop(device)]

    return actors


def programs() -> list[CorpusProgram]:
    common: dict[str, Any] = {
        "setup": Device,
        "check": check,
        "threads": 2,
        "origin": "CS/bluetooth_driver_bad",
    }
    return [
        CorpusProgram(
            "bluetooth",
            BUGGY,
            "io_increment checks the stopping flag, then counts itself: the stopper runs between",
            actors=_actors(_dispatch(io_increment_racy), stop_racy),
            budget=300,
            **common,
        ),
        CorpusProgram(
            "bluetooth",
            FIXED,
            "flag check and count in one critical section; flag raised under the same lock",
            actors=_actors(_dispatch(io_increment_locked), stop_locked),
            budget=200,
            **common,
        ),
    ]
