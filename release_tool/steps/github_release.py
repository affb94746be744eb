"""The `github-release` step: the release for the tag, converging on what exists.

No release → `CreateReleaseAction`; a release whose name, body, pre-release flag or draft
state differ → `UpdateReleaseAction`; the same → skipped, "already done" (its URL known). A
draft is published when the config no longer asks for drafts, never turned back into a
draft. The body is the version's notes through `templates/github/release_body.md.j2`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

from release_tool import rendering
from release_tool.errors import ReleaseError
from release_tool.github_api import GitHub, GitHubError, ReleaseInfo, release_web_url
from release_tool.plan import Outcome, RunState, StepPlan
from release_tool.project import Project
from release_tool.steps.base import Planning, anonymous_note, not_checked
from release_tool.versions import Version

NAME = STEP = "github-release"


@dataclass(frozen=True)
class DesiredRelease:
    """The release the tag should have."""

    repository: str
    tag: str
    name: str
    body: str
    draft: bool
    prerelease: bool

    def differences(self, existing: ReleaseInfo) -> list[str]:
        """What differs from an existing release (publishing a draft counts, un-publishing
        never does: a published release may already have triggered the upload)."""
        changed = []
        if existing.name != self.name:
            changed.append("name")
        if existing.body.replace("\r\n", "\n") != self.body:
            changed.append("body")
        if existing.prerelease != self.prerelease:
            changed.append("pre-release flag")
        if existing.draft and not self.draft:
            changed.append("publish the draft")
        return changed


def _flags(release: DesiredRelease) -> str:
    flags = [
        word for word, on in (("draft", release.draft), ("pre-release", release.prerelease)) if on
    ]
    return f" ({', '.join(flags)})" if flags else ""


@dataclass(frozen=True)
class CreateReleaseAction:
    gh: GitHub = field(repr=False, compare=False)
    release: DesiredRelease
    step: str = STEP

    def describe(self) -> str:
        r = self.release
        return f"create GitHub release {r.name!r} for {r.tag} on {r.repository}{_flags(r)}"

    def details(self) -> str:
        return self.release.body

    def data(self) -> dict[str, Any]:
        return {"action": "create-release", **asdict(self.release)}

    def apply(self, state: RunState) -> Outcome:
        r = self.release
        try:
            made = self.gh.create_release(
                r.repository,
                tag=r.tag,
                name=r.name,
                body=r.body,
                draft=r.draft,
                prerelease=r.prerelease,
            )
        except GitHubError as exc:
            # 422 already_exists while planning saw none: a draft for the tag (GET by tag does
            # not show drafts), left by a run configured with draft_release. Finish that one.
            found = (
                self.gh.release_by_tag(r.repository, r.tag, drafts=True)
                if exc.status == 422
                else None
            )
            if found is None:
                raise
            made = found
        if r.differences(made):
            # A failed attempt's release found by the look-before-retry, made from an older
            # plan: bring it to this one.
            made = self.gh.update_release(
                r.repository,
                made.id,
                name=r.name,
                body=r.body,
                draft=r.draft and made.draft,
                prerelease=r.prerelease,
                was_draft=made.draft,
            )
        return Outcome(
            f"created release {r.tag}: {made.html_url}", RunState(release_url=made.html_url)
        )


@dataclass(frozen=True)
class UpdateReleaseAction:
    gh: GitHub = field(repr=False, compare=False)
    release: DesiredRelease
    existing: ReleaseInfo
    changes: tuple[str, ...]
    step: str = STEP

    def describe(self) -> str:
        return (
            f"update GitHub release {self.release.tag} on {self.release.repository}: "
            f"{', '.join(self.changes)}"
        )

    def details(self) -> str:
        return self.release.body

    def data(self) -> dict[str, Any]:
        return {
            "action": "update-release",
            **asdict(self.release),
            "url": self.existing.html_url,
            "changes": list(self.changes),
        }

    def apply(self, state: RunState) -> Outcome:
        r = self.release
        made = self.gh.update_release(
            r.repository,
            self.existing.id,
            name=r.name,
            body=r.body,
            draft=r.draft and self.existing.draft,
            prerelease=r.prerelease,
            was_draft=self.existing.draft,
        )
        return Outcome(
            f"updated release {r.tag}: {made.html_url}", RunState(release_url=made.html_url)
        )


# --- planning ----------------------------------------------------------------------------


def actions_token_warning(project: Project) -> str | None:
    """A note when the token looks like Actions' default GITHUB_TOKEN.

    GitHub does not start workflows for events that token causes, so a release it creates
    would not run the publish workflow (PyPI, npm).
    """
    env = project.environ
    token = project.token or ""
    if (
        env.get("GITHUB_ACTIONS") == "true"
        and token == env.get("GITHUB_TOKEN")
        and token.startswith("ghs_")
    ):
        return (
            "warning: the token looks like Actions' default GITHUB_TOKEN: a release it "
            "creates does not trigger the publish workflows; use a PAT or an App token"
        )
    return None


def plan_github_release(
    gh: GitHub, project: Project, version: Version, tag: str, notes: str
) -> StepPlan:
    """The github-release step; an existing release's URL is `known`."""
    config = project.config
    context = {
        "package": config.package,
        "version": version.pep440,
        "tag": tag,
        "notes": notes,
        "repository": config.repository,
    }
    templates = project.templates
    desired = DesiredRelease(
        repository=config.repository,
        tag=tag,
        name=rendering.render(
            "github/release_name.txt.j2", context, override_dir=templates
        ).strip(),
        body=rendering.render("github/release_body.md.j2", context, override_dir=templates).strip(),
        draft=config.draft_release,
        prerelease=version.is_prerelease,
    )
    notes_out: list[str] = []
    warning = actions_token_warning(project)
    if warning:
        notes_out.append(warning)
    if config.release_assets:
        from release_tool.steps.notes import OWN_MARKER

        # The marker tells the tool's own draft from someone else's (see release_assets).
        desired = dataclasses.replace(desired, body=f"{desired.body}\n\n{OWN_MARKER}")
        immutable = _plan_immutable(gh, project, desired, notes_out)
        if immutable is not None:
            return immutable
    # Drafts too, always: GitHub lets a published release be created beside a draft for the
    # same tag, so a draft an earlier run left must be found (and published), not doubled.
    existing = gh.release_by_tag(config.repository, tag, drafts=True)
    if existing is None:
        return StepPlan(STEP, (CreateReleaseAction(gh, desired),), notes=tuple(notes_out))
    changes = desired.differences(existing)
    if existing.draft and desired.draft is False:
        notes_out.append("the release is a draft: updating it publishes it")
    known = RunState(release_url=existing.html_url)
    if not changes:
        return StepPlan(
            STEP,
            skipped=f"already done: release {tag} exists ({existing.html_url})",
            notes=tuple(notes_out),
            known=known,
        )
    return StepPlan(
        STEP,
        (UpdateReleaseAction(gh, desired, existing, tuple(changes)),),
        notes=tuple(notes_out),
        known=known,
    )


def _plan_immutable(
    gh: GitHub, project: Project, desired: DesiredRelease, notes: list[str]
) -> StepPlan | None:
    """With `release_assets`: the draft → assets → publish action (finishing the tool's own
    draft when an earlier run left one); None when the tag's release is already published
    (then it is only brought up to date, as without assets)."""
    from release_tool.steps.notes import OWN_MARKER
    from release_tool.steps.release_assets import AssetBuild, ImmutableReleaseAction

    config, r = project.config, desired
    published = gh.release_by_tag(r.repository, r.tag)
    if published is not None:
        notes.append(
            "the release is published: its assets are as they are (an immutable release "
            "takes no new ones)"
        )
        return None
    draft = gh.draft_of(r.repository, r.tag, OWN_MARKER)
    if draft is not None:
        notes.append(
            f"an earlier run's draft of {r.tag} is finished, not doubled: {draft.html_url}"
        )
    build = AssetBuild(config.build_command, config.release_assets, config.build_timeout)
    action = ImmutableReleaseAction(
        gh,
        project.root,
        project.environ,
        r.repository,
        r.tag,
        r.name,
        r.body,
        r.prerelease,
        r.draft,
        build,
        draft,
    )
    return StepPlan(STEP, (action,), notes=tuple(notes))


def plan(ctx: Planning) -> StepPlan:
    """The release for the tag; without a token, planned on anonymous reads (or not checked)."""
    facts, project = ctx.facts, ctx.project
    try:
        planned = plan_github_release(
            ctx.remote.github(), project, facts.new, facts.tag, facts.notes_markdown
        )
    except ReleaseError as exc:
        if project.token:
            raise
        return not_checked(NAME, exc)
    if project.token:
        return planned
    notes = anonymous_note(project)
    if project.config.draft_release:
        notes += ("drafts are visible only with a token: an existing draft is not seen",)
    return dataclasses.replace(planned, notes=(*planned.notes, *notes))


def release_url(ctx: Planning) -> str:
    """The release's URL for later steps: known, or where the release will be, or (when this
    run does not plan the release) what GitHub has for the tag."""
    if ctx.known.release_url:
        return ctx.known.release_url
    gh, config = ctx.remote.github(), ctx.project.config
    planned = ctx.planned(STEP)
    if planned is None or not planned.actions:
        found = gh.release_by_tag(config.repository, ctx.facts.tag, drafts=True)
        if found is not None:
            return found.html_url
    return release_web_url(gh.api, config.repository, ctx.facts.tag)
