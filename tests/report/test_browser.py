"""Screenshots: a clear error without Chromium; Chromium run offline on local files."""

from __future__ import annotations

import os
import stat

import pytest

from harness.report import browser


def test_missing_chromium_names_the_install_command(tmp_path, capsys):
    with pytest.raises(browser.ChromiumMissing, match=r"apt-get install -y chromium"):
        browser.find_chromium(str(tmp_path / "no-such-chromium"))
    code = browser.main(["--chromium", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "apt-get install -y chromium" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists(), "nothing is rendered without a browser"


def _fake_chromium(tmp_path, log):
    """A stand-in that records its arguments and writes a PNG where asked."""
    script = tmp_path / "chromium"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{log}"\n'
        'for arg in "$@"; do case $arg in --screenshot=*) '
        "printf '\\211PNG\\r\\n\\032\\n' > \"${arg#--screenshot=}\";; esac; done\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


@pytest.mark.timeout(60)
def test_screenshot_runs_headless_offline_on_a_local_file(tmp_path):
    log = tmp_path / "args.txt"
    chromium = _fake_chromium(tmp_path, log)
    page = tmp_path / "page.html"
    page.write_text("<p>hi</p>")
    png = tmp_path / "page.png"
    browser.screenshot(chromium, page, png, width=800, height=600)
    args = log.read_text().splitlines()
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
    ):
        assert flag in args, f"{flag} missing from {args}"
    assert any(a.startswith("--user-data-dir=") for a in args)
    assert "--window-size=800,600" in args
    assert args[-1] == page.resolve().as_uri() and args[-1].startswith("file://")
    assert png.read_bytes().startswith(browser.PNG_MAGIC)


@pytest.mark.timeout(60)
def test_a_browser_that_saves_nothing_is_an_error(tmp_path):
    script = tmp_path / "chromium"
    script.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(script, 0o755)
    page = tmp_path / "page.html"
    page.write_text("<p>hi</p>")
    with pytest.raises(browser.HarnessError, match="did not save a screenshot"):
        browser.screenshot(str(script), page, tmp_path / "page.png")
