"""Building the `Project` a command works on, from the folder and the environment.

The CLI is the only reader of the environment: the GitHub token (GITHUB_TOKEN, GH_TOKEN or
`gh auth token`), the retry pace (RELEASE_TOOL_RETRY_BACKOFF, RELEASE_TOOL_RETRY_MAX_WAIT) and
the poll interval (RELEASE_TOOL_POLL_INTERVAL) are read here and handed to the library inside
the `Project`. Tests call `load_project` directly to run the pipeline in-process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from release_tool.errors import UsageError

if TYPE_CHECKING:
    from release_tool.cli.run import Invocation
    from release_tool.project import Project, RetryPolicy


def github_token(environ: dict[str, str], *, ask_gh: bool = True) -> str | None:
    """GITHUB_TOKEN, GH_TOKEN, or (when `ask_gh`) what `gh auth token` says, in that order."""
    for key in ("GITHUB_TOKEN", "GH_TOKEN"):
        if environ.get(key):
            return environ[key]
    if not ask_gh:
        return None
    import shutil  # here, not at the top: it pulls in bz2 and lzma, and few runs get here
    import subprocess  # so does this: `--help` needs neither

    if shutil.which("gh"):
        result = subprocess.run(
            ["gh", "auth", "token"], capture_output=True, text=True, check=False, timeout=10
        )
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    return None


def load_project(
    directory: Path,
    *,
    need_token: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Project:
    """The project in `directory`, configured from its config file and the environment.

    The environment's token is always taken (a --local push over HTTPS needs it too); only
    asking `gh`, a subprocess, waits until a step that talks to GitHub needs a token.
    `progress` receives what long waits are waiting for.
    """
    from release_tool.config import load_config
    from release_tool.git_repo import GitRepo
    from release_tool.project import Project, network_timeout

    environ = dict(os.environ)
    root = directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{directory} is not a directory", "pass an existing folder to -C")
    config = load_config(root)
    token = github_token(environ, ask_gh=need_token)
    policy = retry_policy(environ)
    timeout = network_timeout(environ, config)
    app = None
    if any(environ.get(f"RELEASE_TOOL_APP_{k}") for k in ("ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE")):
        # A GitHub App: the library's installation token is the token (git pushes with it).
        from release_tool.github_api import api_url
        from release_tool.github_api.auth import app_login

        api = api_url(config.github_api, environ)
        login = app_login(environ, api, config.repository, policy=policy, timeout=timeout)
        if login is not None:
            app, token = login
    return Project(
        root=root,
        config=config,
        repo=GitRepo(root, token),
        token=token,
        environ=environ,
        app=app,
        policy=policy,
        poll_interval=seconds(environ, "RELEASE_TOOL_POLL_INTERVAL", 10.0),
        network_timeout=timeout,
        progress=progress,
    )


def open_project(
    invocation: Invocation,
    *,
    need_token: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Project:
    """`load_project` for a command: the token it found is redacted from every line after."""
    project = load_project(invocation.directory, need_token=need_token, progress=progress)
    invocation.output.add_secret(project.token)  # `gh auth token` (or an App) may give a new one
    if project.app is not None:
        invocation.output.add_secret(project.app.private_key)
    return project


def seconds(environ: dict[str, str], key: str, default: float) -> float:
    """A duration in seconds from the environment (`default` when unset)."""
    value = environ.get(key)
    if not value:
        return default
    try:
        result = float(value)
    except ValueError:
        raise UsageError(f"{key}={value!r} is not a number of seconds", f"e.g. {key}=1") from None
    if result < 0:
        raise UsageError(f"{key}={value!r} is negative", f"e.g. {key}=1")
    return result


def retry_policy(environ: dict[str, str]) -> RetryPolicy:
    """GitHub retries: GitHub's pace by default; RELEASE_TOOL_RETRY_BACKOFF and
    RELEASE_TOOL_RETRY_MAX_WAIT (seconds) shorten them (tests, impatient maintainers)."""
    from release_tool.project import RetryPolicy

    default = RetryPolicy()
    return RetryPolicy(
        attempts=default.attempts,
        backoff=seconds(environ, "RELEASE_TOOL_RETRY_BACKOFF", default.backoff),
        max_wait=seconds(environ, "RELEASE_TOOL_RETRY_MAX_WAIT", default.max_wait),
    )
