"""GitHub's REST API, through PyGithub: the only package that imports it.

`GitHub` is a thin client that speaks in the project's terms (a release, a tree listing, an open
pull request) and returns small frozen dataclasses, so the planning code never holds a PyGithub
object and the rest of the package never imports PyGithub (it is imported inside the methods,
so `release-tool --help` does not pay for it).

By concern:

* `client` — the connection, PyGithub's requester and the POST rule (`create`); `retry` —
  urllib3's retries of the idempotent requests;
* `auth` — GitHub App authentication: an installation token per repository;
* `errors` — PyGithub's and the network's exceptions as `ReleaseError`s that say what was
  being done, with a hint;
* `types` — the frozen values the callers see, and the URLs of things not created yet;
* `releases`, `git_data`, `pulls` — the calls, one subclass each; `GitHub` is all of them.
"""

from __future__ import annotations

from release_tool.github_api.errors import GitHubError
from release_tool.github_api.pulls import Pulls
from release_tool.github_api.releases import Releases
from release_tool.github_api.types import (
    DEFAULT_API_URL,
    AssetInfo,
    BranchHead,
    CommitInfo,
    PullInfo,
    ReleaseInfo,
    RepoInfo,
    RunInfo,
    TreeEntry,
    TreeListing,
    api_url,
    release_web_url,
    web_url,
)


class GitHub(Releases, Pulls):
    """One authenticated connection to a GitHub API (github.com, Enterprise or the sandbox)."""


__all__ = [
    "DEFAULT_API_URL",
    "AssetInfo",
    "BranchHead",
    "CommitInfo",
    "GitHub",
    "GitHubError",
    "PullInfo",
    "ReleaseInfo",
    "RepoInfo",
    "RunInfo",
    "TreeEntry",
    "TreeListing",
    "api_url",
    "release_web_url",
    "web_url",
]
