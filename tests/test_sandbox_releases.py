"""Releases as GitHub has them: drafts beside releases, the "latest" rule, assets uploaded
through `upload_url`, and generated notes. Driven by PyGithub (and raw HTTP where PyGithub has no
call); every JSON response is checked against GitHub's OpenAPI description by `contract`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import github
import pytest
import requests
from github import GithubException
from sandbox_fixtures import LIBRARY, MAINTAINER, MAINTAINER_TOKEN, OUTSIDER_TOKEN

from release_tool.sandbox import Sandbox

Client = Callable[..., Any]
LATEST_REFUSED = "Latest release cannot be draft or prerelease"


def git(sandbox: Sandbox, *args: str) -> str:
    return sandbox.store.git(LIBRARY, *args).decode().strip()


# -- drafts and tags -------------------------------------------------------------------------------


def test_several_drafts_and_a_published_release_share_a_tag(
    sandbox: Sandbox, github_client: Client
) -> None:
    repo = github_client().get_repo(LIBRARY)
    first = repo.create_git_release("v5.3.0", "5.3.0", "draft one", draft=True)
    second = repo.create_git_release("v5.3.0", "5.3.0", "draft two", draft=True)
    assert first.id != second.id
    assert git(sandbox, "tag", "-l", "v5.3.0") == ""  # drafts hold no tag
    published = repo.create_git_release("v5.3.0", "5.3.0", "published")  # no 422 beside drafts
    assert git(sandbox, "tag", "-l", "v5.3.0") == "v5.3.0"
    assert repo.get_release("v5.3.0").id == published.id
    assert sorted(r.id for r in repo.get_releases()) == sorted([first.id, second.id, published.id])

    # The tag is now held by a published release: neither a second one nor a draft published
    # onto it is accepted.
    with pytest.raises(GithubException) as again:
        repo.create_git_release("v5.3.0", "again", "")
    assert again.value.status == 422
    assert again.value.data["errors"][0]["code"] == "already_exists"
    with pytest.raises(GithubException) as publish:
        first.update_release("5.3.0", "draft one", draft=False)
    assert publish.value.status == 422
    assert publish.value.data["errors"][0] == {
        "resource": "Release",
        "field": "tag_name",
        "code": "already_exists",
    }
    assert repo.get_release(first.id).draft  # still a draft


def test_make_latest_true_is_refused_for_drafts_and_prereleases(github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    # PyGithub sends make_latest "true" on every creation, drafts and pre-releases included;
    # GitHub takes it there (a draft or pre-release just does not become latest).
    draft = repo.create_git_release("v6.0.0", "6.0.0", "", draft=True, make_latest="true")
    rc = repo.create_git_release("v6.0.0rc1", "rc", "", prerelease=True, make_latest="true")
    with pytest.raises(github.UnknownObjectException):
        repo.get_latest_release()

    # On an update GitHub judges the release as it stands: a draft cannot be made latest,
    # not even while being published in the same request; a pre-release cannot either.
    for release, kwargs in ((draft, {}), (draft, {"draft": False}), (rc, {"prerelease": True})):
        with pytest.raises(GithubException) as refused:
            release.update_release(release.name, "", make_latest="true", **kwargs)
        assert refused.value.status == 422
        assert refused.value.data["errors"][0]["message"] == LATEST_REFUSED
    assert repo.get_release(draft.id).draft  # the refused update changed nothing

    published = draft.update_release("6.0.0", "", draft=False)
    published.update_release("6.0.0", "", make_latest="true")
    assert repo.get_latest_release().id == draft.id
    # A pre-release that stops being one may be made latest in the same request.
    rc.update_release("6.0.1", "", prerelease=False, make_latest="true")
    assert repo.get_latest_release().id == rc.id


# -- assets ---------------------------------------------------------------------------------------


def test_assets_upload_through_upload_url_list_download_and_delete(
    sandbox: Sandbox, github_client: Client, tmp_path: Path
) -> None:
    repo = github_client().get_repo(LIBRARY)
    release = repo.create_git_release("v5.3.0", "5.3.0", "notes")
    assert release.upload_url.startswith(f"{sandbox.url}/api/uploads/repos/{LIBRARY}/releases/")
    wheel = tmp_path / "edx_proctoring-5.3.0-py3-none-any.whl"
    wheel.write_bytes(b"PK\x03\x04 a wheel")
    uploaded = release.upload_asset(str(wheel), label="The wheel")
    assert (uploaded.name, uploaded.label, uploaded.size) == (wheel.name, "The wheel", 12)
    assert uploaded.uploader.login == MAINTAINER
    upload_posts = [r for r in sandbox.requests if r[0] == "POST" and "/api/uploads/" in r[1]]
    assert upload_posts == [
        ("POST", f"/api/uploads/repos/{LIBRARY}/releases/{release.id}/assets", 201)
    ]

    from_memory = release.upload_asset_from_memory(
        _Reader(b"sdist bytes"), 11, "edx-proctoring-5.3.0.tar.gz", "application/gzip"
    )
    assert from_memory.content_type == "application/gzip"
    listed = [(a.name, a.size) for a in repo.get_release(release.id).get_assets()]
    assert listed == [(wheel.name, 12), ("edx-proctoring-5.3.0.tar.gz", 11)]
    assert [a.name for a in repo.get_release("v5.3.0").assets] == [name for name, _ in listed]

    with pytest.raises(GithubException) as duplicate:
        release.upload_asset(str(wheel))
    assert duplicate.value.status == 422
    assert duplicate.value.data["errors"] == [
        {"resource": "ReleaseAsset", "field": "name", "code": "already_exists"}
    ]

    # The bytes come back through the API and through the browser download URL.
    status, _, chunks = repo.get_release_asset(uploaded.id).download_asset()
    assert (status, b"".join(chunks)) == (200, b"PK\x03\x04 a wheel")
    anonymous = requests.get(uploaded.browser_download_url, timeout=10)
    assert (anonymous.status_code, anonymous.content) == (200, b"PK\x03\x04 a wheel")
    assert repo.get_release_asset(uploaded.id).download_count == 2

    assert from_memory.delete_asset()
    assert [a.name for a in release.get_assets()] == [wheel.name]


class _Reader:
    """A file-like object (what `upload_asset_from_memory` reads)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        data, self._data = self._data, b""
        return data


def test_uploads_need_write_access_and_a_name(sandbox: Sandbox, github_client: Client) -> None:
    release = github_client().get_repo(LIBRARY).create_git_release("v5.3.0", "5.3.0", "")
    url = release.upload_url.split("{")[0]

    def upload(token: str | None, **params: str) -> requests.Response:
        headers = {"Content-Type": "text/plain"}
        if token:
            headers["Authorization"] = f"token {token}"
        return requests.post(url, params=params, data=b"x", headers=headers, timeout=10)

    assert upload(None, name="a.txt").status_code == 401
    assert upload(OUTSIDER_TOKEN, name="a.txt").status_code == 403
    missing = upload(MAINTAINER_TOKEN)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "missing_field"
    # GitHub keeps letters, digits and ._-+ in a name, and turns the rest into dots.
    assert upload(MAINTAINER_TOKEN, name="my notes (final).txt").json()["name"] == (
        "my.notes.final..txt"
    )


def test_a_draft_s_assets_are_hidden_from_readers(github_client: Client) -> None:
    draft = github_client().get_repo(LIBRARY).create_git_release("v7.0.0", "7", "", draft=True)
    outsider = github_client(OUTSIDER_TOKEN).get_repo(LIBRARY)
    with pytest.raises(github.UnknownObjectException):
        outsider.get_release(draft.id)
    response = requests.get(draft.assets_url, timeout=10)
    assert response.status_code == 404


# -- generated notes ------------------------------------------------------------------------------


def test_generated_notes_list_the_commits_since_the_previous_tag(github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    # No release yet: the previous tag is the nearest one below the new release's commit.
    notes = repo.generate_release_notes("v5.3.0", target_commitish="master")
    assert notes.name == "v5.3.0"
    assert notes.body.splitlines()[:2] == [
        "## What's Changed",
        "* fix: learner language in review email (#1214)",
    ]
    assert notes.body.endswith(f"/{LIBRARY}/compare/v5.2.0...v5.3.0")

    # With a latest release, the notes run from its tag.
    repo.create_git_release("5.1.2", "5.1.2", "")
    notes = repo.generate_release_notes("v5.3.0", target_commitish="master")
    subjects = [line for line in notes.body.splitlines() if line.startswith("* ")]
    assert subjects == [
        "* fix: learner language in review email (#1214)",
        "* feat: retry action for errored attempts (#1210)",
    ]
    explicit = repo.generate_release_notes("v5.2.0", previous_tag_name="5.1.2")
    assert "* feat: retry action for errored attempts (#1210)" in explicit.body
    assert "learner language" not in explicit.body
    with pytest.raises(GithubException) as unknown:
        repo.generate_release_notes("v5.3.0", previous_tag_name="no-such-tag")
    assert unknown.value.status == 422
