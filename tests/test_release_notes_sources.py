"""Release notes without a changelog (`release_notes = "github" | "commits"`), through the CLI
against the sandbox: GitHub's generated notes are read while planning (the dry run shows
them), the conventional commits are grouped by type, and neither needs --allow-empty-notes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sandbox_fixtures import LIBRARY, MAINTAINER_TOKEN

from release_tool.cli import cli
from release_tool.git_repo import auth_environment, run_git
from release_tool.sandbox import Sandbox
from release_tool.steps.notes import group_subjects

FIX = "fix: learner language in review email (#1214)"


def invoke(work: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-C", str(work), *args])
    return result.exit_code, result.stdout, result.stderr


def configure(work: Path, url: str, source: str | None) -> None:
    """No changelog any more; `release_notes = source` (None: the default, "changelog")."""
    pyproject = (work / "pyproject.toml").read_text()
    setting = f'release_notes = "{source}"\n' if source else ""
    (work / "pyproject.toml").write_text(
        pyproject.replace('changelog = "CHANGELOG.rst"\n', setting)
    )
    run_git("rm", "-q", "CHANGELOG.rst", cwd=work)
    run_git("commit", "-q", "-am", "docs: the notes come from elsewhere now", cwd=work)
    run_git("push", "-q", "origin", "HEAD", cwd=work, env=auth_environment(url, MAINTAINER_TOKEN))


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


def test_subjects_are_grouped_by_conventional_type() -> None:
    notes = group_subjects(
        [
            "docs: explain the retry action",
            "fix(api): learner language (#1214)",
            "Merge pull request #12 from x/y",
            "feat!: drop Python 3.8",
            "feat: retry action (#1210)",
            "chore(deps): bump django",
        ]
    )
    assert notes == (
        "### Breaking changes\n\n- drop Python 3.8\n\n"
        "### Features\n\n- retry action (#1210)\n\n"
        "### Bug fixes\n\n- **api:** learner language (#1214)\n\n"
        "### Documentation\n\n- explain the retry action\n\n"
        "### Chores\n\n- **deps:** bump django\n\n"
        "### Other changes\n\n- Merge pull request #12 from x/y"
    )
    assert group_subjects([]) == ""


def test_without_a_changelog_the_default_still_asks_for_notes(work: Path, sandbox: Sandbox) -> None:
    configure(work, sandbox.git_url(LIBRARY), None)
    code, _, err = invoke(work, "plan", "minor")
    assert code == 2
    assert "no release notes for 5.3.0" in err and "--allow-empty-notes" in err


def test_commits_since_the_previous_tag_make_the_notes(work: Path, sandbox: Sandbox) -> None:
    configure(work, sandbox.git_url(LIBRARY), "commits")
    expected = (
        "### Bug fixes\n\n- learner language in review email (#1214)\n\n"
        "### Documentation\n\n- the notes come from elsewhere now"
    )
    code, out, err = invoke(work, "release", "minor", "--dry-run")
    assert code == 0, err
    assert "- learner language in review email (#1214)" in out
    code, _, err = invoke(work, "release", "minor", "--yes", "--skip", "downstream")
    assert code == 0, err
    (release,) = sandbox.state.releases(LIBRARY)
    assert release.body == expected
    message = run_git("tag", "-l", "--format=%(contents)", "v5.3.0", cwd=work)
    assert message.strip() == f"edx-proctoring 5.3.0\n\n{expected}"
    email = (work / "dist/release/5.3.0/notification.eml").read_text()
    assert "learner language in review email (#1214)" in email
    assert "<h3>Bug fixes</h3>" in email  # the Markdown notes, rendered in the HTML part

    # `email VERSION` later reads the same notes (the release commit itself left out).
    (work / "dist/release/5.3.0/notification.eml").unlink()
    code, _, err = invoke(work, "email", "5.3.0")
    assert code == 0, err
    again = (work / "dist/release/5.3.0/notification.eml").read_text()
    assert "learner language in review email (#1214)" in again
    assert "chore: release" not in again


def test_github_s_generated_notes_are_read_while_planning(work: Path, sandbox: Sandbox) -> None:
    configure(work, sandbox.git_url(LIBRARY), "github")
    code, out, err = invoke(work, "release", "minor", "--dry-run")
    assert code == 0, err
    assert "## What's Changed" in out
    assert f"* {FIX}" in out
    assert sandbox.state.releases(LIBRARY) == []  # generating notes creates nothing
    code, _, err = invoke(work, "release", "minor", "--yes", "--skip", "downstream")
    assert code == 0, err
    (release,) = sandbox.state.releases(LIBRARY)
    body = release.body or ""
    assert body.startswith("## What's Changed\n* docs: the notes come from elsewhere now\n")
    assert f"* {FIX}" in body
    assert body.endswith(f"/{LIBRARY}/compare/v5.2.0...v5.3.0")
    assert "chore: release" not in body  # read before the release commit was made

    # `downstream VERSION` later takes the release's body as the notes.
    code, out, err = invoke(work, "downstream", "5.3.0", "--dry-run")
    assert code == 0, err
    assert f"* {FIX}" in out


def test_github_notes_without_a_token_are_not_read(
    work: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(work, sandbox.git_url(LIBRARY), "github")
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `gh` to ask for a token
    code, out, err = invoke(work, "plan", "minor", "--skip", "downstream")
    assert code == 0, err
    assert "GitHub's generated notes are not read without a token" in out
