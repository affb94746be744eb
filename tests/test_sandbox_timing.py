"""GitHub's timing and edge cases: forks that appear a moment after they are asked for, a pull
request refused right after its branch was pushed, the secondary rate limit, and the contents
API's symlinks, submodules and large files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import github
import pytest
import requests
from github import GithubException, InputGitTreeElement
from sandbox_fixtures import DOWNSTREAM, LIBRARY, OUTSIDER, OUTSIDER_TOKEN

from release_tool.errors import ReleaseError
from release_tool.git_repo import run_git
from release_tool.sandbox import Sandbox, parse_fault

Client = Callable[..., Any]


def wait_for(check: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- forks ----------------------------------------------------------------------------------------


def test_a_fork_appears_after_a_delay(
    sandbox: Sandbox, github_client: Client, tmp_path: Path
) -> None:
    sandbox.fork_delay = 2.0
    upstream = github_client(OUTSIDER_TOKEN).get_repo(DOWNSTREAM)
    fork = upstream.create_fork()  # 202 with the fork's description, at once
    assert fork.full_name == f"{OUTSIDER}/edx-platform"
    assert ("POST", f"/api/v3/repos/{DOWNSTREAM}/forks", 202) in sandbox.requests
    api = f"{sandbox.api_url}/repos/{fork.full_name}"
    assert requests.get(api, timeout=10).status_code == 404  # not there yet
    with pytest.raises(ReleaseError):
        run_git("ls-remote", sandbox.git_url(fork.full_name), cwd=tmp_path)
    assert list(upstream.get_forks()) == []
    # Asking again meanwhile answers with the same fork, still being made.
    assert upstream.create_fork().full_name == fork.full_name
    assert wait_for(lambda: requests.get(api, timeout=10).status_code == 200)
    assert [f.full_name for f in upstream.get_forks()] == [fork.full_name]
    assert run_git("ls-remote", sandbox.git_url(fork.full_name), "refs/heads/master", cwd=tmp_path)


# -- faults ---------------------------------------------------------------------------------------


def test_a_pull_request_right_after_its_branch_is_refused_n_times(
    sandbox: Sandbox, github_client: Client
) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    head = repo.get_git_commit(repo.get_branch("master").commit.sha)
    tree = repo.create_git_tree(
        [InputGitTreeElement("a.txt", "100644", "blob", content="a\n")], base_tree=head.tree
    )
    repo.create_git_ref("refs/heads/topic", repo.create_git_commit("a", tree, [head]).sha)
    sandbox.add_fault("POST /repos/*/pulls nocommits 2")
    for _ in range(2):
        with pytest.raises(GithubException) as early:
            repo.create_pull(base="master", head="topic", title="t", body="")
        assert early.value.status == 422
        assert early.value.data["errors"] == [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": "No commits between master and topic",
            }
        ]
    sandbox.add_fault("POST /repos/*/pulls headinvalid 1")
    with pytest.raises(GithubException) as invalid:
        repo.create_pull(base="master", head=f"{OUTSIDER}:topic", title="t", body="")
    assert invalid.value.data["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}
    ]
    assert repo.create_pull(base="master", head="topic", title="t", body="").number == 1


def test_secondary_rate_limit(sandbox: Sandbox, github_client: Client) -> None:
    fault = sandbox.add_fault("POST /repos/*/releases secondary:7")
    assert str(fault) == "POST /repos/*/releases secondary:7 1"
    assert parse_fault(str(fault)) == fault
    with pytest.raises(github.RateLimitExceededException) as limited:
        github_client().get_repo(LIBRARY).create_git_release("v9", "9", "")
    assert limited.value.status == 403
    assert limited.value.headers is not None
    assert limited.value.headers["retry-after"] == "7"
    assert int(limited.value.headers["x-ratelimit-remaining"]) > 0  # not the primary limit
    assert limited.value.data["message"].startswith(
        "You have exceeded a secondary rate limit. Please wait a few minutes"
    )
    assert sandbox.add_fault("* /x secondary").retry_after == 60


# -- contents -------------------------------------------------------------------------------------

BIG = 1536 * 1024  # over GitHub's 1 MB inline limit


def test_contents_of_symlinks_submodules_and_large_files(
    sandbox: Sandbox, github_client: Client
) -> None:
    repo = github_client().get_repo(LIBRARY)
    head = repo.get_git_commit(repo.get_branch("master").commit.sha)
    sub = "a" * 40
    gitmodules = (
        '[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = https://example.org/lib.git\n'
    )
    elements = [
        InputGitTreeElement("links/readme", "120000", "blob", content="../README.rst"),
        InputGitTreeElement("links/package", "120000", "blob", content="../edx_proctoring"),
        InputGitTreeElement("links/outside", "120000", "blob", content="../../etc/passwd"),
        InputGitTreeElement("vendor/lib", "160000", "commit", sha=sub),
        InputGitTreeElement(".gitmodules", "100644", "blob", content=gitmodules),
        InputGitTreeElement("big.txt", "100644", "blob", content="x" * BIG),
    ]
    tree = repo.create_git_tree(elements, base_tree=head.tree)
    commit = repo.create_git_commit("edge cases", tree, [head])
    ref = commit.sha

    readme = repo.get_contents("links/readme", ref=ref)  # a link to a file: the file
    assert (readme.type, readme.path) == ("file", "README.rst")
    assert readme.decoded_content.startswith(b"edx-proctoring")
    for link, target in (
        ("links/package", "../edx_proctoring"),
        ("links/outside", "../../etc/passwd"),
    ):
        found = repo.get_contents(link, ref=ref)
        assert (found.type, found.raw_data["target"]) == ("symlink", target)

    submodule = repo.get_contents("vendor/lib", ref=ref)
    assert (submodule.type, submodule.sha) == ("submodule", sub)
    assert submodule.raw_data["submodule_git_url"] == "https://example.org/lib.git"

    big = repo.get_contents("big.txt", ref=ref)
    assert (big.type, big.size, big.encoding, big.content) == ("file", BIG, "none", "")
    raw = requests.get(
        f"{sandbox.api_url}/repos/{LIBRARY}/contents/big.txt",
        params={"ref": ref},
        headers={"Accept": "application/vnd.github.raw+json"},
        timeout=10,
    )
    assert raw.content == b"x" * BIG
    small = repo.get_contents("README.rst", ref=ref)
    assert small.encoding == "base64"
