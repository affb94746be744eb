"""Releases: create (tagging `target_commitish` when the tag is missing), get, list, latest,
update, and generated notes. Assets are in `ops_assets`.

As on GitHub, a tag is held by at most one *published* release: several drafts may name the same
tag (a draft has no tag yet), and a release may be published beside them; publishing a draft
whose tag another published release holds is refused.

`make_latest: "true"` on an update of a draft or a pre-release is refused ("Latest release cannot
be draft or prerelease"); GitHub judges the draft flag as the release stands, so a draft cannot be
published and made latest in one request (`gh release edit --draft=false --latest` fails). On
creation the flag is accepted and has no effect on a draft or pre-release: PyGithub's
`create_git_release` always sends `make_latest: "true"`, drafts included, and GitHub takes it.
"""

from __future__ import annotations

import contextlib

from release_tool.sandbox import shapes_releases
from release_tool.sandbox import state as st
from release_tool.sandbox import store as gs
from release_tool.sandbox.rest import (
    ApiError,
    Operations,
    Request,
    Response,
    flag,
    invalid,
    not_found,
    page,
    required,
    route,
    text,
    valid_ref,
)
from release_tool.sandbox.shapes import Json


class ReleaseOps(Operations):
    """The release operations."""

    # -- releases ---------------------------------------------------------------------------

    def _release_json(self, rel: st.Release) -> Json:
        assets = [
            shapes_releases.asset(self.urls, a, rel.tag_name, self.user_json(a.uploader))
            for a in self.state.assets(rel.repo, rel.id)
        ]
        return shapes_releases.release(self.urls, rel, self.user_json(rel.author), assets)

    def _tag_taken(self, full_name: str, tag: str, by_other_than: st.Release | None) -> bool:
        """Whether a published release (other than `by_other_than`) holds `tag`."""
        return any(
            r.tag_name == tag and not r.draft and r is not by_other_than
            for r in self.state.releases(full_name)
        )

    def _visible_releases(self, req: Request, full_name: str) -> list[st.Release]:
        writer = self.access.can_write(req.user, full_name)
        return [r for r in self.state.releases(full_name) if writer or not r.draft]

    def _release_or_404(self, req: Request, full_name: str, release_id: str) -> st.Release:
        found = self.state.release(full_name, int(release_id)) if release_id.isdigit() else None
        if found is None or (found.draft and not self.access.can_write(req.user, full_name)):
            raise not_found()
        return found

    @route("GET", "/repos/{owner}/{repo}/releases", "read", "releases/releases#list-releases")
    def list_releases(self, req: Request, owner: str, repo: str) -> Response:
        full_name = f"{owner}/{repo}"
        # Newest first, drafts (which have no date of their own yet) ahead of the rest.
        ordered = sorted(
            self._visible_releases(req, full_name),
            key=lambda r: (r.draft, r.created_at, r.id),
            reverse=True,
        )
        return page(req, [self._release_json(r) for r in ordered], self.urls)

    @route(
        "GET",
        "/repos/{owner}/{repo}/releases/latest",
        "read",
        "releases/releases#get-the-latest-release",
    )
    def get_latest_release(self, req: Request, owner: str, repo: str) -> Response:
        full_name = f"{owner}/{repo}"
        latest = self._latest(full_name)
        if latest is None:
            raise not_found()
        return Response(200, self._release_json(latest))

    def _latest(self, full_name: str) -> st.Release | None:
        """The release marked latest, else the newest published non-prerelease (GitHub's
        "legacy" rule)."""
        eligible = [
            r
            for r in self.state.releases(full_name)
            if not r.draft and not r.prerelease and r.make_latest != "false"
        ]
        marked = self.state.repo(full_name).latest_release
        for rel in eligible:
            if rel.id == marked:
                return rel
        return max(eligible, key=lambda r: (r.created_at, r.id), default=None)

    @route(
        "GET",
        "/repos/{owner}/{repo}/releases/tags/{tag}",
        "read",
        "releases/releases#get-a-release-by-tag-name",
    )
    def get_release_by_tag(self, req: Request, owner: str, repo: str, tag: str) -> Response:
        full_name = f"{owner}/{repo}"
        # A draft has no tag yet, so GitHub never finds one by tag.
        for rel in self.state.releases(full_name):
            if rel.tag_name == tag and not rel.draft:
                return Response(200, self._release_json(rel))
        raise not_found()

    @route(
        "GET",
        "/repos/{owner}/{repo}/releases/{release_id}",
        "read",
        "releases/releases#get-a-release",
    )
    def get_release(self, req: Request, owner: str, repo: str, release_id: str) -> Response:
        rel = self._release_or_404(req, f"{owner}/{repo}", release_id)
        return Response(200, self._release_json(rel))

    @route("POST", "/repos/{owner}/{repo}/releases", "write", "releases/releases#create-a-release")
    def create_release(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        tag = required(body, "tag_name")
        if not valid_ref(f"refs/tags/{tag}"):
            raise invalid("Release", "tag_name")
        target = text(body, "target_commitish") or self.store.default_branch(full_name)
        draft, prerelease = flag(body, "draft", False), flag(body, "prerelease", False)
        if not draft and self._tag_taken(full_name, tag, None):
            raise invalid("Release", "tag_name", "already_exists")
        make_latest = self._make_latest(body, False)
        name, notes_text = text(body, "name"), text(body, "body")
        if flag(body, "generate_release_notes", False):
            notes = self._notes(full_name, tag, target, None)
            name, notes_text = name or notes["name"], (notes_text or "") + notes["body"]
        tag_missing = self.store.ref(full_name, f"refs/tags/{tag}") is None
        if tag_missing and self.store.resolve_commit(full_name, target) is None:
            raise invalid("Release", "target_commitish")
        stamp = st.now()
        with self.state.transaction():
            rel = st.Release(
                self.state.new_id(),
                full_name,
                tag,
                target,
                name,
                notes_text,
                draft,
                prerelease,
                req.user or "ghost",
                stamp,
                None if draft else stamp,
                stamp,
                make_latest,
            )
            if not draft:
                self._publish(rel)
            self.state.add_release(rel)
        return self.created(self._release_json(rel))

    def _make_latest(self, body: Json, draft_or_prerelease: bool) -> str:
        value = text(body, "make_latest")
        if value not in (None, "true", "false", "legacy"):
            raise invalid("Release", "make_latest")
        if value == "true" and draft_or_prerelease:
            raise ApiError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "Release",
                        "code": "custom",
                        "field": "make_latest",
                        "message": "Latest release cannot be draft or prerelease",
                    }
                ],
            )
        return value or "true"

    def _publish(self, rel: st.Release) -> None:
        """What publishing does besides the flag: the tag is created at `target_commitish` if
        it does not exist yet (as GitHub does), and `make_latest: true` marks the release."""
        ref = f"refs/tags/{rel.tag_name}"
        if self.store.ref(rel.repo, ref) is None:
            commit = self.store.resolve_commit(rel.repo, rel.target_commitish)
            if commit is None:
                raise invalid("Release", "target_commitish")
            # Pushed meanwhile: the tag that is there now is the release's tag.
            with contextlib.suppress(gs.RefConflict):
                self.store.update_ref(rel.repo, ref, commit, None)
        rel.published_at = rel.published_at or st.now()
        if rel.make_latest == "true" and not rel.prerelease:
            self.state.repo(rel.repo).latest_release = rel.id

    @route(
        "PATCH",
        "/repos/{owner}/{repo}/releases/{release_id}",
        "write",
        "releases/releases#update-a-release",
    )
    def update_release(self, req: Request, owner: str, repo: str, release_id: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        rel = self._release_or_404(req, full_name, release_id)
        tag = text(body, "tag_name") or rel.tag_name
        if tag != rel.tag_name and not valid_ref(f"refs/tags/{tag}"):
            raise invalid("Release", "tag_name")
        draft = flag(body, "draft", rel.draft)
        prerelease = flag(body, "prerelease", rel.prerelease)
        if not draft and self._tag_taken(full_name, tag, rel):
            raise invalid("Release", "tag_name", "already_exists")
        make_latest = (
            self._make_latest(body, rel.draft or draft or prerelease)
            if "make_latest" in body
            else rel.make_latest
        )
        with self.state.transaction():
            rel.tag_name = tag
            rel.target_commitish = text(body, "target_commitish") or rel.target_commitish
            if "name" in body:
                rel.name = text(body, "name")
            if "body" in body:
                rel.body = text(body, "body")
            rel.prerelease, rel.draft, rel.make_latest = prerelease, draft, make_latest
            rel.updated_at = st.now()
            if rel.draft:
                rel.published_at = None
            else:
                self._publish(rel)
        return Response(200, self._release_json(rel))

    @route(
        "POST",
        "/repos/{owner}/{repo}/releases/generate-notes",
        "write",
        "releases/releases#generate-release-notes-content-for-a-release",
    )
    def generate_notes(self, req: Request, owner: str, repo: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        tag = required(body, "tag_name")
        target = text(body, "target_commitish") or self.store.default_branch(full_name)
        return Response(200, self._notes(full_name, tag, target, text(body, "previous_tag_name")))

    def _notes(self, full_name: str, tag: str, target: str, previous: str | None) -> Json:
        """GitHub's generated notes, simplified: one line per commit subject between the
        previous tag and the tag (its target, when the tag does not exist yet), then the
        compare link. The previous tag, unless given, is the latest release's tag when that is
        an ancestor, else the nearest tag below the release's commit."""
        head = self.store.resolve_commit(
            full_name, f"refs/tags/{tag}"
        ) or self.store.resolve_commit(full_name, target)
        if head is None:
            raise invalid("Release", "target_commitish")
        if previous is None:
            previous = self._previous_tag(full_name, tag, head)
        elif self.store.resolve_commit(full_name, f"refs/tags/{previous}") is None:
            raise invalid("Release", "previous_tag_name")
        since = [f"^refs/tags/{previous}"] if previous else []
        log = self.store.git(full_name, "log", "--format=%s", head, *since, "--")
        lines = ["## What's Changed", *(f"* {subject}" for subject in log.decode().splitlines())]
        html = self.urls.html(full_name)
        changelog = f"{html}/compare/{previous}...{tag}" if previous else f"{html}/commits/{tag}"
        lines += ["", f"**Full Changelog**: {changelog}"]
        return {"name": tag, "body": "\n".join(lines)}

    def _previous_tag(self, full_name: str, tag: str, head: str) -> str | None:
        latest = self._latest(full_name)
        if latest is not None and latest.tag_name != tag:
            sha = self.store.resolve_commit(full_name, f"refs/tags/{latest.tag_name}")
            if sha and sha != head and self.store.is_ancestor(full_name, sha, head):
                return latest.tag_name
        parents = self.commit_or_404(full_name, head).parents
        if not parents:
            return None
        found = (
            self.store.git(full_name, "describe", "--tags", "--abbrev=0", parents[0], check=False)
            .decode()
            .strip()
        )
        return found or None
