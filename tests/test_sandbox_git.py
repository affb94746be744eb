"""Real git traffic against the sandbox: clone, fetch and push over smart HTTP.

Objects written through the API must be what a clone sees, and a push must be what the API
then reports: one set of repositories behind both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from github import InputGitTreeElement
from sandbox_fixtures import DOWNSTREAM, LIBRARY, MAINTAINER_TOKEN, OUTSIDER, OUTSIDER_TOKEN

from release_tool.errors import ReleaseError, StepFailed
from release_tool.git_repo import GitRepo, auth_environment, run_git
from release_tool.sandbox import Sandbox

Client = Callable[..., Any]


def clone(sandbox: Sandbox, full_name: str, dest: Path, token: str | None = None) -> Path:
    url = sandbox.git_url(full_name)
    run_git("clone", "-q", url, str(dest), cwd=dest.parent, env=auth_environment(url, token))
    return dest


def commit_file(work: Path, name: str, text: str, message: str) -> str:
    (work / name).write_text(text)
    run_git("add", name, cwd=work)
    run_git("commit", "-q", "-m", message, cwd=work)
    return run_git("rev-parse", "HEAD", cwd=work)


def test_clone_sees_objects_created_through_the_api(
    sandbox: Sandbox, github_client: Client, tmp_path: Path
) -> None:
    repo = github_client().get_repo(LIBRARY)
    head = repo.get_git_commit(repo.get_branch("master").commit.sha)
    tree = repo.create_git_tree(
        [InputGitTreeElement("api.txt", "100644", "blob", content="made by the API\n")],
        base_tree=head.tree,
    )
    commit = repo.create_git_commit("feat: made through the API", tree, [head])
    repo.get_git_ref("heads/master").edit(commit.sha)

    work = clone(sandbox, LIBRARY, tmp_path / "anonymous")  # reading needs no token
    assert run_git("log", "-2", "--format=%H %s", cwd=work).splitlines() == [
        f"{commit.sha} feat: made through the API",
        f"{head.sha} fix: learner language in review email (#1214)",
    ]
    assert (work / "api.txt").read_text() == "made by the API\n"
    assert "v5.2.0" in run_git("tag", cwd=work).split()


def test_atomic_push_with_the_token_is_seen_by_the_api(
    sandbox: Sandbox, github_client: Client, tmp_path: Path
) -> None:
    work = clone(sandbox, LIBRARY, tmp_path / "work", MAINTAINER_TOKEN)
    sha = commit_file(work, "CHANGES.txt", "5.3.0\n", "chore: release 5.3.0")
    run_git("tag", "-a", "v5.3.0", "-m", "5.3.0", cwd=work)
    # The tool's own push: `git push --atomic --porcelain`, token through http.extraheader.
    GitRepo(work, MAINTAINER_TOKEN).push("origin", ["master", "v5.3.0"])

    repo = github_client().get_repo(LIBRARY)
    assert repo.get_branch("master").commit.sha == sha
    tag = repo.get_git_ref("tags/v5.3.0")
    assert tag.object.type == "tag"
    assert repo.get_git_tag(tag.object.sha).object.sha == sha
    assert ("POST", f"/{LIBRARY}.git/git-receive-pack", 200) in sandbox.requests


def test_atomic_push_is_all_or_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    work = clone(sandbox, LIBRARY, tmp_path / "work", MAINTAINER_TOKEN)
    before = run_git("rev-parse", "origin/master", cwd=work)
    commit_file(work, "x.txt", "x\n", "chore: x")
    run_git("tag", "-f", "v5.2.0", cwd=work)  # the remote's v5.2.0 is elsewhere: rejected
    with pytest.raises(StepFailed):
        GitRepo(work, MAINTAINER_TOKEN).push("origin", ["master", "v5.2.0"])
    remote = run_git("ls-remote", sandbox.git_url(LIBRARY), "refs/heads/master", cwd=work)
    assert remote.split()[0] == before  # the branch did not move either


def test_push_without_a_token_is_challenged(sandbox: Sandbox, tmp_path: Path) -> None:
    work = clone(sandbox, LIBRARY, tmp_path / "work")
    commit_file(work, "y.txt", "y\n", "chore: y")
    with pytest.raises(ReleaseError):
        run_git("push", "origin", "master", cwd=work, env={"GIT_TERMINAL_PROMPT": "0"})
    assert ("GET", f"/{LIBRARY}.git/info/refs", 401) in sandbox.requests
    challenge = requests.get(
        f"{sandbox.git_url(LIBRARY)}/info/refs", params={"service": "git-receive-pack"}, timeout=10
    )
    assert challenge.status_code == 401
    assert challenge.headers["WWW-Authenticate"].startswith("Basic")
    bad = requests.get(
        f"{sandbox.git_url(LIBRARY)}/info/refs",
        timeout=10,
        params={"service": "git-receive-pack"},
        auth=("x-access-token", "wrong"),
    )
    assert bad.status_code == 401


def test_outsider_pushes_its_fork_but_not_upstream(
    sandbox: Sandbox, github_client: Client, tmp_path: Path
) -> None:
    work = clone(sandbox, DOWNSTREAM, tmp_path / "work", OUTSIDER_TOKEN)
    sha = commit_file(work, "z.txt", "z\n", "chore: z")
    with pytest.raises(ReleaseError) as refused:
        run_git(
            "push",
            "origin",
            "HEAD:refs/heads/upgrade",
            cwd=work,
            env=auth_environment(sandbox.git_url(DOWNSTREAM), OUTSIDER_TOKEN),
        )
    assert "403" in refused.value.message or "denied" in refused.value.message

    fork = github_client(OUTSIDER_TOKEN).get_repo(DOWNSTREAM).create_fork()
    run_git(
        "push",
        "-q",
        fork.clone_url,
        "HEAD:refs/heads/upgrade",
        cwd=work,
        env=auth_environment(fork.clone_url, OUTSIDER_TOKEN),
    )
    assert fork.get_branch("upgrade").commit.sha == sha
    assert sandbox.store.ref(f"{OUTSIDER}/edx-platform", "refs/heads/upgrade") is not None
    assert sandbox.store.ref(DOWNSTREAM, "refs/heads/upgrade") is None


def test_fetch_after_api_writes(sandbox: Sandbox, github_client: Client, tmp_path: Path) -> None:
    work = clone(sandbox, DOWNSTREAM, tmp_path / "work")
    repo = github_client().get_repo(DOWNSTREAM)
    repo.create_git_release("v1.0.0", "1.0.0", "")  # creates the tag on the server
    run_git("fetch", "-q", "--tags", "origin", cwd=work)
    assert run_git("rev-parse", "v1.0.0^{commit}", cwd=work) == run_git(
        "rev-parse", "origin/master", cwd=work
    )


def test_unknown_repository_is_404_for_git(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ReleaseError) as missing:
        clone(sandbox, "openedx/no-such-repo", tmp_path / "x")
    assert "not found" in missing.value.message.lower() or "404" in missing.value.message


def test_large_push_is_sent_chunked(sandbox: Sandbox, tmp_path: Path) -> None:
    """Above http.postBuffer (1 MiB) git streams the pack with chunked transfer encoding."""
    work = clone(sandbox, LIBRARY, tmp_path / "work", MAINTAINER_TOKEN)
    (work / "big.bin").write_bytes(os.urandom(1536 * 1024))  # random: it will not compress
    run_git("add", "big.bin", cwd=work)
    run_git("commit", "-q", "-m", "big", cwd=work)
    GitRepo(work, MAINTAINER_TOKEN).push("origin", ["master"])
    assert sandbox.store.ref(LIBRARY, "refs/heads/master") == (
        run_git("rev-parse", "HEAD", cwd=work),
        "commit",
    )
