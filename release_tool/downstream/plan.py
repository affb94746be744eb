"""Planning the downstream step: one action per `[[tool.release_tool.downstream]]` entry, no writes.

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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_tool import rendering
from release_tool.config import Config, DownstreamConfig
from release_tool.downstream.actions import (
    STEP,
    DispatchWorkflowAction,
    DownstreamPRAction,
)
from release_tool.downstream.pins import FileChange, expected_tree, read_pins, version_key
from release_tool.downstream.reads import entry_key, resolve_target
from release_tool.errors import UsageError
from release_tool.files.requirements import PinChange
from release_tool.github_api import GitHub
from release_tool.plan import Action, RunState, StepPlan
from release_tool.versions import Version


@dataclass(frozen=True)
class Upgrade:
    """What is being rolled out downstream: the release, and how to link to it."""

    package: str
    version: Version
    tag: str
    notes: str
    release_url: str
    repository: str  # the library, owner/name
    repository_url: str
    previous: Version | None = None


def plan_downstream(
    gh: GitHub, config: Config, upgrade: Upgrade, *, templates: Path | None = None
) -> StepPlan:
    """The downstream step for every configured entry, with reads only."""
    if not config.downstream:
        return StepPlan(STEP, skipped="not configured")
    actions: list[Action] = []
    done: list[str] = []  # entries with nothing to do, and why
    notes: list[str] = []  # what the plan should say besides its actions
    urls: list[str] = []  # open PRs' URLs, known now: reported even if nothing changes
    for index, entry in enumerate(config.downstream):
        if entry.strategy == "dispatch":
            planned = _plan_dispatch(gh, entry, index, upgrade)
        else:
            planned = _plan_edit(gh, entry, index, upgrade, templates, urls)
        if isinstance(planned, str):
            done.append(planned)
        else:
            action, note = planned
            actions.append(action)
            notes += [note] if note else []
    pending = tuple(
        a.repository for a in actions if isinstance(a, DownstreamPRAction) and a.pull is None
    )
    known = RunState(pr_urls=tuple(dict.fromkeys(urls)), pending_prs=pending)
    if not actions:
        return StepPlan(STEP, skipped="already done: " + "; ".join(done), known=known)
    return StepPlan(STEP, tuple(actions), notes=tuple(done + notes), known=known)


def _plan_edit(
    gh: GitHub,
    entry: DownstreamConfig,
    index: int,
    upgrade: Upgrade,
    templates: Path | None,
    urls: list[str],
) -> tuple[Action, str] | str:
    """The entry's action and a note, or why there is nothing to do."""
    if not entry.files:
        raise UsageError(
            f"{entry_key(index)}.files is empty",
            "list the requirements files that pin the package (globs)",
        )
    target = resolve_target(gh, entry, index)
    repo, base = entry.repository, target.base
    pins = read_pins(gh, entry, index, base, upgrade.package, upgrade.version)
    branch = entry.branch.format(package=upgrade.package)
    pull = gh.open_pull(repo, target.head_owner, branch)
    if pull is not None:
        urls.append(pull.html_url)
    if pins.already_current:
        where = f" (PR #{pull.number} {pull.html_url} is still open)" if pull else ""
        return f"{repo}@{base} already pins {upgrade.package} {upgrade.version}{where}"

    changes = pins.changes
    context = template_context(upgrade, changes, downstream=repo, base=base, branch=branch)
    title = _render("github/pr_title.txt.j2", context, templates).strip()
    body = _render("github/pr_body.md.j2", context, templates).strip() + "\n"
    message = _render("github/downstream_commit.txt.j2", context, templates).strip() + "\n"

    labels, reviewers = entry.labels, entry.reviewers
    note = ""
    if not target.can_triage and (labels or reviewers):
        # Without triage access GitHub refuses both; the PR is still worth opening.
        note = (
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
        expected, changes = expected_tree(pins.files, changes)
        update_branch = head is None or head.parents != (pins.commit,) or head.tree != expected
        for key, want, have in (
            ("title", title, pull.title),
            ("body", body, pull.body),
            ("base", base, pull.base),
        ):
            if want != have:
                pull_changes.append((key, want))
        have_labels = {x.lower() for x in pull.labels}
        labels = tuple(x for x in labels if x.lower() not in have_labels)
        have_reviewers = {x.lower() for x in (*pull.reviewers, pull.author)}
        reviewers = tuple(x for x in reviewers if x.lower() not in have_reviewers)
        if not (update_branch or pull_changes or labels or reviewers):
            return f"{repo}: PR #{pull.number} is up to date ({pull.html_url})"
    action = DownstreamPRAction(
        gh=gh,
        repository=repo,
        push_to=target.push_to,
        fork=target.fork,
        fork_exists=target.fork_exists,
        head_owner=target.head_owner,
        base=base,
        base_commit=pins.commit,
        base_tree=pins.tree,
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
    )
    return action, note


def render_inputs(
    entry: DownstreamConfig, index: int, upgrade: Upgrade
) -> tuple[tuple[str, str], ...]:
    context = {
        "package": upgrade.package,
        "version": upgrade.version.pep440,
        "previous_version": upgrade.previous.pep440 if upgrade.previous else None,
        "tag": upgrade.tag,
        "release_url": upgrade.release_url,
        "repository": upgrade.repository,
        "notes": upgrade.notes,
        "downstream": entry.repository,
    }
    return tuple(
        (key, rendering.render_string(value, context, what=f"{entry_key(index)}.inputs.{key}"))
        for key, value in entry.inputs.items()
    )


def _plan_dispatch(
    gh: GitHub, entry: DownstreamConfig, index: int, upgrade: Upgrade
) -> tuple[Action, str] | str:
    """The entry's dispatch action, or why there is nothing to do."""
    repo_name = entry.repository
    if not entry.workflow:
        raise UsageError(
            f"{entry_key(index)}: strategy = 'dispatch' needs `workflow`",
            "name the workflow file, e.g. workflow = 'upgrade-one-python-dependency.yml'",
        )
    repo = gh.repository(repo_name)
    if repo is None:
        raise UsageError(
            f"{entry_key(index)}.repository: {repo_name} not found",
            "check the name, and that the token can see the repository",
        )
    if not repo.can_push:
        raise UsageError(
            f"dispatching a workflow on {repo_name} needs write access, which "
            "the token's user does not have",
            "use a token with actions write access there, or strategy = 'edit'",
        )
    base = entry.base or repo.default_branch
    inputs = render_inputs(entry, index, upgrade)
    if entry.files:
        pins = read_pins(gh, entry, index, base, upgrade.package, upgrade.version)
        if pins.already_current:
            return f"{repo_name}@{base} already pins {upgrade.package} {upgrade.version}"
    branch = dict(inputs).get("branch")
    if branch:
        # The workflow opens its PR from the `branch` input: if that PR is open, it has run.
        pull = gh.open_pull(repo_name, repo_name.split("/", 1)[0], branch)
        if pull is not None:
            return f"{repo_name}: the workflow's PR #{pull.number} is open ({pull.html_url})"
    if not gh.workflow_exists(repo_name, entry.workflow):
        raise UsageError(
            f"{entry_key(index)}.workflow: {entry.workflow} not found in {repo_name}",
            "name a file under .github/workflows/ of that repository",
        )
    return DispatchWorkflowAction(gh, repo_name, entry.workflow, base, inputs), ""


# --- rendering -----------------------------------------------------------------------------------


def _change_dict(change: PinChange) -> dict[str, Any]:
    return {"line": change.line, "old": change.old, "new": change.new, "kind": change.kind}


def template_context(
    upgrade: Upgrade, changes: Sequence[FileChange], *, downstream: str, base: str, branch: str
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
    }


def _render(name: str, context: dict[str, Any], templates: Path | None) -> str:
    return rendering.render(name, context, override_dir=templates)
