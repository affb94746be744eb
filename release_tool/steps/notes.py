"""Release notes without a changelog: GitHub's generated notes, or the conventional commits.

`release_notes` in the config picks the source:

* `changelog` (the default) — the version's section of the changelog (`steps.files`);
* `github` — what GitHub would write for the release (`POST releases/generate-notes`, from
  the previous release tag), read while planning so that the dry run shows it;
* `commits` — the subjects of the commits since the previous release tag, grouped by their
  conventional-commit type (`feat` → Features, `fix` → Bug fixes, …; anything else last).

Both are Markdown: the tag message, the release body, the PR body and the email (as Markdown)
all carry the same text. Neither needs `--allow-empty-notes`: the notes are what happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from release_tool.errors import ReleaseError
from release_tool.git_repo import run_git
from release_tool.project import Project, version_of_tag
from release_tool.versions import Version

#: Conventional-commit types, in the order their sections appear; others come last.
SECTIONS = (
    ("feat", "Features"),
    ("fix", "Bug fixes"),
    ("perf", "Performance"),
    ("revert", "Reverts"),
    ("refactor", "Refactoring"),
    ("docs", "Documentation"),
    ("build", "Build"),
    ("ci", "Continuous integration"),
    ("test", "Tests"),
    ("style", "Style"),
    ("chore", "Chores"),
)
BREAKING = "Breaking changes"
OTHERS = "Other changes"
_CONVENTIONAL = re.compile(
    r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()]*)\))?(?P<bang>!)?:\s*(?P<text>\S.*)$"
)
#: What the tool writes at the end of the body of a release it owns (an immutable release's
#: draft, which a re-run must tell from a draft someone else made): an HTML comment, which
#: GitHub does not show.
OWN_MARKER = "<!-- release-tool -->"
#: The steps that use the notes beyond the tag message: only they make GitHub's worth reading.
_NOTE_READERS = frozenset({"github-release", "downstream", "email"})


def group_subjects(subjects: Iterable[str]) -> str:
    """Commit subjects as Markdown sections by conventional-commit type ('' for none).

    `feat(api)!: x` is listed under Breaking changes as `**api:** x`; a subject that is not a
    conventional commit (`Merge pull request …`, `Update README`) under Other changes.
    """
    titles = dict(SECTIONS)
    grouped: dict[str, list[str]] = {}
    for subject in subjects:
        match = _CONVENTIONAL.match(subject.strip())
        if match is None:
            grouped.setdefault(OTHERS, []).append(subject.strip())
            continue
        kind = match["type"].lower()
        text = match["text"].strip()
        if match["scope"]:
            text = f"**{match['scope'].strip()}:** {text}"
        title = BREAKING if match["bang"] else titles.get(kind, OTHERS)
        grouped.setdefault(title, []).append(text)
    order = [BREAKING, *titles.values(), OTHERS]
    sections = [
        f"### {title}\n\n" + "\n".join(f"- {line}" for line in grouped[title])
        for title in order
        if title in grouped
    ]
    return "\n\n".join(sections)


def previous_release_tag(project: Project, head: str, version: Version) -> str | None:
    """The tag of the highest release below `version` reachable from `head` (None: the first
    release)."""
    config = project.config
    below = [
        (found, tag)
        for tag in project.repo.tags_merged(head)
        if (found := version_of_tag(config, tag)) is not None and found < version
    ]
    return max(below)[1] if below else None


def commit_notes(project: Project, head: str, previous_tag: str | None) -> str:
    """The commits `head` has since `previous_tag` (all of them for a first release), grouped;
    the tool's own release commits are left out."""
    span = f"{previous_tag}..{head}" if previous_tag else head
    out = run_git(
        "log", "--no-show-signature", "--no-merges", "--format=%s", span, cwd=project.root
    )
    own = re.compile(rf"^chore: release {re.escape(project.config.package)} \S+$")
    return group_subjects(s for s in out.splitlines() if s.strip() and not own.match(s))


@dataclass(frozen=True)
class PlannedNotes:
    """The notes of a release from a source other than the changelog."""

    markdown: str
    warnings: tuple[str, ...] = ()


def plan_notes(
    project: Project,
    *,
    new: Version,
    head: str,
    tag: str,
    remote_tags: Mapping[str, str],
    steps: frozenset[str],
) -> PlannedNotes:
    """The notes of the release being planned (`release_notes` is "github" or "commits").

    GitHub's are read only when a step that shows them is selected, and need a token (the
    endpoint is for those who may write releases); without one the plan says so."""
    source = project.config.release_notes
    previous = previous_release_tag(project, head, new)
    if source == "commits":
        return PlannedNotes(commit_notes(project, head, previous))
    if not steps & _NOTE_READERS:
        return PlannedNotes("")  # a local-only run: the tag message is the version alone
    if not (project.token or project.app):
        return PlannedNotes(
            "", ("GitHub's generated notes are not read without a token (the notes are empty)",)
        )
    from release_tool.steps.base import Remote

    gh = Remote(project).github()
    markdown = gh.generate_notes(
        project.config.repository,
        tag=tag,
        # A tag GitHub does not have yet is made on the branch's head.
        target=None if tag in remote_tags else project.config.branch,
        previous_tag=previous if previous in remote_tags else None,
    )
    return PlannedNotes(markdown.strip())


def released_notes(project: Project, version: Version, tag: str) -> str:
    """The notes of a version released earlier (`email VERSION`, `downstream VERSION`), from
    the configured source other than the changelog: the commits up to its tag, or its GitHub
    release's body (GitHub's generated notes when it has no release)."""
    head = tag if tag in project.repo.local_tags() else "HEAD"
    previous = previous_release_tag(project, head, version)
    if project.config.release_notes == "commits":
        return commit_notes(project, head, previous)
    from release_tool.steps.base import Remote

    gh = Remote(project).github()
    repository = project.config.repository
    release = gh.release_by_tag(repository, tag)
    body = release.body.replace("\r\n", "\n").replace(OWN_MARKER, "").strip() if release else ""
    if body:
        return body
    try:
        return gh.generate_notes(repository, tag=tag, target=None, previous_tag=previous).strip()
    except ReleaseError:
        if project.token or project.app:
            raise
        return ""  # anonymous: GitHub generates notes only for those who may write releases
