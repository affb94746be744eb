"""Pull requests (find, open, update, label, ask for reviews), forks, and workflow dispatch."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from release_tool.errors import ReleaseError
from release_tool.github_api.errors import GitHubError, message_of, too_soon
from release_tool.github_api.git_data import GitData
from release_tool.github_api.types import PullInfo, RunInfo, pull_info, run_info


class Pulls(GitData):
    """The pull-request, fork and workflow calls of the client (a fork's branch is git data)."""

    def open_pull(self, full_name: str, head_owner: str, branch: str) -> PullInfo | None:
        """The open pull request from `head_owner:branch` into `full_name`, if any."""
        with self._doing(
            f"looking for an open pull request from {head_owner}:{branch} on {full_name}"
        ):
            pulls = self._json(
                "GET",
                f"/repos/{full_name}/pulls",
                parameters={"state": "open", "head": f"{head_owner}:{branch}"},
            )
        return pull_info(pulls[0]) if pulls else None

    def pull_labels(self, full_name: str, number: int) -> tuple[str, ...]:
        with self._doing(f"reading the labels of #{number} on {full_name}"):
            data = self._json("GET", f"/repos/{full_name}/issues/{number}/labels")
        return tuple(str(label["name"]) for label in data)

    def requested_reviewers(self, full_name: str, number: int) -> tuple[str, ...]:
        with self._doing(f"reading the reviewers of #{number} on {full_name}"):
            data = self._json("GET", f"/repos/{full_name}/pulls/{number}/requested_reviewers")
        return tuple(str(user["login"]) for user in data.get("users", []))

    def workflow_exists(self, full_name: str, workflow: str) -> bool:
        with self._doing(f"reading the workflow {workflow} of {full_name}"):
            found = self._json_or_none(
                "GET", f"/repos/{full_name}/actions/workflows/{quote(workflow, safe='')}"
            )
        return found is not None

    def create_pull(
        self,
        full_name: str,
        *,
        base: str,
        head_owner: str,
        branch: str,
        same_repo: bool,
        title: str,
        body: str,
    ) -> PullInfo:
        def make() -> PullInfo:
            pull = self._repo(full_name).create_pull(
                base=base,
                head=branch if same_repo else f"{head_owner}:{branch}",
                title=title,
                body=body,
            )
            return pull_info(pull.raw_data)

        what = f"opening a pull request on {full_name}"
        delay = self.policy.backoff
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return self.create(
                    what, make, lambda: self.open_pull(full_name, head_owner, branch)
                )
            except GitHubError as exc:
                # Right after its branch was written, GitHub may not see the branch's commits
                # for a moment (422 "No commits between", or head invalid): wait, try again.
                if not too_soon(exc.__cause__):
                    raise
                if attempt == self.policy.attempts:
                    raise GitHubError(
                        f"GitHub does not see the commits of the branch {branch} yet while "
                        f"{what} (422: {message_of(exc.__cause__)})",
                        "GitHub takes a moment after a branch is written: run the same command "
                        "again (the branch is there; the run opens the pull request)",
                        exc.status,
                    ) from exc
            self._sleep(min(delay, self.policy.max_wait))
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def update_pull(self, full_name: str, number: int, changes: Mapping[str, str]) -> PullInfo:
        with self._doing(f"updating pull request #{number} on {full_name}"):
            data = self._json("PATCH", f"/repos/{full_name}/pulls/{number}", dict(changes))
        return pull_info(data)

    def add_labels(self, full_name: str, number: int, labels: tuple[str, ...]) -> None:
        """POST issues/{n}/labels (adds; never removes a label someone else put on)."""

        def make() -> None:
            self._json("POST", f"/repos/{full_name}/issues/{number}/labels", list(labels))

        def look() -> bool | None:
            have = {name.lower() for name in self.pull_labels(full_name, number)}
            return True if all(label.lower() in have for label in labels) else None

        self.create(f"labelling pull request #{number} on {full_name}", make, look)

    def request_reviewers(self, full_name: str, number: int, reviewers: tuple[str, ...]) -> None:
        def make() -> None:
            self._json(
                "POST",
                f"/repos/{full_name}/pulls/{number}/requested_reviewers",
                {"reviewers": list(reviewers)},
            )

        def look() -> bool | None:
            have = {login.lower() for login in self.requested_reviewers(full_name, number)}
            return True if all(r.lower() in have for r in reviewers) else None

        self.create(f"requesting reviews on pull request #{number} of {full_name}", make, look)

    def fork(self, full_name: str) -> str:
        """The token user's fork of `full_name` (POST forks returns an existing one); its name."""

        def make() -> str:
            return str(self._json("POST", f"/repos/{full_name}/forks", {})["full_name"])

        def look() -> str | None:
            name = f"{self.login()}/{full_name.split('/', 1)[1]}"
            info = self.repository(name)
            return name if info is not None and info.fork_of == full_name else None

        return self.create(f"forking {full_name}", make, look)

    def wait_for_branch(self, full_name: str, branch: str, timeout: float = 300.0) -> None:
        """GitHub creates a fork in the background: wait until its branch can be read."""
        deadline = time.monotonic() + timeout
        delay = self.policy.backoff
        while self.ref_sha(full_name, branch) is None:
            if time.monotonic() > deadline:
                raise ReleaseError(
                    f"the fork {full_name} is not ready after {timeout:.0f}s",
                    "GitHub is still creating it: run the same command again in a few minutes",
                )
            self._sleep(min(delay, self.policy.max_wait))
            delay *= 2

    def sync_fork(self, full_name: str, branch: str) -> None:
        """POST merge-upstream: bring the fork's `branch` up to its parent's. Merging what is
        already merged is a no-op, so this POST may be repeated."""
        self.create(
            f"syncing the fork {full_name} ({branch})",
            lambda: self._json("POST", f"/repos/{full_name}/merge-upstream", {"branch": branch}),
            lambda: None,
        )

    def dispatch(
        self, full_name: str, workflow: str, *, ref: str, inputs: Mapping[str, str]
    ) -> RunInfo | None:
        """Start a workflow_dispatch run, asking for its details (`return_run_details`): the
        run (queued), or None when the API does not give them (an older GitHub Enterprise
        Server answers 204): the caller then finds the run by workflow, actor and time.

        Not repeated on failure: a second dispatch would be a second run, and GitHub has
        nothing to look at that says whether the first arrived. A 422 refusing the
        `return_run_details` field itself was refused before anything ran: that one request
        is sent again without it."""
        from github.GithubException import GithubException

        path = f"/repos/{full_name}/actions/workflows/{quote(workflow, safe='')}/dispatches"
        body: dict[str, Any] = {"ref": ref, "inputs": dict(inputs), "return_run_details": True}
        with self._doing(f"dispatching the workflow {workflow} on {full_name}"):
            try:
                data = self._json("POST", path, body)
            except GithubException as exc:
                if exc.status != 422 or "return_run_details" not in message_of(exc):
                    raise
                del body["return_run_details"]
                data = self._json("POST", path, body)
        if not isinstance(data, dict) or "workflow_run_id" not in data:
            return None
        return RunInfo(int(data["workflow_run_id"]), str(data.get("html_url") or ""), "queued")

    def open_pulls(self, full_name: str, *, base: str | None = None) -> list[PullInfo]:
        """The open pull requests of `full_name` (into `base`, if given), newest first: up to
        ten pages of 100, enough for any repository's open PRs into one branch."""
        found: list[PullInfo] = []
        parameters: dict[str, Any] = {"state": "open", "per_page": 100}
        if base:
            parameters["base"] = base
        with self._doing(f"listing the open pull requests of {full_name}"):
            for number in range(1, 11):
                pulls = self._json(
                    "GET", f"/repos/{full_name}/pulls", parameters={**parameters, "page": number}
                )
                found += [pull_info(p) for p in pulls]
                if len(pulls) < 100:
                    break
        return found

    def is_collaborator(self, full_name: str, login: str) -> bool | None:
        """GET collaborators/{login}: True (204), False (404), None when GitHub will not say
        (403: the token's user may not push there, so it may not ask)."""
        from github.GithubException import GithubException

        with self._doing(f"checking whether {login} is a collaborator of {full_name}"):
            try:
                self._json("GET", f"/repos/{full_name}/collaborators/{quote(login)}")
            except GithubException as exc:
                if exc.status == 404:
                    return False
                if exc.status == 403:
                    return None
                raise
        return True

    def workflow_runs(
        self, full_name: str, workflow: str, *, actor: str | None = None
    ) -> list[RunInfo]:
        """The newest runs (one page of 50) of a workflow dispatched by `actor`, newest first."""
        parameters: dict[str, Any] = {"event": "workflow_dispatch", "per_page": 50}
        if actor:
            parameters["actor"] = actor
        with self._doing(f"listing the runs of {workflow} on {full_name}"):
            data = self._json(
                "GET",
                f"/repos/{full_name}/actions/workflows/{quote(workflow, safe='')}/runs",
                parameters=parameters,
            )
        return [run_info(run) for run in data.get("workflow_runs") or ()]

    def workflow_run(self, full_name: str, run_id: int) -> RunInfo:
        with self._doing(f"reading the workflow run {run_id} of {full_name}"):
            return run_info(self._json("GET", f"/repos/{full_name}/actions/runs/{run_id}"))
