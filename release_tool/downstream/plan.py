"""Planning the downstream step: one action per `[[tool.release_tool.downstream]]` entry, no writes.

* the strategy: `dispatch` and `edit` as configured; `relock` when configured, or when
  `strategy` is not set and `relock.detect` finds a resolver (`resolver`, `compile` or
  `exports` set, or a uv.lock at the base's root: one listing), else `edit`;
* `strategy = "relock"`: see `relock` (the lock inputs read, the resolver run at plan time when
  the version is on the index, else at apply time after waiting for it);
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

from pathlib import Path

from release_tool import rendering
from release_tool.config import Config, DownstreamConfig
from release_tool.downstream import relock
from release_tool.downstream.actions import (
    STEP,
    DispatchWorkflowAction,
    DownstreamPRAction,
)
from release_tool.downstream.pins import base_files, read_pins
from release_tool.downstream.pr import Upgrade, pr_action
from release_tool.downstream.reads import BaseFiles, Target, entry_key, resolve_target
from release_tool.downstream.relock import RelockAction, RelockSettings
from release_tool.errors import UsageError
from release_tool.github_api import GitHub
from release_tool.plan import Action, RunState, StepPlan

__all__ = ["RelockSettings", "Upgrade", "plan_downstream", "render_inputs"]


def plan_downstream(
    gh: GitHub,
    config: Config,
    upgrade: Upgrade,
    *,
    templates: Path | None = None,
    relock_settings: RelockSettings | None = None,
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
        elif entry.strategy == "edit":
            planned = _plan_edit(gh, entry, index, upgrade, templates, urls)
        else:
            settings = relock_settings or RelockSettings()
            planned = _plan_relock(gh, entry, index, upgrade, templates, urls, settings)
        if isinstance(planned, str):
            done.append(planned)
        else:
            action, note = planned
            actions.append(action)
            notes += [note] if note else []
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
    index: int,
    upgrade: Upgrade,
    templates: Path | None,
    urls: list[str],
    settings: RelockSettings,
) -> tuple[Action, str] | str:
    """`relock`, or `edit` when the strategy is not set and no resolver is detected."""
    target = resolve_target(gh, entry, index)
    files = base_files(gh, entry, index, target.base)
    resolver = relock.detect(entry, files)
    if resolver is None:
        if entry.strategy == "relock":
            relock.refuse_undetected(gh, entry, index, files)
        return _plan_edit(gh, entry, index, upgrade, templates, urls, target, files)
    return relock.plan_relock(
        gh, entry, index, upgrade, target, files, resolver,
        settings=settings, templates=templates, urls=urls,
    )  # fmt: skip


def _plan_edit(
    gh: GitHub,
    entry: DownstreamConfig,
    index: int,
    upgrade: Upgrade,
    templates: Path | None,
    urls: list[str],
    target: Target | None = None,
    files: BaseFiles | None = None,
) -> tuple[Action, str] | str:
    """The entry's action and a note, or why there is nothing to do."""
    if not entry.files:
        raise UsageError(
            f"{entry_key(index)}.files is empty",
            "list the requirements files that pin the package (globs), or let the "
            "downstream be re-locked (strategy = 'relock')",
        )
    target = target or resolve_target(gh, entry, index)
    repo, base = entry.repository, target.base
    pins = read_pins(gh, entry, index, base, upgrade.package, upgrade.version, files)
    branch = entry.branch.format(package=upgrade.package)
    pull = gh.open_pull(repo, target.head_owner, branch)
    if pull is not None:
        urls.append(pull.html_url)
    if pins.already_current:
        where = f" (PR #{pull.number} {pull.html_url} is still open)" if pull else ""
        return f"{repo}@{base} already pins {upgrade.package} {upgrade.version}{where}"

    return pr_action(
        gh, entry, upgrade, target, pins.files, pins.changes, pull, templates=templates
    )


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
