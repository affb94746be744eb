"""The downstream step's actions: the writes, each frozen with everything the plan read.

`DownstreamPRAction.apply` writes one commit through the Git Data API (a tree with `base_tree`
and inline contents, a commit whose parent is the planned base commit), points the tool's
branch at it, and opens the pull request or updates it in place (then its labels and
reviewers). The base is not read again: what a dry run printed is what happens, even if the
base moved meanwhile (GitHub merges the PR 3-way; the summary says when the base moved). Every
point of that sequence is safe to die at: the re-run's plan sees what exists and does the rest.

When the plan could not compare the dependencies of the pinned release and the new one (the
new one was not on the index yet), `dependency_check` does it first, once the index lists the
new version: a difference refuses the edit before anything is written.

`DispatchWorkflowAction` (the `dispatch` strategy) is in `dispatch`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from release_tool.downstream.metadata import DependencyCheck
from release_tool.downstream.pins import FileChange
from release_tool.files.write import unified_diff
from release_tool.github_api import GitHub, GitHubError, PullInfo
from release_tool.plan import Outcome, RunState

STEP = "downstream"


@dataclass(frozen=True)
class DownstreamPRAction:
    """Open or update the tool's pull request on one downstream repository."""

    gh: GitHub = field(repr=False, compare=False)
    repository: str
    push_to: str  # the repository the branch lives in: the downstream, or the user's fork
    fork: bool
    fork_exists: bool
    head_owner: str
    base: str
    base_commit: str  # the base branch's commit the plan read: the new commit's parent
    base_tree: str  # that commit's tree
    branch: str
    files: tuple[FileChange, ...]
    expected_tree: str | None  # the sha the new tree will have, when the plan computed it
    commit_message: str
    title: str
    body: str
    labels: tuple[str, ...]  # to add
    reviewers: tuple[str, ...]  # to request
    pull: PullInfo | None  # the open PR found while planning
    update_branch: bool
    pull_changes: tuple[tuple[str, str], ...] = ()  # fields to PATCH on the open PR
    # Compare the pinned release's dependencies with the new one's before writing (the plan
    # could not: the new version was not on the index yet).
    dependency_check: DependencyCheck | None = None
    step: str = STEP

    @property
    def writes_commit(self) -> bool:
        return self.pull is None or self.update_branch

    def describe(self) -> str:
        count = f"({len(self.files)} file{'s' if len(self.files) != 1 else ''})"
        via = f" from the fork {self.push_to}" if self.fork else ""
        if self.pull is None:
            return f"open PR on {self.repository}{via}: {self.title} {count}"
        parts = (["branch"] if self.update_branch else []) + [k for k, _ in self.pull_changes]
        parts += ["labels"] if self.labels else []
        parts += ["reviewers"] if self.reviewers else []
        return (
            f"update PR #{self.pull.number} on {self.repository}{via}: {', '.join(parts)} {count}"
        )

    def details(self) -> str:
        lines = [
            f"repository: {self.repository} (base {self.base} at {self.base_commit[:12]})",
            f"branch: {self.branch}"
            + (f" on the fork {self.push_to}" if self.fork else "")
            + ("" if self.writes_commit else " (already current)"),
        ]
        if self.fork and not self.fork_exists:
            lines.append(f"fork: create {self.push_to}, then sync its {self.base}")
        if self.pull is not None:
            lines.append(f"pull request: #{self.pull.number} {self.pull.html_url}")
        lines.append(f"title: {self.title}")
        if self.labels:
            lines.append(f"labels: {', '.join(self.labels)}")
        if self.reviewers:
            lines.append(f"reviewers: {', '.join(self.reviewers)}")
        lines += ["", "body:", *(f"  {line}" if line else "" for line in self.body.splitlines())]
        lines += [
            "",
            "commit message:",
            *(f"  {line}" if line else "" for line in self.commit_message.splitlines()),
            "",
        ]
        diffs = "".join(unified_diff(c.path, c.edit.old_text, c.edit.new_text) for c in self.files)
        return "\n".join(lines) + "\n" + diffs

    def data(self) -> dict[str, Any]:
        pull = self.pull
        return {
            "action": "pull-request",
            "repository": self.repository,
            "push_to": self.push_to,
            "fork": self.fork,
            "create_fork": self.fork and not self.fork_exists,
            "branch": self.branch,
            "base": self.base,
            "base_commit": self.base_commit,
            "writes_commit": self.writes_commit,
            "pull_request": None if pull is None else {"number": pull.number, "url": pull.html_url},
            "title": self.title,
            "body": self.body,
            "labels": list(self.labels),
            "reviewers": list(self.reviewers),
            "commit_message": self.commit_message,
            "files": [
                {"path": c.path, "diff": unified_diff(c.path, c.edit.old_text, c.edit.new_text)}
                for c in self.files
            ],
        }

    def apply(self, state: RunState) -> Outcome:
        """Write the commit on the planned base commit, point the branch, open or update the PR.

        The base is not read again: the commit's parent is the commit the plan read, so the PR
        is exactly what the plan showed, even if the base branch moved since. Its diff is
        relative to that commit and GitHub merges it 3-way: a concurrent change of the same
        lines shows as a conflict, never as a silent revert. GitHub's answer to the PR's POST
        (or PATCH) names the base branch's head: if that is not the planned commit, the
        summary says so.
        """
        gh = self.gh
        pull = self.pull
        if self.dependency_check is not None:
            self.dependency_check.run(wait=True)
        if self.writes_commit:
            push_to = self.push_to
            if self.fork:
                if not self.fork_exists:
                    push_to = gh.fork(self.repository)
                    gh.wait_for_branch(push_to, self.base)
                # The fork must hold the base commit before a commit can name it as parent.
                gh.sync_fork(push_to, self.base)
            files = {c.path: (c.mode, c.edit.new_text) for c in self.files}
            tree = gh.create_tree(
                push_to, base_tree=self.base_tree, files=files, expected=self.expected_tree
            )
            commit = gh.create_commit(
                push_to, message=self.commit_message, tree=tree, parent=self.base_commit
            )
            gh.point_branch(push_to, self.branch, commit, exists=True if pull else None)
        labels, reviewers = self.labels, self.reviewers
        if pull is None:
            pull = gh.create_pull(
                self.repository,
                base=self.base,
                head_owner=self.head_owner,
                branch=self.branch,
                same_repo=not self.fork,
                title=self.title,
                body=self.body,
            )
            verb = "opened"
            # A create that found the PR a failed earlier attempt had opened: only what is
            # still missing.
            labels = tuple(x for x in labels if x.lower() not in {y.lower() for y in pull.labels})
            reviewers = tuple(
                x for x in reviewers if x.lower() not in {y.lower() for y in pull.reviewers}
            )
        else:
            verb = "updated"
            if self.pull_changes:
                pull = gh.update_pull(self.repository, pull.number, dict(self.pull_changes))
        if labels:
            gh.add_labels(self.repository, pull.number, labels)
        refused = ""
        if reviewers:
            try:
                gh.request_reviewers(self.repository, pull.number, reviewers)
            except GitHubError as exc:
                if exc.status != 422:
                    raise
                # GitHub refuses a reviewer who is not a collaborator, or the PR's author: the
                # PR stands without them; the run says so rather than failing after it.
                refused = f" (reviews not requested from {', '.join(reviewers)}: {exc.message})"
        summary = f"{verb} PR #{pull.number} on {self.repository}: {pull.html_url}{refused}"
        if self.writes_commit and pull.base_sha and pull.base_sha != self.base_commit:
            summary += (
                f" (the base moved during the run: the PR is based on {self.base_commit[:12]}, "
                "GitHub will merge it 3-way)"
            )
        return Outcome(summary, RunState(pr_urls=(pull.html_url,)))
