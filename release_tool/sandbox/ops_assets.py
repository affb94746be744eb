"""Release assets: upload (through the release's `upload_url`), list, get, download, rename,
delete.

Uploads arrive on the uploads host, which the sandbox serves as `/api/uploads/...` (GitHub
Enterprise's layout, what PyGithub's `GitRelease.upload_asset` posts to): the body is the file,
`?name=` names it, `Content-Type` is recorded. A name already used by another asset of the
release is refused with GitHub's 422 `already_exists`. The bytes are kept in
`ROOT/.sandbox-assets/ID`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from release_tool.sandbox import shapes_releases
from release_tool.sandbox import state as st
from release_tool.sandbox.rest import (
    ApiError,
    Operations,
    Request,
    Response,
    invalid,
    not_found,
    page,
    route,
    text,
)
from release_tool.sandbox.shapes import Json

ASSETS_DIR = ".sandbox-assets"
# GitHub keeps letters, digits and `._-+` in an asset's name and turns anything else into a dot.
_NAME_JUNK = re.compile(r"[^A-Za-z0-9._+-]+")


class AssetOps(Operations):
    """The release asset operations."""

    def _asset_path(self, asset_id: int) -> Path:
        return self.store.root / ASSETS_DIR / str(asset_id)

    def _asset_json(self, asset: st.Asset) -> Json:
        rel = self.state.release(asset.repo, asset.release_id)
        tag = rel.tag_name if rel else ""
        return shapes_releases.asset(self.urls, asset, tag, self.user_json(asset.uploader))

    def _release_for_assets(self, req: Request, full_name: str, release_id: str) -> st.Release:
        found = self.state.release(full_name, int(release_id)) if release_id.isdigit() else None
        if found is None or (found.draft and not self.access.can_write(req.user, full_name)):
            raise not_found()
        return found

    def _asset_or_404(self, req: Request, full_name: str, asset_id: str) -> st.Asset:
        for asset in self.state.assets(full_name):
            if str(asset.id) == asset_id:
                self._release_for_assets(req, full_name, str(asset.release_id))
                return asset
        raise not_found()

    @route(
        "POST",
        "/repos/{owner}/{repo}/releases/{release_id}/assets",
        "write",
        "releases/assets#upload-a-release-asset",
        host="uploads",
    )
    def upload_asset(self, req: Request, owner: str, repo: str, release_id: str) -> Response:
        full_name = f"{owner}/{repo}"
        rel = self._release_for_assets(req, full_name, release_id)
        raw_name = req.arg("name")
        if not raw_name:
            raise invalid("ReleaseAsset", "name", "missing_field")
        name = _NAME_JUNK.sub(".", raw_name)
        if any(a.name == name for a in self.state.assets(full_name, rel.id)):
            raise invalid("ReleaseAsset", "name", "already_exists")
        content_type = req.headers.get("content-type") or "application/octet-stream"
        stamp = st.now()
        with self.state.transaction():
            asset = st.Asset(
                self.state.new_id(),
                full_name,
                rel.id,
                name,
                req.arg("label") or None,
                content_type,
                len(req.raw),
                "sha256:" + hashlib.sha256(req.raw).hexdigest(),
                req.user or "ghost",
                stamp,
                stamp,
            )
            path = self._asset_path(asset.id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(req.raw)
            self.state.add_asset(asset)
        return self.created(self._asset_json(asset))

    @route(
        "GET",
        "/repos/{owner}/{repo}/releases/{release_id}/assets",
        "read",
        "releases/assets#list-release-assets",
    )
    def list_assets(self, req: Request, owner: str, repo: str, release_id: str) -> Response:
        full_name = f"{owner}/{repo}"
        rel = self._release_for_assets(req, full_name, release_id)
        items = [self._asset_json(a) for a in self.state.assets(full_name, rel.id)]
        return page(req, items, self.urls)

    @route(
        "GET",
        "/repos/{owner}/{repo}/releases/assets/{asset_id}",
        "read",
        "releases/assets#get-a-release-asset",
    )
    def get_asset(self, req: Request, owner: str, repo: str, asset_id: str) -> Response:
        asset = self._asset_or_404(req, f"{owner}/{repo}", asset_id)
        if "application/octet-stream" in req.accept:
            # GitHub: "The API will either redirect the client to the location, or stream it
            # directly if possible." The sandbox streams it.
            headers = {"Content-Type": "application/octet-stream"}
            return Response(200, raw=self._download(asset), headers=headers)
        return Response(200, self._asset_json(asset))

    @route(
        "PATCH",
        "/repos/{owner}/{repo}/releases/assets/{asset_id}",
        "write",
        "releases/assets#update-a-release-asset",
    )
    def update_asset(self, req: Request, owner: str, repo: str, asset_id: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        asset = self._asset_or_404(req, full_name, asset_id)
        name = _NAME_JUNK.sub(".", text(body, "name") or asset.name)
        if any(
            a.name == name and a is not asset
            for a in self.state.assets(full_name, asset.release_id)
        ):
            raise invalid("ReleaseAsset", "name", "already_exists")
        with self.state.transaction():
            asset.name = name
            if "label" in body:
                asset.label = text(body, "label")
            asset.updated_at = st.now()
        return Response(200, self._asset_json(asset))

    @route(
        "DELETE",
        "/repos/{owner}/{repo}/releases/assets/{asset_id}",
        "write",
        "releases/assets#delete-a-release-asset",
    )
    def delete_asset(self, req: Request, owner: str, repo: str, asset_id: str) -> Response:
        asset = self._asset_or_404(req, f"{owner}/{repo}", asset_id)
        with self.state.transaction():
            self.state.remove_asset(asset)
        self._asset_path(asset.id).unlink(missing_ok=True)
        return Response(204)

    def _download(self, asset: st.Asset) -> bytes:
        try:
            data = self._asset_path(asset.id).read_bytes()
        except FileNotFoundError:
            raise ApiError(404, "Not Found") from None
        with self.state.transaction():
            asset.download_count += 1
        return data

    def download(self, full_name: str, tag: str, name: str, user: str | None) -> bytes | None:
        """The bytes behind a `browser_download_url` (None: no such asset); a draft's assets
        only for those who may see the draft."""
        for rel in self.state.releases(full_name):
            if rel.tag_name != tag or (rel.draft and not self.access.can_write(user, full_name)):
                continue
            for asset in self.state.assets(full_name, rel.id):
                if asset.name == name:
                    return self._download(asset)
        return None
