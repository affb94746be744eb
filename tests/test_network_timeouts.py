"""Every network operation has an overall deadline: a stalled or trickling remote fails the
step (or, while planning, is reported as unreachable) instead of hanging the run.

The stalls are real: a raw socket server on 127.0.0.1 that reads a request and then answers
one byte every 0.2 s (a per-read socket timeout never fires on it), or never answers at all.
GitHub requests (PyGithub under `github_transport`), the package-index poll (urllib under
`deadline.fetch`), `git ls-remote` and `git push` are each run against it, in the library and
through the CLI.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hardening_support import (
    LIBRARY,
    MAINTAINER_TOKEN,
    Template,
    World,
    build_template,
    cli_in_process,
    new_world,
)

from release_tool.config import DEFAULT_NETWORK_TIMEOUT, Config, load_config
from release_tool.errors import ConfigError, ReleaseError, UsageError
from release_tool.git_repo import GitRepo, auth_environment, run_git
from release_tool.github_api import GitHub
from release_tool.index_wait import WaitForIndexAction
from release_tool.project import RetryPolicy, network_timeout
from release_tool.versions import Version

ONE_TRY = RetryPolicy(attempts=1, backoff=0.01, max_wait=0.05)
JSON = b'{"full_name": "o/r", "default_branch": "main", "html_url": "x", "permissions": {}}'


def response(body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


@dataclass
class Trickle:
    """A server that answers `answer` one byte every `pace` seconds after `fast` bytes sent at
    once; `answer=None`: it never answers. `connections` counts the requests it got."""

    answer: bytes | None
    pace: float = 0.2
    fast: int = 0
    connections: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket = field(default_factory=socket.socket)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> Trickle:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(0.5)
            with contextlib.suppress(TimeoutError):
                conn.recv(65536)  # the request (its head is enough)
            if self.answer is None:
                self._stop.wait()
                return
            conn.sendall(self.answer[: self.fast])
            for i in range(self.fast, len(self.answer)):
                if self._stop.wait(self.pace):
                    return
                conn.sendall(self.answer[i : i + 1])


@contextlib.contextmanager
def trickle(answer: bytes | None, **options: float) -> Iterator[Trickle]:
    server = Trickle(answer, **options).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


def git_children(port: int) -> list[str]:
    """Processes (git, git-remote-http) whose command line names the port: none may remain."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if f"127.0.0.1:{port}" in cmdline and "git" in cmdline:
                    found.append(cmdline)
    return found


# --- GitHub requests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fast", [0, len(response(JSON)) - len(JSON) + 3], ids=["headers trickle", "body trickles"]
)
def test_a_github_answer_that_trickles_times_out(fast: int) -> None:
    with trickle(response(JSON), fast=fast) as server:
        gh = GitHub(server.url, "token", policy=ONE_TRY, timeout=1.0)
        started = time.monotonic()
        with pytest.raises(ReleaseError) as info:
            gh.repository("o/r")
        took = time.monotonic() - started
    assert "did not answer in time while reading the repository o/r" in info.value.message
    assert "timed out after 1 s" in info.value.message
    assert "RELEASE_TOOL_NETWORK_TIMEOUT" in info.value.hint
    assert 0.9 < took < 4, took


def test_each_attempt_of_a_retried_read_gets_the_deadline() -> None:
    with trickle(response(JSON)) as server:
        gh = GitHub(server.url, "token", policy=RetryPolicy(2, 0.01, 0.05), timeout=0.5)
        started = time.monotonic()
        with pytest.raises(ReleaseError, match=r"timed out after 0\.5 s"):
            gh.repository("o/r")
        took = time.monotonic() - started
    assert server.connections == 2  # urllib3 retried the GET once
    assert 0.9 < took < 4, took


def test_an_answer_within_the_deadline_is_read_whole() -> None:
    with trickle(response(JSON), pace=0.001, fast=40) as server:
        info = GitHub(server.url, "token", policy=ONE_TRY, timeout=5.0).repository("o/r")
    assert info is not None and info.full_name == "o/r"


def test_a_post_that_timed_out_is_looked_for_before_it_is_repeated() -> None:
    # The POST may have been done: `create` looks (a GET, which times out as well) and
    # only then tries again; every request is bounded, so the call ends.
    with trickle(response(b'{"id": 1}')) as server:
        gh = GitHub(server.url, "token", policy=RetryPolicy(2, 0.01, 0.05), timeout=0.5)
        with pytest.raises(ReleaseError, match=r"timed out after 0\.5 s"):
            gh.create_release("o/r", tag="v1", name="v1", body="", draft=False, prerelease=False)
    assert server.connections >= 3  # POST, the look (GET), POST again


# --- the package index ----------------------------------------------------------------------------


def test_an_index_page_that_trickles_is_not_yet_there_after_the_deadline() -> None:
    page = response(b'{"files": []}', "application/vnd.pypi.simple.v1+json")
    with trickle(page) as server:
        wait = WaitForIndexAction("edx-proctoring", Version(5, 3, 0), server.url, 60.0)
        started = time.monotonic()
        files, why_not = wait.poll(1.0)
        took = time.monotonic() - started
    assert files == []
    assert why_not == "unreachable (timed out after 1 s)"
    assert 0.9 < took < 3, took


# --- git ------------------------------------------------------------------------------------------


def _repo_with_remote(tmp_path: Path, url: str) -> GitRepo:
    work = tmp_path / "work"
    work.mkdir()
    run_git("init", "-q", cwd=work)
    run_git("remote", "add", "origin", url, cwd=work)
    return GitRepo(work)


def test_ls_remote_to_a_silent_remote_times_out_and_leaves_no_git_behind(
    tmp_path: Path,
) -> None:
    with trickle(None) as server:
        repo = _repo_with_remote(tmp_path, f"{server.url}/o/r.git")
        started = time.monotonic()
        with pytest.raises(ReleaseError) as info:
            repo.ls_remote("origin", timeout=1.0)
        took = time.monotonic() - started
        port = int(server.url.rsplit(":", 1)[1])
        assert git_children(port) == []  # git and its git-remote-http helper were killed
    assert info.value.message == (
        "remote 'origin' is unreachable: git ls-remote timed out after 1 s"
    )
    assert 0.9 < took < 4, took


# --- through the CLI ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("timeouts-template"))


@pytest.fixture
def world(template: Template, tmp_path: Path) -> Iterator[World]:
    world = new_world(template, tmp_path / "world")
    try:
        yield world
    finally:
        world.stop()


def test_planning_against_a_silent_remote_says_it_is_unreachable(world: World) -> None:
    with trickle(None) as server:
        run_git("remote", "set-url", "origin", f"{server.url}/o/r.git", cwd=world.work)
        env = world.env(RELEASE_TOOL_NETWORK_TIMEOUT="1")
        run = cli_in_process(world, "plan", "5.3.0", "--local", env=env)
    assert run.code == 2, run.stderr
    assert run.error_block[0] == (
        "error: remote 'origin' is unreachable: git ls-remote timed out after 1 s"
    )


def test_a_push_that_hangs_fails_the_step_and_the_same_command_then_finishes(
    world: World,
) -> None:
    head = run_git("rev-parse", "HEAD", cwd=world.work)
    with trickle(None) as server:
        # Reads go to the sandbox; the push goes to the silent server.
        run_git("config", "remote.origin.pushurl", f"{server.url}/o/r.git", cwd=world.work)
        env = world.env(RELEASE_TOOL_NETWORK_TIMEOUT="1")
        run = cli_in_process(world, "release", "5.3.0", "--yes", "--local", env=env)
    assert run.code == 1, run.stderr
    assert run.error_block[0] == (
        "error: push failed: git push timed out after 1 s; local changes rolled back"
    )
    assert run_git("rev-parse", "HEAD", cwd=world.work) == head  # rolled back
    assert "v5.3.0" not in run_git("tag", cwd=world.work).split()
    assert "v5.3.0" not in run_git("tag", cwd=world.bare).split()

    run_git("config", "--unset", "remote.origin.pushurl", cwd=world.work)
    auth = auth_environment(world.sandbox.git_url(LIBRARY), MAINTAINER_TOKEN)
    again = cli_in_process(world, "release", "5.3.0", "--yes", "--local", env=world.env(**auth))
    assert again.code == 0, again.stderr
    assert "v5.3.0" in run_git("tag", cwd=world.bare).split()


def test_planning_against_a_github_that_trickles_fails_with_the_deadline(world: World) -> None:
    with trickle(response(JSON)) as server:
        env = world.env(RELEASE_TOOL_GITHUB_API=server.url, RELEASE_TOOL_NETWORK_TIMEOUT="1")
        started = time.monotonic()
        run = cli_in_process(world, "plan", "5.3.0", env=env)
        took = time.monotonic() - started
    assert run.code == 1, run.stderr
    assert "did not answer in time" in run.error_block[0]
    assert "timed out after 1 s" in run.error_block[0]
    assert took < 15, took  # a few requests, each bounded (the CLI retries reads)


# --- the setting ----------------------------------------------------------------------------------


def _config(tmp_path: Path, line: str = "") -> Config:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.release_tool]\n"
        'package = "p"\nrepository = "o/p"\nversion_files = ["p/__init__.py"]\n' + line
    )
    (tmp_path / "p").mkdir(exist_ok=True)
    return load_config(tmp_path)


def test_the_network_timeout_comes_from_the_environment_then_the_config(tmp_path: Path) -> None:
    assert network_timeout({}, _config(tmp_path)) == DEFAULT_NETWORK_TIMEOUT == 120.0
    assert network_timeout({}, None) == DEFAULT_NETWORK_TIMEOUT
    configured = _config(tmp_path, "network_timeout = 30\n")
    assert network_timeout({}, configured) == 30.0
    assert network_timeout({"RELEASE_TOOL_NETWORK_TIMEOUT": "2.5"}, configured) == 2.5
    assert network_timeout({"RELEASE_TOOL_NETWORK_TIMEOUT": ""}, configured) == 30.0


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_network_timeout_in_the_environment_is_bad_usage(value: str) -> None:
    with pytest.raises(UsageError, match=r"RELEASE_TOOL_NETWORK_TIMEOUT=.* is not a positive"):
        network_timeout({"RELEASE_TOOL_NETWORK_TIMEOUT": value}, None)


def test_a_bad_network_timeout_in_the_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"tool.release_tool.network_timeout: must be greater"):
        _config(tmp_path, "network_timeout = 0\n")


def test_the_environment_reaches_the_cli(world: World) -> None:
    run = cli_in_process(
        world, "plan", "5.3.0", "--local", env=world.env(RELEASE_TOOL_NETWORK_TIMEOUT="x")
    )
    assert run.code == 2
    assert run.error_block[0] == (
        "error: RELEASE_TOOL_NETWORK_TIMEOUT='x' is not a positive number of seconds"
    )
