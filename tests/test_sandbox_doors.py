"""The sandbox's own doors: git access decided on the request http-backend will see (encoded
spellings cannot sneak a push past a read-only token), the token checked before a body is read,
bodies capped, and forking into an organization only for its members."""

from __future__ import annotations

import base64
import http.client
import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from github import GithubException
from sandbox_fixtures import (
    DOWNSTREAM,
    LIBRARY,
    MAINTAINER,
    MAINTAINER_TOKEN,
    OUTSIDER,
    OUTSIDER_TOKEN,
)

from release_tool.errors import StepFailed
from release_tool.git_repo import GitRepo, auth_environment, run_git
from release_tool.sandbox import Sandbox

Client = Callable[..., Any]


def basic(token: str) -> dict[str, str]:
    encoded = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def raw_get(sandbox: Sandbox, target: str, token: str | None) -> requests.Response:
    """A GET with the path and query exactly as written (requests would re-quote them)."""
    session = requests.Session()
    request = requests.Request("GET", sandbox.url + target, headers=basic(token) if token else {})
    prepared = session.prepare_request(request)
    prepared.url = sandbox.url + target
    return session.send(prepared, timeout=10)


# -- git: decided on what http-backend sees -------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        f"/{LIBRARY}.git/info/refs?service=git-receive-pack",
        f"/{LIBRARY}.git/info/refs?service=git%2Dreceive-pack",
        f"/{LIBRARY}.git/info/refs?service=git-receive-pac%6B",
        f"/{LIBRARY}.git/info/refs?servic%65=git-receive-pack",
        f"/{LIBRARY}.git/info/refs?service=git%2dreceive%2Dpack",
    ],
)
def test_a_push_is_a_push_however_it_is_spelled(sandbox: Sandbox, target: str) -> None:
    # The outsider may read the library, never push to it; git's first push request is this.
    refused = raw_get(sandbox, target, OUTSIDER_TOKEN)
    assert refused.status_code == 403
    assert b"git-receive-pack" not in refused.content  # no advertisement leaked
    assert raw_get(sandbox, target, None).status_code == 401
    assert raw_get(sandbox, target, MAINTAINER_TOKEN).status_code == 200


def receive_pack_body(sandbox: Sandbox, ref: str) -> bytes:
    """A complete push request: create `ref` at the library's master (no new objects)."""
    head = sandbox.store.ref(LIBRARY, "refs/heads/master")
    assert head is not None
    command = f"{'0' * 40} {head[0]} {ref}\0report-status\n".encode()
    empty_pack = subprocess.run(
        ["git", "pack-objects", "--stdout"], input=b"", capture_output=True, check=True
    ).stdout
    return f"{len(command) + 4:04x}".encode() + command + b"0000" + empty_pack


@pytest.mark.parametrize(
    "endpoint", ["git-receive-pac%6B", "git%2Dreceive-pack", "%67it-receive-pack"]
)
def test_an_encoded_receive_pack_post_needs_write_access(sandbox: Sandbox, endpoint: str) -> None:
    def push(token: str) -> int:
        # http.client sends the path exactly as written (requests would decode `%6B` to `k`).
        conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
        try:
            conn.request(
                "POST",
                f"/{LIBRARY}.git/{endpoint}",
                body=receive_pack_body(sandbox, f"refs/heads/{token}"),
                headers={**basic(token), "Content-Type": "application/x-git-receive-pack-request"},
            )
            response = conn.getresponse()
            response.read()  # the push completes while its report is read
            return response.status
        finally:
            conn.close()

    assert push(OUTSIDER_TOKEN) == 403
    assert sandbox.store.ref(LIBRARY, f"refs/heads/{OUTSIDER_TOKEN}") is None
    # The same request with write access is a push (http-backend sees the decoded path).
    assert push(MAINTAINER_TOKEN) == 200
    assert sandbox.store.ref(LIBRARY, f"refs/heads/{MAINTAINER_TOKEN}") is not None


@pytest.mark.parametrize(
    ("target", "status"),
    [
        (f"/{LIBRARY}.git/info%2Frefs?service=git-upload-pack", 400),  # an encoded slash
        ("/openedx%2Fedx-proctoring.git/info/refs?service=git-upload-pack", 404),  # not git
        (f"/{LIBRARY}.git/info/refs?service=git%252Dreceive-pack", 400),  # encoded twice
        (f"/{LIBRARY}.git/info/refs?service=git-upload-pack&service=git-receive-pack", 400),
        (f"/{LIBRARY}.git/info/refs?service=git-upload-pack&x=1", 400),
        (f"/{LIBRARY}.git/info/refs?service=git-upload-pack%00", 400),
        (f"/{LIBRARY}.git/info/refs?service=git-annex", 403),
        (f"/{LIBRARY}.git/info/refs", 403),  # dumb HTTP: GitHub has none
        (f"/{LIBRARY}.git/objects/info/packs", 404),
        (f"/{LIBRARY}.git/./info/refs?service=git-upload-pack", 400),
        (f"/{LIBRARY}.git//info/refs?service=git-upload-pack", 400),
    ],
)
def test_ambiguous_or_unknown_git_requests_are_refused(
    sandbox: Sandbox, target: str, status: int
) -> None:
    assert raw_get(sandbox, target, MAINTAINER_TOKEN).status_code == status


def test_a_plainly_encoded_read_still_works(sandbox: Sandbox) -> None:
    response = raw_get(sandbox, f"/{LIBRARY}.git/info/refs?service=git%2Dupload-pack", None)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-git-upload-pack-advertisement"


# -- the token before the body; bodies capped -----------------------------------------------------


def head_only(sandbox: Sandbox, request_line: str, headers: dict[str, str]) -> bytes:
    """Send a request's head with a large Content-Length and no body; the answer must come
    anyway (the body was never waited for) and close the connection."""
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as conn:
        lines = [request_line, "Host: 127.0.0.1", "Content-Length: 50000000"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while chunk := conn.recv(65536):  # ends when the server closes the connection
            answer += chunk
    return answer


def test_the_token_is_checked_before_the_body_is_read(sandbox: Sandbox) -> None:
    api = f"POST /api/v3/repos/{LIBRARY}/releases HTTP/1.1"
    bad = head_only(sandbox, api, {"Authorization": "token not-a-token"})
    assert bad.startswith(b"HTTP/1.1 401")
    assert b"Connection: close" in bad
    anonymous = head_only(sandbox, api, {})
    assert anonymous.startswith(b"HTTP/1.1 401")
    outsider = head_only(sandbox, api, {"Authorization": f"token {OUTSIDER_TOKEN}"})
    assert outsider.startswith(b"HTTP/1.1 403")
    push = f"POST /{LIBRARY}.git/git-receive-pack HTTP/1.1"
    assert head_only(sandbox, push, basic(OUTSIDER_TOKEN)).startswith(b"HTTP/1.1 403")
    assert head_only(sandbox, push, {}).startswith(b"HTTP/1.1 401")
    # Over the limit with a good token: 413, still without reading the body.
    too_big = head_only(sandbox, api, {"Authorization": f"token {MAINTAINER_TOKEN}"})
    assert too_big.startswith(b"HTTP/1.1 413")


def test_bodies_over_the_limits_get_413(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.set_body_limits(json_body=2000, git_body=200_000)
    url = f"{sandbox.api_url}/repos/{LIBRARY}/releases"
    headers = {"Authorization": f"token {MAINTAINER_TOKEN}"}
    big = requests.post(
        url, json={"tag_name": "v9", "body": "x" * 3000}, headers=headers, timeout=10
    )
    assert big.status_code == 413

    def chunks() -> Any:
        yield b'{"tag_name": "v9", "body": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    chunked = requests.post(url, data=chunks(), headers=headers, timeout=10)
    assert chunked.status_code == 413
    assert sandbox.state.releases(LIBRARY) == []
    assert (
        requests.post(url, json={"tag_name": "v9"}, headers=headers, timeout=10).status_code == 201
    )

    git_url = sandbox.git_url(LIBRARY)
    work = tmp_path / "work"
    run_git("clone", "-q", git_url, str(work), cwd=tmp_path, env=auth_environment(git_url, None))
    (work / "big.bin").write_bytes(os.urandom(400_000))
    run_git("add", "big.bin", cwd=work)
    run_git("commit", "-qm", "big", cwd=work)
    with pytest.raises(StepFailed):
        GitRepo(work, MAINTAINER_TOKEN).push("origin", ["master"])
    assert ("POST", f"/{LIBRARY}.git/git-receive-pack", 413) in sandbox.requests


# -- forks into organizations ---------------------------------------------------------------------


def test_forking_into_an_organization_needs_membership(
    sandbox: Sandbox, github_client: Client
) -> None:
    upstream = github_client(OUTSIDER_TOKEN).get_repo(LIBRARY)
    with pytest.raises(GithubException) as stranger:
        upstream.create_fork(organization="openedx")
    assert stranger.value.status == 403
    with pytest.raises(GithubException) as user:
        upstream.create_fork(organization=MAINTAINER)  # a user's namespace
    assert user.value.status == 422
    assert sandbox.repositories() == [DOWNSTREAM, LIBRARY]

    sandbox.add_member(OUTSIDER, "openedx")
    fork = upstream.create_fork(organization="OpenEdX")
    assert fork.full_name == "openedx/edx-proctoring-1"  # the name is taken: numbered
    assert fork.parent.full_name == LIBRARY
    assert fork.permissions.admin  # its creator administers it
