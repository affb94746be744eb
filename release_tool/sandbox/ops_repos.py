"""Users, repositories, branches, forks and fork sync."""

from __future__ import annotations

import time

from release_tool.sandbox import shapes
from release_tool.sandbox import state as st
from release_tool.sandbox import store as gs
from release_tool.sandbox.access import is_full_name
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
    text,
)
from release_tool.sandbox.shapes import Json


class RepoOps(Operations):
    """The operations on users and whole repositories."""

    # -- users and limits -------------------------------------------------------------------

    @route("GET", "/user", "auth", "users/users#get-the-authenticated-user")
    def get_authenticated_user(self, req: Request) -> Response:
        assert req.user is not None
        if req.token is not None and req.token.kind == "installation":
            raise ApiError(403, "Resource not accessible by integration")
        return Response(200, self._full_user(req.user, private=True))

    @route("GET", "/users/{username}", "read", "users/users#get-a-user")
    def get_user(self, req: Request, username: str) -> Response:
        owners = [p.name for p in self.store.root.iterdir() if p.is_dir() and p.name[0] != "."]
        # Logins are case-insensitive; the answer spells the login as it is.
        for login in (*self.access.users, *owners):
            if login.lower() == username.lower():
                return Response(200, self._full_user(login, private=False))
        raise not_found()

    def _full_user(self, login: str, *, private: bool) -> Json:
        owned = [r for r in self.store.repositories() if r.startswith(login + "/")]
        return shapes.full_user(
            self.user_json(login),
            created_at="2020-01-01T00:00:00Z",
            public_repos=len(owned),
            private=private,
        )

    @route(
        "GET",
        "/rate_limit",
        "read",
        "rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user",
    )
    def get_rate_limit(self, req: Request) -> Response:
        reset = self.started + 3600
        core = shapes.rate(5000 if req.user else 60, 0, reset)
        return Response(
            200,
            {
                "resources": {
                    "core": core,
                    "search": shapes.rate(30, 0, reset),
                    "graphql": shapes.rate(5000, 0, reset),
                },
                "rate": core,
            },
        )

    # -- repositories -----------------------------------------------------------------------

    @route("GET", "/repos/{owner}/{repo}", "read", "repos/repos#get-a-repository")
    def get_repo(self, req: Request, owner: str, repo: str) -> Response:
        return Response(200, self.repo_json(req, f"{owner}/{repo}"))

    @route("PATCH", "/repos/{owner}/{repo}", "write", "repos/repos#update-a-repository")
    def update_repo(self, req: Request, owner: str, repo: str) -> Response:
        """Only `name` is acted on: renaming leaves the old name redirecting, as on GitHub.
        Other fields GitHub accepts (description, homepage, ...) are accepted and ignored."""
        full_name, body = f"{owner}/{repo}", req.obj()
        if self.access.level(req.user, full_name) != "admin":
            raise forbidden()
        name = text(body, "name")
        if name and name != repo:
            new = f"{owner}/{name}"
            if not is_full_name(new):
                raise invalid("Repository", "name")
            found = self.store.canonical(new)
            if found is not None and found != full_name:  # a case-only change is a rename
                raise custom("Repository", "name already exists on this account")
            rename(self.store, self.state, full_name, new)
            full_name = new
        return Response(200, self.repo_json(req, full_name))

    @route(
        "GET", "/repos/{owner}/{repo}/branches/{branch}", "read", "branches/branches#get-a-branch"
    )
    def get_branch(self, req: Request, owner: str, repo: str, branch: str) -> Response:
        full_name = f"{owner}/{repo}"
        found = self.store.ref(full_name, f"refs/heads/{branch}")
        if found is None:
            raise ApiError(404, "Branch not found")
        commit = self.commit_or_404(full_name, found[0])
        return Response(200, shapes.branch(self.urls, full_name, branch, commit))

    # -- collaborators ----------------------------------------------------------------------

    @route(
        "GET",
        "/repos/{owner}/{repo}/collaborators/{username}",
        "auth",
        "collaborators/collaborators#check-if-a-user-is-a-repository-collaborator",
    )
    def check_collaborator(self, req: Request, owner: str, repo: str, username: str) -> Response:
        """204 when `username` may write the repository (its owner, a grant, a collaborator),
        404 when not; only a user who may push there may ask (403)."""
        full_name = f"{owner}/{repo}"
        if not self.access.can_write(req.user, full_name):
            raise ApiError(403, "Must have push access to view repository collaborators.")
        if not self.access.can_write(username, full_name):
            raise not_found()
        return Response(204)

    # -- forks ------------------------------------------------------------------------------

    @route("GET", "/repos/{owner}/{repo}/forks", "read", "repos/forks#list-forks")
    def list_forks(self, req: Request, owner: str, repo: str) -> Response:
        forks = [
            m
            for m in self.state.forks_of(f"{owner}/{repo}")
            if self.store.exists(m.full_name) and self.ready(m.full_name)
        ]
        newest_first = req.arg("sort", "newest") != "oldest"
        forks.sort(key=lambda m: (m.created_at, m.id), reverse=newest_first)
        return page(req, [self.repo_json(req, m.full_name, nested=True) for m in forks], self.urls)

    @route("POST", "/repos/{owner}/{repo}/forks", "auth", "repos/forks#create-a-fork")
    def create_fork(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        assert req.user is not None
        target_owner = self._fork_owner(req, text(body, "organization"))
        name = text(body, "name") or repo
        # Forking again returns the fork that exists; a name taken by another repository
        # gets a numbered suffix, as on GitHub.
        for fork in self.state.forks_of(full_name):
            if fork.full_name.split("/", 1)[
                0
            ].lower() == target_owner.lower() and self.store.exists(fork.full_name):
                return Response(202, self.repo_json(req, fork.full_name))
        candidate, n = f"{target_owner}/{name}", 0
        while self.store.exists(candidate):
            n += 1
            candidate = f"{target_owner}/{name}-{n}"
        if not is_full_name(candidate):
            raise invalid("Repository", "name")
        self.store.clone_bare(self.store.path(full_name), candidate)
        if flag(body, "default_branch_only", False):
            default = self.store.default_branch(full_name)
            for ref, _, _ in self.store.refs(candidate, "refs/heads/"):
                if ref != f"refs/heads/{default}":
                    self.store.git(candidate, "update-ref", "-d", ref)
        # GitHub creates the fork in the background: it answers 202 at once, and the fork
        # appears (to the API and to git) a moment later.
        ready_at = time.time() + self.fork_delay if self.fork_delay > 0 else None
        self.state.add_repo(
            st.RepoMeta(
                candidate,
                self.state.new_id(),
                st.now(),
                parent=full_name,
                forked_by=req.user,
                ready_at=ready_at,
            )
        )
        return Response(202, self.repo_json(req, candidate))

    def _fork_owner(self, req: Request, organization: str | None) -> str:
        """Where a fork goes: the user's namespace, or an organization the user is a member
        of (spelled as the organization's directory is)."""
        assert req.user is not None
        if organization is None or organization.lower() == req.user.lower():
            return req.user
        known = [p.name for p in self.store.root.iterdir() if p.is_dir() and p.name[0] != "."]
        spelled = next((n for n in known if n.lower() == organization.lower()), organization)
        if spelled.lower() in (u.lower() for u in self.access.users):
            raise invalid("Fork", "organization")  # a user's namespace, not an organization
        if not self.access.is_member(req.user, spelled):
            raise forbidden(req.token)
        return spelled

    @route(
        "POST",
        "/repos/{owner}/{repo}/merge-upstream",
        "write",
        "branches/branches#sync-a-fork-branch-with-the-upstream-repository",
    )
    def merge_upstream(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        branch = required(body, "branch")
        upstream = self.state.repo(full_name).parent
        if upstream is None or not self.store.exists(upstream):
            raise ApiError(422, "This repository is not a fork")
        label = f"{upstream.split('/', 1)[0]}:{branch}"
        ours = self.store.ref(full_name, f"refs/heads/{branch}")
        if ours is None or self.store.ref(upstream, f"refs/heads/{branch}") is None:
            raise ApiError(422, f"Branch {branch} does not exist in both repositories")
        scratch = "refs/sandbox/upstream"
        self.store.fetch(full_name, upstream, f"refs/heads/{branch}", scratch)
        try:
            theirs = self.store.resolve_commit(full_name, scratch)
            assert theirs is not None  # just fetched
            if self.store.is_ancestor(full_name, theirs, ours[0]):
                return Response(
                    200,
                    {
                        "message": f"This branch is not behind the upstream {label}.",
                        "merge_type": "none",
                        "base_branch": label,
                    },
                )
            if self.store.is_ancestor(full_name, ours[0], theirs):
                new, kind, verb = theirs, "fast-forward", "fast-forwarded"
            else:
                tree = self.store.merge_tree(full_name, ours[0], theirs)
                if tree is None:
                    raise ApiError(409, "There are merge conflicts")
                person = self.default_person(req)
                new = self.store.write_commit(
                    full_name,
                    tree,
                    [ours[0], theirs],
                    f"Merge branch '{branch}' of {self.urls.clone(upstream)} into {branch}\n",
                    person,
                    person,
                )
                kind, verb = "merge", "merged"
            self.check_workflows(req, full_name, new)
            try:
                self.store.update_ref(full_name, f"refs/heads/{branch}", new, ours[0])
            except gs.RefConflict:
                raise ApiError(409, f"{branch} was updated meanwhile; retry") from None
        finally:
            self.store.git(full_name, "update-ref", "-d", scratch, check=False)
        return Response(
            200,
            {
                "message": f"Successfully fetched and {verb} from upstream {label}.",
                "merge_type": kind,
                "base_branch": label,
            },
        )


def rename(store: gs.GitStore, state: st.State, old: str, new: str) -> None:
    """Rename (or transfer) repository `old` to `new`: its directory, everything recorded for
    it, and a redirect from the old name. The caller holds the root and the state lock."""
    if store.exists(new) and store.canonical(new) != old:
        raise ValueError(f"{new} exists already")
    if new.lower() == old.lower():  # only the case changes: through a scratch name
        scratch = f"{old}.renaming"
        store.move(old, scratch)
        store.move(scratch, new)
    else:
        store.move(old, new)
    state.rename_repo(old, new)
