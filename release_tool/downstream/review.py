"""What the downstream PR tells its reviewers, and who may review it.

* `releases_between`: the notes of every release from the one the downstream pins (exclusive)
  to the new one (inclusive), newest first, from the library's changelog: a downstream two
  releases behind sees both releases' changes, not just the last one's.
* `major_jump`: whether the upgrade crosses a major version (5.x → 6.0), for the title's
  prefix and the label (`major_title_prefix`, `major_label`).
* `check_reviewers`: GitHub refuses a review request for the PR's author, or for a user who is
  not a collaborator of the repository (422), after the PR is open; the plan asks first
  (`GET collaborators/{user}`: 204 or 404) and leaves those out, with a note.
* `marker` / `marked_version`: the hidden line the PR body carries (`<!-- release-tool:
  edx-proctoring==5.3.0 -->`), so a later plan knows which version an open PR upgrades to and
  never moves it backwards (an older release line's patch after a newer release).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from release_tool.downstream.upgrade import Upgrade
from release_tool.github_api import GitHub

_MARKER = re.compile(r"<!-- release-tool: (?P<package>[A-Za-z0-9._-]+)==(?P<version>\S+) -->")


def _version(text: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def oldest(olds: Iterable[str]) -> Any:
    """The oldest of the pinned versions that are versions (a git commit is not), or None."""
    versions = [v for v in (_version(o) for o in olds) if v is not None]
    return min(versions) if versions else None


def releases_between(upgrade: Upgrade, olds: Iterable[str]) -> list[dict[str, str]]:
    """{version, notes} of the new release, then of each release after the oldest pinned one,
    newest first (the changelog's sections; a release without one is left out)."""
    from release_tool.errors import ReleaseError

    new = _version(upgrade.version.pep440)
    since = oldest(olds)
    out = [{"version": upgrade.version.pep440, "notes": upgrade.notes}]
    log = upgrade.changelog
    if log is None or since is None:
        return out
    earlier = []
    for section in log.sections:
        if section.version is None:
            continue
        parsed = _version(section.version.pep440)
        if parsed is None or not since < parsed < new:
            continue
        try:
            notes = log.notes_markdown(section.version) or ""
        except ReleaseError:  # two headings for one version: the changelog check says so
            continue
        earlier.append((parsed, {"version": section.title, "notes": notes}))
    out += [entry for _, entry in sorted(earlier, key=lambda x: x[0], reverse=True)]
    return out


def major_jump(upgrade: Upgrade, olds: Iterable[str]) -> str | None:
    """The oldest pinned version when the upgrade crosses a major version, else None."""
    since = oldest(olds)
    if since is None or since.major >= upgrade.version.major:
        return None
    return str(since)


def check_reviewers(
    gh: GitHub, repository: str, reviewers: Sequence[str], author: str | None
) -> tuple[tuple[str, ...], list[str]]:
    """(the reviewers GitHub will accept, a note for each left out); `author` None: unknown
    (an App's token), so only GitHub can tell, when asked."""
    kept: list[str] = []
    notes: list[str] = []
    for login in reviewers:
        if author is not None and login.lower() == author.lower():
            notes.append(
                f"{repository}: reviewer {login} left out: {login} opens the PR, and GitHub does "
                "not let the author review it"
            )
        elif gh.is_collaborator(repository, login) is False:
            notes.append(
                f"{repository}: reviewer {login} left out: not a collaborator of {repository} "
                "(GitHub asks only collaborators for reviews)"
            )
        else:
            kept.append(login)
    return tuple(kept), notes


def marker(package: str, version: str) -> str:
    return f"<!-- release-tool: {package}=={version} -->"


def marked_version(body: str, package: str) -> Any:
    """The version an open PR's body says it upgrades `package` to, or None."""
    from packaging.utils import canonicalize_name

    for found in _MARKER.finditer(body):
        if canonicalize_name(found.group("package")) == canonicalize_name(package):
            return _version(found.group("version"))
    return None
