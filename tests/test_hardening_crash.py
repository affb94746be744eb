"""A release killed outright (SIGKILL) at a step boundary is finished by running it again.

git's own hooks deliver the kill at an exact point: `post-commit` (after the commit, before the
tag), `reference-transaction` on the new tag (after the tag, before the push) and on the
remote-tracking branch the push updates (after the push). The hook kills the release-tool
process — git's parent — so nothing in the product knows a test is running. The same command is
then run again, undisturbed, and the world must equal that of a release that was never killed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import make_library

from release_tool.git_repo import run_git

# The hook's parent is git; git's parent is release-tool (GitPython runs git directly).
KILL_PARENT_OF_GIT = "kill -9 \"$(awk '{print $4}' /proc/$PPID/stat)\"\n"

HOOKS = {
    "after-commit": ("post-commit", "#!/bin/sh\n" + KILL_PARENT_OF_GIT),
    "after-tag": (
        "reference-transaction",
        '#!/bin/sh\n[ "$1" = committed ] || exit 0\n'
        "grep -q ' refs/tags/' || exit 0\n" + KILL_PARENT_OF_GIT,
    ),
    "after-push": (
        "reference-transaction",
        '#!/bin/sh\n[ "$1" = committed ] || exit 0\n'
        # the push updates origin/master once the remote has taken branch and tag
        "grep -q ' refs/remotes/origin/' || exit 0\n" + KILL_PARENT_OF_GIT,
    ),
}


def release(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "release_tool",
            "-C",
            str(repo),
            "release",
            "minor",
            "--yes",
            "--local",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )


def world(repo: Path) -> dict[str, object]:
    """What a release leaves: files, the release commit's tree and message, tags, origin."""
    origin = Path(run_git("remote", "get-url", "origin", cwd=repo))
    return {
        "status": run_git("status", "--porcelain", cwd=repo),
        "files": {p: (repo / p).read_bytes() for p in run_git("ls-files", cwd=repo).split()},
        "head_tree": run_git("rev-parse", "HEAD^{tree}", cwd=repo),
        "head_parent": run_git("rev-parse", "HEAD~1", cwd=repo),
        "message": run_git("log", "-1", "--format=%B", cwd=repo),
        "commits": run_git("rev-list", "--count", "HEAD", cwd=repo),
        "tags": run_git("tag", "-l", "--format=%(refname:strip=2) %(*objecttype)", cwd=repo),
        "origin_master_tree": run_git("rev-parse", "master^{tree}", cwd=origin),
        "origin_tags": run_git("tag", "-l", cwd=origin),
        "origin_tag_at_head": run_git("rev-parse", "v5.3.0^{commit}", cwd=origin)
        == run_git("rev-parse", "HEAD", cwd=repo),
        "lock": (repo / ".git" / "release-tool.lock").exists(),
    }


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    repo = make_library(tmp_path_factory.mktemp("undisturbed"))
    assert release(repo).returncode == 0
    return world(repo)


@pytest.mark.parametrize("point", sorted(HOOKS))
def test_killed_release_is_finished_by_the_same_command(
    point: str, tmp_path: Path, undisturbed: dict[str, object]
) -> None:
    repo = make_library(tmp_path)
    name, script = HOOKS[point]
    hook = repo / ".git" / "hooks" / name
    hook.write_text(script)
    hook.chmod(0o755)
    killed = release(repo)
    assert killed.returncode == -9, killed.stderr  # it really died there
    assert (repo / ".git" / "release-tool.lock").exists()
    hook.unlink()

    again = release(repo)
    assert again.returncode == 0, again.stderr
    assert "interrupted release" in again.stderr
    assert world(repo) == undisturbed


def test_second_release_at_once_fails_cleanly(library: Path) -> None:
    """While one release holds the lock, another of the same repository changes nothing."""
    hook = library / ".git" / "hooks" / "post-commit"
    # The first release pauses after its commit until the second has tried and failed.
    gate = library.parent / "gate"
    hook.write_text(f"#!/bin/sh\nwhile [ ! -e {gate} ]; do sleep 0.05; done\n")
    hook.chmod(0o755)
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "release_tool",
            "-C",
            str(library),
            "release",
            "minor",
            "--yes",
            "--local",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = library / ".git" / "release-tool.lock"
    for _ in range(400):
        if lock.exists() and run_git("rev-list", "--count", "HEAD", cwd=library) == "5":
            break
        subprocess.run(["sleep", "0.05"], check=True)
    second = release(library)
    gate.touch()
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 2
    assert "another release is running in this repository" in second.stderr
    origin = Path(run_git("remote", "get-url", "origin", cwd=library))
    assert run_git("tag", "-l", "v5.*", cwd=origin).split() == ["v5.2.0", "v5.3.0"]
    assert run_git("rev-list", "--count", "master", cwd=origin) == "5"  # one release commit


def _json_run(repo: Path, command: str) -> dict[str, Any]:
    args = [command, "minor", "--local", "--json", *(["--yes"] if command == "release" else [])]
    done = subprocess.run(
        [sys.executable, "-m", "release_tool", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


@pytest.mark.parametrize("point", sorted(HOOKS))
def test_the_dry_run_after_a_kill_plans_what_the_same_command_then_does(
    point: str, tmp_path: Path
) -> None:
    """After a kill, `plan` shows the recovery step and then the release; the real run then
    applies exactly those actions, in that order."""
    repo = make_library(tmp_path)
    name, script = HOOKS[point]
    hook = repo / ".git" / "hooks" / name
    hook.write_text(script)
    hook.chmod(0o755)
    assert release(repo).returncode == -9
    hook.unlink()

    dry = _json_run(repo, "plan")["plan"]
    real = _json_run(repo, "release")
    planned = [(s["name"], a["description"]) for s in dry["steps"] for a in s["actions"]]
    applied = [(a["step"], a["action"]) for a in real["result"]["applied"]]
    assert planned[0][0] == "recover", planned
    assert planned == applied
    assert dry["steps"] == real["plan"]["steps"]
    assert dry["version"] == "5.3.0"
