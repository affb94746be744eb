"""The `recover` step: finish off a run that was killed outright, before anything else.

A run holds `.git/release-tool.lock` with a journal of the local state before it (see
`ReleaseLock`). A run killed outright (SIGKILL, power loss) leaves the lock behind; the next
plan reads it here. If the killed run's tag is on the remote at the same commit, its push
landed: the release goes on from there ("finish"). Otherwise its local changes are rolled
back ("rollback") — and the rest of the plan is made on the state the rollback leaves, so a
dry run shows the same recovery and the same release a real run then applies.
"""

from __future__ import annotations

from collections.abc import Mapping

from release_tool.errors import UsageError
from release_tool.git_actions import push_landed
from release_tool.git_recover import RecoverAction
from release_tool.git_repo import RemoteState
from release_tool.plan import StepPlan
from release_tool.project import Project, Recovery
from release_tool.release_lock import ReleaseLock, journal_tags
from release_tool.steps.base import Planning

NAME = "recover"


def inspect(
    project: Project, remote: RemoteState | None, local: Mapping[str, str] | None = None
) -> Recovery | None:
    """What an interrupted run left, read from its journal; None when no run was interrupted.
    `local` is the local tags, when already read (`GitRepo.local_tags`).

    Raises when a live run holds the lock, or when only the remote can tell how to recover
    and it cannot be reached.
    """
    lock = ReleaseLock(project.repo)
    data = lock.journal()
    if data is None:
        return None
    if not lock.is_stale(data):
        raise lock.busy(data)
    head = data.get("head")
    files = data.get("files")
    branch = data.get("branch")
    if local is None:
        local = project.repo.local_tags()
    made = tuple(tag for tag in journal_tags(data) if tag in local)
    if made and remote is None:
        raise UsageError(
            "an interrupted release left a tag, and the remote cannot be reached to tell "
            "whether its push landed",
            "run the same command again when the remote is reachable",
        )
    # The same question the push asks when its answer is lost (`push_landed`): is the tag
    # this run made on the remote, at the same commit? (The push is atomic: the branch too.)
    pushed = remote is not None and push_landed(remote, {f"refs/tags/{t}": local[t] for t in made})
    on_branch = branch if isinstance(branch, str) else None
    if pushed and remote is not None:
        return Recovery(
            "finish",
            pid=data.get("pid"),
            started=data.get("started"),
            head=None,
            files={},
            tags=(),
            branch=on_branch,
            remote_head=remote.heads.get(on_branch) if on_branch else None,
            journal=data,
        )
    return Recovery(
        "rollback",
        pid=data.get("pid"),
        started=data.get("started"),
        head=head if isinstance(head, str) else None,
        files={str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {},
        tags=made,
        branch=on_branch,
        journal=data,
    )


def plan(ctx: Planning) -> StepPlan:
    recovery = ctx.facts.recovery
    if recovery is None:
        return StepPlan(NAME, skipped="no interrupted run")
    action = RecoverAction(
        ctx.project.repo,
        recovery.kind,
        recovery.describe(),
        ctx.project.config.remote,
        recovery.head,
        recovery.files,
        recovery.tags,
        recovery.branch,
        recovery.remote_head,
    )
    return StepPlan(NAME, (action,))
