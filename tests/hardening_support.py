"""What the hardening tests share: a rehearsal-shaped world, its snapshot, and how to run the CLI.

The world is the one `release-tool rehearse --example` builds (`rehearsal.prepare`): the example
pair (`openedx/edx-proctoring`, `openedx/edx-platform`) in a sandbox, and a working clone of the
library. One change is committed on top, so the run can send its email to a loopback test server:
`smtp_security = "none"` (the host and port come from RELEASE_TOOL_SMTP_HOST/PORT). The release is
`release 5.3.0 --yes --send-email`: bump, commit, tag, push, GitHub release, downstream PR, email
draft and SMTP send.

A template of that world is built once per module (`build_template`); each test gets a copy
(`new_world`), with its own sandbox on a free port.

`snapshot` is what a release leaves in the world, spelt so that two runs can be compared: trees
and messages rather than commit SHAs (those hold timestamps), the sandbox's port replaced by a
placeholder, the Date header of a sent email (the time it left) dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from release_tool import example
from release_tool.git_repo import auth_environment, run_git
from release_tool.project import RetryPolicy
from release_tool.sandbox import Exchange, Sandbox

LIBRARY = example.LIBRARY
DOWNSTREAM = example.DOWNSTREAM
MAINTAINER_TOKEN = "sandbox-token-maintainer"  # the same tokens as tests/sandbox_fixtures.py
OUTSIDER_TOKEN = "sandbox-token-outsider"
TOKENS = {MAINTAINER_TOKEN: "maintainer", OUTSIDER_TOKEN: "outsider"}
GRANTS = (("maintainer", LIBRARY), ("maintainer", DOWNSTREAM))
VERSION = "5.3.0"
RELEASE_ARGS = ("release", VERSION, "--yes", "--send-email")
PR_BRANCH = "release-tool/edx-proctoring"
# Retries that do not make a test wait: a POST that fails is looked after at once.
FAST = RetryPolicy(backoff=0.01, max_wait=0.05)
SANDBOX_URL = "http://sandbox"  # what every sandbox address becomes in a snapshot

# Every git this module runs for itself ignores the developer's configuration.
GIT_ISOLATION = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.org",
    "GIT_COMMITTER_NAME": "Test Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.org",
}


@contextmanager
def isolated_git() -> Iterator[None]:
    """For fixtures above function scope, where conftest's per-test isolation is not yet on."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in GIT_ISOLATION.items():
            patch.setenv(key, value)
        for key in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS", "RELEASE_TOOL_GITHUB_API"):
            patch.delenv(key, raising=False)
        yield


# --- the SMTP server --------------------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps every message it accepts, and can fail the next DATA.

    `fault`: "451" / "554" (that reply instead of 250), "drop" (the connection is cut before any
    reply), or a callable run first (a test kills the sending process with it). A failed DATA is
    not kept: the message was not accepted.
    """

    messages: list[bytes] = field(default_factory=list)
    fault: str | Callable[[], None] | None = None
    faults_fired: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        fault, self.fault = self.fault, None
        if callable(fault):
            self.faults_fired += 1
            fault()
            await asyncio.sleep(1)  # answer only once the sender is surely gone
            return "451 4.3.0 the sender was killed"
        if fault == "drop":
            self.faults_fired += 1
            server.transport.abort()  # a TCP reset, before the 250
            return "421 4.4.2 connection dropped"
        if fault is not None:
            self.faults_fired += 1
            return f"{fault} {fault[0]}.3.0 sandbox SMTP fault"
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(mailbox, controller.port)
    finally:
        controller.stop()


# --- the world --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A built world at rest: `root/sandbox` (the sandbox's root) and `root/work/edx-proctoring`."""

    root: Path


def build_template(dest: Path) -> Template:
    """The rehearsal world (`rehearsal.prepare` on the example pair), with email over loopback."""
    from release_tool.rehearsal import prepare

    dest.mkdir(parents=True, exist_ok=True)
    with isolated_git():
        # The pip-tools era: a copy of this sandbox serves no index (a uv lock would name
        # the rehearsal's own index, gone with it); the relock is hardened in test_relock.py.
        rehearsal = prepare(None, dest, era="pip-tools")
        try:
            work = rehearsal.project.root
            pyproject = work / "pyproject.toml"
            text = pyproject.read_text()
            marker = "[tool.release_tool.email]\n"
            assert marker in text
            pyproject.write_text(text.replace(marker, marker + 'smtp_security = "none"\n'))
            run_git("commit", "-qam", "chore: send release email via loopback SMTP", cwd=work)
            url = rehearsal.sandbox.git_url(LIBRARY)
            run_git(
                "push",
                "-q",
                "origin",
                "master",
                cwd=work,
                env=auth_environment(url, rehearsal.token),
            )
        finally:
            rehearsal.sandbox.stop()
    return Template(dest)


@dataclass
class World:
    """A copy of the template with its sandbox serving; `env` is what the CLI needs."""

    root: Path
    work: Path
    sandbox: Sandbox
    smtp: SmtpServer | None
    token: str = MAINTAINER_TOKEN

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "GITHUB_TOKEN": self.token,
            "RELEASE_TOOL_GITHUB_API": self.sandbox.api_url,
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
        if self.smtp is not None:
            env["RELEASE_TOOL_SMTP_HOST"] = "127.0.0.1"
            env["RELEASE_TOOL_SMTP_PORT"] = str(self.smtp.port)
        env.update(extra)
        return env

    @property
    def bare(self) -> Path:
        return self.sandbox.repository_path(LIBRARY)

    def stop(self) -> None:
        self.sandbox.stop()


def new_world(
    template: Template,
    dest: Path,
    smtp: SmtpServer | None = None,
    *,
    tokens: Mapping[str, str] | None = None,
    token: str = MAINTAINER_TOKEN,
    observer: Callable[[Exchange], None] | None = None,
) -> World:
    shutil.copytree(template.root, dest, symlinks=True)
    sandbox = Sandbox(
        dest / "sandbox", tokens=tokens or TOKENS, grants=GRANTS, observer=observer
    ).start()
    work = dest / "work" / "edx-proctoring"
    run_git("remote", "set-url", "origin", sandbox.git_url(LIBRARY), cwd=work)
    if smtp is not None:
        smtp.mailbox.messages.clear()
        smtp.mailbox.fault = None
    return World(dest, work, sandbox, smtp, token)


# --- running the CLI --------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def error_block(self) -> list[str]:
        """stderr from the `error:` line on."""
        lines = self.stderr.splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("error: ")]
        return lines[starts[0] :] if starts else []


def cli_in_process(
    world: World, *args: str, env: Mapping[str, str | None] | None = None, fast: bool = True
) -> Run:
    """`release-tool -C WORK ARGS` in this process (CliRunner), with fast GitHub retries."""
    from click.testing import CliRunner

    from release_tool.cli import cli

    environ = dict(env if env is not None else world.env())
    if fast:  # GitHub retries that do not make a test wait
        environ.update(RELEASE_TOOL_RETRY_BACKOFF="0.01", RELEASE_TOOL_RETRY_MAX_WAIT="0.05")
    result = CliRunner().invoke(cli, ["-C", str(world.work), *args], env=environ)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback escaped the CLI: show it whole
    return Run(result.exit_code, result.stdout, result.stderr)


def cli_command(world: World, *args: str) -> list[str]:
    return [sys.executable, "-m", "release_tool", "-C", str(world.work), *args]


def cli_subprocess(
    world: World, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> Run:
    done = subprocess.run(
        cli_command(world, *args),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **(env if env is not None else world.env())},
    )
    return Run(done.returncode, done.stdout, done.stderr)


def kill_group(pid: int) -> None:
    """SIGKILL the process and its children (git), as a power cut would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


# --- the snapshot -----------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    return run_git(*args, cwd=cwd)


def refs_view(repo: Path) -> list[str]:
    """Every ref as name, kind, tree and subject: what it holds, not when it was made."""
    fmt = "%(refname) %(objecttype) %(*objecttype) tree=%(tree)%(*tree) %(contents:subject)"
    lines = _git(repo, "for-each-ref", f"--format={fmt}").splitlines()
    counts = [
        f"{ref} commits={_git(repo, 'rev-list', '--count', ref)}"
        for ref in _git(repo, "for-each-ref", "--format=%(refname)", "refs/heads").split()
    ]
    return lines + counts


def _normal(text: str, sandbox: Sandbox) -> str:
    return text.replace(sandbox.url, SANDBOX_URL)


def email_view(data: bytes, sandbox: Sandbox, *, drop_date: bool) -> dict[str, Any]:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    # The MIME boundary is a hash of the content, which holds the sandbox's port.
    headers = {
        k: re.sub(r'boundary="[^"]*"', 'boundary="*"', _normal(str(v), sandbox))
        for k, v in message.items()
    }
    if drop_date:
        headers.pop("Date", None)
    parts = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            text = str(part.get_content()).replace("\r\n", "\n")
            parts[part.get_content_type()] = _normal(text, sandbox)
    return {"headers": headers, "parts": parts}


def work_files(work: Path) -> dict[str, bytes]:
    """Every file of the working tree but .git, tracked or not (a symlink: its target)."""
    files = {}
    for path in sorted(work.rglob("*")):
        if ".git" in path.relative_to(work).parts:
            continue
        if path.is_symlink():
            files[str(path.relative_to(work))] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            files[str(path.relative_to(work))] = path.read_bytes()
    return files


def snapshot(world: World) -> dict[str, Any]:
    """What a release leaves in the world, comparable between two runs."""
    work, sandbox, state = world.work, world.sandbox, world.sandbox.state
    files: dict[str, Any] = {}
    for rel, data in work_files(work).items():
        files[rel] = (
            email_view(data, sandbox, drop_date=False)
            if rel.endswith(".eml")
            else _normal(data.decode("utf-8", "replace"), sandbox)
        )
    downstream = sandbox.repository_path(DOWNSTREAM)
    has_pr_branch = bool(_git(downstream, "for-each-ref", f"refs/heads/{PR_BRANCH}"))
    world_view: dict[str, Any] = {
        "work.files": files,
        "work.status": _git(work, "status", "--porcelain", "--untracked-files=all"),
        "work.index": _git(work, "ls-files", "-s"),
        "work.refs": refs_view(work),
        "work.head": _git(work, "log", "-1", "--format=%T %s%n%b"),
        "work.lock": (work / ".git" / "release-tool.lock").exists(),
        "sandbox.repositories": sandbox.repositories(),
        "sandbox.refs": {
            name: refs_view(sandbox.repository_path(name)) for name in sandbox.repositories()
        },
        "sandbox.releases": sorted(
            (
                r.repo,
                r.tag_name,
                r.name,
                _normal(r.body or "", sandbox),
                r.draft,
                r.prerelease,
                r.target_commitish,
            )
            for name in sandbox.repositories()
            for r in state.releases(name)
        ),
        "sandbox.pulls": sorted(
            (
                p.repo,
                p.number,
                p.state,
                p.title,
                _normal(p.body or "", sandbox),
                p.user,
                p.head_repo,
                p.head_ref,
                p.base_ref,
                tuple(sorted(p.labels)),
                tuple(sorted(p.reviewers)),
            )
            for name in sandbox.repositories()
            for p in state.pulls(name)
        ),
        "sandbox.labels": sorted(
            (lb.repo, lb.name) for n in sandbox.repositories() for lb in state.labels(n)
        ),
        "sandbox.pr_diff": (
            _normal(_git(downstream, "diff", f"master...{PR_BRANCH}"), sandbox)
            if has_pr_branch
            else None
        ),
        "sandbox.pr_commits": (
            _normal(_git(downstream, "log", "--format=%T %s%n%b", f"master..{PR_BRANCH}"), sandbox)
            if has_pr_branch
            else None
        ),
    }
    if world.smtp is not None:
        world_view["smtp.messages"] = [
            email_view(m, sandbox, drop_date=True) for m in world.smtp.mailbox.messages
        ]
    return world_view


def differences(before: Any, after: Any, where: str = "") -> list[str]:
    """Where two snapshots differ: each differing leaf's path, and both values (shortened)."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            out += differences(before.get(key), after.get(key), f"{where}/{key}")
        return out
    if isinstance(before, list | tuple) and isinstance(after, list | tuple):
        if len(before) != len(after):
            return [f"{where}: {len(before)} items != {len(after)} items"]
        out = []
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            out += differences(a, b, f"{where}[{i}]")
        return out
    a, b = str(before), str(after)
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = max(0, at - 120)
    return [f"{where} (at {at}): {a[start : at + 200]!r} != {b[start : at + 200]!r}"]


# --- fault points, from the pipeline's own run ------------------------------------------------


@dataclass(frozen=True)
class FaultPoint:
    """One remote write the release performs: an HTTP request (method, path) or the SMTP send."""

    step: str
    kind: str  # "http" or "smtp"
    method: str = ""
    path: str = ""  # as sent (with /api/v3 for the API)

    @property
    def label(self) -> str:
        if self.kind == "smtp":
            return "SMTP send"
        return f"{self.method} {self.path.removeprefix('/api/v3')}"

    @property
    def is_git(self) -> bool:
        return self.kind == "http" and not self.path.startswith("/api/v3/")


class _Recorder:
    """The pipeline observer: which requests and emails each applied action made."""

    def __init__(self, sandbox: Sandbox, mailbox: Mailbox) -> None:
        self.sandbox, self.mailbox = sandbox, mailbox
        self.points: list[FaultPoint] = []
        self._requests = 0
        self._messages = 0

    def action_started(self, action: Any) -> None:
        self._requests = len(self.sandbox.requests)
        self._messages = len(self.mailbox.messages)

    def action_done(self, action: Any, outcome: Any) -> None:
        for method, path, _ in self.sandbox.requests[self._requests :]:
            # Reads are not fault points; git-upload-pack is git's read (fetch, ls-remote).
            if method != "GET" and not path.endswith("/git-upload-pack"):
                point = FaultPoint(action.step, "http", method, path)
                if point not in self.points:
                    self.points.append(point)
        if len(self.mailbox.messages) > self._messages:
            self.points.append(FaultPoint(action.step, "smtp"))

    def action_failed(self, action: Any, error: BaseException) -> None:
        raise AssertionError(f"the undisturbed run failed in {action.step}: {error}")


def discover_fault_points() -> list[FaultPoint]:
    """Release 5.3.0 once, undisturbed, through the pipeline, and list every remote write.

    Runs at collection time (the tests are parametrized with the result), in a scratch folder
    outside the test run's temporary tree, which it removes.
    """
    from release_tool.apply import run_release
    from release_tool.cli import load_project
    from release_tool.pipeline import plan_release
    from release_tool.project import Bump, ReleaseRequest

    scratch = Path(tempfile.mkdtemp(prefix="release-tool-fault-points-"))
    try:
        with isolated_git(), smtp_server() as smtp, pytest.MonkeyPatch.context() as patch:
            template = build_template(scratch / "template")
            world = new_world(template, scratch / "world", smtp)
            try:
                for key, value in world.env().items():
                    patch.setenv(key, value)
                project = dataclasses.replace(
                    load_project(world.work, need_token=True), policy=FAST
                )
                request = ReleaseRequest(bump=Bump.parse(VERSION), send_email=True)
                planned = plan_release(project, request)
                recorder = _Recorder(world.sandbox, smtp.mailbox)
                run_release(project, planned, recorder)
            finally:
                world.stop()
        return recorder.points
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --- post-receive hooks (a kill at the moment the remote took the push) -----------------------


def install_post_receive_kill(bare: Path, pid_file: Path) -> Path:
    """A hook in the sandbox's bare repository that SIGKILLs the pusher's process group once
    the remote has taken the push, before the pusher hears so."""
    hook = bare / "hooks" / "post-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        "#!/bin/sh\ncat >/dev/null\n"
        f'pid="$(cat {pid_file})"\n'
        'kill -9 "-$pid"\n'
        # Hold the response until the pusher is surely dead.
        "sleep 1\n"
    )
    hook.chmod(0o755)
    return hook


def install_post_receive_signal(bare: Path, pid_file: Path, signal_name: str, group: bool) -> Path:
    """A hook in the sandbox's bare repository that sends `signal_name` (INT, TERM) to the
    pusher — its whole process group (a terminal's Ctrl-C) or the process alone (a CI runner
    cancelling) — once the remote has taken the push, and holds the answer a moment."""
    hook = bare / "hooks" / "post-receive"
    hook.parent.mkdir(exist_ok=True)
    target = '"-$pid"' if group else '"$pid"'
    hook.write_text(
        f'#!/bin/sh\ncat >/dev/null\npid="$(cat {pid_file})"\n'
        f"kill -{signal_name} {target}\nsleep 1\n"
    )
    hook.chmod(0o755)
    return hook


def replace_config(world: World, old: str, new: str, *, commit: bool = True) -> None:
    """Edit the library's pyproject.toml (and commit it, so the tree stays clean)."""
    pyproject = world.work / "pyproject.toml"
    text = pyproject.read_text()
    assert old in text, old
    pyproject.write_text(text.replace(old, new, 1))
    if commit:
        run_git("commit", "-qam", "chore: config", cwd=world.work)
