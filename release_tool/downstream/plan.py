"""Planning the downstream step: one action per `[[tool.release_tool.downstream]]` entry, no writes.

* the strategy: `dispatch` and `edit` as configured; `relock` when configured, or when
  `strategy` is not set and `relock.detect` finds a resolver (`resolver`, `compile` or
  `exports` set, or a uv.lock at the base's root: one listing), else `edit`;
* `strategy = "relock"`: see `relock` (the lock inputs read, the resolver run at plan time when
  the version is on the index, else at apply time after waiting for it; its PR is built by
  `pr.pr_action`);
* `strategy = "edit"`: resolve where the change goes (`reads.resolve_target`), read and edit
  the pins (`pins.read_pins`), then look for the tool's open pull request
  (`pulls?head=OWNER:BRANCH`). When there is one, decide whether it is current from its commit
  (GET git/commits) and the sha the tree must have (`pins.expected_tree`): a few requests,
  whatever the repository's size. The result is a `DownstreamPRAction`, or a note saying why
  there is nothing to do.
* `strategy = "dispatch"`: a `DispatchWorkflowAction` running the downstream's own upgrade
  workflow, with inputs rendered from the entry's templates (`render_inputs`).

A new PR editing four files costs 14 requests in all: the repository, the branch, one
directory listing, four blobs, the PR lookup; the tree, the commit, the branch, the PR, its
labels, its reviewers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from release_tool.config import Config, DownstreamConfig
from release_tool.downstream import relock
from release_tool.downstream.actions import STEP, DownstreamPRAction
from release_tool.downstream.dispatch import plan_dispatch, render_inputs
from release_tool.downstream.metadata import DependencyCheck, PackageIndex
from release_tool.downstream.pins import (
    base_files,
    read_pins,
)
from release_tool.downstream.pr import pr_action, template_context
from release_tool.downstream.reads import BaseFiles, Target, resolve_target
from release_tool.downstream.relock import RelockAction, RelockSettings
from release_tool.downstream.review import (
    marked_version,
)
from release_tool.downstream.upgrade import Upgrade
from release_tool.errors import UsageError
from release_tool.github_api import GitHub
from release_tool.plan import Action, RunState, StepPlan
from release_tool.versions import Version

__all__ = ["RelockSettings", "Upgrade", "plan_downstream", "render_inputs", "template_context"]


def plan_downstream(
    gh: GitHub,
    config: Config,
    upgrade: Upgrade,
    *,
    templates: Path | None = None,
    index: PackageIndex | None = None,
    relock_settings: RelockSettings | None = None,
) -> StepPlan:
    """The downstream step for every configured entry, with reads only. `index` is the
    library's package index (default: `index_url`, waited on for `index_timeout`)."""
    if not config.downstream:
        return StepPlan(STEP, skipped="not configured")
    index = index or PackageIndex(config.index_url, config.index_timeout)
    actions: list[Action] = []
    done: list[str] = []  # entries with nothing to do, and why
    notes: list[str] = []  # what the plan should say besides its actions
    urls: list[str] = []  # open PRs' URLs, known now: reported even if nothing changes
    for entry in config.downstream:
        planned: tuple[Action, str] | str
        if entry.strategy == "dispatch":
            planned = plan_dispatch(gh, entry, upgrade, index)
        elif entry.strategy == "edit":
            planned = _plan_edit(gh, entry, upgrade, templates, urls, index)
        else:
            settings = relock_settings or RelockSettings()
            planned = _plan_relock(gh, entry, upgrade, templates, urls, index, settings)
        if isinstance(planned, str):
            done.append(planned)
        else:
            action, note = planned
            actions.append(action)
            notes += [line for line in note.split("\n") if line]
    pending = tuple(
        a.repository
        for a in actions
        if isinstance(a, DownstreamPRAction | RelockAction) and a.pull is None
    )
    known = RunState(pr_urls=tuple(dict.fromkeys(urls)), pending_prs=pending)
    if not actions:
        return StepPlan(STEP, skipped="already done: " + "; ".join(done), known=known)
    return StepPlan(STEP, tuple(actions), notes=tuple(done + notes), known=known)


def _plan_relock(
    gh: GitHub,
    entry: DownstreamConfig,
    upgrade: Upgrade,
    templates: Path | None,
    urls: list[str],
    package_index: PackageIndex,
    settings: RelockSettings,
) -> tuple[Action, str] | str:
    """`relock`, or `edit` when the strategy is not set and no resolver is detected."""
    target = resolve_target(gh, entry)
    # Every read and write names the canonical repository (see `_plan_edit`).
    entry = dataclasses.replace(entry, repository=target.repository or entry.repository)
    files = base_files(gh, entry, target.base)
    resolver = relock.detect(entry, files)
    if resolver is None:
        if entry.strategy == "relock":
            relock.refuse_undetected(gh, entry, files)
        return _plan_edit(gh, entry, upgrade, templates, urls, package_index, target, files)
    planned = relock.plan_relock(
        gh, entry, upgrade, target, files, resolver,
        settings=settings, templates=templates, urls=urls,
    )  # fmt: skip
    if target.renamed_note:
        if isinstance(planned, str):
            return f"{target.renamed_note}; {planned}"
        action, note = planned
        return action, "\n".join(x for x in (target.renamed_note, note) if x)
    return planned


def _plan_edit(
    gh: GitHub,
    entry: DownstreamConfig,
    upgrade: Upgrade,
    templates: Path | None,
    urls: list[str],
    package_index: PackageIndex,
    target: Target | None = None,
    files: BaseFiles | None = None,
) -> tuple[Action, str] | str:
    """The entry's action and a note, or why there is nothing to do."""
    if not entry.files:
        raise UsageError(
            f"{entry.key('files')} is empty",
            "list the requirements files that pin the package (globs), or let the "
            "downstream be re-locked (strategy = 'relock')",
        )
    target = target or resolve_target(gh, entry)
    # Every read and write names the canonical repository: a renamed one's old name answers
    # writes with a 307 nothing follows.
    entry = dataclasses.replace(entry, repository=target.repository or entry.repository)
    notes = [target.renamed_note] if target.renamed_note else []
    repo, base = entry.repository, target.base
    pins = read_pins(
        gh,
        entry,
        base,
        upgrade.package,
        upgrade.version,
        files,
        tag=upgrade.tag,
        library=upgrade.repository,
        refuse_generated=not entry.allow_generated,
    )
    notes += _held_notes(repo, pins.edits, upgrade)
    branch = entry.branch.format(package=upgrade.package)
    pull = gh.open_pull(repo, target.head_owner, branch)
    if pull is not None:
        urls.append(pull.html_url)
        ahead = marked_version(pull.body, upgrade.package)
        if ahead is not None and ahead > _packaging(upgrade.version):
            return (
                f"{repo}: PR #{pull.number} ({pull.html_url}) upgrades {upgrade.package} to "
                f"{ahead}, newer than {upgrade.version}: left as it is"
            )
    if pins.already_current:
        where = f" (PR #{pull.number} {pull.html_url} is still open)" if pull else ""
        return "; ".join(
            [*notes, f"{repo}@{base} already pins {upgrade.package} {upgrade.version}{where}"]
        )

    changes = pins.changes
    olds = [x.old for c in changes for x in c.edit.changes]
    check: DependencyCheck | None = None
    if entry.check_dependencies:
        check = DependencyCheck(
            package_index, upgrade.package, tuple(olds), upgrade.version.pep440, repo
        )
        if check.run(wait=False):
            check = None  # compared now, and the same
        else:
            notes.append(
                f"{repo}: the dependencies of {upgrade.package} {upgrade.version} are compared "
                f"with the pinned release's once it is on {package_index.url}, before anything "
                "is written"
            )
    return pr_action(
        gh,
        entry,
        upgrade,
        target,
        pins.files,
        changes,
        pull,
        templates=templates,
        held=tuple((e.path, h) for _, e, _ in pins.edits for h in e.held),
        dependency_check=check,
        notes=notes,
    )


def _packaging(version: Version) -> Any:
    from packaging.version import Version as PackagingVersion

    return PackagingVersion(version.pep440)


def _held_notes(repo: str, edits: Sequence[Any], upgrade: Upgrade) -> list[str]:
    """A note per constraint pin left alone (a hold with a reason)."""
    return [
        f"{repo}: {edit.path} line {h.line} holds {upgrade.package}=={h.version} ({h.reason}): "
        "left alone (move_held = true moves it)"
        for _, edit, _ in edits
        for h in edit.held
    ]
