"""The JSON shapes of releases and release assets (REST API version 2022-11-28).

Split from `shapes` (same conventions: pure functions, every URL pointing at the sandbox). An
asset's `url` is the API address of the asset; `browser_download_url` is the web address the
sandbox also serves (`/OWNER/NAME/releases/download/TAG/NAME`), as github.com does.
"""

from __future__ import annotations

from urllib.parse import quote

from release_tool.sandbox import state as st
from release_tool.sandbox.shapes import Json, Urls


def upload_url(urls: Urls, full_name: str, release_id: int) -> str:
    """Where assets are uploaded: GitHub Enterprise's layout, `/api/uploads/...` on the same
    host (PyGithub accepts a same-host URL only under `/api/`)."""
    return f"{urls.base}/api/uploads/repos/{full_name}/releases/{release_id}/assets"


def download_url(urls: Urls, full_name: str, tag: str, name: str) -> str:
    return f"{urls.html(full_name)}/releases/download/{quote(tag, safe='')}/{quote(name)}"


def asset(urls: Urls, item: st.Asset, tag: str, uploader: Json) -> Json:
    """`release-asset`."""
    return {
        "url": f"{urls.repo(item.repo)}/releases/assets/{item.id}",
        "browser_download_url": download_url(urls, item.repo, tag, item.name),
        "id": item.id,
        "node_id": f"RA_sandbox{item.id}",
        "name": item.name,
        "label": item.label,
        "state": "uploaded",
        "content_type": item.content_type,
        "size": item.size,
        "digest": item.digest,
        "download_count": item.download_count,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "uploader": uploader,
    }


def release(urls: Urls, rel: st.Release, author: Json, assets: list[Json]) -> Json:
    """`release`."""
    api = urls.repo(rel.repo)
    tag = quote(rel.tag_name, safe="")
    return {
        "url": f"{api}/releases/{rel.id}",
        "html_url": f"{urls.html(rel.repo)}/releases/tag/{tag}",
        "assets_url": f"{api}/releases/{rel.id}/assets",
        "upload_url": upload_url(urls, rel.repo, rel.id) + "{?name,label}",
        "tarball_url": f"{api}/tarball/{tag}",
        "zipball_url": f"{api}/zipball/{tag}",
        "id": rel.id,
        "node_id": f"RE_sandbox{rel.id}",
        "tag_name": rel.tag_name,
        "target_commitish": rel.target_commitish,
        "name": rel.name,
        "body": rel.body,
        "draft": rel.draft,
        "prerelease": rel.prerelease,
        "immutable": False,
        "created_at": rel.created_at,
        "updated_at": rel.updated_at,
        "published_at": rel.published_at,
        "author": author,
        "assets": assets,
    }
