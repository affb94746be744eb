"""What the planning code sees of GitHub: small frozen values, and the URLs of things.

Every answer of the client becomes one of these at once (`release_info`, `pull_info`,
`content_entry` read GitHub's JSON), so no PyGithub object leaves the `github_api` package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_API_URL = "https://api.github.com"


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
    upload_url: str = ""  # where assets go (GitHub's uploads host), `{?name,label}` cut off


@dataclass(frozen=True)
class AssetInfo:
    """A release's asset; `state` is "uploaded", or "starter" for an upload that never ended."""

    id: int
    name: str
    size: int
    state: str


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


def release_info(data: Mapping[str, Any]) -> ReleaseInfo:
    return ReleaseInfo(
        id=int(data["id"]),
        tag=str(data["tag_name"]),
        name=str(data.get("name") or ""),
        body=str(data.get("body") or ""),
        draft=bool(data.get("draft")),
        prerelease=bool(data.get("prerelease")),
        html_url=str(data.get("html_url") or ""),
        upload_url=str(data.get("upload_url") or "").split("{", 1)[0],
    )


def asset_info(data: Mapping[str, Any]) -> AssetInfo:
    return AssetInfo(
        id=int(data["id"]),
        name=str(data["name"]),
        size=int(data.get("size") or 0),
        state=str(data.get("state") or "uploaded"),
    )


def pull_info(data: Mapping[str, Any]) -> PullInfo:
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


def run_info(data: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        id=int(data["id"]),
        html_url=str(data.get("html_url") or ""),
        status=str(data.get("status") or ""),
        conclusion=data.get("conclusion"),
        actor=str((data.get("actor") or {}).get("login") or ""),
        created_at=str(data.get("created_at") or ""),
    )


_CONTENT_MODES = {"dir": ("tree", "040000"), "symlink": ("blob", "120000")}


def content_entry(item: Mapping[str, Any]) -> TreeEntry:
    """A directory listing's item as a tree entry (see `GitHub.directory` for the modes)."""
    kind = str(item.get("type"))
    git_url = str(item.get("git_url") or "")
    if kind == "submodule" or (kind == "file" and "/git/trees/" in git_url):
        type_, mode = "commit", "160000"
    else:
        type_, mode = _CONTENT_MODES.get(kind, ("blob", "100644"))
    return TreeEntry(str(item["path"]), mode, type_, str(item["sha"]))
