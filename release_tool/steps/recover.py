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
from dataclasses import dataclass, field
from typing import Any

from release_tool.errors import UsageError
from release_tool.files.write import write_text_atomically
from release_tool.git_repo import GitRepo, ReleaseLock, RemoteState, journal_tags
from release_tool.plan import Outcome, RunState, StepPlan
from release_tool.project import Project, Recovery
from release_tool.steps.base import Planning

NAME = "recover"


@dataclass(frozen=True)
class RecoverAction:
    """Finish off a run that was killed outright, as its journal (the lock) says.

    "rollback": delete the tags it made locally, put the branch back and restore the files
    it had edited; "finish": its push landed, so only `refs/remotes/REMOTE/BRANCH` moves to
    what the remote has. The lock itself passes to the run that applies this.
    """

    repo: GitRepo = field(repr=False)
    kind: str
    summary: str
    remote: str
    head: str | None
    files: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    branch: str | None = None
    remote_head: str | None = None
    step: str = "recover"

    def describe(self) -> str:
        return self.summary

    def details(self) -> str:
        if self.kind == "finish":
            return f"update refs/remotes/{self.remote}/{self.branch} to {self.remote_head}"
        lines = [f"delete local tag {tag}" for tag in self.tags]
        if self.head:
            lines.append(f"reset the branch to {self.head[:12]}")
        lines += [f"restore {path}" for path in sorted(self.files)]
        return "\n".join(lines)

    def data(self) -> dict[str, Any]:
        return {
            "action": "recover",
            "kind": self.kind,
            "summary": self.summary,
            "remote": self.remote,
            "branch": self.branch,
            "head": self.head,
            "remote_head": self.remote_head,
            "tags": list(self.tags),
            "files": sorted(self.files),
            "details": self.details(),
        }

    def apply(self, state: RunState) -> Outcome:
        if self.kind == "finish":
            if self.branch and self.remote_head:
                self.repo.update_ref(f"refs/remotes/{self.remote}/{self.branch}", self.remote_head)
            return Outcome("an interrupted release had pushed: finishing it")
        local = self.repo.local_tags()
        for tag in self.tags:
            if tag in local:
                self.repo.delete_tag(tag)
        paths = sorted(self.files)
        if self.head is not None:
            if self.repo.head_sha() != self.head:
                self.repo.reset_soft_keep_files(self.head, paths)
            elif paths:
                self.repo.unstage(self.head, paths)
        for relpath in paths:
            write_text_atomically(self.repo.root / relpath, self.files[relpath])
        return Outcome("an interrupted release was rolled back: its unpushed changes are undone")


def inspect(project: Project, remote: RemoteState | None) -> Recovery | None:
    """What an interrupted run left, read from its journal; None when no run was interrupted.

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
    local = project.repo.local_tags()
    made = tuple(tag for tag in journal_tags(data) if tag in local)
    if made and remote is None:
        raise UsageError(
            "an interrupted release left a tag, and the remote cannot be reached to tell "
            "whether its push landed",
            "run the same command again when the remote is reachable",
        )
    pushed = [tag for tag in made if remote is not None and remote.tags.get(tag) == local[tag]]
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
