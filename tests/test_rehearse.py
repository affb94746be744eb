"""`release-tool rehearse`: the complete pipeline against an in-process sandbox, on copies."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from release_tool.cli import cli
from release_tool.git_repo import run_git

PROJECT = Path(__file__).resolve().parent.parent

# `release-tool` with Ctrl-C working even if this test was started with SIGINT ignored (as a
# background job in CI can be): a child inherits the ignore, so it restores Python's handler.
INTERRUPTIBLE = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from release_tool.cli import main; sys.argv[0] = 'release-tool'; main()"
)


def rehearse(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, object], str]:
    cli_args = ["-C", str(cwd)] if cwd else []
    result = CliRunner().invoke(cli, [*cli_args, "rehearse", *args, "--json"])
    data = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, data, result.stderr


def test_rehearse_example_releases_everything(tmp_path: Path) -> None:
    code, summary, err = rehearse("--example", "minor", "--workspace", str(tmp_path))
    assert code == 0, err
    assert summary["version"] == "5.3.0"
    assert summary["tag"] == "v5.3.0"
    assert str(summary["release_url"]).endswith("/openedx/edx-proctoring/releases/tag/v5.3.0")
    assert "Send the proctoring review email" in str(summary["release_body"])
    urls = summary["downstream_pr_urls"]
    assert isinstance(urls, list)
    assert len(urls) == 1
    assert urls[0].endswith("/openedx/edx-platform/pull/1")
    # The example downstream is uv-shaped: re-locked against the rehearsal's own index, where
    # the simulated publish workflow put 5.3.0, which brings a new dependency.
    diff = str(summary["downstream_diff"])
    assert "+++ b/uv.lock" in diff and "+++ b/requirements/edx/base.txt" in diff
    assert "+edx-proctoring==5.3.0" in diff
    assert "-edx-proctoring==5.2.0" in diff
    assert '+version = "5.3.0"' in diff and '+name = "jsonfield"' in diff
    assert "+jsonfield==3.1.0" in diff
    draft = Path(str(summary["email_draft"]))
    message = BytesParser(policy=policy.default).parsebytes(draft.read_bytes())
    assert message["To"] == "release-notifications@edx.org"
    assert message["Subject"] == "edx-proctoring 5.3.0 released"
    body = message.get_body(("plain",))
    assert body is not None
    assert urls[0] in body.get_content()  # the PR link, known only after the PR was opened
    # The result shows the email as written, not the plan's placeholder for the PR link.
    assert urls[0] in str(summary["email"])
    assert "known once the run opens it" not in str(summary["email"])
    # The rehearsal's remote really holds the release: its bare repository has the tag.
    bare = tmp_path / "sandbox" / "openedx" / "edx-proctoring.git"
    assert run_git("tag", "-l", "v5.3.0", cwd=bare) == "v5.3.0"
    assert run_git("fsck", "--no-progress", cwd=bare) == ""
    assert "sandbox-token" not in err and "rehearsal-" not in err  # the token is never shown


def test_rehearsal_of_this_repository_succeeds(tmp_path: Path) -> None:
    """`release-tool rehearse patch` on release_tool itself (a clone of its committed history)."""
    if not (PROJECT / ".git").exists():
        pytest.skip("not a git checkout")
    copy = tmp_path / "release_tool"
    run_git("clone", "-q", str(PROJECT), str(copy), cwd=tmp_path)
    run_git("checkout", "-q", "-B", "main", cwd=copy)
    # Pushed: the remote-tracking branch is at HEAD (a rehearsal holds the sandbox's branch
    # where the remote-tracking one is, so a copy ahead of it would have unpushed commits).
    run_git("update-ref", "refs/remotes/origin/main", "HEAD", cwd=copy)
    code, summary, err = rehearse("patch", "--workspace", str(tmp_path / "ws"), cwd=copy)
    assert code == 0, err
    assert str(summary["tag"]).startswith("v")
    assert summary["release_url"]
    assert summary["downstream_pr_urls"] == []  # release_tool has no downstream


def test_keep_leaves_the_sandbox_serving_until_interrupted(tmp_path: Path) -> None:
    """`--keep`: the result can be browsed with the API and git until Ctrl-C."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import threading
    import urllib.request

    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            INTERRUPTIBLE,
            "rehearse",
            "--example",
            "--keep",
            "--quiet",
            "--workspace",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stderr is not None
        found: list[str] = []

        def watch() -> None:  # reads stderr on a thread so the test has its own deadline
            assert proc.stderr is not None
            for line in proc.stderr:
                match = re.search(r"keeps serving at (\S+/api/v3)", line)
                if match:
                    found.append(match.group(1))
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        watcher.join(timeout=120)
        assert found, "the sandbox did not say where it serves"
        api = found[0]
        with urllib.request.urlopen(
            f"{api}/repos/openedx/edx-proctoring/releases/latest", timeout=10
        ) as response:
            assert json.load(response)["tag_name"] == "v5.2.1"
        clone = tmp_path / "browse"
        run_git(
            "clone",
            "-q",
            api.removesuffix("/api/v3") + "/openedx/edx-platform.git",
            str(clone),
            cwd=tmp_path,
        )
        assert run_git("branch", "-r", "--list", "origin/release-tool/*", cwd=clone)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
