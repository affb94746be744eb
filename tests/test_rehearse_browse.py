"""`release-tool rehearse` leaves nothing behind, stops when told, and what it prints opens in a
browser (issue 15): real processes, real signals, real HTTP, and headless Chromium when the
machine has it (the screenshot tests skip without it: CI's fresh machines have none).

- `rehearse --example` in a process whose TMPDIR is a fresh folder leaves that folder empty,
  also when SIGTERM stops it part-way;
- `--keep` started as a background job (SIGINT ignored, as a shell leaves it) stops on SIGINT
  and on SIGTERM, and keeps its files;
- with `--keep`, the repository, tag, release, pull request and email draft pages answer HTML
  with what they show (plain HTTP), and Chromium renders each one (a screenshot, and the text
  of the DOM it built).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def start(tmp: Path, *args: str, ignore_sigint: bool = False) -> subprocess.Popen[str]:
    """`release-tool rehearse ARGS` as its own process, with TMPDIR=tmp."""
    env = {**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp)}

    def background() -> None:  # what a shell does to a job started with `&`
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "release_tool", "rehearse", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=background if ignore_sigint else None,  # noqa: PLW1509
    )


def wait_for_line(stream: Any, pattern: str, timeout: float = 120) -> re.Match[str]:
    """The first line of `stream` matching `pattern` (read on a thread: the test keeps its
    own deadline)."""
    found: list[re.Match[str]] = []

    def watch() -> None:
        for line in stream:
            match = re.search(pattern, line)
            if match:
                found.append(match)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    watcher.join(timeout)
    assert found, f"no line matching {pattern!r} within {timeout}s"
    return found[0]


def read_json(stream: Any) -> dict[str, Any]:
    """The JSON summary, printed before the process waits (read up to its closing brace)."""
    lines = []
    for line in stream:
        lines.append(line)
        if line.rstrip("\n") == "}":
            break
    return dict(json.loads("".join(lines)))


# --- nothing left behind -----------------------------------------------------------------------


def test_rehearse_example_leaves_nothing_in_tmpdir(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = start(tmp, "--example", "--quiet")
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    assert "the workspace is deleted at exit" in err  # the final line, even with --quiet
    assert sorted(os.listdir(tmp)) == []


def test_sigterm_during_a_rehearsal_stops_it_and_cleans_up(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = start(tmp, "--example")
    assert proc.stderr is not None
    wait_for_line(proc.stderr, r"Sandbox GitHub at ")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert sorted(os.listdir(tmp)) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_keep_in_the_background_stops_on_a_signal_and_keeps_its_files(
    tmp_path: Path, sig: signal.Signals
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = start(tmp, "--example", "--keep", "--quiet", ignore_sigint=True)
    try:
        assert proc.stderr is not None
        served = wait_for_line(proc.stderr, r"keeps serving at (\S+)/api/v3")
        with urllib.request.urlopen(f"{served.group(1)}/openedx/edx-proctoring", timeout=10) as r:
            assert r.status == 200
        proc.send_signal(sig)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    (workspace,) = os.listdir(tmp)  # kept: --keep keeps the files
    assert (tmp / workspace / "sandbox" / "openedx" / "edx-platform.git").is_dir()


# --- browsable ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One `rehearse --example --keep --json`, serving until the module's tests are done."""
    tmp = tmp_path_factory.mktemp("kept")
    proc = start(tmp, "minor", "--example", "--keep", "--json", "--workspace", str(tmp / "ws"))
    try:
        assert proc.stdout is not None
        summary = read_json(proc.stdout)
        assert proc.stderr is not None
        wait_for_line(proc.stderr, r"keeps serving at ")
        yield summary
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def pages(summary: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Each printed URL, and texts its page must show."""
    (pr,) = summary["downstream_pr_urls"]
    return {
        "repository": (
            summary["repository_url"],
            ["openedx/edx-proctoring", "v5.2.0", "v5.3.0", "master"],
        ),
        "tag": (summary["tag_url"], ["v5.3.0", "edx_proctoring/__init__.py", "Commit"]),
        "release": (
            summary["release_url"],
            ["v5.3.0", "Release notes", "Send the proctoring review email"],
        ),
        "pull request": (
            pr,
            [
                "chore: upgrade edx-proctoring to 5.3.0",
                "dependencies",
                "edx-platform-reviewer",
                "+edx-proctoring==5.3.0",
                "-edx-proctoring==5.2.0",
                "requirements/edx/base.txt",
            ],
        ),
        "email draft": (
            summary["email_url"],
            ["edx-proctoring 5.3.0 released", "release-notifications@edx.org", pr],
        ),
    }


def test_every_printed_url_answers_a_page(kept: dict[str, Any]) -> None:
    import html

    for name, (url, texts) in pages(kept).items():
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, name
            assert response.headers["Content-Type"].startswith("text/html"), name
            body = html.unescape(response.read().decode())
        assert body.startswith("<!DOCTYPE html>"), name
        for text in texts:
            assert text in body, f"the {name} page ({url}) does not show {text!r}"
        assert "<script" not in body
    release = urllib.request.urlopen(kept["release_url"], timeout=10).read().decode()
    assert "<li>Send the proctoring review email" in release  # the notes rendered, not raw


def test_a_page_that_is_not_there_is_a_404(kept: dict[str, Any]) -> None:
    import urllib.error

    for url in (
        f"{kept['repository_url']}/pull/99",
        f"{kept['repository_url']}/releases/tag/v0.0.1",
        f"{kept['repository_url']}/tree/no-such-ref",
    ):
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url, timeout=10)
        assert missing.value.code == 404


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # root in a container
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_chromium_renders_every_printed_url(
    kept: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    for name, (url, texts) in pages(kept).items():
        png = shots / f"{name.replace(' ', '-')}.png"
        shot = chromium(f"--screenshot={png}", "--window-size=1200,1400", url)
        assert png.is_file(), f"{name}: {shot.stderr[-2000:]}"
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 20_000, f"{name}: a {len(data)}-byte screenshot is a blank page"
        dom = chromium("--dump-dom", url)
        assert dom.returncode == 0, dom.stderr[-2000:]
        import html

        text = html.unescape(dom.stdout)
        for expected in texts:
            assert expected in text, f"Chromium's {name} page does not show {expected!r}"
    print(f"screenshots: {shots}")  # where to look at them (pytest -s)
