"""The JSON shapes of GitHub's objects, as the REST API (version 2022-11-28) sends them.

Pure functions from sandbox records to dictionaries; the tests validate every one of them against
GitHub's OpenAPI description. Every URL points at the sandbox itself: the API under
`http://HOST:PORT/api/v3` (GitHub Enterprise's layout, which PyGithub follows from `base_url`),
web pages and git under `http://HOST:PORT/OWNER/NAME`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from release_tool.sandbox import state as st
from release_tool.sandbox import store as gs

Json = dict[str, Any]

DOCS = "https://docs.github.com/rest"


class Urls:
    """The sandbox's addresses: `base` is `http://127.0.0.1:PORT`."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.api = self.base + "/api/v3"
        self.host = self.base.split("://", 1)[1]

    def repo(self, full_name: str) -> str:
        return f"{self.api}/repos/{full_name}"

    def html(self, full_name: str) -> str:
        return f"{self.base}/{full_name}"

    def clone(self, full_name: str) -> str:
        return f"{self.base}/{full_name}.git"


def iso(moment: datetime) -> str:
    """GitHub's timestamps: UTC with `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_content(data: bytes) -> str:
    """Base64 in 60-character lines, each ending in a newline, as GitHub sends file content."""
    flat = base64.b64encode(data).decode()
    return "".join(flat[i : i + 60] + "\n" for i in range(0, len(flat), 60))


def error(
    message: str,
    documentation_url: str = DOCS,
    *,
    status: int | None = None,
    errors: list[Json] | None = None,
) -> Json:
    body: Json = {"message": message, "documentation_url": documentation_url}
    if errors is not None:
        body["errors"] = errors
    if status is not None:
        body["status"] = str(status)
    return body


# -- users ------------------------------------------------------------------------------------


def user(urls: Urls, login: str, user_id: int, *, organization: bool = False) -> Json:
    api = f"{urls.api}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": f"{'O' if organization else 'U'}_sandbox{user_id}",
        "avatar_url": f"{urls.base}/avatars/{login}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{urls.base}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "Organization" if organization else "User",
        "site_admin": False,
        "user_view_type": "public",
    }


def full_user(simple: Json, *, created_at: str, public_repos: int, private: bool) -> Json:
    """`GET /user` (private view, for the token's owner) or `GET /users/{login}` (public)."""
    body = {
        **simple,
        "name": simple["login"],
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": public_repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": created_at,
        "updated_at": created_at,
        "user_view_type": "private" if private else "public",
    }
    if private:
        body.update(
            {
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": True,
            }
        )
    return body


def team(urls: Urls, org: str, slug: str, team_id: int) -> Json:
    api = f"{urls.api}/orgs/{org}/teams/{slug}"
    return {
        "id": team_id,
        "node_id": f"T_sandbox{team_id}",
        "url": api,
        "html_url": f"{urls.base}/orgs/{org}/teams/{slug}",
        "name": slug,
        "slug": slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{api}/members{{/member}}",
        "repositories_url": f"{api}/repos",
        "type": "organization",
        "parent": None,
    }


# -- repositories -----------------------------------------------------------------------------


def repository(
    urls: Urls,
    meta: st.RepoMeta,
    *,
    owner: Json,
    default_branch: str,
    pushed_at: str,
    size: int,
    forks: int,
    open_issues: int,
    permissions: dict[str, bool] | None,
    parent: Json | None = None,
    source: Json | None = None,
) -> Json:
    """Every field of `full-repository`, `repository` and `minimal-repository` at once."""
    full_name = meta.full_name
    api, html = urls.repo(full_name), urls.html(full_name)
    body: Json = {
        "id": meta.id,
        "node_id": f"R_sandbox{meta.id}",
        "name": full_name.split("/", 1)[1],
        "full_name": full_name,
        "owner": owner,
        "private": False,
        "html_url": html,
        "description": None,
        "fork": meta.parent is not None,
        "url": api,
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{api}/assignees{{/user}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "contributors_url": f"{api}/contributors",
        "deployments_url": f"{api}/deployments",
        "downloads_url": f"{api}/downloads",
        "events_url": f"{api}/events",
        "forks_url": f"{api}/forks",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_url": f"git://{urls.host}/{full_name}.git",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "keys_url": f"{api}/keys{{/key_id}}",
        "labels_url": f"{api}/labels{{/name}}",
        "languages_url": f"{api}/languages",
        "merges_url": f"{api}/merges",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "releases_url": f"{api}/releases{{/id}}",
        "ssh_url": f"git@{urls.host.split(':')[0]}:{full_name}.git",
        "stargazers_url": f"{api}/stargazers",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "tags_url": f"{api}/tags",
        "teams_url": f"{api}/teams",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "clone_url": urls.clone(full_name),
        "mirror_url": None,
        "hooks_url": f"{api}/hooks",
        "svn_url": html,
        "homepage": None,
        "language": None,
        "forks_count": forks,
        "forks": forks,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": size,
        "default_branch": default_branch,
        "open_issues_count": open_issues,
        "open_issues": open_issues,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "public",
        "pushed_at": pushed_at,
        "created_at": meta.created_at,
        "updated_at": pushed_at,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "network_count": forks,
        "subscribers_count": 0,
    }
    if permissions is not None:
        body["permissions"] = permissions
    if parent is not None:
        body["parent"] = parent
    if source is not None:
        body["source"] = source
    return body


# -- git data ---------------------------------------------------------------------------------

_KIND_PATH = {"commit": "commits", "tag": "tags", "tree": "trees", "blob": "blobs"}


def git_ref(urls: Urls, full_name: str, ref: str, sha: str, kind: str) -> Json:
    return {
        "ref": ref,
        "node_id": f"REF_sandbox_{quote(ref, safe='')}",
        "url": f"{urls.repo(full_name)}/git/{quote(ref, safe='/')}",
        "object": {
            "type": kind,
            "sha": sha,
            "url": f"{urls.repo(full_name)}/git/{_KIND_PATH[kind]}/{sha}",
        },
    }


def _person(person: gs.Person) -> Json:
    return {"name": person.name, "email": person.email, "date": iso(person.date)}


UNSIGNED = {
    "verified": False,
    "reason": "unsigned",
    "signature": None,
    "payload": None,
    "verified_at": None,
}


def git_commit(urls: Urls, full_name: str, commit: gs.Commit) -> Json:
    api = urls.repo(full_name)
    return {
        "sha": commit.sha,
        "node_id": f"C_sandbox_{commit.sha}",
        "url": f"{api}/git/commits/{commit.sha}",
        "html_url": f"{urls.html(full_name)}/commit/{commit.sha}",
        "author": _person(commit.author),
        "committer": _person(commit.committer),
        "tree": {"sha": commit.tree, "url": f"{api}/git/trees/{commit.tree}"},
        "message": commit.message,
        "parents": [
            {
                "sha": p,
                "url": f"{api}/git/commits/{p}",
                "html_url": f"{urls.html(full_name)}/commit/{p}",
            }
            for p in commit.parents
        ],
        "verification": dict(UNSIGNED),
    }


def git_tag(urls: Urls, full_name: str, tag: gs.Tag) -> Json:
    api = urls.repo(full_name)
    return {
        "node_id": f"TAG_sandbox_{tag.sha}",
        "tag": tag.tag,
        "sha": tag.sha,
        "url": f"{api}/git/tags/{tag.sha}",
        "message": tag.message,
        "tagger": _person(tag.tagger),
        "object": {
            "type": tag.type,
            "sha": tag.object,
            "url": f"{api}/git/{_KIND_PATH.get(tag.type, 'commits')}/{tag.object}",
        },
        "verification": dict(UNSIGNED),
    }


def git_tree(urls: Urls, full_name: str, sha: str, entries: list[gs.Entry]) -> Json:
    api = urls.repo(full_name)
    items = []
    for entry in entries:
        item: Json = {"path": entry.path, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
        if entry.type == "blob":
            item["size"] = entry.size
            item["url"] = f"{api}/git/blobs/{entry.sha}"
        elif entry.type == "tree":
            item["url"] = f"{api}/git/trees/{entry.sha}"
        items.append(item)
    return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": items, "truncated": False}


def short_blob(urls: Urls, full_name: str, sha: str) -> Json:
    return {"url": f"{urls.repo(full_name)}/git/blobs/{sha}", "sha": sha}


def blob(urls: Urls, full_name: str, sha: str, data: bytes) -> Json:
    return {
        **short_blob(urls, full_name, sha),
        "node_id": f"B_sandbox_{sha}",
        "size": len(data),
        "content": encode_content(data),
        "encoding": "base64",
    }


# -- contents ---------------------------------------------------------------------------------


def content_entry(urls: Urls, full_name: str, ref: str, entry: gs.Entry) -> Json:
    """One item of a directory listing (also the `content` of a file write)."""
    api = urls.repo(full_name)
    kind = {"tree": "dir", "commit": "submodule"}.get(entry.type, "file")
    if entry.mode == "120000":
        kind = "symlink"
    path = quote(entry.path)
    self_url = f"{api}/contents/{path}?ref={quote(ref, safe='')}"
    git_url = f"{api}/git/{_KIND_PATH[entry.type]}/{entry.sha}" if entry.type != "commit" else None
    html_url = f"{urls.html(full_name)}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
    download = f"{urls.html(full_name)}/raw/{ref}/{path}" if kind in ("file", "symlink") else None
    return {
        "type": kind,
        "size": entry.size or 0,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": download,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


def content_file(urls: Urls, full_name: str, ref: str, entry: gs.Entry, data: bytes | None) -> Json:
    """A file; `data` None for a file over 1 MB, which GitHub sends without its content
    (`content: ""`, `encoding: "none"`: the raw media type fetches it)."""
    return {
        **content_entry(urls, full_name, ref, entry),
        "type": "file",
        "content": "" if data is None else encode_content(data),
        "encoding": "none" if data is None else "base64",
    }


def content_symlink(urls: Urls, full_name: str, ref: str, entry: gs.Entry, target: str) -> Json:
    """A symlink whose target is not a regular file of the repository."""
    return {**content_entry(urls, full_name, ref, entry), "type": "symlink", "target": target}


def content_submodule(
    urls: Urls, full_name: str, ref: str, entry: gs.Entry, submodule_url: str
) -> Json:
    """A submodule; its git and web URLs are null, as GitHub sends for a submodule that is not
    one of its own repositories."""
    body = content_entry(urls, full_name, ref, entry)
    body.update(
        {
            "type": "submodule",
            "submodule_git_url": submodule_url,
            "size": 0,
            "git_url": None,
            "html_url": None,
            "download_url": None,
        }
    )
    body["_links"] = {"self": body["url"], "git": None, "html": None}
    return body


# -- pull requests ----------------------------------------------------------------------------


def label(urls: Urls, lb: st.Label) -> Json:
    return {
        "id": lb.id,
        "node_id": f"LA_sandbox{lb.id}",
        "url": f"{urls.repo(lb.repo)}/labels/{quote(lb.name, safe='')}",
        "name": lb.name,
        "description": lb.description,
        "color": lb.color,
        "default": False,
    }


def pull(
    urls: Urls,
    pr: st.Pull,
    *,
    user_json: Json,
    head: Json,
    base: Json,
    labels: list[Json],
    reviewers: list[Json],
    teams: list[Json],
    author_association: str,
    stats: tuple[int, int, int, int] | None,
) -> Json:
    """`pull-request-simple`, or with `stats` (commits, additions, deletions, changed files)
    the full `pull-request`."""
    api, html = urls.repo(pr.repo), urls.html(pr.repo)
    n = pr.number
    links = {
        "self": f"{api}/pulls/{n}",
        "html": f"{html}/pull/{n}",
        "issue": f"{api}/issues/{n}",
        "comments": f"{api}/issues/{n}/comments",
        "review_comments": f"{api}/pulls/{n}/comments",
        "review_comment": f"{api}/pulls/comments{{/number}}",
        "commits": f"{api}/pulls/{n}/commits",
        "statuses": f"{api}/statuses/{head['sha']}",
    }
    body: Json = {
        "url": links["self"],
        "id": pr.id,
        "node_id": f"PR_sandbox{pr.id}",
        "html_url": links["html"],
        "diff_url": f"{html}/pull/{n}.diff",
        "patch_url": f"{html}/pull/{n}.patch",
        "issue_url": links["issue"],
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": n,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user_json,
        "body": pr.body,
        # Labels embedded in a pull request declare `description` a plain string.
        "labels": [{**lb, "description": lb["description"] or ""} for lb in labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": pr.created_at,
        "updated_at": pr.updated_at,
        "closed_at": pr.closed_at,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": reviewers,
        "requested_teams": teams,
        "head": head,
        "base": base,
        "_links": {key: {"href": value} for key, value in links.items()},
        "author_association": author_association,
        "auto_merge": None,
        "draft": pr.draft,
    }
    if stats is not None:
        commits, additions, deletions, changed = stats
        body.update(
            {
                "merged": False,
                "mergeable": None,  # GitHub computes it in the background; clients must cope
                "rebaseable": None,
                "mergeable_state": "unknown",
                "merged_by": None,
                "comments": 0,
                "review_comments": 0,
                "maintainer_can_modify": pr.maintainer_can_modify,
                "commits": commits,
                "additions": additions,
                "deletions": deletions,
                "changed_files": changed,
            }
        )
    return body


def pull_end(label_text: str, ref: str, sha: str, user_json: Json, repo: Json | None) -> Json:
    """A pull request's `head` or `base`."""
    return {"label": label_text, "ref": ref, "sha": sha, "user": user_json, "repo": repo}


# -- branches, rate limit -------------------------------------------------------------------


def branch(urls: Urls, full_name: str, name: str, commit: gs.Commit) -> Json:
    api, html = urls.repo(full_name), urls.html(full_name)
    sha = commit.sha
    git = git_commit(urls, full_name, commit)
    return {
        "name": name,
        "commit": {
            "sha": sha,
            "node_id": git["node_id"],
            "url": f"{api}/commits/{sha}",
            "html_url": f"{html}/commit/{sha}",
            "comments_url": f"{api}/commits/{sha}/comments",
            "commit": {
                "url": git["url"],
                "author": git["author"],
                "committer": git["committer"],
                "message": git["message"],
                "comment_count": 0,
                "tree": git["tree"],
                "verification": git["verification"],
            },
            # No GitHub account is linked to the commit's e-mail address. GitHub may send null,
            # but its schema (nullable beside oneOf) admits only the empty-object branch.
            "author": {},
            "committer": {},
            "parents": [
                {"sha": p["sha"], "url": f"{api}/commits/{p['sha']}", "html_url": p["html_url"]}
                for p in git["parents"]
            ],
        },
        "_links": {"self": f"{api}/branches/{quote(name)}", "html": f"{html}/tree/{name}"},
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{api}/branches/{quote(name)}/protection",
    }


def rate(limit: int, used: int, reset: int) -> Json:
    return {"limit": limit, "remaining": max(0, limit - used), "reset": reset, "used": used}
