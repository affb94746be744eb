"""Releases: find the one of a tag (drafts too), create, update."""

from __future__ import annotations

from release_tool.github_api.client import Client
from release_tool.github_api.types import ReleaseInfo, release_info


class Releases(Client):
    """The release calls of the client."""

    def release_by_tag(
        self, full_name: str, tag: str, *, drafts: bool = False
    ) -> ReleaseInfo | None:
        """The release of `tag`, or None.

        GET releases/tags/{tag} never returns a draft (a draft is not attached to its tag until
        published), so with `drafts` the first page of releases is searched as well.
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
            listed = self._json("GET", f"/repos/{full_name}/releases", parameters={"per_page": 100})
            for item in listed:
                if item.get("tag_name") == tag and item.get("draft"):
                    return release_info(item)
            return None

    def create_release(
        self, full_name: str, *, tag: str, name: str, body: str, draft: bool, prerelease: bool
    ) -> ReleaseInfo:
        def make() -> ReleaseInfo:
            release = self._repo(full_name).create_git_release(
                tag, name=name, message=body, draft=draft, prerelease=prerelease
            )
            return release_info(release.raw_data)

        return self.create(
            f"creating the release {tag} on {full_name}",
            make,
            lambda: self.release_by_tag(full_name, tag, drafts=draft),
        )

    def update_release(
        self,
        full_name: str,
        release_id: int,
        *,
        name: str,
        body: str,
        draft: bool,
        prerelease: bool,
    ) -> ReleaseInfo:
        with self._doing(f"updating release {release_id} on {full_name}"):
            data = self._json(
                "PATCH",
                f"/repos/{full_name}/releases/{release_id}",
                {"name": name, "body": body, "draft": draft, "prerelease": prerelease},
            )
        return release_info(data)
