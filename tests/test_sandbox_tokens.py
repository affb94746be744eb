"""Tokens as GitHub has them: GitHub App JWTs and installation tokens (PyGithub's AppAuth end to
end), fine-grained tokens limited to listed repositories, and the `workflow` permission needed to
move a ref onto commits that change `.github/workflows/` (API and git push alike)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import github
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import GithubException, InputGitTreeElement
from sandbox_fixtures import DOWNSTREAM, LIBRARY, MAINTAINER, OUTSIDER_TOKEN

from release_tool.errors import StepFailed, UsageError
from release_tool.git_repo import GitRepo, auth_environment, run_git
from release_tool.sandbox import Sandbox, Token, parse_app, parse_token

Client = Callable[..., Any]
APP_ID = 4242
PAT_REFUSAL = (
    "refusing to allow a Personal Access Token to create or update workflow "
    "`.github/workflows/ci.yml` without `workflow` scope"
)
APP_REFUSAL = (
    "refusing to allow a GitHub App to create or update workflow "
    "`.github/workflows/ci.yml` without `workflows` permission"
)


@pytest.fixture(scope="module")
def private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def app_sandbox(sandbox: Sandbox, private_pem: str, tmp_path: Path) -> Sandbox:
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_pem)
    sandbox.add_app(parse_app(f"{APP_ID}:{key_file}"))
    return sandbox


def push(work: Path, url: str, token: str) -> subprocess.CompletedProcess[str]:
    """`git push origin master` as is, its stderr kept (git's "remote:" lines)."""
    return subprocess.run(
        ["git", "push", "origin", "master"],
        cwd=work,
        env={**os.environ, **auth_environment(url, token)},
        capture_output=True,
        text=True,
        check=False,
    )


def client(sandbox: Sandbox, auth: Any) -> github.Github:
    return github.Github(base_url=sandbox.api_url, auth=auth, retry=None)


# -- GitHub Apps ----------------------------------------------------------------------------------


def test_app_installation_auth_end_to_end(app_sandbox: Sandbox, private_pem: str) -> None:
    auth = github.Auth.AppAuth(APP_ID, private_pem)
    integration = github.GithubIntegration(auth=auth, base_url=app_sandbox.api_url)
    accounts = [i.raw_data["account"]["login"] for i in integration.get_installations()]
    assert accounts == ["openedx"]
    installation = integration.get_repo_installation("openedx", "edx-platform")
    assert installation.app_id == APP_ID

    gh = client(app_sandbox, auth.get_installation_auth(installation.id))
    repo = gh.get_repo(DOWNSTREAM)
    head = repo.get_branch("master").commit.sha
    created = repo.create_git_ref("refs/heads/from-the-app", head)  # the installation writes
    assert created.object.sha == head
    with pytest.raises(GithubException) as user:
        gh.get_user().login  # noqa: B018 (the attribute access sends the request)
    assert (user.value.status, user.value.data["message"]) == (
        403,
        "Resource not accessible by integration",
    )

    # The token acts only on its installation's account.
    fork = client(app_sandbox, github.Auth.Token(OUTSIDER_TOKEN)).get_repo(DOWNSTREAM).create_fork()
    with pytest.raises(GithubException) as elsewhere:
        gh.get_repo(fork.full_name).create_git_ref("refs/heads/x", head)
    assert elsewhere.value.data["message"] == "Resource not accessible by integration"


def test_app_jwt_is_checked(app_sandbox: Sandbox, private_pem: str) -> None:
    url = f"{app_sandbox.api_url}/app/installations"

    def call(token: str) -> requests.Response:
        return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    now = int(time.time())
    good = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, private_pem, "RS256")
    assert call(good).status_code == 200
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, other, "RS256")
    assert call(forged).status_code == 401
    expired = jwt.encode(
        {"iat": now - 900, "exp": now - 300, "iss": str(APP_ID)}, private_pem, "RS256"
    )
    refused = call(expired)
    assert refused.status_code == 401
    assert refused.json()["message"].startswith("'Expiration time' claim ('exp')")
    # A JWT is for the app's endpoints only; the app's endpoints take nothing else.
    repo = requests.get(
        f"{app_sandbox.api_url}/repos/{LIBRARY}",
        headers={"Authorization": f"Bearer {good}"},
        timeout=10,
    )
    assert repo.status_code == 401
    token_call = requests.get(url, headers={"Authorization": f"token {OUTSIDER_TOKEN}"}, timeout=10)
    assert token_call.status_code == 401


def test_installation_token_limited_to_listed_repositories(
    app_sandbox: Sandbox, private_pem: str
) -> None:
    integration = github.GithubIntegration(
        auth=github.Auth.AppAuth(APP_ID, private_pem), base_url=app_sandbox.api_url
    )
    installation = integration.get_repo_installation("openedx", "edx-platform")
    now = int(time.time())
    jwt_token = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, private_pem, "RS256"
    )
    issued = requests.post(
        f"{app_sandbox.api_url}/app/installations/{installation.id}/access_tokens",
        json={"repositories": ["edx-proctoring"]},
        headers={"Authorization": f"Bearer {jwt_token}"},
        timeout=10,
    )
    assert issued.status_code == 201
    body = issued.json()
    assert body["token"].startswith("ghs_")
    assert body["repository_selection"] == "selected"
    assert [r["full_name"] for r in body["repositories"]] == [LIBRARY]
    gh = client(app_sandbox, github.Auth.Token(body["token"]))
    head = gh.get_repo(DOWNSTREAM).get_branch("master").commit.sha  # reading: fine
    with pytest.raises(GithubException) as refused:
        gh.get_repo(DOWNSTREAM).create_git_ref("refs/heads/x", head)
    assert refused.value.status == 403
    library_head = gh.get_repo(LIBRARY).get_branch("master").commit.sha
    gh.get_repo(LIBRARY).create_git_ref("refs/heads/x", library_head)


# -- fine-grained tokens --------------------------------------------------------------------------


def test_fine_grained_token_writes_only_its_repositories(sandbox: Sandbox, tmp_path: Path) -> None:
    secret, token = parse_token(f"fine-grained-1:{MAINTAINER}:repos={LIBRARY}")
    assert token == Token(MAINTAINER, "fine-grained", frozenset({LIBRARY}), workflow=False)
    sandbox.add_token(secret, token)
    gh = client(sandbox, github.Auth.Token(secret))
    downstream = gh.get_repo(DOWNSTREAM)
    head = downstream.get_branch("master").commit.sha  # it reads every public repository
    with pytest.raises(GithubException) as refused:
        downstream.create_git_ref("refs/heads/x", head)
    assert refused.value.data["message"] == "Resource not accessible by personal access token"
    with pytest.raises(GithubException):
        downstream.create_pull(base="master", head="master", title="t", body="")
    library = gh.get_repo(LIBRARY)
    library.create_git_ref("refs/heads/x", library.get_branch("master").commit.sha)

    url = sandbox.git_url(DOWNSTREAM)
    work = tmp_path / "work"
    run_git("clone", "-q", url, str(work), cwd=tmp_path, env=auth_environment(url, None))
    (work / "f.txt").write_text("f\n")
    run_git("add", "f.txt", cwd=work)
    run_git("commit", "-qm", "f", cwd=work)
    with pytest.raises(StepFailed):
        GitRepo(work, secret).push("origin", ["master"])
    assert sandbox.store.ref(DOWNSTREAM, "refs/heads/master") == (head, "commit")


def test_token_specs() -> None:
    assert parse_token("t:bot:no-workflow") == ("t", Token("bot", workflow=False))
    assert parse_token("t:bot:repos=a/b+c/D,workflow")[1] == Token(
        "bot", "fine-grained", frozenset({"a/b", "c/d"}), workflow=True
    )
    for bad in ("t:bot:repos=", "t:bot:repos=nope", "t:bot:admin"):
        with pytest.raises(UsageError):
            parse_token(bad)
    with pytest.raises(UsageError):
        parse_app("x:key.pem")
    with pytest.raises(UsageError):
        parse_app("1:/no/such/key.pem")


# -- the workflow permission ----------------------------------------------------------------------


def test_workflow_changes_need_the_workflow_scope_through_the_api(
    sandbox: Sandbox, github_client: Client
) -> None:
    sandbox.add_token("no-workflow", Token(MAINTAINER, workflow=False))
    repo = client(sandbox, github.Auth.Token("no-workflow")).get_repo(DOWNSTREAM)
    with pytest.raises(GithubException) as contents:
        repo.create_file(".github/workflows/ci.yml", "ci", "on: push\n")
    assert (contents.value.status, contents.value.data["message"]) == (403, PAT_REFUSAL)

    head = repo.get_git_commit(repo.get_branch("master").commit.sha)
    tree = repo.create_git_tree(
        [InputGitTreeElement(".github/workflows/ci.yml", "100644", "blob", content="on: push\n")],
        base_tree=head.tree,
    )
    commit = repo.create_git_commit("ci", tree, [head])  # objects are fine; moving a ref is not
    with pytest.raises(GithubException) as create:
        repo.create_git_ref("refs/heads/ci", commit.sha)
    assert create.value.data["message"] == PAT_REFUSAL
    branch = repo.create_git_ref("refs/heads/ci", head.sha)
    with pytest.raises(GithubException) as update:
        branch.edit(commit.sha)
    assert update.value.data["message"] == PAT_REFUSAL
    # The same commit pushed by a token with the scope; then moving a ref onto it is no change
    # of workflows any more.
    github_client().get_repo(DOWNSTREAM).create_git_ref("refs/heads/ci-2", commit.sha)
    branch.edit(commit.sha)
    repo.create_file("docs/notes.md", "docs", "notes\n")  # other files: fine


def test_workflow_changes_need_the_permission_through_git_push(
    app_sandbox: Sandbox, private_pem: str, tmp_path: Path
) -> None:
    url = app_sandbox.git_url(DOWNSTREAM)
    work = tmp_path / "work"
    run_git("clone", "-q", url, str(work), cwd=tmp_path, env=auth_environment(url, None))
    (work / ".github" / "workflows").mkdir(parents=True)
    (work / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    run_git("add", ".github", cwd=work)
    run_git("commit", "-qm", "ci", cwd=work)
    before = app_sandbox.store.ref(DOWNSTREAM, "refs/heads/master")

    app_sandbox.add_token("classic-no-workflow", Token(MAINTAINER, workflow=False))
    refused = push(work, url, "classic-no-workflow")
    assert refused.returncode != 0
    assert f"remote: {PAT_REFUSAL}" in refused.stderr
    installation = github.GithubIntegration(
        auth=github.Auth.AppAuth(APP_ID, private_pem), base_url=app_sandbox.api_url
    ).get_repo_installation("openedx", "edx-platform")
    auth = github.Auth.AppAuth(APP_ID, private_pem).get_installation_auth(installation.id)
    gh = client(app_sandbox, auth)
    gh.get_repo(DOWNSTREAM)  # fetches the installation token
    app_refused = push(work, url, auth.token)
    assert app_refused.returncode != 0
    assert f"remote: {APP_REFUSAL}" in app_refused.stderr
    assert app_sandbox.store.ref(DOWNSTREAM, "refs/heads/master") == before

    app_sandbox.add_token("classic", Token(MAINTAINER))
    GitRepo(work, "classic").push("origin", ["master"])  # with the scope: accepted
    assert app_sandbox.store.ref(DOWNSTREAM, "refs/heads/master") == (
        run_git("rev-parse", "HEAD", cwd=work),
        "commit",
    )
    (work / "README.rst").write_text("changed\n")
    run_git("commit", "-qam", "readme", cwd=work)
    GitRepo(work, "classic-no-workflow").push("origin", ["master"])  # no workflow change


# -- sandbox serve --app --------------------------------------------------------------------------


def test_serve_with_an_app(tmp_path: Path, private_pem: str) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_pem)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "release_tool",
            "sandbox",
            "serve",
            "--root",
            str(tmp_path / "root"),
            "--seed",
            "example",
            "--app",
            f"{APP_ID}:{key_file}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        api = proc.stdout.readline().strip()
        now = int(time.time())
        token = jwt.encode(
            {"iat": now - 60, "exp": now + 540, "iss": str(APP_ID)}, private_pem, "RS256"
        )
        request = urllib.request.Request(
            f"{api}/app/installations", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            installations = json.load(response)
        assert [i["account"]["login"] for i in installations] == ["openedx"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
