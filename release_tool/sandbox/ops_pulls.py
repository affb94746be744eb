"""Pull requests, their requested reviewers and their labels (issue labels: a pull request is
an issue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from release_tool.sandbox import shapes
from release_tool.sandbox import state as st
from release_tool.sandbox.rest import (
    ApiError,
    Operations,
    Request,
    Response,
    custom,
    flag,
    forbidden,
    invalid,
    not_found,
    page,
    required,
    route,
    strings,
    text,
)
from release_tool.sandbox.shapes import Json


class PullOps(Operations):
    """The pull request operations."""

    # -- pull requests ----------------------------------------------------------------------

    def _pull_or_404(self, full_name: str, number: str) -> st.Pull:
        found = self.state.pull(full_name, int(number)) if number.isdigit() else None
        if found is None:
            raise not_found()
        return found

    def _sync_head(self, pr: st.Pull) -> None:
        """Follow pushes to the head branch, and keep `refs/pull/N/head` in the base
        repository (as GitHub does), so commits and diffs can be counted there."""
        if not self.store.exists(pr.head_repo):
            return
        found = self.store.ref(pr.head_repo, f"refs/heads/{pr.head_ref}")
        if found is None or found[0] == pr.head_sha:
            return
        with self.state.locked():
            self._store_pull_ref(pr.repo, pr.number, pr.head_repo, pr.head_ref, found[0])
            with self.state.transaction():
                pr.head_sha = found[0]
                pr.updated_at = st.now()

    def _store_pull_ref(
        self, full_name: str, number: int, head_repo: str, head_ref: str, sha: str
    ) -> None:
        ref = f"refs/pull/{number}/head"
        if head_repo == full_name:
            self.store.git(full_name, "update-ref", ref, sha)
        else:
            self.store.fetch(full_name, head_repo, f"refs/heads/{head_ref}", ref)

    def _pull_json(self, req: Request, pr: st.Pull, *, full: bool) -> Json:
        self._sync_head(pr)
        head_owner = pr.head_repo.split("/", 1)[0]
        base_owner = pr.repo.split("/", 1)[0]
        base_sha = self.store.ref(pr.repo, f"refs/heads/{pr.base_ref}")
        base_commit = base_sha[0] if base_sha else pr.head_sha
        head_repo = (
            self.repo_json(req, pr.head_repo, nested=True)
            if self.store.exists(pr.head_repo)
            else None
        )
        head = shapes.pull_end(
            f"{head_owner}:{pr.head_ref}",
            pr.head_ref,
            pr.head_sha,
            self.user_json(head_owner),
            head_repo,
        )
        base = shapes.pull_end(
            f"{base_owner}:{pr.base_ref}",
            pr.base_ref,
            base_commit,
            self.user_json(base_owner),
            self.repo_json(req, pr.repo, nested=True),
        )
        labels = [shapes.label(self.urls, lb) for lb in self._labels_of(pr)]
        reviewers = [self.user_json(login) for login in pr.reviewers]
        teams = [
            shapes.team(self.urls, base_owner, slug, self._team_id(pr.repo, slug))
            for slug in pr.team_reviewers
        ]
        stats = None
        if full:
            pull_ref = f"refs/pull/{pr.number}/head"
            commits = self.store.count_commits(pr.repo, base_commit, pull_ref)
            stats = (commits, *self.store.diff_stats(pr.repo, base_commit, pull_ref))
        level = self.access.level(pr.user, pr.repo)
        association = {"admin": "OWNER", "write": "COLLABORATOR"}.get(level, "CONTRIBUTOR")
        return shapes.pull(
            self.urls,
            pr,
            user_json=self.user_json(pr.user),
            head=head,
            base=base,
            labels=labels,
            reviewers=reviewers,
            teams=teams,
            author_association=association,
            stats=stats,
        )

    def _team_id(self, full_name: str, slug: str) -> int:
        return self.state.user_id(f"{full_name.split('/', 1)[0]}/{slug}")

    def _labels_of(self, pr: st.Pull) -> list[st.Label]:
        by_name = {lb.name: lb for lb in self.state.labels(pr.repo)}
        return [by_name[name] for name in pr.labels if name in by_name]

    @route("GET", "/repos/{owner}/{repo}/pulls", "read", "pulls/pulls#list-pull-requests")
    def list_pulls(self, req: Request, owner: str, repo: str) -> Response:
        full_name = f"{owner}/{repo}"
        wanted_state = req.arg("state", "open")
        if wanted_state not in ("open", "closed", "all"):
            raise invalid("PullRequest", "state")
        pulls = [p for p in self.state.pulls(full_name) if wanted_state in ("all", p.state)]
        head = req.arg("head")
        # GitHub ignores a `head` without its `owner:` prefix: it lists every pull request.
        if head and ":" in head:
            head_owner, _, head_ref = head.partition(":")
            pulls = [
                p
                for p in pulls
                if p.head_repo.split("/", 1)[0].lower() == head_owner.lower()
                and p.head_ref == head_ref
            ]
        base = req.arg("base")
        if base:
            pulls = [p for p in pulls if p.base_ref == base]
        sort = req.arg("sort", "created")
        keys: dict[str | None, Callable[[st.Pull], Any]] = {
            "created": lambda p: (p.created_at, p.number),
            "updated": lambda p: (p.updated_at, p.number),
            "popularity": lambda p: (0, p.number),
            "long-running": lambda p: (p.created_at, p.number),
        }
        if sort not in keys:
            raise invalid("PullRequest", "sort")
        direction = req.arg("direction", "desc" if sort == "created" else "asc")
        pulls.sort(key=keys[sort], reverse=direction == "desc")
        return page(req, [self._pull_json(req, p, full=False) for p in pulls], self.urls)

    @route(
        "GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "read", "pulls/pulls#get-a-pull-request"
    )
    def get_pull(self, req: Request, owner: str, repo: str, pull_number: str) -> Response:
        pr = self._pull_or_404(f"{owner}/{repo}", pull_number)
        return Response(200, self._pull_json(req, pr, full=True))

    @route("POST", "/repos/{owner}/{repo}/pulls", "auth", "pulls/pulls#create-a-pull-request")
    def create_pull(self, req: Request, owner: str, repo: str) -> Response:
        # Anyone signed in may open a pull request on a public repository (from a fork).
        full_name, body = f"{owner}/{repo}", req.obj()
        assert req.user is not None
        if body.get("issue") is not None:
            raise ApiError(
                422, "Converting an issue into a pull request is not supported by the sandbox"
            )
        title = text(body, "title")
        if not title:
            raise invalid("PullRequest", "title", "missing_field")
        head, base = required(body, "head"), required(body, "base")
        head_owner, _, head_ref = head.rpartition(":")
        head_owner = head_owner or owner
        head_repo = text(body, "head_repo") or self._head_repo(full_name, head_owner)
        if head_repo is None or not self.store.exists(head_repo) or not self.ready(head_repo):
            raise invalid("PullRequest", "head")
        head_found = self.store.ref(head_repo, f"refs/heads/{head_ref}")
        if head_found is None:
            raise invalid("PullRequest", "head")
        base_found = self.store.ref(full_name, f"refs/heads/{base}")
        if base_found is None:
            raise invalid("PullRequest", "base")
        for other in self.state.pulls(full_name):
            if (
                other.state == "open"
                and other.head_repo == head_repo
                and other.head_ref == head_ref
                and other.base_ref == base
            ):
                raise custom(
                    "PullRequest", f"A pull request already exists for {head_owner}:{head_ref}."
                )
        meta = self.state.repo(full_name)
        number = meta.next_number
        self._store_pull_ref(full_name, number, head_repo, head_ref, head_found[0])
        if self.store.is_ancestor(full_name, head_found[0], base_found[0]):
            self.store.git(full_name, "update-ref", "-d", f"refs/pull/{number}/head")
            raise custom("PullRequest", f"No commits between {base} and {head_ref}")
        stamp = st.now()
        with self.state.transaction():
            meta.next_number += 1
            pr = st.Pull(
                self.state.new_id(),
                full_name,
                number,
                title,
                text(body, "body"),
                "open",
                req.user,
                head_repo,
                head_ref,
                head_found[0],
                base,
                stamp,
                stamp,
                draft=flag(body, "draft", False),
                maintainer_can_modify=flag(body, "maintainer_can_modify", True)
                and head_repo != full_name,
            )
            self.state.add_pull(pr)
        return self.created(self._pull_json(req, pr, full=True))

    def _head_repo(self, full_name: str, head_owner: str) -> str | None:
        """The repository `owner:branch` names: the base itself, or `owner`'s fork of it."""
        owner = head_owner.lower()  # logins are case-insensitive
        if owner == full_name.split("/", 1)[0].lower():
            return full_name
        for fork in self.state.forks_of(full_name):
            if fork.full_name.split("/", 1)[0].lower() == owner:
                return fork.full_name
        parent = self.state.repo(full_name).parent  # a PR from the upstream into a fork
        if parent and parent.split("/", 1)[0].lower() == owner:
            return parent
        return None

    @route(
        "PATCH",
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        "auth",
        "pulls/pulls#update-a-pull-request",
    )
    def update_pull(self, req: Request, owner: str, repo: str, pull_number: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        pr = self._pull_or_404(full_name, pull_number)
        # The author may edit their own pull request; anyone else needs write access.
        if req.user != pr.user and not self.access.can_write(req.user, full_name):
            raise forbidden()
        new_state = text(body, "state") or pr.state
        if new_state not in ("open", "closed"):
            raise invalid("PullRequest", "state")
        base = text(body, "base") or pr.base_ref
        if self.store.ref(full_name, f"refs/heads/{base}") is None:
            raise invalid("PullRequest", "base")
        if new_state == "open" and pr.state == "closed":
            for other in self.state.pulls(full_name):
                if (
                    other is not pr
                    and other.state == "open"
                    and other.head_repo == pr.head_repo
                    and other.head_ref == pr.head_ref
                    and other.base_ref == base
                ):
                    head_owner = pr.head_repo.split("/", 1)[0]
                    raise custom(
                        "PullRequest",
                        f"A pull request already exists for {head_owner}:{pr.head_ref}.",
                    )
        with self.state.transaction():
            if "title" in body:
                pr.title = text(body, "title") or pr.title
            if "body" in body:
                pr.body = text(body, "body")
            if new_state != pr.state:
                pr.closed_at = st.now() if new_state == "closed" else None
                pr.state = new_state
            pr.base_ref = base
            pr.maintainer_can_modify = flag(body, "maintainer_can_modify", pr.maintainer_can_modify)
            pr.updated_at = st.now()
        return Response(200, self._pull_json(req, pr, full=True))

    @route(
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        "read",
        "pulls/review-requests#get-all-requested-reviewers-for-a-pull-request",
    )
    def list_reviewers(self, req: Request, owner: str, repo: str, pull_number: str) -> Response:
        full_name = f"{owner}/{repo}"
        pr = self._pull_or_404(full_name, pull_number)
        return Response(
            200,
            {
                "users": [self.user_json(login) for login in pr.reviewers],
                "teams": [
                    shapes.team(self.urls, owner, slug, self._team_id(full_name, slug))
                    for slug in pr.team_reviewers
                ],
            },
        )

    @route(
        "POST",
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        "write",
        "pulls/review-requests#request-reviewers-for-a-pull-request",
    )
    def request_reviewers(self, req: Request, owner: str, repo: str, pull_number: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        pr = self._pull_or_404(full_name, pull_number)
        if "reviewers" not in body and "team_reviewers" not in body:
            raise ApiError(422, 'Invalid request.\n\n"reviewers" wasn\'t supplied.')
        users, teams = strings(body, "reviewers"), strings(body, "team_reviewers")
        if pr.user in users:
            raise ApiError(422, "Review cannot be requested from pull request author.")
        if any(not self.access.can_write(login, full_name) for login in users):
            raise ApiError(
                422,
                "Reviews may only be requested from collaborators. One or more of the users or "
                f"teams you specified is not a collaborator of the {full_name} repository.",
            )
        with self.state.transaction():
            pr.reviewers += [u for u in users if u not in pr.reviewers]
            pr.team_reviewers += [t for t in teams if t not in pr.team_reviewers]
            pr.updated_at = st.now()
        return self.created(self._pull_json(req, pr, full=False))

    # -- labels -----------------------------------------------------------------------------

    @route(
        "GET",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        "read",
        "issues/labels#list-labels-for-an-issue",
    )
    def list_labels(self, req: Request, owner: str, repo: str, issue_number: str) -> Response:
        pr = self._pull_or_404(f"{owner}/{repo}", issue_number)
        return page(req, [shapes.label(self.urls, lb) for lb in self._labels_of(pr)], self.urls)

    @route(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        "write",
        "issues/labels#add-labels-to-an-issue",
    )
    def add_labels(self, req: Request, owner: str, repo: str, issue_number: str) -> Response:
        return self._set_labels(req, f"{owner}/{repo}", issue_number, replace=False)

    @route(
        "PUT",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        "write",
        "issues/labels#set-labels-for-an-issue",
    )
    def set_labels(self, req: Request, owner: str, repo: str, issue_number: str) -> Response:
        return self._set_labels(req, f"{owner}/{repo}", issue_number, replace=True)

    def _set_labels(self, req: Request, full_name: str, number: str, *, replace: bool) -> Response:
        pr = self._pull_or_404(full_name, number)
        names = _label_names(req.body)
        with self.state.transaction():
            chosen = [self.state.label(full_name, name).name for name in names]
            kept = [] if replace else pr.labels
            pr.labels = kept + [n for n in dict.fromkeys(chosen) if n not in kept]
            pr.updated_at = st.now()
        return Response(200, [shapes.label(self.urls, lb) for lb in self._labels_of(pr)])


def _label_names(body: Any) -> list[str]:
    """The label names of an add/set request: `{"labels": [...]}`, a bare array (what
    PyGithub sends) or, for PUT, a bare string; items are names or `{"name": ...}`."""
    items = body.get("labels", []) if isinstance(body, dict) else body
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise ApiError(422, "Invalid request.\n\nlabels must be an array.")
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise ApiError(422, "Invalid request.\n\nA label name must be a non-empty string.")
        names.append(name)
    return names
