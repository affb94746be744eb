"""Releases: find the one of a tag (drafts too, and the tool's own draft), create, update,
publish; their assets (list, upload, delete); GitHub's generated notes.

`make_latest`: GitHub refuses "Latest release cannot be draft or prerelease", so a draft or a
pre-release is always created and updated with `make_latest: "false"`; a final release is
created with "true"; a draft published as a final release is made the latest right after
(a second request: a release that is still a draft when the request is judged cannot be).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from release_tool.github_api.client import Client
from release_tool.github_api.types import AssetInfo, ReleaseInfo, asset_info, release_info


def _latest(draft: bool, prerelease: bool, *, creating: bool) -> dict[str, str]:
    if draft or prerelease:
        return {"make_latest": "false"}
    return {"make_latest": "true"} if creating else {}


class Releases(Client):
    """The release calls of the client."""

    def release_by_tag(
        self, full_name: str, tag: str, *, drafts: bool = False, marker: str | None = None
    ) -> ReleaseInfo | None:
        """The release of `tag`, or None.

        GET releases/tags/{tag} never returns a draft (a draft is not attached to its tag until
        published), so with `drafts` the first page of releases is searched as well (GitHub
        lists drafts first). GitHub lets several drafts name one tag: with `marker`, only a
        draft whose body holds it is taken (the tool's own, never someone else's).
        """
        from github.GithubException import UnknownObjectException

        with self._doing(f"reading the release {tag} of {full_name}"):
            try:
                release = self._repo(full_name).get_release(tag)
                return release_info(release.raw_data)
            except UnknownObjectException:
                pass
        if not drafts:
            return None
        return self.draft_of(full_name, tag, marker)

    def draft_of(self, full_name: str, tag: str, marker: str | None = None) -> ReleaseInfo | None:
        """A draft release for `tag` (with `marker`: one whose body holds it), or None."""
        with self._doing(f"looking for a draft release {tag} on {full_name}"):
            listed = self._json("GET", f"/repos/{full_name}/releases", parameters={"per_page": 100})
        for item in listed:
            if item.get("tag_name") != tag or not item.get("draft"):
                continue
            if marker is None or marker in str(item.get("body") or ""):
                return release_info(item)
        return None

    def create_release(
        self,
        full_name: str,
        *,
        tag: str,
        name: str,
        body: str,
        draft: bool,
        prerelease: bool,
        marker: str | None = None,
    ) -> ReleaseInfo:
        """POST releases. After a failure that may hide a success, the release is looked
        for first: the published one of the tag, or (a draft) the draft holding `marker`."""
        payload: dict[str, Any] = {
            "tag_name": tag,
            "name": name,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
            **_latest(draft, prerelease, creating=True),
        }

        def make() -> ReleaseInfo:
            return release_info(self._json("POST", f"/repos/{full_name}/releases", payload))

        def look() -> ReleaseInfo | None:
            if draft:
                return self.draft_of(full_name, tag, marker)
            return self.release_by_tag(full_name, tag)

        return self.create(f"creating the release {tag} on {full_name}", make, look)

    def update_release(
        self,
        full_name: str,
        release_id: int,
        *,
        name: str,
        body: str,
        draft: bool,
        prerelease: bool,
        was_draft: bool = False,
    ) -> ReleaseInfo:
        """PATCH the release (publishing a draft with `draft=False`). A draft published as a
        final release is then made the latest, in a second request: GitHub judges
        `make_latest` on the release as it stands, and a draft cannot be latest."""
        payload = {
            "name": name,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
            **_latest(draft, prerelease, creating=False),
        }
        path = f"/repos/{full_name}/releases/{release_id}"
        with self._doing(f"updating release {release_id} on {full_name}"):
            data = self._json("PATCH", path, payload)
        if was_draft and not draft and not prerelease:
            with self._doing(f"making release {release_id} the latest on {full_name}"):
                data = self._json("PATCH", path, {"make_latest": "true"})
        return release_info(data)

    # -- assets -----------------------------------------------------------------------------

    def release_assets(self, full_name: str, release_id: int) -> tuple[AssetInfo, ...]:
        with self._doing(f"listing the assets of release {release_id} on {full_name}"):
            data = self._json(
                "GET",
                f"/repos/{full_name}/releases/{release_id}/assets",
                parameters={"per_page": 100},
            )
        return tuple(asset_info(item) for item in data)

    def upload_asset(self, full_name: str, release: ReleaseInfo, path: Path) -> AssetInfo:
        """POST the file to the release's `upload_url` (GitHub's uploads host), named as the
        file is. After a failure that may hide a success, the assets are listed first: one of
        that name and size is the upload done."""
        name, size = path.name, path.stat().st_size
        url = release.upload_url or f"{self.api}/repos/{full_name}/releases/{release.id}/assets"
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"

        def make() -> AssetInfo:
            _, data = self._gh(full_name).requester.requestBlobAndCheck(
                "POST",
                url,
                parameters={"name": name, "label": ""},
                headers={"Content-Type": content_type},
                input=str(path),
            )
            return asset_info(data)

        def look() -> AssetInfo | None:
            found = self.release_assets(full_name, release.id)
            return next((a for a in found if a.name == name and a.size == size), None)

        return self.create(f"uploading {name} to release {release.tag} on {full_name}", make, look)

    def delete_asset(self, full_name: str, asset_id: int) -> None:
        with self._doing(f"deleting asset {asset_id} of {full_name}"):
            self._json_or_none("DELETE", f"/repos/{full_name}/releases/assets/{asset_id}")

    # -- notes ------------------------------------------------------------------------------

    def generate_notes(
        self, full_name: str, *, tag: str, target: str | None, previous_tag: str | None
    ) -> str:
        """GitHub's generated release notes (POST releases/generate-notes): the body GitHub
        would write for `tag`, from `previous_tag` (GitHub's own choice when None); `target`
        is the commit-ish the tag will be made on, when it does not exist yet. The POST
        creates nothing, so it is simply repeated after a failure."""
        payload: dict[str, str] = {"tag_name": tag}
        if target:
            payload["target_commitish"] = target
        if previous_tag:
            payload["previous_tag_name"] = previous_tag
        data = self.create(
            f"generating the release notes of {tag} on {full_name}",
            lambda: self._json("POST", f"/repos/{full_name}/releases/generate-notes", payload),
            lambda: None,
        )
        return str(data.get("body") or "")
