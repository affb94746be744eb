"""The pull request a downstream entry's change becomes: what is rolled out (`Upgrade`), the
texts rendered from the templates, and the `DownstreamPRAction` for a set of file changes,
shared by the `edit` and `relock` strategies.

`pr_action` decides, for an open PR, whether it is current: a commit on the planned base whose
tree is that base plus the changes (the PR's commit, and the trees on the changed paths: a few
reads whatever the repository's size), and which of its title, body, base, labels and
reviewers differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.version import Version as PackagingVersion

from release_tool import rendering
from release_tool.config import DownstreamConfig
from release_tool.downstream.actions import DownstreamPRAction
from release_tool.downstream.metadata import DependencyCheck
from release_tool.downstream.pins import FileChange, expected_tree, version_key
from release_tool.downstream.reads import BaseFiles, Target
from release_tool.downstream.review import (
    check_reviewers,
    major_jump,
    marked_version,
    marker,
    releases_between,
)
from release_tool.downstream.upgrade import Upgrade
from release_tool.files.requirements import HeldPin, PinChange
from release_tool.github_api import GitHub, GitHubError, PullInfo

__all__ = ["Upgrade", "pr_action", "template_context"]


def pr_action(
    gh: GitHub,
    entry: DownstreamConfig,
    upgrade: Upgrade,
    target: Target,
    files: BaseFiles,
    changes: tuple[FileChange, ...],
    pull: PullInfo | None,
    *,
    templates: Path | None,
    extra: Mapping[str, Any] | None = None,
    held: Sequence[tuple[str, HeldPin]] = (),
    dependency_check: DependencyCheck | None = None,
    notes: Sequence[str] = (),
) -> tuple[DownstreamPRAction, str] | str:
    """The action opening or updating the PR for `changes` on `files`' base commit, and a note;
    or why there is nothing to do (the open PR is up to date): the one PR builder of `edit` and
    `relock`. `extra` adds to the templates' context (the relock's lock diff); `held` are the
    constraint pins left alone, `dependency_check` what runs before anything is written, and
    `notes` what the strategy already has to say."""
    repo, base = entry.repository, target.base
    if pull is not None:
        ahead = marked_version(pull.body, upgrade.package)
        if ahead is not None and ahead > PackagingVersion(upgrade.version.pep440):
            return (
                f"{repo}: PR #{pull.number} ({pull.html_url}) upgrades {upgrade.package} to "
                f"{ahead}, newer than {upgrade.version}: left as it is"
            )
    branch = entry.branch.format(package=upgrade.package)
    context = template_context(
        upgrade, changes, downstream=repo, base=base, branch=branch, held=held
    )
    context.update(extra or {})
    if context.get("major_from") is None and context.get("previous_versions"):
        # A relock moves no pin line: the lock says which version the PR moves from.
        context["major_from"] = major_jump(upgrade, context["previous_versions"])
    title = _render("github/pr_title.txt.j2", context, templates).strip()
    body = _render("github/pr_body.md.j2", context, templates).strip() + "\n"
    body += "\n" + marker(upgrade.package, upgrade.version.pep440) + "\n"
    message = _render("github/downstream_commit.txt.j2", context, templates).strip() + "\n"

    labels, reviewers = entry.labels, entry.reviewers
    notes = list(notes)
    if context["major_from"] is not None:
        title = entry.major_title_prefix + title
        labels = (*labels, entry.major_label) if entry.major_label else labels
        notes.append(
            f"{repo}: a major upgrade ({context['major_from']} → {upgrade.version}): flagged"
        )
    if not target.can_triage and (labels or reviewers):
        # Without triage access GitHub refuses both; the PR is still worth opening.
        notes.append(
            f"{repo}: labels and reviewers skipped (the token's user has no triage "
            "access there; a maintainer can add them)"
        )
        labels, reviewers = (), ()
    update_branch = False
    expected: str | None = None
    pull_changes: list[tuple[str, str]] = []
    if pull is not None:
        # Current means: a commit on the planned base whose tree is that base plus our edits.
        # A few reads (the PR's commit, the trees on the changed paths), never the whole tree.
        head = gh.commit(target.push_to, pull.head_sha)
        expected, changes = expected_tree(files, changes)
        update_branch = head is None or head.parents != (files.commit,) or head.tree != expected
        for key, want, have in (
            ("title", title, pull.title),
            ("body", body, pull.body),
            ("base", base, pull.base),
        ):
            if want != have:
                pull_changes.append((key, want))
        have_labels = {x.lower() for x in pull.labels}
        labels = tuple(x for x in labels if x.lower() not in have_labels)
        have_reviewers = {x.lower() for x in pull.reviewers}
        reviewers = tuple(x for x in reviewers if x.lower() not in have_reviewers)
    if reviewers:
        # Those GitHub would refuse (the PR's author, a non-collaborator) are left out now.
        author = pull.author if pull is not None else _login(gh)
        reviewers, left_out = check_reviewers(gh, repo, reviewers, author)
        notes += left_out
    if pull is not None and not (update_branch or pull_changes or labels or reviewers):
        return "; ".join([*notes, f"{repo}: PR #{pull.number} is up to date ({pull.html_url})"])
    action = DownstreamPRAction(
        gh=gh,
        repository=repo,
        push_to=target.push_to,
        fork=target.fork,
        fork_exists=target.fork_exists,
        head_owner=target.head_owner,
        base=base,
        base_commit=files.commit,
        base_tree=files.tree,
        branch=branch,
        files=changes,
        expected_tree=expected,
        commit_message=message,
        title=title,
        body=body,
        labels=labels,
        reviewers=reviewers,
        pull=pull,
        update_branch=update_branch,
        pull_changes=tuple(pull_changes),
        dependency_check=dependency_check,
    )
    return action, "\n".join(notes)


def _login(gh: GitHub) -> str | None:
    """The token's user, who opens the PR; None for a token that has none (a GitHub App's),
    whose reviewers GitHub then judges when they are asked."""
    if gh.has_no_user:
        return None
    try:
        return gh.login()
    except GitHubError as exc:
        if exc.status != 403:
            raise
        return None


# --- rendering -----------------------------------------------------------------------------------


def _change_dict(change: PinChange) -> dict[str, Any]:
    return {"line": change.line, "old": change.old, "new": change.new, "kind": change.kind}


def template_context(
    upgrade: Upgrade,
    changes: Sequence[FileChange],
    *,
    downstream: str,
    base: str,
    branch: str,
    held: Sequence[tuple[str, HeldPin]] = (),
) -> dict[str, Any]:
    files = [
        {
            "path": c.path,
            "constraints": c.constraints,
            "changes": [_change_dict(x) for x in c.edit.changes],
        }
        for c in changes
    ]
    olds = {x.old for c in changes for x in c.edit.changes if x.old != upgrade.version.pep440}
    pinned = [x.old for c in changes for x in c.edit.changes]
    return {
        "package": upgrade.package,
        "version": upgrade.version.pep440,
        "previous_version": upgrade.previous.pep440 if upgrade.previous else None,
        "previous_versions": sorted(olds, key=version_key),
        "tag": upgrade.tag,
        "release_url": upgrade.release_url,
        "repository": upgrade.repository,
        "repository_url": upgrade.repository_url,
        "notes": upgrade.notes,
        "files": files,
        "constraints": [f for f in files if f["constraints"]],
        "downstream": downstream,
        "base": base,
        "branch": branch,
        "releases": releases_between(upgrade, pinned),
        "major_from": major_jump(upgrade, pinned),
        "held": [
            {"path": path, "line": h.line, "version": h.version, "reason": h.reason}
            for path, h in held
        ],
        "relock": None,
    }


def _render(name: str, context: dict[str, Any], templates: Path | None) -> str:
    return rendering.render(name, context, override_dir=templates)
