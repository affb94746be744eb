"""Fault injection: PyGithub must see exactly what it would see from GitHub, and a fault's COUNT
must spend, so a re-run after a failure goes through."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import github
import pytest
import requests
from sandbox_fixtures import LIBRARY, MAINTAINER_TOKEN

from release_tool.errors import StepFailed
from release_tool.git_repo import GitRepo, auth_environment, run_git
from release_tool.sandbox import Fault, Sandbox

Client = Callable[..., Any]
RELEASES = f"/api/v3/repos/{LIBRARY}/releases"


def test_5xx_fault_is_a_github_exception_once(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    sandbox.add_fault("POST /repos/*/releases 500 1")
    with pytest.raises(github.GithubException) as failed:
        repo.create_git_release("v5.3.0", "5.3.0", "notes")
    assert failed.value.status == 500
    assert failed.value.data["message"] == "Internal Server Error"
    assert sandbox.faults == []  # spent
    assert sandbox.state.releases(LIBRARY) == []  # the request never reached the API
    repo.create_git_release("v5.3.0", "5.3.0", "notes")  # the re-run goes through
    assert [r for r in sandbox.requests if r[0] == "POST" and r[1] == RELEASES] == [
        ("POST", RELEASES, 500),
        ("POST", RELEASES, 201),
    ]


def test_reset_drops_the_connection(sandbox: Sandbox, github_client: Client) -> None:
    gh = github_client()
    sandbox.add_fault(f"GET /api/v3/repos/{LIBRARY} reset 2")
    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            gh.get_repo(LIBRARY)
    assert gh.get_repo(LIBRARY).full_name == LIBRARY
    assert [
        status for method, path, status in sandbox.requests if path == f"/api/v3/repos/{LIBRARY}"
    ] == [0, 0, 200]


def test_ratelimit_is_github_s_primary_rate_limit(sandbox: Sandbox, github_client: Client) -> None:
    gh = github_client()
    sandbox.add_fault("* /user ratelimit")
    with pytest.raises(github.RateLimitExceededException) as limited:
        gh.get_user().login  # noqa: B018 (the attribute access sends the request)
    assert limited.value.status == 403
    headers = {k.lower(): v for k, v in (limited.value.headers or {}).items()}
    assert headers["x-ratelimit-remaining"] == "0"
    assert headers["x-ratelimit-limit"] == headers["x-ratelimit-used"] == "5000"
    assert headers["x-ratelimit-resource"] == "core"
    assert int(headers["x-ratelimit-reset"]) > time.time()
    assert limited.value.data["message"].startswith("API rate limit exceeded for user ID ")
    assert gh.get_user().login == "maintainer"


def test_count_star_always_fires_until_cleared(sandbox: Sandbox, github_client: Client) -> None:
    gh = github_client()
    fault = sandbox.add_fault("GET /repos/openedx/* 503 *")
    for _ in range(3):
        with pytest.raises(github.GithubException) as failed:
            gh.get_repo(LIBRARY)
        assert failed.value.status == 503
    assert sandbox.faults == [(fault, None)]
    sandbox.clear_faults()
    assert gh.get_repo(LIBRARY).full_name == LIBRARY


def test_pygithub_default_retry_rides_over_a_spent_fault(
    sandbox: Sandbox, github_client: Client
) -> None:
    sandbox.add_fault(f"GET /repos/{LIBRARY} 502")
    retrying = github_client(retry=github.GithubRetry(total=2, backoff_factor=0))
    assert retrying.get_repo(LIBRARY).full_name == LIBRARY
    assert [s for _, p, s in sandbox.requests if p.endswith(LIBRARY)] == [502, 200]


def test_fault_on_a_git_push_then_the_retry_succeeds(sandbox: Sandbox, tmp_path: Path) -> None:
    url = sandbox.git_url(LIBRARY)
    work = tmp_path / "work"
    run_git("clone", "-q", url, str(work), cwd=tmp_path, env=auth_environment(url, None))
    (work / "f.txt").write_text("f\n")
    run_git("add", "f.txt", cwd=work)
    run_git("commit", "-q", "-m", "f", cwd=work)
    sandbox.add_fault(f"POST /{LIBRARY}.git/git-receive-pack 500")
    repo = GitRepo(work, MAINTAINER_TOKEN)
    with pytest.raises(StepFailed):
        repo.push("origin", ["master"])
    repo.push("origin", ["master"])
    assert sandbox.store.ref(LIBRARY, "refs/heads/master") == (
        run_git("rev-parse", "HEAD", cwd=work),
        "commit",
    )


def test_faults_given_at_start(tmp_path: Path) -> None:
    with Sandbox(
        tmp_path / "root",
        faults=["GET /rate_limit 418 1", Fault("*", "/api/v3/user", "reset", None)],
    ) as sb:
        assert requests.get(f"{sb.api_url}/rate_limit", timeout=10).status_code == 418
        assert requests.get(f"{sb.api_url}/rate_limit", timeout=10).status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"{sb.api_url}/user", timeout=10)
        assert [f for f, _ in sb.faults] == [Fault("*", "/api/v3/user", "reset", None)]


def test_an_after_fault_does_the_work_then_loses_the_answer(
    sandbox: Sandbox, github_client: Client
) -> None:
    """`after:502`: the release is created, and only then does the client get a 502."""
    repo = github_client().get_repo(LIBRARY)
    fault = sandbox.add_fault("POST /repos/*/releases after:502 1")
    assert str(fault) == "POST /repos/*/releases after:502 1"
    with pytest.raises(github.GithubException) as failed:
        repo.create_git_release("v5.3.0", "5.3.0", "notes")
    assert failed.value.status == 502
    assert sandbox.faults == []
    assert [r.tag_name for r in sandbox.state.releases(LIBRARY)] == ["v5.3.0"]  # done anyway


def test_an_after_fault_on_a_push_updates_the_refs_and_loses_the_answer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    url = sandbox.git_url(LIBRARY)
    work = tmp_path / "work"
    run_git("clone", "-q", url, str(work), cwd=tmp_path, env=auth_environment(url, None))
    (work / "f.txt").write_text("f\n")
    run_git("add", "f.txt", cwd=work)
    run_git("commit", "-q", "-m", "f", cwd=work)
    sandbox.add_fault(f"POST /{LIBRARY}.git/git-receive-pack after:reset")
    repo = GitRepo(work, MAINTAINER_TOKEN)
    with pytest.raises(StepFailed):
        repo.push("origin", ["master"])
    assert sandbox.store.ref(LIBRARY, "refs/heads/master") == (
        run_git("rev-parse", "HEAD", cwd=work),
        "commit",
    )
