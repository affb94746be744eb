"""The one git runner: every git command, read or write, fails the same way - git's reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_tool.errors import ReleaseError
from release_tool.git_actions import push_landed
from release_tool.git_repo import GitRepo, RemoteState, run_git, start_git

IDENTITY = {
    "GIT_AUTHOR_NAME": "A",
    "GIT_AUTHOR_EMAIL": "a@example.org",
    "GIT_COMMITTER_NAME": "A",
    "GIT_COMMITTER_EMAIL": "a@example.org",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    run_git("init", "-q", "-b", "main", str(tmp_path / "r"), cwd=tmp_path)
    root = tmp_path / "r"
    (root / "a.txt").write_text("a\n", encoding="utf-8")
    run_git("add", "a.txt", cwd=root)
    run_git("commit", "-qm", "first", cwd=root, env=IDENTITY)
    return root


def failure(*args: str, cwd: Path, write: bool = False) -> ReleaseError:
    with pytest.raises(ReleaseError) as info:
        run_git(*args, cwd=cwd, write=write)
    return info.value


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_a_failure_is_gits_first_reason_on_one_line(repo: Path, write: bool) -> None:
    # `git push` to a missing remote says "fatal: 'nowhere' does not appear to be a git
    # repository", then advice ("Please make sure you have the correct access rights ...").
    error = failure("push", "nowhere", "main", cwd=repo, write=write)
    assert error.message == (
        "git push failed: fatal: 'nowhere' does not appear to be a git repository"
    )
    assert error.hint


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_error_lines_count_as_reasons(repo: Path, write: bool) -> None:
    error = failure("checkout", "-q", "no-such-branch", cwd=repo, write=write)
    assert error.message == (
        "git checkout failed: error: pathspec 'no-such-branch' did not match any file(s) "
        "known to git"
    )


def test_reads_and_writes_return_stripped_stdout(repo: Path) -> None:
    head = run_git("rev-parse", "HEAD", cwd=repo)
    assert len(head) == 40
    assert run_git("rev-parse", "HEAD", cwd=repo, write=True) == head
    run_git("tag", "-a", "v1", "-m", "one", cwd=repo, env=IDENTITY, write=True)
    assert GitRepo(repo).local_tags() == {"v1": head}


def test_a_started_read_fails_like_run_git(repo: Path) -> None:
    call = start_git("rev-parse", "--verify", "no-such-ref", cwd=repo)
    with pytest.raises(ReleaseError) as info:
        call.output()
    assert info.value.message == "git rev-parse failed: fatal: Needed a single revision"


def test_push_landed_is_decided_by_the_release_tag() -> None:
    """The one answer to "did the push land?" (the push step's and the crash recovery's)."""
    sent = {"refs/heads/master": "c1", "refs/tags/v5.3.0": "c1"}
    assert push_landed(RemoteState({"master": "c1"}, {"v5.3.0": "c1"}), sent)
    # Atomic: the tag there means the branch went too, even if it has moved on since.
    assert push_landed(RemoteState({"master": "c2"}, {"v5.3.0": "c1"}), sent)
    assert not push_landed(RemoteState({"master": "c0"}, {}), sent)
    # Someone else's tag of the same name is not our release.
    assert not push_landed(RemoteState({"master": "c0"}, {"v5.3.0": "c0"}), sent)
    assert push_landed(RemoteState({"master": "c1"}, {}), {"refs/heads/master": "c1"})
    assert not push_landed(RemoteState({"master": "c1"}, {}), {})


def test_readiness_started_early_answers_for_the_paths_asked_later(repo: Path) -> None:
    """Preflight asks about every file a commit may hold before it knows which it edits: the
    answer covers only the paths then named, and a path not asked about at the start is
    still answered (untracked, and ignored by a .gitignore rule)."""
    (repo / ".gitignore").write_text("b.txt\n", encoding="utf-8")
    (repo / "b.txt").write_text("b\n", encoding="utf-8")
    (repo / "c.txt").write_text("c\n", encoding="utf-8")
    git = GitRepo(repo)
    with git.start_readiness(["a.txt", "c.txt"]) as pending:
        ready = pending.result(["a.txt", "b.txt"])
    assert (ready.untracked, ready.ignored) == (("b.txt",), ("b.txt",))
    again = git.readiness(["a.txt", "b.txt"])  # (the identity holds the time: not compared)
    assert (ready.untracked, ready.ignored, ready.signing) == (
        again.untracked,
        again.ignored,
        again.signing,
    )
    assert git.readiness([]).untracked == ()
