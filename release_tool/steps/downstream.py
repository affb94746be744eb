"""The `downstream` step: per downstream repository, the PR that upgrades it to the release.

The work is in `release_tool.downstream` (reads through the API, pin edits, the PR actions);
this module gathers what the PR says — the package, the version, its tag, notes and release
URL — from the facts and the steps planned before it. `plan_released` plans the step alone,
for a version released earlier (`release-tool downstream VERSION`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from release_tool.downstream import PackageIndex, RelockSettings, Upgrade, plan_downstream
from release_tool.errors import ReleaseError
from release_tool.github_api import GitHub, release_web_url
from release_tool.plan import StepPlan
from release_tool.project import Project
from release_tool.steps.base import (
    Planning,
    Remote,
    anonymous_note,
    not_checked,
    released_tag,
    require_token,
)
from release_tool.steps.files import release_notes
from release_tool.steps.github_release import release_url
from release_tool.textfiles import read_text

if TYPE_CHECKING:
    from release_tool.changelog import Changelog
from release_tool.versions import Version

NAME = "downstream"


def upgrade_of(
    gh: GitHub,
    project: Project,
    version: Version,
    tag: str,
    notes: str,
    release: str,
    previous: Version | None,
) -> Upgrade:
    config = project.config
    return Upgrade(
        package=config.package,
        version=version,
        tag=tag,
        notes=notes,
        release_url=release,
        repository=config.repository,
        repository_url=f"{gh.web}/{config.repository}",
        previous=previous,
        changelog=_changelog(project),
    )


def _changelog(project: Project) -> Changelog | None:
    """The library's changelog as it is now (the PR shows the notes of skipped releases)."""
    from release_tool import changelog

    path = project.config.changelog
    if not path or not (project.root / path).is_file():
        return None
    try:
        return changelog.parse(read_text(project.root / path, path), path)
    except ReleaseError:
        return None  # preflight reports an unreadable changelog


def package_index(project: Project) -> PackageIndex:
    """The library's index, waited on at the project's pace (tests make it short)."""
    config = project.config
    return PackageIndex(
        config.index_url,
        config.index_timeout,
        project.poll_interval,
        project.network_timeout,
        project.progress,
    )


def relock_settings(project: Project) -> RelockSettings:
    """How a relock waits for the release on the library's index, and the resolvers' env."""
    config = project.config
    return RelockSettings(
        index_url=config.index_url,
        timeout=config.index_timeout,
        interval=project.poll_interval,
        progress=project.progress,
        env=dict(project.environ) or None,
    )


def plan(ctx: Planning) -> StepPlan:
    project, facts = ctx.project, ctx.facts
    if not project.config.downstream:
        return StepPlan(NAME, skipped="not configured")
    gh = ctx.remote.github()
    try:
        upgrade = upgrade_of(
            gh,
            project,
            facts.new,
            facts.tag,
            facts.notes_markdown,
            release_url(ctx),
            facts.upgraded_from,
        )
        planned = plan_downstream(
            gh,
            project.config,
            upgrade,
            templates=project.templates,
            index=package_index(project),
            relock_settings=relock_settings(project),
        )
    except ReleaseError as exc:
        if project.token:
            raise
        return not_checked(NAME, exc)
    notes = anonymous_note(project)
    return dataclasses.replace(planned, notes=(*planned.notes, *notes)) if notes else planned


def plan_released(project: Project, version: Version) -> StepPlan:
    """The downstream step alone, for a version released earlier (its tag and release exist)."""
    config = project.config
    if not config.downstream:
        return StepPlan(NAME, skipped="not configured")
    require_token(project, "the downstream PRs")
    gh = Remote(project).github()
    tag = released_tag(project, version)
    release = gh.release_by_tag(config.repository, tag, drafts=True)
    url = release.html_url if release else release_web_url(gh.api, config.repository, tag)
    if config.release_notes == "changelog":
        notes = release_notes(project, version, markdown=True)
    else:
        from release_tool.steps.notes import released_notes

        notes = released_notes(project, version, tag)
    upgrade = upgrade_of(gh, project, version, tag, notes, url, None)
    step = plan_downstream(
        gh,
        config,
        upgrade,
        templates=project.templates,
        index=package_index(project),
        relock_settings=relock_settings(project),
    )
    if release is None:
        warning = f"warning: {config.repository} has no GitHub release for {tag}"
        step = dataclasses.replace(step, notes=(warning, *step.notes))
    return step
