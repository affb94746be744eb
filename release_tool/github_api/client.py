"""The client's core: one connection, PyGithub's requester, the retries, the POST rule.

Request economy and safety, in one place:

* `Github(lazy=True)`: `get_repo` costs nothing until an attribute is read, so a write to a
  repository whose metadata we do not need costs exactly that write.
* `seconds_between_requests=0, seconds_between_writes=0`: PyGithub's default pacing (a second
  between writes) would make a PR cost ten idle seconds; GitHub's secondary limits are handled
  by retrying, below.
* Retries: idempotent requests (GET, HEAD, PUT, PATCH with an absolute payload, DELETE) are
  retried with exponential backoff on 5xx, a dropped connection and a secondary rate limit, by
  urllib3 under PyGithub (`retry_for`). A POST is never retried blindly: GitHub may have done it
  before the connection dropped or the 502 came back. `create()` looks first (a read that would
  find what the POST made) and only then repeats it. Every wait is capped by
  `RetryPolicy.max_wait`, which tests set to almost nothing; a spent hourly quota (the primary
  limit, reset far away) is not waited out: the run stops, and the same command finishes later.
* Most calls go through PyGithub's requester (its auth, retries, and exception types) and read
  the JSON directly: one call is exactly one request, whatever PyGithub's object model would
  lazily complete, and the answer becomes our dataclass at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from release_tool import __version__
from release_tool.config import DEFAULT_NETWORK_TIMEOUT
from release_tool.errors import ReleaseError, UsageError
from release_tool.github_api.errors import doing, exhausted, rate_limit_wait, transient
from release_tool.github_api.retry import retry_for
from release_tool.github_api.types import RepoInfo, web_url
from release_tool.project import GitHubApp, RetryPolicy

if TYPE_CHECKING:
    from github import Github
    from github.Repository import Repository

    from release_tool.github_api.auth import Installations

T = TypeVar("T")
# The repository a request is on (as a GitHub App: whose installation makes it).
_REPO_PATH = re.compile(r"^/repos/([^/]+/[^/?]+)")


class Client:
    """One authenticated connection to a GitHub API (github.com, Enterprise or the sandbox):
    the requests, the retries and the errors; the calls are in the subclasses."""

    def __init__(
        self,
        api: str,
        token: str | None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = DEFAULT_NETWORK_TIMEOUT,
        app: GitHubApp | None = None,
    ) -> None:
        self.api = api.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.timeout = timeout  # the overall deadline of one request (github_transport)
        self._token = token
        self._sleep = sleep
        self._clients: dict[object, Github] = {}
        self._login: str | None = None
        self.installations: Installations | None = None
        if app is not None:
            from release_tool.github_api.auth import Installations

            self.installations = Installations(
                self.api, app, retry=retry_for(self.policy), timeout=timeout
            )

    def __repr__(self) -> str:  # never the token
        return f"GitHub({self.api!r})"

    @property
    def web(self) -> str:
        return web_url(self.api)

    @property
    def is_app(self) -> bool:
        """Whether requests go out as a GitHub App (installation tokens: no user, no fork)."""
        return self.installations is not None

    @property
    def has_no_user(self) -> bool:
        """Whether the token acts for no user, so GET /user answers 403: an App's, or any
        installation token (GitHub spells those `ghs_…`, Actions' GITHUB_TOKEN included)."""
        return self.is_app or (self._token or "").startswith("ghs_")

    def _gh(self, full_name: str | None = None) -> Github:
        """The PyGithub client for requests on `full_name`: as a GitHub App, the one of the
        installation that covers it (anonymous where the App is not installed)."""
        key: object = "token"
        installation = None
        if self.installations is not None and full_name is not None:
            installation = self.installations.of(full_name)
            key = installation.id if installation is not None else "anonymous"
        if key not in self._clients:
            from github import Auth, Github

            auth: Any = None
            if self.installations is not None and installation is not None:
                auth = self.installations.auth(installation)
            elif key == "token" and self._token:
                auth = Auth.Token(self._token)
            client = Github(
                base_url=self.api,
                auth=auth,
                user_agent=f"release-tool/{__version__}",
                retry=retry_for(self.policy),
                seconds_between_requests=0,
                seconds_between_writes=0,
                lazy=True,
            )
            from release_tool.github_transport import install

            install(client, self.timeout, urlsplit(self.api).path)
            self._clients[key] = client
        return self._clients[key]

    def _repo(self, full_name: str) -> Repository:
        return self._gh(full_name).get_repo(full_name)  # lazy: no request

    def _json(
        self, verb: str, path: str, body: Any = None, parameters: dict[str, Any] | None = None
    ) -> Any:
        """One request through PyGithub's requester; the decoded JSON body."""
        match = _REPO_PATH.match(path)
        _, data = self._gh(match[1] if match else None).requester.requestJsonAndCheck(
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
        can_push = bool(permissions.get("push"))
        can_triage = bool(permissions.get("triage") or can_push)
        if self.installations is not None:
            # An installation token's rights are the installation's, not a user's.
            installation = self.installations.of(full_name)
            can_push = installation is not None and installation.can_write
            can_triage = installation is not None and installation.can_triage
        parent = data.get("parent") or {}
        return RepoInfo(
            full_name=data["full_name"],
            default_branch=data["default_branch"],
            html_url=data["html_url"],
            can_push=can_push,
            can_triage=can_triage,
            fork_of=parent.get("full_name") if data.get("fork") else None,
        )

    def login(self) -> str:
        """The token's user (GET /user, once per client). A GitHub App has none: its
        installation tokens get 403 there, so a caller asks only for a user's token."""
        if self.installations is not None:
            raise UsageError(
                "a GitHub App has no user account (GET /user is refused to its tokens)",
                "use a user's token (GITHUB_TOKEN) for what needs one, e.g. a fork",
            )
        if self._login is None:
            with self._doing("reading the token's user"):
                self._login = str(self._json("GET", "/user")["login"])
        return self._login

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
                kind = transient(cause)
                if kind is None or attempt == self.policy.attempts:
                    raise
                if kind == "ratelimit":
                    wait = rate_limit_wait(cause)
                    if exhausted(cause) and wait > self.policy.max_wait:
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

    def _json_or_none(self, verb: str, path: str, parameters: dict[str, Any] | None = None) -> Any:
        from github.GithubException import GithubException

        try:
            return self._json(verb, path, parameters=parameters)
        except GithubException as exc:
            if exc.status in (404, 409):  # 409: an empty repository has no tree, no branch
                return None
            raise

    def _doing(self, what: str) -> AbstractContextManager[None]:
        """Turn PyGithub and network exceptions into ReleaseErrors that say what failed."""
        return doing(self.api, what)
