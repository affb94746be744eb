"""The steps after the push: github-release, wait-for-index, downstream.

`plan_remote_steps(project, facts, request)` is the `remote_steps` callable `plan_release`
takes. It plans the three steps with read-only requests (one GitHub client, so one connection)
and returns their `StepPlan`s; a step not selected by --skip/--only is returned as skipped
without a single request. `RemoteSteps(progress=..., interval=..., policy=...)` builds the same
callable with a progress callback for the index wait and a retry policy (tests make it fast).

The github-release step converges on the tag: no release → `CreateReleaseAction`; a release
whose name, body, pre-release flag or draft state differ → `UpdateReleaseAction`; the same →
skipped, "already done". A draft is published when the config no longer asks for drafts, never
turned back into a draft.

Also here: `remote_status` (for `release-tool status`) and `plan_downstream_only` (for
`release-tool downstream VERSION`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from release_tool import rendering
from release_tool.downstream import Upgrade, downstream_status, plan_downstream
from release_tool.errors import UsageError
from release_tool.github_api import (
    GitHub,
    GitHubError,
    ReleaseInfo,
    RetryPolicy,
    api_url,
    release_web_url,
)
from release_tool.index_wait import DEFAULT_INTERVAL, Progress, plan_wait_for_index
from release_tool.plan import Outcome, StepPlan
from release_tool.versions import Version

if TYPE_CHECKING:
    from release_tool.pipeline import Facts, Project, ReleaseRequest

STEP = "github-release"
NOT_SELECTED = "not selected (--skip/--only)"
AUTH_HINT = (
    "set GITHUB_TOKEN or GH_TOKEN (a PAT or an App token that may write contents "
    "and pull requests), or run `gh auth login`"
)


# --- the release actions ---------------------------------------------------------------------


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

    def apply(self) -> Outcome:
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
            )
        return Outcome(f"created release {r.tag}: {made.html_url}", {"release_url": made.html_url})


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

    def apply(self) -> Outcome:
        r = self.release
        made = self.gh.update_release(
            r.repository,
            self.existing.id,
            name=r.name,
            body=r.body,
            draft=r.draft and self.existing.draft,
            prerelease=r.prerelease,
        )
        return Outcome(f"updated release {r.tag}: {made.html_url}", {"release_url": made.html_url})


# --- planning -------------------------------------------------------------------------------


def github_client(project: Project, policy: RetryPolicy | None = None) -> GitHub:
    return GitHub(api_url(project.config.github_api, project.environ), project.token, policy=policy)


def _templates(project: Project) -> Path | None:
    return project.root / project.config.templates if project.config.templates else None


def _require_token(project: Project, steps: str) -> None:
    if not project.token:
        raise UsageError(f"no GitHub token, which {steps} needs", AUTH_HINT)


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
) -> tuple[StepPlan, str]:
    """The github-release step, and the release's URL (known, or where it will be)."""
    config = project.config
    context = {
        "package": config.package,
        "version": version.pep440,
        "tag": tag,
        "notes": notes,
        "repository": config.repository,
    }
    templates = _templates(project)
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
    existing = gh.release_by_tag(config.repository, tag, drafts=config.draft_release)
    if existing is None:
        url = release_web_url(gh.api, config.repository, tag)
        return StepPlan(STEP, (CreateReleaseAction(gh, desired),), notes=tuple(notes_out)), url
    changes = desired.differences(existing)
    if existing.draft and desired.draft is False:
        notes_out.append("the release is a draft: updating it publishes it")
    if not changes:
        return (
            StepPlan(
                STEP,
                skipped=f"already done: release {tag} exists ({existing.html_url})",
                notes=tuple(notes_out),
                outputs={"release_url": existing.html_url},
            ),
            existing.html_url,
        )
    return (
        StepPlan(
            STEP,
            (UpdateReleaseAction(gh, desired, existing, tuple(changes)),),
            notes=tuple(notes_out),
        ),
        existing.html_url,
    )


def _selected(request: ReleaseRequest, name: str) -> bool:
    return (not request.only or name in request.only) and name not in request.skip


@dataclass(frozen=True)
class RemoteSteps:
    """The `remote_steps` callable of `plan_release`, with its knobs.

    `progress` receives the index wait's progress lines (default: the project's, which the CLI
    shows); `interval` is the index poll interval; `policy` the GitHub retry policy.
    """

    progress: Progress | None = field(default=None, compare=False)
    interval: float = DEFAULT_INTERVAL
    policy: RetryPolicy | None = None

    def __call__(self, project: Project, facts: Facts, request: ReleaseRequest) -> list[StepPlan]:
        config = project.config
        release_on = _selected(request, STEP)
        downstream_on = _selected(request, "downstream") and bool(config.downstream)
        if release_on or downstream_on:
            _require_token(project, "the GitHub release and the downstream PRs")
        gh = github_client(project, self.policy)

        steps: list[StepPlan] = []
        release_url = release_web_url(gh.api, config.repository, facts.tag)
        if release_on:
            release_step, release_url = plan_github_release(
                gh, project, facts.new, facts.tag, facts.notes
            )
            steps.append(release_step)
        else:
            steps.append(StepPlan(STEP, skipped=NOT_SELECTED))
            if downstream_on:
                found = gh.release_by_tag(config.repository, facts.tag, drafts=True)
                release_url = found.html_url if found else release_url

        if _selected(request, "wait-for-index"):
            steps.append(
                plan_wait_for_index(
                    config.package,
                    facts.new,
                    enabled=config.wait_for_index,
                    index_url=config.index_url,
                    timeout=config.index_timeout,
                    interval=self.interval,
                    progress=self.progress or project.progress,
                )
            )
        else:
            steps.append(StepPlan("wait-for-index", skipped=NOT_SELECTED))

        if not _selected(request, "downstream"):
            steps.append(StepPlan("downstream", skipped=NOT_SELECTED))
        else:
            upgrade = _upgrade(
                gh,
                project,
                facts.new,
                facts.tag,
                facts.notes,
                release_url,
                facts.current if facts.current != facts.new else None,
            )
            steps.append(plan_downstream(gh, config, upgrade, templates=_templates(project)))
        return steps


plan_remote_steps = RemoteSteps()


def _upgrade(
    gh: GitHub,
    project: Project,
    version: Version,
    tag: str,
    notes: str,
    release_url: str,
    previous: Version | None,
) -> Upgrade:
    config = project.config
    return Upgrade(
        package=config.package,
        version=version,
        tag=tag,
        notes=notes,
        release_url=release_url,
        repository=config.repository,
        repository_url=f"{gh.web}/{config.repository}",
        previous=previous,
    )


# --- `release-tool downstream VERSION` and `release-tool status` ------------------------------


def plan_downstream_only(
    project: Project, version: Version, *, policy: RetryPolicy | None = None
) -> list[StepPlan]:
    """The downstream step alone, for a version released earlier (its tag and release exist)."""
    from release_tool import changelog
    from release_tool.files.write import read_text
    from release_tool.pipeline import tag_name

    config = project.config
    if not config.downstream:
        return [StepPlan("downstream", skipped="not configured")]
    _require_token(project, "the downstream PRs")
    tag = tag_name(config, version)
    notes = ""
    if config.changelog:
        path = project.root / config.changelog
        if path.is_file():
            fmt = changelog.changelog_format(config.changelog)
            notes = changelog.release_notes(read_text(path), version, fmt) or ""
    gh = github_client(project, policy)
    release = gh.release_by_tag(config.repository, tag, drafts=True)
    release_url = release.html_url if release else release_web_url(gh.api, config.repository, tag)
    step = plan_downstream(
        gh,
        config,
        _upgrade(gh, project, version, tag, notes, release_url, None),
        templates=_templates(project),
    )
    if release is None:
        step = StepPlan(
            step.name,
            step.actions,
            step.skipped,
            (f"warning: {config.repository} has no GitHub release for {tag}", *step.notes),
        )
    return [step]


def remote_status(
    project: Project, version: Version, tag: str, *, policy: RetryPolicy | None = None
) -> list[tuple[str, str]]:
    """(what, state) rows: the GitHub release, and each downstream's PR. Reads only; a failure
    is shown as the state (status never fails on what it is there to report)."""
    from release_tool.errors import ReleaseError

    config = project.config
    gh = github_client(project, policy)
    rows: list[tuple[str, str]] = []
    try:
        release = gh.release_by_tag(config.repository, tag, drafts=True)
        if release is None:
            state = "absent"
        else:
            kind = "draft" if release.draft else "published"
            pre = " pre-release" if release.prerelease else ""
            state = f"{kind}{pre} {release.html_url}"
    except ReleaseError as exc:
        state = f"unknown ({exc.message})"
    rows.append(("github release", state))
    rows += downstream_status(gh, config, version)
    return rows
