"""Shared fixtures: real git repositories with a bare `origin`, built from the bundled example.

Plugins: `sandbox_fixtures` (the embedded GitHub, started on a free port per test).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_tool import example
from release_tool.git_repo import build_repository, run_git

pytest_plugins = ["sandbox_fixtures", "hardening_report"]

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.org",
    "GIT_COMMITTER_NAME": "Test Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.org",
}


@pytest.fixture(autouse=True)
def _isolated_git(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the developer's ~/.gitconfig or signs with their key."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Maintainer\n\temail = maintainer@example.org\n"
        '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS", "RELEASE_TOOL_GITHUB_API"):
        monkeypatch.delenv(key, raising=False)
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)


def make_library(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    """A clone of the example library with a bare `origin` beside it; returns the clone."""
    repo = example.library_repo()
    if files is not None:  # replace the last commit's tree
        last = example.Commit("fix: learner language in review email (#1214)", files)
        repo = example.ExampleRepo(repo.full_name, repo.branch, (*repo.history[:-1], last))
    origin = tmp_path / "origin.git"
    build_repository(origin, repo)
    work = tmp_path / "edx-proctoring"
    run_git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    return work


def actions_env(tmp_path: Path) -> dict[str, str]:
    """A GitHub Actions environment whose output and step-summary files are empty temp files."""
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    output.touch()
    summary.touch()
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Today's edx-proctoring shape (lockfile in step), cloned from a bare origin."""
    return make_library(tmp_path)


@pytest.fixture
def chdir_tmp(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)
