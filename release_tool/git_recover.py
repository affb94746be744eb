"""Recovering from a crashed run: the action that finishes off what a run killed outright
left, as its journal (`.git/release-tool.lock`, see `release_tool.release_lock`) says.

Only a plan that follows a crash has one (the `recover` step, `release_tool.steps.recover`),
so it lives apart from the commit, tag and push actions (`release_tool.git_actions`) that
every plan makes: a plan without a crash never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from release_tool.files.write import write_text_atomically
from release_tool.git_repo import GitRepo
from release_tool.plan import Outcome, RunState


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
