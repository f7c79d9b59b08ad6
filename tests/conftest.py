"""Shared fixtures. Every test is checked for interpreter hygiene afterwards."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def interpreter_hygiene():
    """Whatever a test does, the harness must leave the interpreter as it found it."""
    interval = sys.getswitchinterval()
    trace = sys.gettrace()
    excepthook = threading.excepthook
    yield
    assert sys.getswitchinterval() == interval, "switch interval not restored"
    assert sys.gettrace() is trace, "trace function left installed"
    assert threading.excepthook is excepthook, "threading.excepthook not restored"
    if sys.version_info >= (3, 12):
        for tool in range(6):
            name = sys.monitoring.get_tool(tool)
            assert name != "thread-harness", f"sys.monitoring tool {tool} left registered"


def _open_fds() -> dict[int, str]:
    fds = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # not Linux: nothing to compare
        return fds
    for name in names:
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed while listing (the listing's own descriptor)
    return fds


@pytest.fixture
def no_leaks():
    """Fail the test if it leaves threads or file descriptors (sockets) behind.

    Threads get a short grace join first: a thread that is finishing is not a leak.
    """
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    yield
    deadline = time.monotonic() + 2.0
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(max(deadline - time.monotonic(), 0.0))
    leftover = [t.name for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    gc.collect()
    new_fds = {fd: target for fd, target in _open_fds().items() if fds_before.get(fd) != target}
    assert not leftover, f"threads left running: {leftover}"
    assert not new_fds, f"file descriptors left open: {new_fds}"


# An extension module without a Py_mod_gil slot: importing it on 3.13t re-enables the GIL.
_GIL_MODULE_C = """
#include <Python.h>
static struct PyModuleDef gilmod = {PyModuleDef_HEAD_INIT, "gilmod", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_gilmod(void) { return PyModule_Create(&gilmod); }
"""


@pytest.fixture
def gil_extension() -> Callable[[Path], Path]:
    """Builds, in a given folder, an extension module ``gilmod`` without a
    ``Py_mod_gil`` slot: importing it on 3.13t re-enables the GIL."""
    return _build_gil_module


def _build_gil_module(directory: Path) -> Path:
    """Compile `gilmod` for this interpreter with the C compiler found here (bounded)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("needs a C compiler to build an extension module without Py_mod_gil")
    source = directory / "gilmod.c"
    source.write_text(_GIL_MODULE_C)
    target = directory / ("gilmod" + sysconfig.get_config_var("EXT_SUFFIX"))
    include = sysconfig.get_paths()["include"]
    subprocess.run(
        [cc, "-shared", "-fPIC", f"-I{include}", str(source), "-o", str(target)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return target
