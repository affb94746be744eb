"""Git data: refs, commits, trees, blobs, annotated tags, and the contents API on top of them.

Every write is a real object in the bare repository (see `store`); ref moves check the old
value, so they cannot silently undo a concurrent push.
"""

from __future__ import annotations

from release_tool.sandbox import shapes
from release_tool.sandbox import store as gs
from release_tool.sandbox.rest import (
    ApiError,
    Operations,
    Request,
    Response,
    b64,
    field,
    flag,
    invalid,
    not_found,
    page,
    person,
    required,
    route,
    strings,
    text,
    valid_ref,
)

CONTENTS_LISTING_CAP = 1000  # entries of a directory GET contents/{path} lists, at most
CONTENTS_INLINE_SIZE = 1024 * 1024  # a file larger than 1 MB comes without its content
CONTENTS_MAX_SIZE = 100 * 1024 * 1024  # larger than 100 MB: not served by the contents API


class GitOps(Operations):
    """GitHub's Git database API and contents API."""

    # -- refs -------------------------------------------------------------------------------

    @route("GET", "/repos/{owner}/{repo}/git/ref/{ref}", "read", "git/refs#get-a-reference")
    def get_ref(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        full_name, name = f"{owner}/{repo}", "refs/" + ref.removeprefix("refs/")
        found = self.store.ref(full_name, name)
        if found is None:
            raise not_found()
        return Response(200, shapes.git_ref(self.urls, full_name, name, *found))

    # The older plural form, which GitHub still answers and PyGithub can be told to use.
    @route("GET", "/repos/{owner}/{repo}/git/refs/{ref}", "read", "git/refs#get-a-reference")
    def get_ref_plural(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        return self.get_ref(req, owner, repo, ref)

    @route(
        "GET",
        "/repos/{owner}/{repo}/git/matching-refs/{ref}",
        "read",
        "git/refs#list-matching-references",
    )
    def list_matching_refs(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        full_name = f"{owner}/{repo}"
        found = self.store.refs(full_name, "refs/" + ref.removeprefix("refs/"))
        return Response(
            200,
            [shapes.git_ref(self.urls, full_name, r, sha, kind) for r, sha, kind in sorted(found)],
        )

    # Every ref, paged: older than matching-refs, and still what PyGithub's get_git_refs() uses.
    @route("GET", "/repos/{owner}/{repo}/git/refs", "read", "git/refs#list-matching-references")
    def list_refs(self, req: Request, owner: str, repo: str) -> Response:
        full_name = f"{owner}/{repo}"
        found = sorted(self.store.refs(full_name, "refs/"))
        return page(req, [shapes.git_ref(self.urls, full_name, *r) for r in found], self.urls)

    @route("POST", "/repos/{owner}/{repo}/git/refs", "write", "git/refs#create-a-reference")
    def create_ref(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        ref, sha = required(body, "ref"), required(body, "sha")
        if not ref.startswith("refs/") or ref.count("/") < 2 or not valid_ref(ref):
            raise ApiError(422, f"{ref} is not a valid ref name.")
        if self.store.object_type(full_name, sha) is None:
            raise ApiError(422, "Object does not exist")
        self.check_workflows(req, full_name, sha)
        try:
            self.store.update_ref(full_name, ref, sha, None)
        except gs.RefConflict:
            # The message is GitHub's; `errors` lets a client tell this 422 from the others.
            raise ApiError(
                422,
                "Reference already exists",
                errors=[
                    {
                        "resource": "Reference",
                        "field": "ref",
                        "code": "already_exists",
                        "message": "Reference already exists",
                    }
                ],
            ) from None
        found = self.store.ref(full_name, ref)
        assert found is not None  # just created
        return self.created(shapes.git_ref(self.urls, full_name, ref, *found))

    @route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", "write", "git/refs#update-a-reference")
    def update_ref(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        name = "refs/" + ref.removeprefix("refs/")
        sha = required(body, "sha")
        force = flag(body, "force", False)
        current = self.store.ref(full_name, name)
        if current is None:
            raise ApiError(422, "Reference does not exist")
        kind = self.store.object_type(full_name, sha)
        if kind is None:
            raise ApiError(422, "Object does not exist")
        if (
            not force
            and kind == "commit"
            and current[1] == "commit"
            and not self.store.is_ancestor(full_name, current[0], sha)
        ):
            raise ApiError(422, "Update is not a fast forward")
        self.check_workflows(req, full_name, sha)
        try:
            self.store.update_ref(full_name, name, sha, current[0])
        except gs.RefConflict:
            raise ApiError(422, "Reference cannot be updated") from None
        found = self.store.ref(full_name, name)
        assert found is not None  # just updated
        return Response(200, shapes.git_ref(self.urls, full_name, name, *found))

    @route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", "write", "git/refs#delete-a-reference")
    def delete_ref(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        full_name, name = f"{owner}/{repo}", "refs/" + ref.removeprefix("refs/")
        current = self.store.ref(full_name, name)
        if current is None:
            raise ApiError(422, "Reference does not exist")
        try:
            self.store.delete_ref(full_name, name, current[0])
        except gs.RefConflict:
            raise ApiError(422, "Reference cannot be updated") from None
        return Response(204)

    # -- commits, trees, blobs, tags ----------------------------------------------------------

    @route(
        "GET",
        "/repos/{owner}/{repo}/git/commits/{commit_sha}",
        "read",
        "git/commits#get-a-commit-object",
    )
    def get_commit(self, req: Request, owner: str, repo: str, commit_sha: str) -> Response:
        full_name = f"{owner}/{repo}"
        commit = self.commit_or_404(full_name, commit_sha)
        return Response(200, shapes.git_commit(self.urls, full_name, commit))

    @route("POST", "/repos/{owner}/{repo}/git/commits", "write", "git/commits#create-a-commit")
    def create_commit(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        message, tree = required(body, "message"), required(body, "tree")
        parents = strings(body, "parents")
        author = person(body, "author", self.default_person(req))
        committer = person(body, "committer", author)
        if self.store.object_type(full_name, tree) != "tree":
            raise ApiError(422, "Tree SHA does not exist")
        for parent in parents:
            if self.store.object_type(full_name, parent) != "commit":
                raise ApiError(422, "Parent SHA does not exist or is not a commit object")
        sha = self.store.write_commit(full_name, tree, parents, message, author, committer)
        commit = self.commit_or_404(full_name, sha)
        return self.created(shapes.git_commit(self.urls, full_name, commit))

    @route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", "read", "git/trees#get-a-tree")
    def get_tree(self, req: Request, owner: str, repo: str, tree_sha: str) -> Response:
        full_name = f"{owner}/{repo}"
        sha = self.store.resolve_tree(full_name, tree_sha)
        if sha is None:
            raise not_found()
        # GitHub: "Setting this parameter to any value returns the objects or subtrees".
        recursive = "recursive" in req.query
        entries = self.store.tree(full_name, sha, recursive=recursive)
        return Response(200, shapes.git_tree(self.urls, full_name, sha, entries))

    @route("POST", "/repos/{owner}/{repo}/git/trees", "write", "git/trees#create-a-tree")
    def create_tree(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        items = field(body, "tree", list, needed=True) or []
        base = text(body, "base_tree")
        if base is not None and self.store.object_type(full_name, base) != "tree":
            raise ApiError(422, "base_tree is not a valid tree oid")
        entries = []
        for item in items:
            if not isinstance(item, dict):
                raise ApiError(
                    422, "Invalid request.\n\nFor 'items', tree entries must be objects."
                )
            path, mode = required(item, "path"), required(item, "mode")
            kind = required(item, "type")
            content = text(item, "content")
            if content is not None and item.get("sha") is not None:
                raise ApiError(422, "Must supply either tree.sha or tree.content, not both")
            if content is None and "sha" not in item:
                raise ApiError(422, "Must supply either tree.sha or tree.content")
            entries.append(
                gs.NewEntry(
                    path,
                    mode,
                    kind,
                    text(item, "sha"),
                    None if content is None else content.encode(),
                )
            )
        try:
            sha = self.store.write_tree(full_name, entries, base)
        except gs.TreeError as exc:
            raise ApiError(422, str(exc)) from None
        tree = shapes.git_tree(self.urls, full_name, sha, self.store.tree(full_name, sha))
        return self.created(tree)

    @route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", "read", "git/blobs#get-a-blob")
    def get_blob(self, req: Request, owner: str, repo: str, file_sha: str) -> Response:
        full_name = f"{owner}/{repo}"
        data = self.store.blob(full_name, file_sha)
        if data is None:
            raise not_found()
        if "raw" in req.accept:
            return Response(200, raw=data)
        return Response(200, shapes.blob(self.urls, full_name, file_sha, data))

    @route("POST", "/repos/{owner}/{repo}/git/blobs", "write", "git/blobs#create-a-blob")
    def create_blob(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        content = required(body, "content")
        encoding = (text(body, "encoding") or "utf-8").lower()
        if encoding in ("utf-8", "utf8"):
            data = content.encode()
        elif encoding == "base64":
            data = b64(content)
        else:
            raise ApiError(422, f"encoding must be one of utf-8 or base64, got {encoding!r}")
        sha = self.store.write_blob(full_name, data)
        return self.created(shapes.short_blob(self.urls, full_name, sha))

    @route("POST", "/repos/{owner}/{repo}/git/tags", "write", "git/tags#create-a-tag-object")
    def create_tag(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        tag, message = required(body, "tag"), required(body, "message")
        obj, kind = required(body, "object"), required(body, "type")
        if kind not in ("commit", "tree", "blob") or self.store.object_type(full_name, obj) != kind:
            raise ApiError(422, "Object does not exist")
        if not valid_ref(f"refs/tags/{tag}"):
            raise invalid("Tag", "tag")
        tagger = person(body, "tagger", self.default_person(req))
        sha = self.store.write_tag(full_name, tag, message, obj, kind, tagger)
        found = self.store.tag(full_name, sha)
        assert found is not None  # just written
        return self.created(shapes.git_tag(self.urls, full_name, found))

    @route("GET", "/repos/{owner}/{repo}/git/tags/{tag_sha}", "read", "git/tags#get-a-tag")
    def get_tag(self, req: Request, owner: str, repo: str, tag_sha: str) -> Response:
        full_name = f"{owner}/{repo}"
        found = self.store.tag(full_name, tag_sha)
        if found is None:
            raise not_found()
        return Response(200, shapes.git_tag(self.urls, full_name, found))

    # -- contents ---------------------------------------------------------------------------

    @route(
        "GET",
        "/repos/{owner}/{repo}/contents/{path}",
        "read",
        "repos/contents#get-repository-content",
    )
    def get_content(self, req: Request, owner: str, repo: str, path: str) -> Response:
        full_name = f"{owner}/{repo}"
        path = path.strip("/")
        ref = req.arg("ref") or self.store.default_branch(full_name)
        commit = self.store.resolve_commit(full_name, ref)
        if commit is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        entry = self.store.entry_at(full_name, commit, path)
        if entry is None:
            raise not_found()
        if entry.type == "tree":
            # As GitHub: "This API has an upper limit of 1,000 files for a directory"; more
            # than that needs the Git Trees API.
            children = self.store.tree(full_name, entry.sha)[:CONTENTS_LISTING_CAP]
            prefix = f"{path}/" if path else ""
            return Response(
                200,
                [
                    shapes.content_entry(
                        self.urls,
                        full_name,
                        ref,
                        gs.Entry(c.mode, c.type, c.sha, prefix + c.path, c.size),
                    )
                    for c in children
                ],
            )
        if entry.type == "commit":
            url = self._submodule_url(full_name, commit, path)
            return Response(200, shapes.content_submodule(self.urls, full_name, ref, entry, url))
        if entry.mode == "120000":
            target = (self.store.blob(full_name, entry.sha) or b"").decode(errors="replace")
            # GitHub: a symlink to a regular file of the repository answers with that file;
            # any other symlink answers with the link itself.
            followed = self._symlink_target(full_name, commit, path, target)
            if followed is None:
                if "raw" in req.accept:
                    return Response(200, raw=target.encode())
                return Response(
                    200, shapes.content_symlink(self.urls, full_name, ref, entry, target)
                )
            entry = followed
        size = entry.size or 0
        if size > CONTENTS_MAX_SIZE:
            raise ApiError(
                403,
                "This API returns blobs up to 100 MB in size. The requested blob is too large "
                "to fetch via the API, but you can use the Git Data API to request blobs up to "
                "100 MB in size.",
                errors=[{"resource": "Blob", "field": "data", "code": "too_large"}],
            )
        if "raw" in req.accept:
            return Response(200, raw=self.store.blob(full_name, entry.sha) or b"")
        data = None if size > CONTENTS_INLINE_SIZE else self.store.blob(full_name, entry.sha)
        return Response(200, shapes.content_file(self.urls, full_name, ref, entry, data))

    def _symlink_target(
        self, full_name: str, commit: str, path: str, target: str
    ) -> gs.Entry | None:
        """The regular file a symlink points at (inside the repository), or None."""
        if target.startswith("/"):
            return None
        parts: list[str] = path.split("/")[:-1]
        for part in target.split("/"):
            if part == "..":
                if not parts:
                    return None  # outside the repository
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        if not parts:
            return None
        found = self.store.entry_at(full_name, commit, "/".join(parts))
        if found is None or found.mode not in ("100644", "100755"):
            return None
        return found

    def _submodule_url(self, full_name: str, commit: str, path: str) -> str:
        """The URL `.gitmodules` gives the submodule at `path` ('' if it gives none)."""
        out = self.store.git(
            full_name,
            "config",
            "--blob",
            f"{commit}:.gitmodules",
            "--get-regexp",
            r"^submodule\..*\.(path|url)$",
            check=False,
        ).decode(errors="replace")
        paths: dict[str, str] = {}
        found: dict[str, str] = {}
        for line in out.splitlines():
            key, _, value = line.partition(" ")
            name, _, kind = key.removeprefix("submodule.").rpartition(".")
            (paths if kind == "path" else found)[name] = value
        for name, sub_path in paths.items():
            if sub_path == path:
                return found.get(name, "")
        return ""

    @route(
        "PUT",
        "/repos/{owner}/{repo}/contents/{path}",
        "write",
        "repos/contents#create-or-update-file-contents",
    )
    def put_content(self, req: Request, owner: str, repo: str, path: str) -> Response:
        full_name, body, path = f"{owner}/{repo}", req.obj(), path.strip("/")
        message = required(body, "message")
        content = required(body, "content")
        data = b64(content)
        branch = text(body, "branch") or self.store.default_branch(full_name)
        head = self.store.ref(full_name, f"refs/heads/{branch}")
        if head is None:
            raise ApiError(404, f"Branch {branch} not found")
        commit = self.commit_or_404(full_name, head[0])
        existing = self.store.entry_at(full_name, commit.sha, path) if path else None
        sha = text(body, "sha")
        if existing is not None and sha is None:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if existing is not None and sha != existing.sha:
            raise ApiError(409, f"{path} does not match {sha}")
        author = person(body, "author", self.default_person(req))
        committer = person(body, "committer", author)
        try:
            tree = self.store.write_tree(
                full_name, [gs.NewEntry(path, "100644", "blob", content=data)], commit.tree
            )
        except gs.TreeError as exc:
            raise ApiError(422, str(exc)) from None
        new = self.store.write_commit(full_name, tree, [commit.sha], message, author, committer)
        self.check_workflows(req, full_name, new)
        try:
            self.store.update_ref(full_name, f"refs/heads/{branch}", new, commit.sha)
        except gs.RefConflict:
            raise ApiError(409, f"{branch} was updated meanwhile; retry") from None
        entry = self.store.entry_at(full_name, new, path)
        assert entry is not None  # just written
        written = self.commit_or_404(full_name, new)
        result = {
            "content": shapes.content_entry(self.urls, full_name, branch, entry),
            "commit": shapes.git_commit(self.urls, full_name, written),
        }
        return Response(200 if existing else 201, result)
