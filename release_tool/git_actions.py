"""The git actions of a release — commit, tag, push — and whether a push landed.

Each is an immutable `Action` the pipeline applies. Commit and tag are `Undoable`, and their
undo also undoes what git did before it failed or was interrupted: a commit that failed after
`git add` leaves the files staged, a commit or tag git wrote before a Ctrl-C ended it (a hook
still running) is there although git never said so. Each undo looks at what is there, and
undoes exactly that.

The push is the point of no return, and its failure does not prove that nothing happened: the
remote may have taken it and the answer been lost (a reset connection, a 502 from a proxy, a
Ctrl-C while git waited). `PushAction.landed` asks the remote; `push_landed` is the one
answer to "did the push land?", shared with the `recover` step, which asks it after a crash.
The recovery's own action, only needed after a crash, is `release_tool.git_recover`'s
`RecoverAction`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from release_tool.config import DEFAULT_NETWORK_TIMEOUT
from release_tool.git_repo import GitRepo, RemoteState
from release_tool.plan import Outcome, RunState


def push_landed(remote: RemoteState, wanted: Mapping[str, str]) -> bool:
    """Whether an (atomic) push landed: `wanted` maps each ref it sent (`refs/heads/B`,
    `refs/tags/T`) to the local commit (tags peeled). A release tag on the remote at the
    commit sent is decisive — the push was atomic, so the branch went with it, even if the
    branch has moved on since; a push of a branch alone landed if the branch is there."""
    there = {}
    for ref in wanted:
        if ref.startswith("refs/heads/"):
            there[ref] = remote.heads.get(ref.removeprefix("refs/heads/"))
        elif ref.startswith("refs/tags/"):
            there[ref] = remote.tags.get(ref.removeprefix("refs/tags/"))
    tags = [ref for ref in wanted if ref.startswith("refs/tags/")]
    if tags:
        return any(there[ref] == wanted[ref] for ref in tags)
    return bool(wanted) and all(there.get(ref) == sha for ref, sha in wanted.items())


@dataclass(frozen=True)
class CommitAction:
    repo: GitRepo = field(repr=False)
    paths: tuple[str, ...]
    message: str
    parent: str  # HEAD when planned: where an undo puts the branch back
    verify: bool = True  # run the repository's commit hooks (False: --no-verify)
    step: str = "commit"

    def describe(self) -> str:
        return f"commit {len(self.paths)} file(s): {self.message.splitlines()[0]}"

    def details(self) -> str:
        hooks = "" if self.verify else " (hooks skipped: --no-verify)"
        return "files: " + ", ".join(self.paths) + hooks + "\n\n" + self.message

    def data(self) -> dict[str, Any]:
        return {
            "action": "commit",
            "paths": list(self.paths),
            "message": self.message,
            "parent": self.parent,
        }

    def apply(self, state: RunState) -> Outcome:
        sha = self.repo.commit_paths(list(self.paths), self.message, verify=self.verify)
        return Outcome(f"committed {sha[:12]}", RunState(commit=sha))

    def undo(self) -> None:
        """The branch back on `parent` if git wrote a commit (even one it never reported), and
        the index as `parent` has it: the paths staged by `git add`, and any file a hook
        changed, put back (the run started on a clean tree, so whatever changed is ours)."""
        paths = list(self.paths)
        if self.repo.head_sha() != self.parent:
            self.repo.reset_soft_keep_files(self.parent, paths)
        else:
            self.repo.unstage(self.parent, paths)
        others = [path for path in self.repo.state().dirty if path not in self.paths]
        self.repo.restore(self.parent, others)


@dataclass(frozen=True)
class TagAction:
    repo: GitRepo = field(repr=False)
    name: str
    message: str
    sign: bool = False
    step: str = "tag"

    def describe(self) -> str:
        return f"{'signed' if self.sign else 'annotated'} tag {self.name}"

    def details(self) -> str:
        return self.message

    def data(self) -> dict[str, Any]:
        return {"action": "tag", "name": self.name, "message": self.message, "signed": self.sign}

    def apply(self, state: RunState) -> Outcome:
        self.repo.create_tag(self.name, self.message, self.sign)
        return Outcome(f"tagged {self.name}", RunState(tag=self.name))

    def undo(self) -> None:
        """Delete the tag if this action made it (on HEAD, with this message's subject): git
        may have written it before an interrupt, or not at all."""
        found = self.repo.tag_subject(self.name)
        if found is None:
            return
        commit, subject = found
        if subject == self.message.splitlines()[0] and commit == self.repo.head_sha():
            self.repo.delete_tag(self.name)


@dataclass(frozen=True)
class PushAction:
    repo: GitRepo = field(repr=False)
    remote: str
    refspecs: tuple[str, ...]
    branch: str | None = None  # the branch pushed: its remote-tracking ref follows a push
    step: str = "push"
    publishes: tuple[str, ...] = ()  # "sha subject" of the other commits the push publishes
    timeout: float = DEFAULT_NETWORK_TIMEOUT  # git push, in all

    def describe(self) -> str:
        return f"git push --atomic {self.remote} {' '.join(self.refspecs)}"

    def details(self) -> str:
        if not self.publishes:
            return ""
        head = f"also publishes {len(self.publishes)} commit(s) {self.remote} does not have:"
        return "\n".join((head, *(f"  {line}" for line in self.publishes)))

    def data(self) -> dict[str, Any]:
        return {
            "action": "push",
            "remote": self.remote,
            "refspecs": list(self.refspecs),
            "publishes": list(self.publishes),
        }

    def apply(self, state: RunState) -> Outcome:
        self.repo.push(self.remote, list(self.refspecs), self.branch, self.timeout)
        return Outcome(f"pushed {', '.join(self.refspecs)} to {self.remote}")

    def wanted(self) -> dict[str, str]:
        """Each destination ref of the push → the local commit it sends (tags peeled)."""
        head = self.repo.head_sha()
        tags = self.repo.local_tags()
        wanted = {}
        for spec in self.refspecs:
            source, _, destination = spec.partition(":")
            destination = destination or source
            if source == "HEAD":
                wanted[destination] = head
            elif source.startswith("refs/tags/"):
                wanted[destination] = tags.get(source.removeprefix("refs/tags/"), "")
            else:
                wanted[destination] = self.repo.rev_parse(source)
        return wanted

    def landed(self) -> bool:
        """Ask the remote whether this push landed although git did not say so (its answer was
        lost, or the run was interrupted while git waited for it). When it did, git's view of
        the remote's branch moves to match, as a push git heard back from would have moved it.
        Raises a ReleaseError when the remote cannot be asked."""
        remote = self.repo.ls_remote(self.remote)
        wanted = self.wanted()
        if not push_landed(remote, wanted):
            return False
        if self.branch and self.branch in remote.heads:
            there: str | None = remote.heads[self.branch]
            if there and not self.repo.has_commit(there):  # moved on since: what we sent
                there = wanted.get(f"refs/heads/{self.branch}")
            if there:
                self.repo.update_ref(f"refs/remotes/{self.remote}/{self.branch}", there)
        return True


__all__ = ["CommitAction", "PushAction", "TagAction", "push_landed"]
