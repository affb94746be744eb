"""Planning the `email` step: the release facts → an `EmailContext` → draft (and send) actions.

The rendering, the draft and SMTP live in `email.py`; this module only gathers what the email
says — package, versions, notes, and the links to the repository, tag, release, index page and
downstream PRs — from the project and the facts the earlier steps planned on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from release_tool.changelog import changelog_format
from release_tool.email import EmailContext, LinkBoard, notes_format_for, plan_email_actions
from release_tool.errors import UsageError
from release_tool.github_api import api_url, release_web_url, web_url
from release_tool.pipeline import Project
from release_tool.plan import StepPlan
from release_tool.versions import Version

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
        notes_format=notes_format_for(config.changelog),
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
            "set `from` in [tool.release_tool.email], or git config user.email",
        )
    return f"{name} <{address}>" if name else address


def plan_email_step(
    project: Project, facts: EmailFacts, *, send: bool, links: LinkBoard | None
) -> StepPlan:
    config = project.config.email
    if config is None:
        return StepPlan("email", skipped="not configured ([tool.release_tool.email])")
    if project.config.changelog:
        changelog_format(project.config.changelog)  # a bad suffix is a config error, early
    sender = config.sender or default_sender(project)
    templates = project.root / project.config.templates if project.config.templates else None
    planned = plan_email_actions(
        config,
        email_context(project, facts),
        repo_root=project.root,
        sender=sender,
        send=send or config.send,
        environ=project.environ,
        override_dir=templates,
        links=links,
    )
    return StepPlan("email", tuple(planned.actions), notes=tuple(planned.notes))


def released_facts(project: Project, version: Version, today: date) -> EmailFacts:
    """Facts for a version released earlier (`release-tool email VERSION`): its changelog
    section and date, and the release before it among the tags."""
    from release_tool import changelog
    from release_tool.files.write import read_text
    from release_tool.pipeline import tag_name, version_of_tag

    config = project.config
    notes, day = "", today
    if config.changelog and (project.root / config.changelog).is_file():
        fmt = changelog.changelog_format(config.changelog)
        text = read_text(project.root / config.changelog)
        notes = changelog.release_notes(text, version, fmt) or ""
        for section in changelog.parse_sections(text, fmt):
            if section.version == version and section.date:
                day = section.date
    earlier = [
        v
        for t in project.repo.local_tags()
        if (v := version_of_tag(config, t)) is not None and v < version
    ]
    return EmailFacts(version, max(earlier, default=None), tag_name(config, version), notes, day)
