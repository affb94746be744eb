"""The sandbox's life cycle and building blocks: restart, seeding, importing repositories, the
spec parsers, and the contract checker itself."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from github import InputGitTreeElement
from sandbox_fixtures import (
    DOWNSTREAM,
    GRANTS,
    LIBRARY,
    OUTSIDER,
    OUTSIDER_TOKEN,
    TOKENS,
    Contract,
    fsck_problems,
)

from release_tool.errors import UsageError
from release_tool.git_repo import run_git
from release_tool.sandbox import (
    LOCK_FILE,
    Exchange,
    Fault,
    Sandbox,
    copy_repository,
    parse_fault,
    parse_grant,
    parse_token,
    seed_example,
)
from release_tool.sandbox.state import STATE_FILE

Client = Callable[..., Any]


def test_state_survives_a_restart(
    sandbox: Sandbox, github_client: Client, contract: Contract
) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    release = repo.create_git_release("v1.0.0", "1.0.0", "first")
    head = repo.get_git_commit(repo.get_branch("master").commit.sha)
    tree = repo.create_git_tree(
        [InputGitTreeElement("a", "100644", "blob", content="a")], base_tree=head.tree
    )
    repo.create_git_ref("refs/heads/topic", repo.create_git_commit("a", tree, [head]).sha)
    pr = repo.create_pull(base="master", head="topic", title="topic", body="")
    pr.add_to_labels("dependencies")
    pr.create_review_request(reviewers=["edx-platform-reviewer"])
    repo.create_file(
        ".github/workflows/w.yml", "ci", "on:\n  workflow_dispatch:\n    inputs:\n      a: {}\n"
    )
    assert repo.get_workflow("w.yml").create_dispatch("master", {"a": "b"})
    github_client(OUTSIDER_TOKEN).get_repo(DOWNSTREAM).create_fork()
    repo_id = repo.id
    sandbox.stop()

    with Sandbox(sandbox.root, tokens=TOKENS, grants=GRANTS, observer=contract) as again:
        import github

        gh = github.Github(
            base_url=again.api_url,
            auth=github.Auth.Token("sandbox-token-maintainer"),
            seconds_between_requests=0,
            seconds_between_writes=0,
            retry=None,
        )
        repo = gh.get_repo(DOWNSTREAM)
        assert repo.id == repo_id
        assert repo.get_release("v1.0.0").id == release.id
        restored = repo.get_pull(pr.number)
        assert [lb.name for lb in restored.labels] == ["dependencies"]
        assert [u.login for u in restored.requested_reviewers] == ["edx-platform-reviewer"]
        assert [f.full_name for f in repo.get_forks()] == [f"{OUTSIDER}/edx-platform"]
        assert [d.inputs for d in again.state.dispatches(DOWNSTREAM)] == [{"a": "b"}]
        # Ids and numbers keep counting where they were.
        assert repo.create_git_release("v1.0.1", "1.0.1", "").id > release.id
        repo.create_git_ref("refs/heads/topic2", repo.get_branch("topic").commit.sha)
        assert (
            repo.create_pull(base="master", head="topic2", title="t2", body="").number
            == pr.number + 1
        )


def test_state_file_is_json_and_leaves_no_temporary_files(
    sandbox: Sandbox, github_client: Client
) -> None:
    github_client().get_repo(LIBRARY).create_git_release("v9.0.0", "9", "")
    saved = json.loads((sandbox.root / STATE_FILE).read_text())
    assert [r["tag_name"] for r in saved["releases"]] == ["v9.0.0"]
    assert sorted(p.name for p in sandbox.root.iterdir()) == [LOCK_FILE, "openedx", STATE_FILE]


def test_one_sandbox_per_root(sandbox: Sandbox) -> None:
    with pytest.raises(UsageError) as refused:
        Sandbox(sandbox.root).start()
    assert "already serving" in refused.value.message
    with pytest.raises(UsageError):
        seed_example(sandbox.root, force=True)  # would rebuild under the running sandbox
    with pytest.raises(UsageError) as busy:
        Sandbox(sandbox.root.parent / "other", port=sandbox.port).start()
    assert "cannot listen" in busy.value.message


def test_seed_example_keeps_or_rebuilds(tmp_path: Path) -> None:
    root = tmp_path / "root"
    assert seed_example(root) == [LIBRARY, DOWNSTREAM]
    assert seed_example(root) == []
    with Sandbox(root, tokens=TOKENS, grants=GRANTS) as sb:
        requests.post(
            f"{sb.api_url}/repos/{LIBRARY}/releases",
            json={"tag_name": "v9"},
            headers={"Authorization": "token sandbox-token-maintainer"},
            timeout=10,
        )
        assert len(sb.state.releases(LIBRARY)) == 1
    assert seed_example(root, force=True) == [LIBRARY, DOWNSTREAM]
    with Sandbox(root) as sb:
        assert sb.state.releases(LIBRARY) == []
        assert run_git("tag", "-l", "v9", cwd=sb.repository_path(LIBRARY)) == ""
        assert run_git("remote", cwd=sb.repository_path(LIBRARY)) == ""


def test_copy_repository_imports_a_working_copy(library: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    run_git("checkout", "-q", "-b", "local-only", cwd=library)
    run_git("checkout", "-q", "master", cwd=library)
    bare = copy_repository(root, library, "someone/edx-proctoring")
    assert bare == root / "someone" / "edx-proctoring.git"
    assert run_git("rev-parse", "master", cwd=bare) == run_git("rev-parse", "HEAD", cwd=library)
    assert "v5.2.0" in run_git("tag", cwd=bare).split()
    assert "local-only" in run_git("branch", cwd=bare)
    assert run_git("remote", cwd=bare) == ""
    with pytest.raises(UsageError):
        copy_repository(root, library, "someone/edx-proctoring")
    with pytest.raises(UsageError):
        copy_repository(root, tmp_path / "not-a-repo", "someone/other")
    with pytest.raises(UsageError):
        copy_repository(root, library, "../escape")
    with Sandbox(root) as sb:
        sb.copy_repository(library, "someone/edx-proctoring", force=True)
        listed = requests.get(f"{sb.api_url}/repos/someone/edx-proctoring", timeout=10).json()
        assert listed["default_branch"] == "master"


def test_serve_forever_until_stopped(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path / "root", tokens={"t": "maintainer"})
    ready = threading.Event()
    urls: list[str] = []

    def on_ready(sb: Sandbox) -> None:
        urls.append(sb.api_url)
        ready.set()

    thread = threading.Thread(target=sandbox.serve_forever, args=(on_ready,))
    thread.start()
    assert ready.wait(10)
    response = requests.get(f"{urls[0]}/user", headers={"Authorization": "token t"}, timeout=10)
    assert response.json()["login"] == "maintainer"
    sandbox.stop()
    thread.join(10)
    assert not thread.is_alive()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{urls[0]}/user", timeout=2)


# -- spec parsers ---------------------------------------------------------------------------------


def test_parse_token_and_grant() -> None:
    assert parse_token("abc") == ("abc", "maintainer")
    assert parse_token("abc:release-bot") == ("abc", "release-bot")
    assert parse_grant("bot:openedx/edx-platform") == ("bot", "openedx/edx-platform")


@pytest.mark.parametrize("spec", ["", ":user", "tok:", "tok:bad user", "tok:-x"])
def test_parse_token_refuses(spec: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_token(spec)
    assert refused.value.hint


@pytest.mark.parametrize(
    "spec", ["bot", "bot:openedx", "bot:openedx/x/y", ":openedx/x", "bot:../x", "bot:o/.."]
)
def test_parse_grant_refuses(spec: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_grant(spec)
    assert refused.value.hint


def test_parse_fault() -> None:
    assert parse_fault("POST /repos/*/releases 500 1") == Fault("POST", "/repos/*/releases", 500, 1)
    assert parse_fault("get /user reset") == Fault("GET", "/user", "reset", 1)
    assert parse_fault("* /x ratelimit *") == Fault("*", "/x", "ratelimit", None)
    assert parse_fault("* /x 502 0").count is None
    assert str(parse_fault("* /x 502 3")) == "* /x 502 3"


@pytest.mark.parametrize(
    "spec",
    [
        "POST /x",
        "FETCH /x 500",
        "GET x 500",
        "GET /x 999",
        "GET /x boom",
        "GET /x 500 -1",
        "GET /x 500 1 extra",
    ],
)
def test_parse_fault_refuses(spec: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_fault(spec)
    assert "METHOD PATH_GLOB STATUS" in refused.value.hint


def test_fault_matches_with_and_without_the_api_prefix() -> None:
    fault = parse_fault("POST /repos/*/releases 500")
    assert fault.matches("POST", "/api/v3/repos/openedx/edx-proctoring/releases")
    assert fault.matches("post", "/repos/o/r/releases")
    assert not fault.matches("GET", "/api/v3/repos/o/r/releases")
    assert not fault.matches("POST", "/api/v3/repos/o/r/releases/1")
    assert parse_fault("* /api/v3/user 500").matches("DELETE", "/api/v3/user")


# -- the contract checker -----------------------------------------------------------------------


def _ref(sha: str) -> dict[str, Any]:
    url = "http://127.0.0.1:1/api/v3/repos/o/r/git/refs/heads/main"
    return {
        "ref": "refs/heads/main",
        "node_id": "REF_x",
        "url": url,
        "object": {"type": "commit", "sha": sha, "url": url},
    }


def test_contract_catches_a_wrong_body() -> None:
    checker = Contract()
    operation = "/repos/{owner}/{repo}/git/ref/{ref}"
    checker(Exchange("GET", "/api/v3/repos/o/r/git/ref/heads/main", operation, 200, _ref("a" * 40)))
    assert checker.violations == []
    checker(Exchange("GET", "/api/v3/repos/o/r/git/ref/heads/main", operation, 200, _ref("abc")))
    assert len(checker.violations) == 1
    assert "'abc' is too short" in checker.violations[0]
    checker(Exchange("GET", "/api/v3/x", None, 404, {"message": "Not Found"}))
    assert "documentation_url" in checker.violations[-1]


def test_contract_checks_accepted_request_bodies() -> None:
    checker = Contract()
    operation = "/repos/{owner}/{repo}/git/refs"
    checker(
        Exchange(
            "POST",
            "/api/v3/repos/o/r/git/refs",
            operation,
            201,
            _ref("a" * 40),
            request_body={"ref": "refs/heads/x"},
        )
    )
    assert any("'sha' is a required property" in v for v in checker.violations)
    refused = Contract()
    refused(
        Exchange(
            "POST",
            "/api/v3/repos/o/r/git/refs",
            operation,
            422,
            {"message": "Invalid request.", "documentation_url": "x"},
            request_body={"ref": "refs/heads/x"},
        )
    )
    assert refused.violations == []  # a refused bad request is the sandbox doing its job


def test_fsck_gate_catches_a_broken_object(tmp_path: Path) -> None:
    root = tmp_path / "root"
    seed_example(root)
    sandbox = Sandbox(root)
    assert fsck_problems(sandbox) == []
    subprocess.run(
        ["git", "hash-object", "-t", "commit", "--literally", "-w", "--stdin"],
        cwd=sandbox.repository_path(LIBRARY),
        input=b"tree nonsense\n\nbroken\n",
        check=True,
        capture_output=True,
    )
    [problem] = fsck_problems(sandbox)
    assert problem.startswith(LIBRARY)
