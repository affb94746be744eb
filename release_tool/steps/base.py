"""What every step's planner receives: the `Planning` context, and the shared GitHub client.

`Planning` is frozen and explicit: the project, the request, the facts preflight established,
and `known` — what the steps planned before this one already know (the release URL, open PRs).
A planner that needs GitHub asks `ctx.remote.github()`: one client per plan (one connection),
created on first use, so a plan with no remote step never imports PyGithub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from release_tool.errors import UsageError
from release_tool.plan import RunState, StepPlan
from release_tool.project import Facts, Project, ReleaseRequest

if TYPE_CHECKING:
    from release_tool.github_api import GitHub

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
                api, project.token, policy=project.policy, timeout=project.network_timeout
            )
        return self._client


def require_token(project: Project, needed_by: str) -> None:
    if not project.token:
        raise UsageError(f"no GitHub token, which {needed_by} needs", AUTH_HINT)


@dataclass(frozen=True)
class Planning:
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
