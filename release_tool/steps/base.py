"""What every step's planner receives: the `Planning` context, and the shared GitHub client.

`Planning` is frozen and explicit: the project, the request, the facts preflight established,
and `known` — what the steps planned before this one already know (the release URL, open PRs).
A planner that needs GitHub asks `ctx.remote.github()`: one client per plan (one connection),
created on first use, so a plan with no remote step never imports PyGithub. Without a token
the client reads anonymously (public repositories): a plan needs no token, a real run does
(`pipeline` refuses to apply it), and a remote step GitHub would not answer is shown as
`NOT_CHECKED`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from release_tool.errors import ReleaseError, UsageError
from release_tool.plan import RunState, StepPlan
from release_tool.project import (
    Facts,
    Project,
    ReleaseRequest,
    existing_tag,
    release_tag,
    tag_name,
)
from release_tool.versions import Version

if TYPE_CHECKING:
    from release_tool.github_api import GitHub

#: How a plan made without a token shows a remote step whose reads GitHub refused anonymously.
NOT_CHECKED = "not checked (no token)"

AUTH_HINT = (
    "set GITHUB_TOKEN or GH_TOKEN (a PAT or an App token that may write contents "
    "and pull requests), or run `gh auth login`"
)


class Remote:
    """The plan's GitHub client, made on first use (the only mutable thing in planning)."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._client: GitHub | None = None

    def github(self) -> GitHub:
        if self._client is None:
            from release_tool.github_api import GitHub, api_url

            project = self._project
            api = api_url(project.config.github_api, project.environ)
            self._client = GitHub(
                api,
                project.token,
                policy=project.policy,
                timeout=project.network_timeout,
                app=project.app,
            )
        return self._client


def require_token(project: Project, needed_by: str) -> None:
    if not project.token:
        raise UsageError(f"no GitHub token, which {needed_by} needs", AUTH_HINT)


def released_tag(project: Project, version: Version) -> str:
    """The tag of a version released earlier: the one that exists, locally or on the remote,
    in any spelling (a bare `4.18.4` stays `4.18.4`), else the one a release makes."""
    config = project.config
    found = existing_tag(config, version, project.repo.local_tags())
    if found is not None:
        return found
    try:
        remote = project.repo.ls_remote(config.remote).tags
    except ReleaseError:
        return tag_name(config, version)
    return release_tag(config, version, remote)


def not_checked(name: str, error: ReleaseError) -> StepPlan:
    """A remote step planned without a token whose anonymous reads failed (a private
    repository, the anonymous rate limit, a read only a user may make)."""
    return StepPlan(name, skipped=NOT_CHECKED, notes=(f"anonymous read failed: {error.message}",))


def anonymous_note(project: Project) -> tuple[str, ...]:
    """The note of a remote step planned without a token (its reads were anonymous)."""
    if project.token:
        return ()
    return ("no token: read anonymously; a real run needs one to write",)


class Planning(NamedTuple):
    """The context a step plans in."""

    project: Project
    request: ReleaseRequest
    facts: Facts
    known: RunState  # what the steps planned so far already know
    remote: Remote
    earlier: tuple[StepPlan, ...] = ()  # the steps planned so far, in order

    def planned(self, name: str) -> StepPlan | None:
        """An earlier step's plan (None if it was not planned)."""
        return next((step for step in self.earlier if step.name == name), None)
