"""Never publish something wrong (issue 12), against the sandbox: the CLI as a maintainer runs it.

- a bare tag (`5.3.0`, as edx-proctoring tagged until late 2024) is the release: `release
  current` creates the GitHub release for it, pushes no `v5.3.0`, and every link (email,
  release, downstream PR) names the tag that exists;
- without a token, `plan` reads the public repositories anonymously and shows what it could
  not check; `release` refuses before anything is applied;
- every problem at once, the downstream's checks included.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sandbox_fixtures import DOWNSTREAM, LIBRARY, MAINTAINER_TOKEN

from release_tool import example
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


def push(sandbox: Sandbox, work: Path, *refs: str) -> None:
    env = auth_environment(sandbox.git_url(LIBRARY), MAINTAINER_TOKEN)
    run_git("push", "-q", "origin", *refs, cwd=work, env=env)


def remote_refs(sandbox: Sandbox, name: str = LIBRARY) -> str:
    return run_git(
        "for-each-ref", "--format=%(refname) %(objectname)", cwd=sandbox.repository_path(name)
    )


def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GITHUB_TOKEN, and no `gh` on PATH to ask for one: only git."""
    monkeypatch.delenv("GITHUB_TOKEN")
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(only_git))


# --- 2. the tag that exists is the release's tag -------------------------------------------------


def test_current_on_a_bare_tag_releases_it_under_that_tag(work: Path, sandbox: Sandbox) -> None:
    """The bump merged with the feature, tagged `5.3.0` by hand: finish the release."""
    files = example.library_files("5.3.0", unreleased="")
    files["CHANGELOG.rst"] = files["CHANGELOG.rst"].replace(
        "[5.2.0] - 2025-03-20",
        "[5.3.0] - 2025-04-01\n~~~~~~~~~~~~~~~~~~~~\n* Merged with the feature\n\n"
        "[5.2.0] - 2025-03-20",
    )
    for name, text in files.items():
        (work / name).write_text(text)
    run_git("commit", "-qam", "feat: review email language (#1214)", cwd=work)
    run_git("tag", "5.3.0", cwd=work)
    push(sandbox, work, "master", "5.3.0")
    head = run_git("rev-parse", "HEAD", cwd=work)

    code, out, err = invoke(work, "release", "current", "--yes")
    assert code == 0, err
    assert "Released edx-proctoring 5.3.0 (5.3.0)." in err
    assert "push: skipped (already done: 5.3.0 is on origin)" in out
    (release,) = sandbox.state.releases(LIBRARY)
    # The body is the section as Markdown (RST bullets → `-`).
    assert (release.tag_name, release.body) == ("5.3.0", "- Merged with the feature")
    assert "v5.3.0" not in remote_refs(sandbox)
    assert run_git("tag", "--points-at", "HEAD", cwd=work) == "5.3.0"
    assert run_git("rev-parse", "HEAD", cwd=work) == head  # no release commit
    # Every link names the tag that exists: no /v5.3.0 (a 404 on GitHub).
    draft = (work / "dist" / "release" / "5.3.0" / "notification.eml").read_text()
    assert f"/{LIBRARY}/releases/tag/5.3.0" in draft
    assert f"/{LIBRARY}/tree/5.3.0" in draft
    assert "v5.3.0" not in draft
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    assert "releases/tag/5.3.0" in (pull.body or "")
    assert "v5.3.0" not in (pull.body or "")

    code, out, _ = invoke(work, "status")
    assert code == 0
    assert "last release tag: 5.3.0 (5.3.0)" in out
    assert "for 5.3.0:" in out and "v5.3.0" not in out


# --- 9. a plan needs no write token ------------------------------------------------------------


def test_plan_without_a_token_reads_anonymously_and_release_refuses(
    work: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_token(monkeypatch, tmp_path)
    before = (run_git("rev-parse", "HEAD", cwd=work), remote_refs(sandbox))
    code, out, err = invoke(work, "plan", "minor")
    assert code == 0, err
    assert "create GitHub release 'v5.3.0' for v5.3.0 on openedx/edx-proctoring" in out
    assert "no token: read anonymously; a real run needs one to write" in out
    assert "downstream: skipped (not checked (no token))" in out
    assert "+edx-proctoring==5.3.0" not in out  # the downstream diff needs the token's user

    code, out, err = invoke(work, "release", "minor", "--yes")
    assert code == 2
    assert err.startswith(
        "error: no GitHub token, which the GitHub release and the downstream PRs need"
    )
    assert "GITHUB_TOKEN" in err
    assert (run_git("rev-parse", "HEAD", cwd=work), remote_refs(sandbox)) == before
    assert sandbox.state.releases(LIBRARY) == []
    assert run_git("status", "--porcelain", cwd=work) == ""


# --- 8. every problem at once, the downstream's included -----------------------------------------


def test_preflight_and_downstream_problems_in_one_run(work: Path, sandbox: Sandbox) -> None:
    pyproject = work / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'files = ["requirements/edx/*.txt"]', 'files = ["README.rst"]'
        )
    )
    run_git("commit", "-qam", "chore: downstream files", cwd=work)
    (work / "setup.py").write_text("# edited\n")
    before = (
        run_git("rev-parse", "HEAD", cwd=work),
        remote_refs(sandbox),
        remote_refs(sandbox, DOWNSTREAM),
    )
    code, _, err = invoke(work, "release", "minor", "--yes")
    assert code == 2
    error = err.splitlines()[0]
    assert error.startswith("error: preflight failed: ")
    assert "uncommitted changes (setup.py)" in error
    assert "does not pin edx-proctoring" in error
    assert "the push would publish 1 commit(s)" in error
    assert "chore: downstream files" in error
    assert (
        run_git("rev-parse", "HEAD", cwd=work),
        remote_refs(sandbox),
        remote_refs(sandbox, DOWNSTREAM),
    ) == before
    assert sandbox.state.releases(LIBRARY) == [] and sandbox.state.pulls(DOWNSTREAM) == []


def test_the_missing_token_is_reported_with_the_rest(
    work: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Disagreeing files leave no version to plan on: the token is checked all the same."""
    lock = work / "package-lock.json"
    lock.write_text(lock.read_text().replace('"version": "5.2.0"', '"version": "5.1.0"', 1))
    no_token(monkeypatch, tmp_path)
    code, _, err = invoke(work, "release", "minor", "--yes")
    assert code == 2
    error = err.splitlines()[0]
    assert "version files disagree: 5.1.0, 5.2.0" in error
    assert "uncommitted changes (package-lock.json)" in error
    assert "no GitHub token, which the GitHub release and the downstream PRs need" in error
    assert sandbox.state.releases(LIBRARY) == []
