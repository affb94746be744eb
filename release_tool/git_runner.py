"""The one git runner: every git command the tool runs goes through `run_git` or `start_git`.

Every git failure reads the same: `git <command> failed: <reason>`, the reason being git's
first `fatal:`/`error:` line (`_git_failure`). A read is a plain subprocess (a dry run starts
fast); a write goes through GitPython; a command that talks to a remote has an overall
deadline and runs in its own process group, killed whole when the time is up. The writes that
run hooks or wait on the network are waited for even when interrupted (`GitCall.settle`).
`release_tool.git_repo` builds the repository's reads and writes on it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from release_tool.errors import ReleaseError


def run_git(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    write: bool = False,
    timeout: float | None = None,
) -> str:
    """Run one git command in `cwd` and return its stdout, stripped: the one way the tool runs git.

    `env` is added to the environment (the token's `GIT_CONFIG_*` header, an identity). A
    read is a plain subprocess, so that a dry run starts fast: importing GitPython costs about
    50 ms and two `git version` calls before the first command. A `write` (commit, tag,
    rollback) goes through GitPython, imported the first time a run writes. Either way a
    failure is the ReleaseError of `_git_failure`.

    A command that talks to a remote (push, ls-remote, clone) has a `timeout`: it runs as a
    plain subprocess in its own process group, which is killed whole (git and its
    `git-remote-https` helper) when the time is up (see `GitCall.output`).
    """
    if not write or timeout is not None:
        return start_git(*args, cwd=cwd, env=env, timeout=timeout).output()
    import git

    try:
        return str(git.Git(cwd).execute(["git", *args], env=dict(env or {})))
    except git.GitCommandError as exc:
        raise _git_failure(
            args[0], _unwrap(str(exc.stderr or "")), _unwrap(str(exc.stdout or ""))
        ) from None


def start_git(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float | None = None
) -> GitCall:
    """Start a read now and collect it later (`GitCall.output()`), as `run_git` would return it.

    With a `timeout` (a network command), git runs in its own process group, in the C locale
    (as GitPython runs it: git's messages are read for their reason), and `output()` kills
    the group when the time is up.
    """
    extra = dict(env or {})
    if timeout is not None:
        extra.update(LANGUAGE="C", LC_ALL="C")
    process = subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        errors="replace",  # a hook's output need not be UTF-8
        env={**os.environ, **extra},
        process_group=0 if timeout is not None else None,
    )
    return GitCall(args[0], process, timeout)


class GitCall:
    """A git subprocess under way; `timeout` (seconds from its start) bounds a network one."""

    def __init__(
        self, command: str, process: subprocess.Popen[str], timeout: float | None = None
    ) -> None:
        self._command = command
        self._process = process
        self._timeout = timeout
        self._deadline = None if timeout is None else time.monotonic() + timeout

    def output(self) -> str:
        """Wait for git: its stdout (stripped), or the ReleaseError of `_git_failure` (or of
        the timeout: "git push timed out after 120 s"). Interrupted (Ctrl-C), git is killed
        with its helpers before the interrupt goes on."""
        out, err = self._wait(on_interrupt=self.stop)
        if self._process.returncode != 0:
            raise _git_failure(self._command, err)
        return out.strip()

    def settle(self) -> tuple[str, str]:
        """Wait for a write: its stdout and stderr (stripped), or the GitFailed of
        `_git_failure`. Interrupted (Ctrl-C, SIGTERM), git is asked to stop and waited for
        before the interrupt goes on, so that what git did is done when anyone looks. A network
        write past its deadline is killed (with its helpers)."""
        out, err = self._wait(on_interrupt=self._let_finish)
        if self._process.returncode != 0:
            raise _git_failure(self._command, err, out)
        return out.strip(), err.strip()

    def _wait(self, *, on_interrupt: Callable[[], None]) -> tuple[str, str]:
        """git's stdout and stderr once it ends; past the deadline it is killed and that is a
        ReleaseError; interrupted, `on_interrupt` runs before the interrupt goes on."""
        left = None if self._deadline is None else max(self._deadline - time.monotonic(), 0)
        try:
            return self._process.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            self.stop()
            raise ReleaseError(
                f"git {self._command} timed out after {self._timeout:g} s",
                "check the network and the remote, then run the same command again (the "
                "limit is network_timeout, or RELEASE_TOOL_NETWORK_TIMEOUT)",
            ) from None
        except BaseException:
            on_interrupt()
            raise

    def _let_finish(self) -> None:
        # A terminal's Ctrl-C reached git as well; a signal to this process alone did not.
        # SIGINT lets git remove its lock files; a git that does not end in time is killed.
        for sig in (signal.SIGINT, signal.SIGKILL):
            if self._process.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                self._process.send_signal(sig)
            try:
                self._process.communicate(timeout=30)
                return
            except BaseException:  # noqa: S112 - a second interrupt, or git not ending
                continue

    def stop(self) -> None:
        """Kill git if it is still running (its answer is no longer wanted); a network
        command's whole process group, its `git-remote-*` helper included."""
        if self._process.returncode is None:
            if self._timeout is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGKILL)
            else:
                self._process.kill()
            self._process.communicate()


# What git says when the remote turns the credentials away (GitHub answers 401 or 403).
_REFUSED = (
    "authentication failed",
    "could not read username",  # git wanted to ask for a password: none was accepted
    "terminal prompts disabled",
    "returned error: 401",
    "returned error: 403",
    "permission denied",
    "invalid username or password",
)


def credentials_refused(message: str) -> bool:
    """Whether git's message says the remote refused (or never got) the credentials."""
    return any(words in message.lower() for words in _REFUSED)


class GitFailed(ReleaseError):
    """A git command that failed: its one-line reason, and everything it said (`stderr`, and
    `stdout` for a push's porcelain report)."""

    def __init__(self, message: str, hint: str, stderr: str, stdout: str = "") -> None:
        super().__init__(message, hint)
        self.stderr = stderr
        self.stdout = stdout


def _unwrap(text: str) -> str:
    """GitPython wraps git's output as "\n  stderr: '…'": git's own text."""
    text = text.strip()
    for prefix in ("stderr:", "stdout:"):
        if text.startswith(prefix):
            return text.removeprefix(prefix).strip().removeprefix("'").removesuffix("'")
    return text


def _git_failure(command: str, stderr: str, stdout: str = "") -> GitFailed:
    """git's reason in one line: its first `fatal:`/`error:` line (what follows is usually
    advice, e.g. "Please make sure you have the correct access rights"), else its last line
    (a hook's own output), else git's exit with no message."""
    text = _unwrap(stderr)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reasons = [line for line in lines if line.startswith(("fatal:", "error:"))]
    said = (
        reasons[0] if reasons else lines[-1] if lines else "it exited with an error and no message"
    )
    return GitFailed(f"git {command} failed: {said}", "see git's message above", text, stdout)
