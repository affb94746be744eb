"""The `downstream` step: per downstream repository, the PR that upgrades it to the release.

The work is in `release_tool.downstream` (reads through the API, pin edits, the PR actions);
this module gathers what the PR says — the package, the version, its tag, notes and release
URL — from the facts and the steps planned before it. `plan_released` plans the step alone,
for a version released earlier (`release-tool downstream VERSION`).
"""

from __future__ import annotations

import dataclasses

from release_tool.downstream import Upgrade, plan_downstream
from release_tool.github_api import GitHub, release_web_url
from release_tool.plan import StepPlan
from release_tool.project import Project, tag_name
from release_tool.steps.base import Planning, Remote, require_token
from release_tool.steps.files import release_notes
from release_tool.steps.github_release import release_url
from release_tool.versions import Version

NAME = "downstream"


def upgrade_of(
    gh: GitHub,
    project: Project,
    version: Version,
    notes: str,
    release: str,
    previous: Version | None,
) -> Upgrade:
    config = project.config
    return Upgrade(
        package=config.package,
        version=version,
        tag=tag_name(config, version),
        notes=notes,
        release_url=release,
        repository=config.repository,
        repository_url=f"{gh.web}/{config.repository}",
        previous=previous,
    )


def plan(ctx: Planning) -> StepPlan:
    project, facts = ctx.project, ctx.facts
    if not project.config.downstream:
        return StepPlan(NAME, skipped="not configured")
    require_token(project, "the downstream PRs")
    gh = ctx.remote.github()
    upgrade = upgrade_of(
        gh, project, facts.new, facts.notes_markdown, release_url(ctx), facts.upgraded_from
    )
    return plan_downstream(gh, project.config, upgrade, templates=project.templates)


def plan_released(project: Project, version: Version) -> StepPlan:
    """The downstream step alone, for a version released earlier (its tag and release exist)."""
    config = project.config
    if not config.downstream:
        return StepPlan(NAME, skipped="not configured")
    require_token(project, "the downstream PRs")
    gh = Remote(project).github()
    tag = tag_name(config, version)
    release = gh.release_by_tag(config.repository, tag, drafts=True)
    url = release.html_url if release else release_web_url(gh.api, config.repository, tag)
    upgrade = upgrade_of(
        gh, project, version, release_notes(project, version, markdown=True), url, None
    )
    step = plan_downstream(gh, config, upgrade, templates=project.templates)
    if release is None:
        warning = f"warning: {config.repository} has no GitHub release for {tag}"
        step = dataclasses.replace(step, notes=(warning, *step.notes))
    return step
