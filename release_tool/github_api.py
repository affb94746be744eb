"""GitHub's REST API, through PyGithub: the only module that imports it.

`GitHub` is a thin client that speaks in the project's terms (a release, a tree listing, an open
pull request) and returns small frozen dataclasses, so the planning code never holds a PyGithub
object and the rest of the package never imports PyGithub (it is imported inside the methods,
so `release-tool --help` does not pay for it).

Request economy and safety, in one place:

* `Github(lazy=True)`: `get_repo` costs nothing until an attribute is read, so a write to a
  repository whose metadata we do not need costs exactly that write.
* `seconds_between_requests=0, seconds_between_writes=0`: PyGithub's default pacing (a second
  between writes) would make a PR cost ten idle seconds; GitHub's secondary limits are handled
  by retrying, below.
* Retries: idempotent requests (GET, HEAD, PUT, PATCH with an absolute payload, DELETE) are
  retried with exponential backoff on 5xx, a dropped connection and a secondary rate limit, by
  urllib3 under PyGithub (`_retry`). A POST is never retried blindly: GitHub may have done it
  before the connection dropped or the 502 came back. `create()` looks first (a read that would
  find what the POST made) and only then repeats it. Every wait is capped by
  `RetryPolicy.max_wait`, which tests set to almost nothing; a spent hourly quota (the primary
  limit, reset far away) is not waited out: the run stops, and the same command finishes later.
* Most calls go through PyGithub's requester (its auth, retries, and exception types) and read
  the JSON directly: one call is exactly one request, whatever PyGithub's object model would
  lazily complete, and the answer becomes our dataclass at once.

Errors: every PyGithub or network exception becomes a `ReleaseError` saying what was being done
(`while creating the release v5.3.0 on openedx/edx-proctoring`), with a hint; a 401 is a
`UsageError` (exit 2) because the fix is the token, not a re-run. The token is only ever sent in
the Authorization header; PyGithub's messages carry the response body, never the request.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

from release_tool import __version__
from release_tool.config import DEFAULT_NETWORK_TIMEOUT
from release_tool.errors import ReleaseError, UsageError
from release_tool.project import RetryPolicy

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository
    from urllib3 import Retry

DEFAULT_API_URL = "https://api.github.com"
T = TypeVar("T")

_AUTH_HINT = "set GITHUB_TOKEN or GH_TOKEN (a PAT or an App token), or run `gh auth login`"


def api_url(configured: str | None, environ: Mapping[str, str]) -> str:
    """The API base: `github_api` from the config, RELEASE_TOOL_GITHUB_API, or api.github.com."""
    url = configured or environ.get("RELEASE_TOOL_GITHUB_API") or DEFAULT_API_URL
    return url.rstrip("/")


def web_url(api: str) -> str:
    """The web host that goes with an API base, for links to things not created yet.

    api.github.com → github.com; an Enterprise-style `https://HOST/api/v3` → `https://HOST`.
    """
    parts = urlsplit(api)
    if parts.netloc == "api.github.com":
        return "https://github.com"
    path = parts.path.rstrip("/")
    if path.endswith("/api/v3"):
        path = path[: -len("/api/v3")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def release_web_url(api: str, repository: str, tag: str) -> str:
    """Where GitHub shows the (published) release of `tag`: known before it exists."""
    return f"{web_url(api)}/{repository}/releases/tag/{quote(tag, safe='')}"


class GitHubError(ReleaseError):
    """GitHub answered with an error status (`status`), after the retries were spent."""

    def __init__(self, message: str, hint: str, status: int) -> None:
        super().__init__(message, hint)
        self.status = status


# --- what the planning code sees -----------------------------------------------------------


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    default_branch: str
    html_url: str
    can_push: bool
    can_triage: bool
    fork_of: str | None  # the parent's full name, for a fork


@dataclass(frozen=True)
class ReleaseInfo:
    id: int
    tag: str
    name: str
    body: str
    draft: bool
    prerelease: bool
    html_url: str


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str  # as the API gives it: 100644, 100755, 120000, 040000, 160000
    type: str  # blob, tree, commit
    sha: str


@dataclass(frozen=True)
class TreeListing:
    sha: str
    entries: tuple[TreeEntry, ...]
    truncated: bool


@dataclass(frozen=True)
class BranchHead:
    commit: str
    tree: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]


@dataclass(frozen=True)
class PullInfo:
    number: int
    html_url: str
    title: str
    body: str
    base: str
    head_ref: str
    head_sha: str
    author: str
    labels: tuple[str, ...]
    reviewers: tuple[str, ...]  # requested, not yet reviewed
    # The base branch's commit as GitHub saw it when it answered (a new or just updated PR:
    # the branch's head then); "" when the response did not say.
    base_sha: str = ""


@dataclass(frozen=True)
class RunInfo:
    """A workflow run: `status` is queued, in_progress, completed (or waiting, requested,
    pending); `conclusion` is set once it completed (success, failure, cancelled, ...)."""

    id: int
    html_url: str
    status: str
    conclusion: str | None = None
    actor: str = ""
    created_at: str = ""  # ISO 8601, UTC ("2026-08-01T12:00:00Z")

    @property
    def completed(self) -> bool:
        return self.status == "completed"


# --- the client ------------------------------------------------------------------------------


def _retry(policy: RetryPolicy) -> Retry:
    """urllib3's retry for idempotent requests; the rate-limit logic comes from PyGithub."""
    from github.GithubRetry import GithubRetry

    class CappedRetry(GithubRetry):
        # urllib3 sleeps a Retry-After header in full (GitHub says 60 s for a secondary limit);
        # the cap keeps a run (and a test) from hanging on it.
        def get_retry_after(self, response: Any) -> float | None:
            after = super().get_retry_after(response)
            return None if after is None else min(after, policy.max_wait)

    return CappedRetry(
        total=policy.attempts - 1,
        # urllib3 retries once at once, then waits factor * 2**(n-1): backoff, 2 x backoff, …
        backoff_factor=policy.backoff / 2,
        backoff_max=policy.max_wait,
        status_forcelist=[*range(500, 600), 429],
        # No POST: see the module docstring. PATCH is here because every PATCH this module
        # sends sets absolute values (a title, a sha with force), so repeating it is harmless.
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}),
        raise_on_status=False,  # the last response reaches PyGithub, which raises with its body
        secondary_rate_wait=policy.max_wait,
        max_rate_limit_wait=policy.max_wait,
    )


class GitHub:
    """One authenticated connection to a GitHub API (github.com, Enterprise or the sandbox)."""

    def __init__(
        self,
        api: str,
        token: str | None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = DEFAULT_NETWORK_TIMEOUT,
    ) -> None:
        self.api = api.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.timeout = timeout  # the overall deadline of one request (github_transport)
        self._token = token
        self._sleep = sleep
        self._client: Github | None = None
        self._login: str | None = None

    def __repr__(self) -> str:  # never the token
        return f"GitHub({self.api!r})"

    @property
    def web(self) -> str:
        return web_url(self.api)

    def _gh(self) -> Github:
        if self._client is None:
            from github import Auth, Github

            self._client = Github(
                base_url=self.api,
                auth=Auth.Token(self._token) if self._token else None,
                user_agent=f"release-tool/{__version__}",
                retry=_retry(self.policy),
                seconds_between_requests=0,
                seconds_between_writes=0,
                lazy=True,
            )
            from release_tool.github_transport import install

            install(self._client, self.timeout, urlsplit(self.api).path)
        return self._client

    def _repo(self, full_name: str) -> Repository:
        return self._gh().get_repo(full_name)  # lazy: no request

    def _json(
        self, verb: str, path: str, body: Any = None, parameters: dict[str, Any] | None = None
    ) -> Any:
        """One request through PyGithub's requester; the decoded JSON body."""
        _, data = self._gh().requester.requestJsonAndCheck(
            verb, path, parameters=parameters, input=body
        )
        return data

    # -- reads ------------------------------------------------------------------------------

    def repository(self, full_name: str) -> RepoInfo | None:
        """GET /repos/{o}/{r}; None when it does not exist (or the token cannot see it)."""
        with self._doing(f"reading the repository {full_name}"):
            data = self._json_or_none("GET", f"/repos/{full_name}")
        if data is None:
            return None
        permissions = data.get("permissions") or {}
        parent = data.get("parent") or {}
        return RepoInfo(
            full_name=data["full_name"],
            default_branch=data["default_branch"],
            html_url=data["html_url"],
            can_push=bool(permissions.get("push")),
            can_triage=bool(permissions.get("triage") or permissions.get("push")),
            fork_of=parent.get("full_name") if data.get("fork") else None,
        )

    def login(self) -> str:
        """The token's user (GET /user, once per client)."""
        if self._login is None:
            with self._doing("reading the token's user"):
                self._login = str(self._json("GET", "/user")["login"])
        return self._login

    def release_by_tag(
        self, full_name: str, tag: str, *, drafts: bool = False
    ) -> ReleaseInfo | None:
        """The release of `tag`, or None.

        GET releases/tags/{tag} never returns a draft (a draft is not attached to its tag until
        published), so with `drafts` the first page of releases is searched as well.
        """
        from github.GithubException import UnknownObjectException

        with self._doing(f"reading the release {tag} of {full_name}"):
            try:
                release = self._repo(full_name).get_release(tag)
                return _release_info(release.raw_data)
            except UnknownObjectException:
                pass
            if not drafts:
                return None
            listed = self._json("GET", f"/repos/{full_name}/releases", parameters={"per_page": 100})
            for item in listed:
                if item.get("tag_name") == tag and item.get("draft"):
                    return _release_info(item)
            return None

    def tree(self, full_name: str, tree_ish: str, *, recursive: bool = True) -> TreeListing | None:
        """The tree of a branch, commit or tree (one request); None if not found.

        Recursive by default: every path below it (GitHub truncates such a listing at 100,000
        entries or 7 MB: `truncated`). `recursive=False` lists one directory: its entries'
        paths are their names. GitHub takes a branch name for `tree_sha`.
        """
        with self._doing(f"listing the files of {full_name}@{tree_ish}"):
            data = self._json_or_none(
                "GET",
                f"/repos/{full_name}/git/trees/{quote(tree_ish, safe='')}",
                parameters={"recursive": 1} if recursive else None,
            )
        if data is None:
            return None
        entries = tuple(
            TreeEntry(e["path"], e["mode"], e["type"], e["sha"]) for e in data.get("tree", [])
        )
        return TreeListing(data["sha"], entries, bool(data.get("truncated")))

    def directory(self, full_name: str, path: str, ref: str) -> tuple[TreeEntry, ...] | None:
        """One directory's entries at `ref` (GET contents/{path}); None if there is no such
        directory (nothing there, or a file).

        The contents API gives no file mode: a file is listed with mode 100644 (an executable
        file too; a tree listing tells them apart), a symlink 120000, a directory 040000, a
        submodule 160000 (GitHub lists a submodule as a "file" whose `git_url` names a tree).
        Paths are from the repository root. GitHub lists at most 1,000 entries of a
        directory: a caller that gets 1,000 must list the directory's tree instead.
        """
        where = f"{path or 'the root'} of {full_name}@{ref[:12]}"
        with self._doing(f"listing {where}"):
            data = self._json_or_none(
                "GET", f"/repos/{full_name}/contents/{quote(path)}", parameters={"ref": ref}
            )
        if not isinstance(data, list):
            return None
        return tuple(_content_entry(item) for item in data)

    def file_at(self, full_name: str, path: str, ref: str) -> tuple[str, bytes] | None:
        """A regular file's blob sha and content at `ref` (GET contents/{path}: the content
        comes inline); None if there is no file there (nothing, a directory, a submodule, or
        a symlink GitHub resolved to another path). A file over 1 MB comes without content
        (encoding "none"): its blob is read as well."""
        with self._doing(f"reading {path} of {full_name}@{ref[:12]}"):
            data = self._json_or_none(
                "GET", f"/repos/{full_name}/contents/{quote(path)}", parameters={"ref": ref}
            )
        if not isinstance(data, dict) or data.get("type") != "file" or data.get("path") != path:
            return None
        sha = str(data["sha"])
        if data.get("encoding") == "base64":
            return sha, base64.b64decode(data.get("content") or "")
        return sha, self.blob(full_name, sha)

    def blob(self, full_name: str, sha: str) -> bytes:
        with self._doing(f"reading blob {sha[:12]} of {full_name}"):
            data = self._json("GET", f"/repos/{full_name}/git/blobs/{sha}")
        if data.get("encoding") == "base64":
            return base64.b64decode(data.get("content") or "")
        return str(data.get("content") or "").encode()

    def branch_head(self, full_name: str, branch: str) -> BranchHead | None:
        """A branch's commit and that commit's tree, in one request (GET branches/{b})."""
        with self._doing(f"reading the branch {branch} of {full_name}"):
            data = self._json_or_none(
                # As PyGithub's get_branch: a branch's slashes stay slashes here.
                "GET",
                f"/repos/{full_name}/branches/{quote(branch)}",
            )
        if data is None:
            return None
        commit = data["commit"]
        return BranchHead(commit["sha"], commit["commit"]["tree"]["sha"])

    def ref_sha(self, full_name: str, branch: str) -> str | None:
        with self._doing(f"reading the branch {branch} of {full_name}"):
            data = self._json_or_none(
                "GET", f"/repos/{full_name}/git/ref/heads/{quote(branch, safe='/')}"
            )
        return None if data is None else str(data["object"]["sha"])

    def commit(self, full_name: str, sha: str) -> CommitInfo | None:
        """A commit's tree and parents; None if the commit is not in that repository."""
        with self._doing(f"reading commit {sha[:12]} of {full_name}"):
            data = self._json_or_none("GET", f"/repos/{full_name}/git/commits/{sha}")
        if data is None:
            return None
        parents = tuple(str(p["sha"]) for p in data.get("parents") or ())
        return CommitInfo(str(data["sha"]), str(data["tree"]["sha"]), parents)

    def tree_exists(self, full_name: str, sha: str) -> bool:
        with self._doing(f"reading tree {sha[:12]} of {full_name}"):
            return self._json_or_none("GET", f"/repos/{full_name}/git/trees/{sha}") is not None

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
        return _pull_info(pulls[0]) if pulls else None

    def pull_labels(self, full_name: str, number: int) -> tuple[str, ...]:
        with self._doing(f"reading the labels of #{number} on {full_name}"):
            data = self._json("GET", f"/repos/{full_name}/issues/{number}/labels")
        return tuple(str(label["name"]) for label in data)

    def requested_reviewers(self, full_name: str, number: int) -> tuple[str, ...]:
        with self._doing(f"reading the reviewers of #{number} on {full_name}"):
            data = self._json("GET", f"/repos/{full_name}/pulls/{number}/requested_reviewers")
        return tuple(str(user["login"]) for user in data.get("users", []))

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
                found += [_pull_info(p) for p in pulls]
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
        return [_run_info(run) for run in data.get("workflow_runs") or ()]

    def workflow_run(self, full_name: str, run_id: int) -> RunInfo:
        with self._doing(f"reading the workflow run {run_id} of {full_name}"):
            return _run_info(self._json("GET", f"/repos/{full_name}/actions/runs/{run_id}"))

    def workflow_exists(self, full_name: str, workflow: str) -> bool:
        with self._doing(f"reading the workflow {workflow} of {full_name}"):
            found = self._json_or_none(
                "GET", f"/repos/{full_name}/actions/workflows/{quote(workflow, safe='')}"
            )
        return found is not None

    # -- writes -----------------------------------------------------------------------------

    def create_release(
        self, full_name: str, *, tag: str, name: str, body: str, draft: bool, prerelease: bool
    ) -> ReleaseInfo:
        def make() -> ReleaseInfo:
            release = self._repo(full_name).create_git_release(
                tag, name=name, message=body, draft=draft, prerelease=prerelease
            )
            return _release_info(release.raw_data)

        return self.create(
            f"creating the release {tag} on {full_name}",
            make,
            lambda: self.release_by_tag(full_name, tag, drafts=draft),
        )

    def update_release(
        self,
        full_name: str,
        release_id: int,
        *,
        name: str,
        body: str,
        draft: bool,
        prerelease: bool,
    ) -> ReleaseInfo:
        with self._doing(f"updating release {release_id} on {full_name}"):
            data = self._json(
                "PATCH",
                f"/repos/{full_name}/releases/{release_id}",
                {"name": name, "body": body, "draft": draft, "prerelease": prerelease},
            )
        return _release_info(data)

    def create_tree(
        self,
        full_name: str,
        *,
        base_tree: str,
        files: Mapping[str, tuple[str, str]],
        expected: str | None = None,
    ) -> str:
        """A tree: `base_tree` with `files` (path → (mode, text)) replaced; its sha.

        Trees are content-addressed: repeating the POST makes the same tree, so it is simply
        repeated after a failure, unless the caller knows the sha the tree will have
        (`expected`, computed locally): then a GET of that sha looks first.
        """
        body = {
            "base_tree": base_tree,
            "tree": [
                {"path": path, "mode": mode, "type": "blob", "content": text}
                for path, (mode, text) in sorted(files.items())
            ],
        }

        def look() -> str | None:
            return expected if expected and self.tree_exists(full_name, expected) else None

        return self.create(
            f"creating a tree on {full_name}",
            lambda: str(self._json("POST", f"/repos/{full_name}/git/trees", body)["sha"]),
            look,
        )

    def create_commit(self, full_name: str, *, message: str, tree: str, parent: str) -> str:
        """A commit; its sha. Repeating the POST after a failure is safe for this one: a
        commit nothing points at yet is inert, so a duplicate is garbage, not a second change."""
        body = {"message": message, "tree": tree, "parents": [parent]}
        return self.create(
            f"creating a commit on {full_name}",
            lambda: str(self._json("POST", f"/repos/{full_name}/git/commits", body)["sha"]),
            lambda: None,
        )

    def point_branch(self, full_name: str, branch: str, sha: str, *, exists: bool | None) -> None:
        """Make `branch` point at `sha`: create it, or force-move it (it is the tool's own).

        `exists` is what planning knows: True (an open PR uses it), or None (unknown: try to
        create, and a 422 "already exists" means move it).
        """
        ref = f"heads/{branch}"
        what = f"pointing the branch {branch} of {full_name} at {sha[:12]}"
        if not exists:

            def make() -> None:
                self._json(
                    "POST", f"/repos/{full_name}/git/refs", {"ref": f"refs/{ref}", "sha": sha}
                )

            def look() -> bool | None:
                return True if self.ref_sha(full_name, branch) == sha else None

            try:
                self.create(what, make, look)
                return
            except GitHubError as exc:
                if exc.status != 422:  # 422: the branch exists (a run that died after it)
                    raise
        with self._doing(what):
            self._json(
                "PATCH",
                f"/repos/{full_name}/git/refs/{quote(ref, safe='/')}",
                {"sha": sha, "force": True},
            )

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
            return _pull_info(pull.raw_data)

        return self.create(
            f"opening a pull request on {full_name}",
            make,
            lambda: self.open_pull(full_name, head_owner, branch),
        )

    def update_pull(self, full_name: str, number: int, changes: Mapping[str, str]) -> PullInfo:
        with self._doing(f"updating pull request #{number} on {full_name}"):
            data = self._json("PATCH", f"/repos/{full_name}/pulls/{number}", dict(changes))
        return _pull_info(data)

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
        path = f"/repos/{full_name}/actions/workflows/{quote(workflow, safe='')}/dispatches"
        body: dict[str, Any] = {"ref": ref, "inputs": dict(inputs), "return_run_details": True}
        with self._doing(f"dispatching the workflow {workflow} on {full_name}"):
            from github.GithubException import GithubException

            try:
                data = self._json("POST", path, body)
            except GithubException as exc:
                if exc.status != 422 or "return_run_details" not in _message(exc):
                    raise
                del body["return_run_details"]
                data = self._json("POST", path, body)
        if not isinstance(data, dict) or "workflow_run_id" not in data:
            return None
        return RunInfo(int(data["workflow_run_id"]), str(data.get("html_url") or ""), "queued")

    # -- the POST rule ----------------------------------------------------------------------

    def create(self, what: str, make: Callable[[], T], look: Callable[[], T | None]) -> T:
        """Do a creating POST; after a transient failure, `look` before trying it again.

        `look` is a read that finds what the POST would have made (None: not there). It runs
        after a failure that may hide a success: a 5xx or a dropped connection. A rate-limited
        request was refused before it was done, so that one is repeated after the wait the
        response asks for (at most `RetryPolicy.max_wait`), unless the hourly quota is spent
        until later than that.
        """
        delay = self.policy.backoff
        for attempt in range(1, self.policy.attempts + 1):
            try:
                with self._doing(what):
                    return make()
            except ReleaseError as exc:
                cause = exc.__cause__
                kind = _transient(cause)
                if kind is None or attempt == self.policy.attempts:
                    raise
                if kind == "ratelimit":
                    wait = _rate_limit_wait(cause)
                    if _exhausted(cause) and wait > self.policy.max_wait:
                        raise  # the hourly quota is spent: waiting here would hang the run
                    # As urllib3 does for the reads: the wait asked for, at most max_wait.
                    self._sleep(min(max(wait, delay), self.policy.max_wait))
                else:
                    self._sleep(min(delay, self.policy.max_wait))
                delay *= 2
                if kind != "ratelimit":
                    found = look()
                    if found is not None:
                        return found
        raise AssertionError("unreachable")  # pragma: no cover

    # -- errors -----------------------------------------------------------------------------

    def _json_or_none(self, verb: str, path: str, parameters: dict[str, Any] | None = None) -> Any:
        from github.GithubException import GithubException

        try:
            return self._json(verb, path, parameters=parameters)
        except GithubException as exc:
            if exc.status in (404, 409):  # 409: an empty repository has no tree, no branch
                return None
            raise

    @contextmanager
    def _doing(self, what: str) -> Iterator[None]:
        """Turn PyGithub and network exceptions into ReleaseErrors that say what failed."""
        from github.GithubException import GithubException, RateLimitExceededException
        from requests.exceptions import RequestException

        from release_tool.github_transport import DeadlineTimeout, NotJson, Redirected

        try:
            yield
        except ReleaseError:
            raise
        except Redirected as exc:
            raise GitHubError(
                f"GitHub answered {exc.status} (moved) while {what}: the repository was "
                "renamed or transferred",
                "use the repository's new name in the configuration (GET /repos/OWNER/NAME "
                "with the old name shows it), then run the same command again",
                exc.status,
            ) from exc
        except DeadlineTimeout as exc:
            raise ReleaseError(
                f"GitHub at {self.api} did not answer in time while {what}: {exc}",
                "check the network, then run the same command again (the deadline of one "
                "request is network_timeout, or RELEASE_TOOL_NETWORK_TIMEOUT)",
            ) from exc
        except NotJson as exc:
            raise UsageError(
                f"{exc} from {self.api} while {what}",
                "is github_api (or RELEASE_TOOL_GITHUB_API) GitHub's API? A proxy or a "
                "captive portal may be answering in its place",
            ) from exc
        except json.JSONDecodeError as exc:  # JSON said, something else sent
            raise UsageError(
                f"GitHub's answer while {what} is not valid JSON: {exc}",
                "is github_api (or RELEASE_TOOL_GITHUB_API) GitHub's API? A proxy may be "
                "answering in its place",
            ) from exc
        except RateLimitExceededException as exc:
            wait = _rate_limit_wait(exc)
            when = f" (it resets in {wait / 60:.0f} min)" if wait >= 60 else ""
            raise ReleaseError(
                f"GitHub rate limit while {what}{when}",
                "wait for the limit to reset, then run the same command again",
            ) from exc
        except GithubException as exc:
            raise _api_error(exc, what, self.api) from exc
        except RequestException as exc:
            raise ReleaseError(
                f"could not reach GitHub at {self.api} while {what}: {type(exc).__name__}",
                "check the network (and RELEASE_TOOL_GITHUB_API / github_api), "
                "then run the same command again",
            ) from exc


def _transient(exc: BaseException | None) -> str | None:
    """'ratelimit', 'maybe-done' (a 5xx or a dropped connection) or None (a real answer)."""
    from github.GithubException import GithubException, RateLimitExceededException
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import Timeout

    if isinstance(exc, RateLimitExceededException):
        return "ratelimit"
    if isinstance(exc, GithubException):
        if exc.status == 429:
            return "ratelimit"
        return "maybe-done" if exc.status >= 500 else None
    if isinstance(exc, RequestsConnectionError | Timeout):
        return "maybe-done"
    return None


def _exhausted(exc: BaseException | None) -> bool:
    """A primary rate limit (the quota is spent until X-RateLimit-Reset), not a secondary one."""
    headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
    return headers.get("x-ratelimit-remaining") == "0" and "retry-after" not in headers


def _rate_limit_wait(exc: BaseException | None) -> float:
    """Seconds a rate-limited response asks us to wait: Retry-After, or until the reset."""
    headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
    after = headers.get("retry-after")
    if after and after.strip().isdigit():
        return float(after)
    reset = headers.get("x-ratelimit-reset")
    if headers.get("x-ratelimit-remaining") == "0" and reset and reset.strip().isdigit():
        return max(float(reset) - time.time(), 0.0)
    return 0.0  # a secondary limit without a header: the backoff decides


def _message(exc: Any) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.message or "").strip()
    errors = data.get("errors")
    if isinstance(errors, list):
        details = [
            str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
            for e in errors
        ]
        message = "; ".join(filter(None, [message, *details]))
    return message or "no message"


def _api_error(exc: Any, what: str, api: str) -> ReleaseError:
    """A GitHubError (or, for 401, a UsageError) for a GithubException."""
    status = int(exc.status)
    message = _message(exc)
    if status == 401:
        return UsageError(
            f"GitHub rejected the token (401) while {what}",
            f"the token is wrong or expired: {_AUTH_HINT}",
        )
    if status == 403:
        return GitHubError(
            f"GitHub refused ({status}: {message}) while {what}",
            "the token lacks a permission: it needs contents, pull requests "
            "(and for a workflow, actions) write access to that repository",
            status,
        )
    if status == 404:
        return GitHubError(
            f"not found on {api} (404) while {what}",
            "check the repository name, and that the token can see it",
            status,
        )
    return GitHubError(
        f"GitHub answered {status} ({message}) while {what}",
        "run the same command again: it picks up where this run stopped",
        status,
    )


def _release_info(data: Mapping[str, Any]) -> ReleaseInfo:
    return ReleaseInfo(
        id=int(data["id"]),
        tag=str(data["tag_name"]),
        name=str(data.get("name") or ""),
        body=str(data.get("body") or ""),
        draft=bool(data.get("draft")),
        prerelease=bool(data.get("prerelease")),
        html_url=str(data.get("html_url") or ""),
    )


def _pull_info(data: Mapping[str, Any]) -> PullInfo:
    return PullInfo(
        number=int(data["number"]),
        html_url=str(data["html_url"]),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        base=str(data["base"]["ref"]),
        head_ref=str(data["head"]["ref"]),
        head_sha=str(data["head"]["sha"]),
        author=str((data.get("user") or {}).get("login") or ""),
        labels=tuple(str(label["name"]) for label in data.get("labels") or ()),
        reviewers=tuple(str(user["login"]) for user in data.get("requested_reviewers") or ()),
        base_sha=str(data["base"].get("sha") or ""),
    )


def _run_info(data: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        id=int(data["id"]),
        html_url=str(data.get("html_url") or ""),
        status=str(data.get("status") or ""),
        conclusion=data.get("conclusion"),
        actor=str((data.get("actor") or {}).get("login") or ""),
        created_at=str(data.get("created_at") or ""),
    )


_CONTENT_MODES = {"dir": ("tree", "040000"), "symlink": ("blob", "120000")}


def _content_entry(item: Mapping[str, Any]) -> TreeEntry:
    """A directory listing's item as a tree entry (see `GitHub.directory` for the modes)."""
    kind = str(item.get("type"))
    git_url = str(item.get("git_url") or "")
    if kind == "submodule" or (kind == "file" and "/git/trees/" in git_url):
        type_, mode = "commit", "160000"
    else:
        type_, mode = _CONTENT_MODES.get(kind, ("blob", "100644"))
    return TreeEntry(str(item["path"]), mode, type_, str(item["sha"]))
