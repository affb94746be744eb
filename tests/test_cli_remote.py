"""The CLI against the sandbox, as a maintainer runs it: release, status, downstream, email.

The library is a clone of the sandbox's example repository; the token and the API address come
from the environment, exactly as on a maintainer's machine (GITHUB_TOKEN,
RELEASE_TOOL_GITHUB_API).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sandbox_fixtures import DOWNSTREAM, LIBRARY, MAINTAINER_TOKEN

from release_tool.cli import cli
from release_tool.git_repo import auth_environment, run_git
from release_tool.sandbox import Sandbox


@pytest.fixture
def work(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = sandbox.git_url(LIBRARY)
    dest = tmp_path / "edx-proctoring"
    run_git(
        "clone", "-q", url, str(dest), cwd=tmp_path, env=auth_environment(url, MAINTAINER_TOKEN)
    )
    monkeypatch.setenv("GITHUB_TOKEN", MAINTAINER_TOKEN)
    monkeypatch.setenv("RELEASE_TOOL_GITHUB_API", sandbox.api_url)
    return dest


def invoke(work: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-C", str(work), *args])
    return result.exit_code, result.stdout, result.stderr


def test_release_then_downstream_and_email_for_the_released_version(
    work: Path, sandbox: Sandbox
) -> None:
    code, _, err = invoke(
        work, "release", "minor", "--yes", "--skip", "downstream", "--skip", "email"
    )
    assert code == 0, err
    assert [r.tag_name for r in sandbox.state.releases(LIBRARY)] == ["v5.3.0"]
    assert sandbox.state.pulls(DOWNSTREAM) == []

    code, out, err = invoke(work, "downstream", "5.3.0", "--dry-run")
    assert code == 0, err
    assert "+edx-proctoring==5.3.0" in out
    assert sandbox.state.pulls(DOWNSTREAM) == []  # a dry run writes nothing
    code, out, err = invoke(work, "downstream", "5.3.0", "--yes")
    assert code == 0, err
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    assert out.strip().endswith(f"/{DOWNSTREAM}/pull/{pull.number}")
    code, _, err = invoke(work, "downstream", "5.3.0", "--yes")  # again: nothing new
    assert code == 0, err
    assert len(sandbox.state.pulls(DOWNSTREAM)) == 1

    code, out, err = invoke(work, "email", "5.3.0")
    assert code == 0, err
    draft = work / "dist" / "release" / "5.3.0" / "notification.eml"
    assert out.strip().splitlines()[-1] == str(draft)
    text = draft.read_text()
    assert "Subject: edx-proctoring 5.3.0 released" in text
    assert "The previous release was 5.2.0." in text


def test_status_shows_release_pr_and_email(work: Path) -> None:
    code, _, err = invoke(work, "release", "minor", "--yes")
    assert code == 0, err
    code, out, err = invoke(work, "status", "--json")
    assert code == 0, err
    done = json.loads(out)["done"]
    assert done["local tag"] == "at HEAD"
    assert done["tag on origin"] == "at HEAD"
    assert done["github release"].startswith("published ")
    assert "open #1" in done[f"PR {DOWNSTREAM}"]
    assert done["email draft"] == "dist/release/5.3.0/notification.eml"
    assert done["email sent"] == "no"


def test_no_token_is_a_usage_error_that_changes_nothing(
    work: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    only_git = tmp_path / "bin"  # git, and no `gh` to ask for a token
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(only_git))
    head = run_git("rev-parse", "HEAD", cwd=work)
    code, _, err = invoke(work, "release", "minor", "--yes")
    assert code == 2
    assert err.startswith("error: ")
    assert "GITHUB_TOKEN" in err
    assert run_git("rev-parse", "HEAD", cwd=work) == head
    assert sandbox.state.releases(LIBRARY) == []


def test_downstream_reports_the_pr_url_even_with_nothing_to_do_and_no_release(
    work: Path, sandbox: Sandbox
) -> None:
    """`downstream VERSION` for a version with no GitHub release (a warning, not an error):
    the PR's URL is reported when it opens it, and again when it is already up to date."""
    code, _, err = invoke(work, "release", "minor", "--yes", "--skip", "github-release")
    assert code == 0, err
    assert sandbox.state.releases(LIBRARY) == []
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    url = f"{sandbox.url}/{DOWNSTREAM}/pull/{pull.number}"
    code, out, err = invoke(work, "downstream", "5.3.0", "--yes")
    assert code == 0, err
    assert "has no GitHub release for v5.3.0" in out + err
    assert out.strip().splitlines()[-1] == url  # up to date: still reported
    assert len(sandbox.state.pulls(DOWNSTREAM)) == 1
