"""Git data through the API: trees, directory listings, files, blobs, branches, commits, and the
writes that make a commit on a branch without a clone (a tree, a commit, the ref)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import quote

from release_tool.github_api.client import Client
from release_tool.github_api.errors import GitHubError
from release_tool.github_api.types import (
    BranchHead,
    CommitInfo,
    TreeEntry,
    TreeListing,
    content_entry,
)


class GitData(Client):
    """The git-data calls of the client."""

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
        return tuple(content_entry(item) for item in data)

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
