"""Renamed repositories and case-insensitive names, as on GitHub: the old name answers 301 to a
read and 307 to a write (API and git), pointing at the repository's id; any spelling of owner and
name reaches the repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import github
import pytest
import requests
from github import GithubException
from sandbox_fixtures import (
    DOWNSTREAM,
    GRANTS,
    LIBRARY,
    MAINTAINER_TOKEN,
    OUTSIDER,
    OUTSIDER_TOKEN,
    TOKENS,
    Contract,
)

from release_tool.errors import UsageError
from release_tool.git_repo import GitRepo, auth_environment, run_git
from release_tool.sandbox import Sandbox

Client = Callable[..., Any]
AUTH = {"Authorization": f"token {MAINTAINER_TOKEN}"}
RENAMED = "openedx/edx-proctoring-renamed"


def test_the_old_name_redirects_reads_with_301_and_writes_with_307(
    sandbox: Sandbox, github_client: Client
) -> None:
    repo_id = github_client().get_repo(LIBRARY).id
    sandbox.rename(LIBRARY, RENAMED)
    old = f"{sandbox.api_url}/repos/{LIBRARY}"
    moved = requests.get(f"{old}/releases?per_page=5", allow_redirects=False, timeout=10)
    location = f"{sandbox.api_url}/repositories/{repo_id}/releases?per_page=5"
    assert (moved.status_code, moved.headers["Location"]) == (301, location)
    assert moved.json() == {
        "message": "Moved Permanently",
        "url": location,
        "documentation_url": (
            "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api"
            "#follow-redirects"
        ),
    }
    write = requests.post(
        f"{old}/releases", json={"tag_name": "v9"}, headers=AUTH, allow_redirects=False, timeout=10
    )
    assert write.status_code == 307
    assert write.headers["Location"] == f"{sandbox.api_url}/repositories/{repo_id}/releases"
    assert write.json()["message"] == "Moved Permanently"
    assert sandbox.state.releases(RENAMED) == []  # a redirected write did nothing

    # PyGithub follows the 301 of a read; the id URL serves the repository under its new name.
    followed = github_client().get_repo(LIBRARY)
    assert (followed.full_name, followed.id) == (RENAMED, repo_id)
    by_id = requests.get(location, timeout=10)
    assert by_id.status_code == 200
    # A client following the 307 with the same method reaches the repository.
    again = requests.post(
        write.headers["Location"], json={"tag_name": "v9"}, headers=AUTH, timeout=10
    )
    assert again.status_code == 201
    assert [r.tag_name for r in sandbox.state.releases(RENAMED)] == ["v9"]
    missing = requests.get(f"{sandbox.api_url}/repos/openedx/never-existed", timeout=10)
    assert missing.status_code == 404


def test_git_follows_the_redirect_of_a_renamed_repository(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.rename(LIBRARY, RENAMED)
    old_url = sandbox.git_url(LIBRARY)
    work = tmp_path / "work"
    run_git("clone", "-q", old_url, str(work), cwd=tmp_path, env=auth_environment(old_url, None))
    assert (work / "edx_proctoring" / "__init__.py").is_file()
    assert ("GET", f"/{LIBRARY}.git/info/refs", 301) in sandbox.requests
    (work / "x.txt").write_text("x\n")
    run_git("add", "x.txt", cwd=work)
    run_git("commit", "-qm", "x", cwd=work)
    GitRepo(work, MAINTAINER_TOKEN).push("origin", ["master"])  # through the old name
    assert sandbox.store.ref(RENAMED, "refs/heads/master") == (
        run_git("rev-parse", "HEAD", cwd=work),
        "commit",
    )


def test_a_repository_admin_renames_it_through_the_api(
    sandbox: Sandbox, github_client: Client
) -> None:
    with pytest.raises(GithubException) as not_admin:
        github_client().get_repo(DOWNSTREAM).edit(name="platform")
    assert not_admin.value.status == 403  # maintainer may write, not administer

    fork = github_client(OUTSIDER_TOKEN).get_repo(DOWNSTREAM).create_fork()
    fork.edit(name="my-platform")
    assert fork.full_name == f"{OUTSIDER}/my-platform"
    assert sandbox.store.exists(f"{OUTSIDER}/my-platform")
    assert not sandbox.store.exists(f"{OUTSIDER}/edx-platform")
    renamed = github_client(OUTSIDER_TOKEN).get_repo(f"{OUTSIDER}/my-platform")
    assert renamed.parent.full_name == DOWNSTREAM  # the fork is still a fork
    assert [f.full_name for f in github_client().get_repo(DOWNSTREAM).get_forks()] == [
        f"{OUTSIDER}/my-platform"
    ]
    sandbox.copy_repository(sandbox.repository_path(LIBRARY), f"{OUTSIDER}/other")
    with pytest.raises(GithubException) as taken:
        renamed.edit(name="Other")  # names are case-insensitive: taken
    assert taken.value.status == 422
    assert taken.value.data["errors"][0]["message"] == "name already exists on this account"


def test_owner_and_name_are_case_insensitive(
    sandbox: Sandbox, github_client: Client, tmp_path: Path
) -> None:
    repo = github_client().get_repo("OpenEdX/EDX-Proctoring")
    assert repo.full_name == LIBRARY  # spelled as it is
    assert repo.permissions.push  # the grant matches whatever the spelling
    assert github_client().get_user("OpenEdX").login == "openedx"
    url = f"{sandbox.url}/OPENEDX/Edx-Proctoring.git"
    work = tmp_path / "work"
    run_git("clone", "-q", url, str(work), cwd=tmp_path, env=auth_environment(url, None))
    (work / "y.txt").write_text("y\n")
    run_git("add", "y.txt", cwd=work)
    run_git("commit", "-qm", "y", cwd=work)
    GitRepo(work, MAINTAINER_TOKEN).push("origin", ["master"])
    assert sandbox.store.ref(LIBRARY, "refs/heads/master") == (
        run_git("rev-parse", "HEAD", cwd=work),
        "commit",
    )
    assert sorted(sandbox.repositories()) == [DOWNSTREAM, LIBRARY]  # no second copy


def test_renames_given_at_start_survive_a_restart(sandbox: Sandbox, contract: Contract) -> None:
    root = sandbox.root
    sandbox.stop()
    for _ in range(2):  # the same rename again on a restart is a no-op
        with Sandbox(
            root, tokens=TOKENS, grants=GRANTS, observer=contract, renames=[f"{LIBRARY}={RENAMED}"]
        ) as again:
            gh = github.Github(base_url=again.api_url, retry=None)
            assert gh.get_repo(LIBRARY).full_name == RENAMED
    with pytest.raises(UsageError):
        Sandbox(root, renames=[(DOWNSTREAM, RENAMED)]).start()  # the new name is taken
    with pytest.raises(UsageError):
        Sandbox(root, renames=["openedx/nothing=openedx/else"]).start()
