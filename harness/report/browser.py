"""Sample HTML reports, rendered in headless Chromium and saved as screenshots.

``nox -s report`` runs ``python -m harness.report.browser --out build/report``:
it writes sample reports through the real command line (``harness stress
thevar:buggy --report ...``, ``harness explore thevar:buggy --report ...`` and
more), plus one from the Python API with a lock-order inversion, and takes a PNG
of each in headless Chromium, so that the pages are checked the way a person
sees them. Chromium runs without network access of any kind (file:// pages,
every background service off, host resolution disabled) and in a throw-away
profile.

Chromium is the Debian package ``chromium`` (``/usr/bin/chromium``). When it is
missing the command fails at once, naming the install command.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness.errors import HarnessError

__all__ = ["CHROMIUM_FLAGS", "ChromiumMissing", "find_chromium", "main", "screenshot"]

INSTALL_HINT = "apt-get install -y chromium"
#: Headless, no sandbox (we run as root in containers), no GPU, and nothing
#: that talks to the network: no background services, no component updates, no
#: sync, no first-run pages, and every host name resolves to nothing.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

#: (file name, harness arguments, window height): each sample goes through the CLI.
SAMPLES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    (
        "stress-thevar",
        ("stress", "thevar:buggy", "--runs", "50", "--threads", "20", "--seed", "1"),
        1900,
    ),
    ("explore-thevar", ("explore", "thevar:buggy", "--seed", "1"), 1200),
    ("explore-deadlock", ("explore", "deadlock:buggy"), 2300),
    ("stress-deadlock", ("stress", "deadlock", "--runs", "5"), 2600),
)


class ChromiumMissing(HarnessError):
    """No Chromium binary where one was looked for."""


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium binary: ``explicit``, ``$CHROMIUM``, or ``chromium`` on ``PATH``."""
    candidates = [explicit] if explicit else [os.environ.get("CHROMIUM"), "chromium"]
    for candidate in candidates:
        if not candidate:
            continue
        found = shutil.which(candidate)
        if found:
            return found
    looked = ", ".join(c for c in candidates if c)
    raise ChromiumMissing(
        f"Chromium not found (looked for {looked}); install it with `{INSTALL_HINT}`"
    )


def screenshot(chromium: str, page: Path, png: Path, width: int = 1280, height: int = 1600) -> None:
    """Render ``page`` (a local file) in headless Chromium and save a PNG of it."""
    with tempfile.TemporaryDirectory(prefix="harness-chromium-") as profile:
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not png.exists() or png.read_bytes()[:8] != PNG_MAGIC:
        raise HarnessError(
            f"Chromium did not save a screenshot of {page} (exit {done.returncode}): "
            + " ".join(done.stderr.split()[-30:])
        )


#: A program of the Python API: two threads take two locks in opposite orders.
#: They never hold them at the same time (the second waits for the first), so
#: nothing deadlocks, but the lock-order graph shows the cycle. It is written out
#: and run as a script of its own, so that the harness traces it as user code
#: (its lines appear in the report) rather than skipping it as harness code.
LOCK_ORDER_SAMPLE = """\
import sys
import threading

import harness
from harness.report.html import write_result_report


class Accounts:
    def __init__(self):
        self.savings = threading.Lock()
        self.checking = threading.Lock()
        self.first_done = threading.Event()


def transfer_out(accounts):
    with accounts.savings:
        with accounts.checking:
            pass
    accounts.first_done.set()


def transfer_in(accounts):
    accounts.first_done.wait()
    with accounts.checking:
        with accounts.savings:
            pass


result = harness.stress(
    Accounts, lambda a: [lambda: transfer_out(a), lambda: transfer_in(a)], runs=5, seed=1
)
write_result_report(sys.argv[1], result, "accounts: transfers take two locks in opposite orders")
"""


def _lock_order_sample(out: Path) -> Path:
    script = out / "lock_order_sample.py"
    script.write_text(LOCK_ORDER_SAMPLE, encoding="utf-8")
    page = out / "api-lock-order.html"
    done = subprocess.run(
        [sys.executable, str(script), str(page)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not page.exists():
        raise HarnessError(f"{script} exited {done.returncode}: {done.stderr.strip()}")
    return page


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.report.browser",
        description="Write sample HTML reports and screenshot them in headless Chromium.",
    )
    parser.add_argument("--out", default="build/report", help="folder for the .html and .png")
    parser.add_argument("--chromium", help="the Chromium binary (default: chromium on PATH)")
    args = parser.parse_args(argv)
    try:
        chromium = find_chromium(args.chromium)
    except ChromiumMissing as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pages: list[tuple[Path, int]] = []
    for name, words, height in SAMPLES:
        page = out / f"{name}.html"
        command = [sys.executable, "-m", "harness", *words, "--report", str(page)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode not in (0, 1) or not page.exists():
            print(
                f"report: `harness {' '.join(words)}` exited {done.returncode}: "
                f"{done.stderr.strip()}",
                file=sys.stderr,
            )
            return 1
        pages.append((page, height))
    try:
        pages.append((_lock_order_sample(out), 1500))
    except (HarnessError, subprocess.TimeoutExpired) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    for page, height in pages:
        png = page.with_suffix(".png")
        try:
            screenshot(chromium, page, png, height=height)
        except (HarnessError, subprocess.TimeoutExpired) as exc:
            print(f"report: {exc}", file=sys.stderr)
            return 1
        print(f"{png}  ({png.stat().st_size:,} bytes, from {page.name})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
