"""The `email` step: the release facts → an `EmailContext` → draft (and send) actions.

Rendering, the draft and SMTP live in `release_tool.email`; this module gathers what the
email says — package, versions, notes, and the links to the repository, tag, release, index
page and downstream PRs. Links the run has yet to produce (a PR it will open) are filled in
from the run state when the draft is written; the dry run shows them as marked placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from release_tool import changelog
from release_tool.email import EmailContext, notes_format_for, plan_email_actions
from release_tool.errors import UsageError
from release_tool.github_api import api_url, release_web_url, web_url
from release_tool.plan import RunState, StepPlan
from release_tool.project import Project, releases_before
from release_tool.steps.base import Planning, released_tag
from release_tool.steps.files import release_notes
from release_tool.textfiles import read_text
from release_tool.versions import Version

NAME = "email"
PYPI_SIMPLE = "https://pypi.org/simple/"


@dataclass(frozen=True)
class EmailFacts:
    """What the email needs to know about the release it announces."""

    version: Version
    previous: Version | None
    tag: str
    notes: str
    day: date


def index_page(project: Project, version: Version) -> str:
    """The version's page on the index: PyPI's project page, or the configured simple index."""
    index = project.config.index_url
    if index.rstrip("/") + "/" == PYPI_SIMPLE:
        return f"https://pypi.org/project/{project.config.package}/{version.pep440}/"
    return f"{index.rstrip('/')}/{project.config.package}/"


def email_context(project: Project, facts: EmailFacts) -> EmailContext:
    config = project.config
    api = api_url(config.github_api, project.environ)
    repository_url = f"{web_url(api)}/{config.repository}"
    return EmailContext(
        package=config.package,
        version=facts.version.pep440,
        previous_version=facts.previous.pep440 if facts.previous else None,
        date=facts.day,
        notes_text=facts.notes,
        notes_format=(
            notes_format_for(config.changelog)
            if config.release_notes == "changelog"
            else "markdown"
        ),
        repository_url=repository_url,
        tag_url=f"{repository_url}/tree/{facts.tag}",
        release_url=release_web_url(api, config.repository, facts.tag),
        index_url=index_page(project, facts.version),
    )


def default_sender(project: Project) -> str:
    """git's `user.name <user.email>`, which `from` in the config overrides."""
    name = project.repo.config_value("user.name")
    address = project.repo.config_value("user.email")
    if not address:
        raise UsageError(
            "no sender for the notification email",
            f"set {project.config.key('email.from')}, or git config user.email",
        )
    return f"{name} <{address}>" if name else address


def plan_email(project: Project, facts: EmailFacts, *, send: bool, known: RunState) -> StepPlan:
    """The email step, rendered with what is `known` now (placeholders for the rest)."""
    config = project.config.email
    if config is None:
        return StepPlan(NAME, skipped=f"not configured ({project.config.key('email')})")
    if project.config.changelog:
        changelog.changelog_format(project.config.changelog)  # a bad suffix is a config error
    sender = config.sender or default_sender(project)
    planned = plan_email_actions(
        config,
        email_context(project, facts),
        repo_root=project.root,
        sender=sender,
        send=send or config.send,
        environ=project.environ,
        override_dir=project.templates,
        known=known,
    )
    return StepPlan(NAME, tuple(planned.actions), notes=tuple(planned.notes))


def plan(ctx: Planning) -> StepPlan:
    facts = ctx.facts
    email_facts = EmailFacts(facts.new, facts.previous, facts.tag, facts.notes, ctx.request.today)
    return plan_email(ctx.project, email_facts, send=ctx.request.send_email, known=ctx.known)


def released_facts(project: Project, version: Version, today: date) -> EmailFacts:
    """Facts for a version released earlier (`release-tool email VERSION`): its changelog
    section and date, and the release before it among the tags."""
    config = project.config
    tag = released_tag(project, version)
    if config.release_notes == "changelog":
        notes = release_notes(project, version)
    else:
        from release_tool.steps.notes import released_notes

        notes = released_notes(project, version, tag)
    day = today
    if config.changelog and (project.root / config.changelog).is_file():
        log = changelog.parse(
            read_text(project.root / config.changelog, config.changelog), config.changelog
        )
        section = log.section(version)
        if section is not None and section.date:
            day = section.date
    # The release before it: the highest version tag reachable from its tag (from HEAD when
    # it has none), so a maintenance branch's release does not name master's as previous.
    tags = project.repo.local_tags()
    reachable = project.repo.local_tags(merged=tag if tag in tags else "HEAD")
    previous = releases_before(config, reachable, version)
    return EmailFacts(version, previous, tag, notes, day)
