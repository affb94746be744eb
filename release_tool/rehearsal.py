"""A rehearsal: the whole pipeline against an embedded sandbox, on copies, with a throwaway token.

What is rehearsed is the committed history (branches and tags), as a release would push it;
uncommitted changes in the working tree take no part.

`prepare` starts a sandbox on a free port, imports the library (the current repository, or the
bundled example) and its downstream repositories into it, clones the library into a scratch
workspace and returns a `Project` pointed at the sandbox. The caller then plans and applies
exactly as a real release does — nothing here is a rehearsal-only code path — and `summarize`
reads back what the run produced. The user's own repository, token and remotes are never used.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_tool import example
from release_tool.config import Config, load_config
from release_tool.git_repo import GitRepo, build_repository, clone, run_git
from release_tool.pipeline import RunResult
from release_tool.plan import ReleasePlan
from release_tool.project import Project, network_timeout
from release_tool.sandbox import Sandbox, copy_repository, seed_example

USER = "maintainer"


@dataclass(frozen=True)
class Rehearsal:
    sandbox: Sandbox
    workspace: Path
    project: Project
    token: str
    repositories: tuple[str, ...]


def prepare(
    source: Path | None,
    workspace: Path,
    *,
    downstream_from: Path | None = None,
    port: int = 0,
    environ: Mapping[str, str] | None = None,
) -> Rehearsal:
    """Build the sandbox and the working copy; `source=None` rehearses the bundled example.

    From `environ`, only RELEASE_TOOL_NETWORK_TIMEOUT is read (the deadline of the clone and
    of every request, as in a release)."""
    root = workspace / "sandbox"
    source_config: Config | None = None
    if source is None:
        seed_example(root)
        library = example.LIBRARY
        names = [example.LIBRARY, example.DOWNSTREAM]
    else:
        config = source_config = load_config(source)
        library = config.repository
        copy_repository(root, source, library)
        names = [library]
        for entry in config.downstream:
            _import_downstream(root, entry.repository, downstream_from)
            names.append(entry.repository)
    token = f"rehearsal-{secrets.token_hex(12)}"
    sandbox = Sandbox(
        root, port=port, tokens={token: USER}, grants=[(USER, name) for name in names]
    ).start()
    work = workspace / "work" / library.split("/")[1]
    work.parent.mkdir(parents=True, exist_ok=True)
    environ = environ or {}
    try:
        clone(sandbox.git_url(library), work, token, network_timeout(environ, source_config))
        # A throwaway clone gets its own identity, so a fresh machine without git's user.name
        # can rehearse; the library's real history is not touched.
        run_git("config", "user.name", "release-tool rehearsal", cwd=work)
        run_git("config", "user.email", "rehearsal@release-tool.invalid", cwd=work)
        config = dataclasses.replace(load_config(work), github_api=sandbox.api_url)
        run_git("checkout", "-q", config.branch, cwd=work)
    except BaseException:
        sandbox.stop()
        raise
    project = Project(
        root=work,
        config=config,
        repo=GitRepo(work, token),
        token=token,
        environ={},
        network_timeout=network_timeout(environ, config),
    )
    return Rehearsal(sandbox, workspace, project, token, tuple(names))


def _import_downstream(root: Path, full_name: str, downstream_from: Path | None) -> None:
    if downstream_from is not None:
        copy_repository(root, downstream_from, full_name)
        return
    # No local copy given: an edx-platform-shaped stand-in, under the configured name.
    shaped = dataclasses.replace(example.downstream_repo(), full_name=full_name)
    build_repository(root / f"{full_name}.git", shaped)
    run_git("remote", "remove", "origin", cwd=root / f"{full_name}.git")


def summarize(rehearsal: Rehearsal, plan: ReleasePlan, result: RunResult) -> dict[str, Any]:
    """What the rehearsal produced: tag, release (URL, body), PRs (URL, diff), email draft."""
    state = result.state
    details = {action.step: action.details() for action in plan.actions}
    return {
        "version": str(plan.new),
        "tag": plan.tag,
        "tag_url": f"{rehearsal.sandbox.html_url(rehearsal.project.config.repository)}"
        f"/tree/{plan.tag}",
        "release_url": state.release_url,
        "release_body": details.get("github-release", ""),
        "downstream_pr_urls": list(state.pr_urls),
        "downstream_diff": details.get("downstream", ""),
        "email_draft": state.email_draft,
        "workspace": str(rehearsal.workspace),
        "api_url": rehearsal.sandbox.api_url,
    }
