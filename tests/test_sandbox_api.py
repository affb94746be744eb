"""The sandbox's REST API driven by PyGithub, as the tool drives GitHub.

Every response in these tests is also validated against GitHub's OpenAPI description by the
`contract` observer the `sandbox` fixture attaches.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import github
import pytest
import requests
from github import GithubException, InputGitTreeElement
from sandbox_fixtures import (
    DOWNSTREAM,
    LIBRARY,
    MAINTAINER,
    MAINTAINER_TOKEN,
    OUTSIDER,
    OUTSIDER_TOKEN,
)

from release_tool import example
from release_tool.sandbox import Sandbox

Client = Callable[..., Any]


def git(sandbox: Sandbox, full_name: str, *args: str) -> str:
    return sandbox.store.git(full_name, *args).decode().strip()


# -- repositories and users -----------------------------------------------------------------------


def test_repository_points_at_the_sandbox(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    assert repo.full_name == LIBRARY
    assert repo.default_branch == example.LIBRARY_BRANCH
    assert repo.url == f"{sandbox.api_url}/repos/{LIBRARY}"
    assert repo.html_url == f"{sandbox.url}/{LIBRARY}"
    assert repo.clone_url == sandbox.git_url(LIBRARY)
    assert repo.owner.login == "openedx"
    assert repo.owner.type == "Organization"
    assert repo.permissions.push and not repo.permissions.admin


def test_permissions_tell_a_client_it_cannot_push(github_client: Client) -> None:
    assert not github_client(OUTSIDER_TOKEN).get_repo(LIBRARY).permissions.push
    anonymous = github_client(None).get_repo(LIBRARY)
    assert anonymous.raw_data.get("permissions") is None  # GitHub omits it without a token


def test_authenticated_user(github_client: Client) -> None:
    me = github_client().get_user()
    assert me.login == MAINTAINER
    assert github_client(OUTSIDER_TOKEN).get_user().login == OUTSIDER
    assert github_client().get_user("openedx").type == "Organization"


def test_missing_repository_and_ref_are_404(github_client: Client) -> None:
    gh = github_client()
    with pytest.raises(github.UnknownObjectException):
        gh.get_repo("openedx/no-such-repo")
    with pytest.raises(github.UnknownObjectException):
        gh.get_repo(LIBRARY).get_git_ref("heads/no-such-branch")


# -- git data -------------------------------------------------------------------------------------


def test_blobs_trees_commits_and_refs_are_real_git_objects(
    sandbox: Sandbox, github_client: Client
) -> None:
    repo = github_client().get_repo(LIBRARY)
    master = repo.get_git_ref(f"heads/{example.LIBRARY_BRANCH}")
    head = repo.get_git_commit(master.object.sha)

    blob = repo.create_git_blob(base64.b64encode(b"\x00binary\xff").decode(), "base64")
    assert (
        repo.get_git_blob(blob.sha).content.replace("\n", "")
        == base64.b64encode(b"\x00binary\xff").decode()
    )
    tree = repo.create_git_tree(
        [
            InputGitTreeElement("docs/notes.txt", "100644", "blob", content="inline content\n"),
            InputGitTreeElement("data/blob.bin", "100644", "blob", sha=blob.sha),
            InputGitTreeElement("setup.py", "100644", "blob", sha=None),  # deletes it
        ],
        base_tree=head.tree,
    )
    paths = {e.path for e in repo.get_git_tree(tree.sha, recursive=True).tree}
    assert {
        "docs/notes.txt",
        "data/blob.bin",
        "CHANGELOG.rst",
        "edx_proctoring/__init__.py",
    } <= paths
    assert "setup.py" not in paths

    author = github.InputGitAuthor("Release Bot", "bot@example.org", "2025-04-01T10:00:00+02:00")
    commit = repo.create_git_commit("chore: notes\n\nbody\n", tree, [head], author=author)
    assert commit.author.name == "Release Bot"
    assert commit.author.date.isoformat() == "2025-04-01T08:00:00+00:00"
    assert [p.sha for p in commit.parents] == [head.sha]

    ref = repo.create_git_ref("refs/heads/feature", commit.sha)
    assert ref.object.sha == commit.sha
    assert (
        git(sandbox, LIBRARY, "log", "-1", "--format=%an|%s", "feature")
        == "Release Bot|chore: notes"
    )
    assert git(sandbox, LIBRARY, "show", "feature:docs/notes.txt") == "inline content"

    # Fast-forward, then a rewind that needs force.
    child = repo.create_git_commit("second", tree, [commit])
    ref.edit(child.sha)
    assert repo.get_git_ref("heads/feature").object.sha == child.sha
    with pytest.raises(GithubException) as refused:
        ref.edit(head.sha)
    assert refused.value.status == 422
    assert refused.value.data["message"] == "Update is not a fast forward"
    ref.edit(head.sha, force=True)
    assert git(sandbox, LIBRARY, "rev-parse", "refs/heads/feature") == head.sha

    matching = repo.get_git_matching_refs("heads/feat")
    assert [r.ref for r in matching] == ["refs/heads/feature"]
    assert "refs/heads/feature" in [r.ref for r in repo.get_git_refs()]
    ref.delete()
    assert git(sandbox, LIBRARY, "for-each-ref", "refs/heads/feature") == ""


def test_creating_an_existing_ref_is_422_with_errors(github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    sha = repo.get_git_ref(f"heads/{example.LIBRARY_BRANCH}").object.sha
    with pytest.raises(GithubException) as exists:
        repo.create_git_ref(f"refs/heads/{example.LIBRARY_BRANCH}", sha)
    assert exists.value.status == 422
    assert exists.value.data["message"] == "Reference already exists"
    assert exists.value.data["errors"]
    with pytest.raises(GithubException) as missing:
        repo.create_git_ref("refs/heads/other", "f" * 40)
    assert missing.value.status == 422


def test_tags_and_matching_refs(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    tags = [r.ref for r in repo.get_git_matching_refs("tags/")]
    assert tags == [
        "refs/tags/5.1.2",
        "refs/tags/npmv1.0.0",
        "refs/tags/release-2015-07-29",
        "refs/tags/v5.2.0",
    ]
    head = repo.get_branch(example.LIBRARY_BRANCH).commit.sha
    tag = repo.create_git_tag("v9.9.9", "Release 9.9.9\n", head, "commit")
    repo.create_git_ref("refs/tags/v9.9.9", tag.sha)
    ref = repo.get_git_ref("tags/v9.9.9")
    assert ref.object.type == "tag"
    assert git(sandbox, LIBRARY, "rev-parse", "v9.9.9^{commit}") == head


def test_contents_read_and_write(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    init = repo.get_contents("edx_proctoring/__init__.py")
    assert not isinstance(init, list)
    assert b"__version__ = '5.2.0'" in init.decoded_content
    listing = repo.get_contents("edx_proctoring")
    assert isinstance(listing, list)
    assert [c.path for c in listing] == ["edx_proctoring/__init__.py"]
    old = repo.get_contents("README.rst", ref="5.1.2")
    assert not isinstance(old, list)
    assert old.decoded_content.startswith(b"edx-proctoring")

    created = repo.create_file("docs/new.md", "docs: add", "hello\n", branch="master")
    updated = repo.update_file("docs/new.md", "docs: edit", "bye\n", created["content"].sha)
    assert git(sandbox, LIBRARY, "log", "-2", "--format=%s") == "docs: edit\ndocs: add"
    assert updated["commit"].sha == git(sandbox, LIBRARY, "rev-parse", "master")
    with pytest.raises(GithubException) as stale:
        repo.update_file("docs/new.md", "docs: stale", "x\n", created["content"].sha)
    assert stale.value.status == 409


def test_a_directory_listing_stops_at_1000_entries(sandbox: Sandbox, github_client: Client) -> None:
    # GitHub: "This API has an upper limit of 1,000 files for a directory. If you need to
    # retrieve more files, use the Git Trees API."

    repo = github_client().get_repo(LIBRARY)
    head = repo.get_branch(example.LIBRARY_BRANCH).commit
    elements = [
        InputGitTreeElement(f"many/f{i:04}.txt", "100644", "blob", content=f"{i}\n")
        for i in range(1001)
    ]
    tree = repo.create_git_tree(elements, base_tree=head.commit.tree)
    commit = repo.create_git_commit("many files", tree, [head.commit])
    listing = repo.get_contents("many", ref=commit.sha)
    assert isinstance(listing, list)
    assert len(listing) == 1000
    (subtree,) = [e for e in repo.get_git_tree(tree.sha).tree if e.path == "many"]
    assert len(repo.get_git_tree(subtree.sha).tree) == 1001


# -- releases -------------------------------------------------------------------------------------


def test_release_creates_its_tag_at_target_commitish(
    sandbox: Sandbox, github_client: Client
) -> None:
    repo = github_client().get_repo(LIBRARY)
    head = git(sandbox, LIBRARY, "rev-parse", "master")
    release = repo.create_git_release("v5.3.0", "5.3.0", "* notes", target_commitish="master")
    assert git(sandbox, LIBRARY, "rev-parse", "refs/tags/v5.3.0") == head
    assert release.html_url == f"{sandbox.url}/{LIBRARY}/releases/tag/v5.3.0"
    assert repo.get_release("v5.3.0").id == release.id
    assert repo.get_release(release.id).body == "* notes"
    assert repo.get_latest_release().tag_name == "v5.3.0"
    [recorded] = sandbox.state.releases(LIBRARY)
    assert (recorded.tag_name, recorded.author) == ("v5.3.0", MAINTAINER)

    with pytest.raises(GithubException) as duplicate:
        repo.create_git_release("v5.3.0", "again", "")
    assert duplicate.value.status == 422
    assert duplicate.value.data["errors"][0]["code"] == "already_exists"


def test_release_update_list_latest_and_prerelease(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    first = repo.create_git_release("v5.2.0", "5.2.0", "old")  # the tag exists already
    assert git(sandbox, LIBRARY, "rev-parse", "v5.2.0") == git(
        sandbox, LIBRARY, "rev-parse", "master~1"
    )
    second = repo.create_git_release("v5.3.0rc1", "5.3.0rc1", "rc", prerelease=True)
    assert repo.get_latest_release().id == first.id  # a pre-release is never "latest"

    edited = second.update_release("5.3.0rc1 (fixed)", "rc, fixed", prerelease=False)
    assert (edited.name, edited.body, edited.prerelease) == ("5.3.0rc1 (fixed)", "rc, fixed", False)
    assert repo.get_latest_release().id == second.id

    assert {r.tag_name for r in repo.get_releases()} == {"v5.2.0", "v5.3.0rc1"}
    paged = github_client(per_page=1).get_repo(LIBRARY).get_releases()
    assert paged.totalCount == 2
    assert len(list(paged)) == 2


def test_draft_release_is_hidden_until_published(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    draft = repo.create_git_release("v6.0.0", "6.0.0", "draft", draft=True)
    assert git(sandbox, LIBRARY, "tag", "-l", "v6.0.0") == ""  # no tag for a draft
    outsider = github_client(OUTSIDER_TOKEN).get_repo(LIBRARY)
    assert [r.tag_name for r in outsider.get_releases()] == []
    with pytest.raises(github.UnknownObjectException):
        repo.get_release("v6.0.0")  # GitHub never finds a draft by tag
    draft.update_release("6.0.0", "published", draft=False)
    assert git(sandbox, LIBRARY, "tag", "-l", "v6.0.0") == "v6.0.0"
    assert outsider.get_release("v6.0.0").body == "published"


def test_release_with_unknown_target_is_422(github_client: Client) -> None:
    repo = github_client().get_repo(LIBRARY)
    with pytest.raises(GithubException) as bad:
        repo.create_git_release("v7.0.0", "7", "", target_commitish="no-such-branch")
    assert bad.value.status == 422


def test_generate_release_notes(sandbox: Sandbox) -> None:
    response = requests.post(
        f"{sandbox.api_url}/repos/{LIBRARY}/releases/generate-notes",
        json={"tag_name": "v5.2.0", "previous_tag_name": "5.1.2"},
        headers={"Authorization": f"token {MAINTAINER_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert "feat: retry action for errored attempts (#1210)" in response.json()["body"]


# -- pull requests --------------------------------------------------------------------------------


def _branch_with_change(repo: Any, branch: str, path: str, text: str) -> str:
    base = repo.get_branch(repo.default_branch).commit.sha
    head = repo.get_git_commit(base)
    tree = repo.create_git_tree(
        [InputGitTreeElement(path, "100644", "blob", content=text)], base_tree=head.tree
    )
    commit = repo.create_git_commit(f"change {path}", tree, [head])
    repo.create_git_ref(f"refs/heads/{branch}", commit.sha)
    return str(commit.sha)


def test_pull_request_flow(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    sha = _branch_with_change(
        repo, "upgrade-edx-proctoring", "requirements/edx/base.txt", "edx-proctoring==5.3.0\n"
    )
    pr = repo.create_pull(
        base="master",
        head="upgrade-edx-proctoring",
        title="chore: upgrade edx-proctoring to 5.3.0",
        body="changelog",
    )
    assert (pr.number, pr.head.sha, pr.head.ref, pr.base.ref) == (
        1,
        sha,
        "upgrade-edx-proctoring",
        "master",
    )
    assert (pr.commits, pr.changed_files) == (1, 1)
    assert pr.html_url == f"{sandbox.url}/{DOWNSTREAM}/pull/1"
    assert git(sandbox, DOWNSTREAM, "rev-parse", "refs/pull/1/head") == sha

    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(base="master", head="upgrade-edx-proctoring", title="again", body="")
    assert duplicate.value.status == 422
    assert (
        duplicate.value.data["errors"][0]["message"]
        == "A pull request already exists for openedx:upgrade-edx-proctoring."
    )

    def listed(**filters: str) -> list[int]:
        return [p.number for p in repo.get_pulls(**filters)]

    assert listed(head="openedx:upgrade-edx-proctoring", base="master") == [1]
    assert listed(head="openedx:other-branch") == []
    assert listed(head="other-branch") == [1]  # GitHub ignores `head` without `owner:`
    assert listed(base="main") == []

    pr.add_to_labels("dependencies")
    pr.add_to_labels("dependencies", "python")
    assert [label.name for label in pr.get_labels()] == ["dependencies", "python"]
    pr.set_labels("dependencies")
    assert [label.name for label in pr.get_labels()] == ["dependencies"]

    pr.create_review_request(reviewers=["edx-platform-reviewer"], team_reviewers=["arch"])
    users, teams = pr.get_review_requests()
    assert [u.login for u in users] == ["edx-platform-reviewer"]
    assert [t.slug for t in teams] == ["arch"]
    with pytest.raises(GithubException) as own:
        pr.create_review_request(reviewers=[MAINTAINER])
    assert own.value.status == 422

    pr.edit(title="chore: upgrade edx-proctoring to 5.3.1", body="new body")
    fetched = repo.get_pull(1)
    assert (fetched.title, fetched.body, fetched.labels[0].name) == (
        "chore: upgrade edx-proctoring to 5.3.1",
        "new body",
        "dependencies",
    )
    [recorded] = sandbox.state.pulls(DOWNSTREAM)
    assert recorded.reviewers == ["edx-platform-reviewer"]

    pr.edit(state="closed")
    assert listed() == []
    assert listed(state="closed") == [1]
    assert listed(state="all") == [1]


def test_pull_request_follows_pushes_to_its_branch(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    first = _branch_with_change(repo, "topic", "a.txt", "a\n")
    pr = repo.create_pull(base="master", head="topic", title="t", body="")
    parent = repo.get_git_commit(first)
    tree = repo.create_git_tree(
        [InputGitTreeElement("b.txt", "100644", "blob", content="b\n")], base_tree=parent.tree
    )
    second = repo.create_git_commit("more", tree, [parent])
    repo.get_git_ref("heads/topic").edit(second.sha)
    again = repo.get_pull(pr.number)
    assert (again.head.sha, again.commits, again.changed_files) == (second.sha, 2, 2)


def test_pull_request_without_commits_or_branch_is_422(github_client: Client) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    repo.create_git_ref("refs/heads/same", repo.get_branch("master").commit.sha)
    for head in ("same", "no-such-branch"):
        with pytest.raises(GithubException) as refused:
            repo.create_pull(base="master", head=head, title="t", body="")
        assert refused.value.status == 422


def test_pull_list_pages_with_link_headers(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    for n in range(3):
        _branch_with_change(repo, f"b{n}", f"f{n}.txt", f"{n}\n")
        repo.create_pull(base="master", head=f"b{n}", title=f"pr {n}", body="")
    response = requests.get(
        f"{sandbox.api_url}/repos/{DOWNSTREAM}/pulls", params={"per_page": 2}, timeout=10
    )
    assert [p["number"] for p in response.json()] == [3, 2]  # newest first
    links = requests.utils.parse_header_links(response.headers["Link"])
    assert {link["rel"] for link in links} == {"next", "last"}
    following = requests.get(next(lk["url"] for lk in links if lk["rel"] == "next"), timeout=10)
    assert [p["number"] for p in following.json()] == [1]
    assert {lk["rel"] for lk in requests.utils.parse_header_links(following.headers["Link"])} == {
        "prev",
        "first",
    }
    assert [p.number for p in github_client(per_page=1).get_repo(DOWNSTREAM).get_pulls()] == [
        3,
        2,
        1,
    ]


# -- forks ----------------------------------------------------------------------------------------


def test_outsider_forks_writes_its_fork_and_opens_a_pull_request(
    sandbox: Sandbox, github_client: Client
) -> None:
    outsider = github_client(OUTSIDER_TOKEN)
    upstream = outsider.get_repo(DOWNSTREAM)
    fork = upstream.create_fork()
    assert fork.full_name == f"{OUTSIDER}/edx-platform"
    assert fork.fork and fork.parent.full_name == DOWNSTREAM
    assert fork.permissions.admin
    assert upstream.create_fork().full_name == fork.full_name  # forking again: the same fork
    assert [f.full_name for f in upstream.get_forks()] == [fork.full_name]

    sha = _branch_with_change(fork, "upgrade", "requirements/edx/base.txt", "x\n")
    pr = upstream.create_pull(
        base="master", head=f"{OUTSIDER}:upgrade", title="upgrade", body="from a fork"
    )
    assert pr.head.repo.full_name == fork.full_name
    assert pr.head.label == f"{OUTSIDER}:upgrade"
    assert git(sandbox, DOWNSTREAM, "rev-parse", f"refs/pull/{pr.number}/head") == sha
    assert [p.number for p in upstream.get_pulls(head=f"{OUTSIDER}:upgrade")] == [pr.number]
    # The author may edit the pull request; labelling it needs write access upstream.
    pr.edit(body="edited by its author")
    with pytest.raises(GithubException) as refused:
        pr.add_to_labels("dependencies")
    assert refused.value.status == 403


def test_merge_upstream_fast_forwards_merges_and_reports_none(
    sandbox: Sandbox, github_client: Client
) -> None:
    fork = github_client(OUTSIDER_TOKEN).get_repo(DOWNSTREAM).create_fork()
    upstream = github_client().get_repo(DOWNSTREAM)

    assert fork.merge_upstream("master").merge_type == "none"
    new_upstream = _branch_with_change(upstream, "tmp", "up.txt", "up\n")
    upstream.get_git_ref("heads/master").edit(new_upstream)
    synced = fork.merge_upstream("master")
    assert (synced.merge_type, synced.base_branch) == ("fast-forward", "openedx:master")
    assert fork.get_branch("master").commit.sha == new_upstream

    # Diverged: the fork has its own commit, upstream moved on; no conflict → a merge commit.
    ours = _branch_with_change(fork, "mine", "mine.txt", "mine\n")
    fork.get_git_ref("heads/master").edit(ours)
    theirs = _branch_with_change(upstream, "tmp2", "theirs.txt", "theirs\n")
    upstream.get_git_ref("heads/master").edit(theirs)
    assert fork.merge_upstream("master").merge_type == "merge"
    merged = fork.get_git_commit(fork.get_branch("master").commit.sha)
    assert [p.sha for p in merged.parents] == [ours, theirs]


# -- permissions ----------------------------------------------------------------------------------


def test_write_without_token_is_401(github_client: Client) -> None:
    repo = github_client(None).get_repo(LIBRARY)
    with pytest.raises(GithubException) as refused:
        repo.create_git_ref("refs/heads/x", repo.get_branch("master").commit.sha)
    assert refused.value.status == 401
    assert refused.value.data["message"] == "Requires authentication"


def test_outsider_writing_upstream_is_403(github_client: Client) -> None:
    repo = github_client(OUTSIDER_TOKEN).get_repo(LIBRARY)
    sha = repo.get_branch("master").commit.sha
    with pytest.raises(GithubException) as refused:
        repo.create_git_ref("refs/heads/x", sha)
    assert refused.value.status == 403
    with pytest.raises(GithubException) as release:
        repo.create_git_release("v9", "9", "")
    assert release.value.status == 403


def test_unknown_token_is_bad_credentials(github_client: Client) -> None:
    with pytest.raises(github.BadCredentialsException):
        github_client("not-a-token").get_repo(LIBRARY)


def test_bearer_tokens_and_grants(sandbox: Sandbox) -> None:
    response = requests.get(
        f"{sandbox.api_url}/user", timeout=10, headers={"Authorization": f"Bearer {OUTSIDER_TOKEN}"}
    )
    assert response.json()["login"] == OUTSIDER
    anonymous = requests.get(f"{sandbox.api_url}/user", timeout=10)
    assert anonymous.status_code == 401


# -- workflows ------------------------------------------------------------------------------------

WORKFLOW = """\
name: Upgrade one Python dependency
on:
  workflow_dispatch:
    inputs:
      package: {required: true}
      version: {required: false}
"""


def test_workflow_dispatch_is_recorded(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    with pytest.raises(github.UnknownObjectException):
        repo.get_workflow("upgrade-one-python-dependency.yml").create_dispatch("master")
    repo.create_file(".github/workflows/upgrade-one-python-dependency.yml", "ci: add", WORKFLOW)
    workflow = repo.get_workflow("upgrade-one-python-dependency.yml")
    assert workflow.name == "Upgrade one Python dependency"
    assert workflow.create_dispatch("master", {"package": "edx-proctoring", "version": "5.3.0"})
    [dispatch] = sandbox.state.dispatches(DOWNSTREAM)
    assert (dispatch.workflow, dispatch.ref, dispatch.actor) == (
        "upgrade-one-python-dependency.yml",
        "master",
        MAINTAINER,
    )
    assert dispatch.inputs == {"package": "edx-proctoring", "version": "5.3.0"}
    # By the numeric id PyGithub uses once it has the workflow, too.
    assert workflow.create_dispatch("master", {"package": "edx-when"})
    assert len(sandbox.state.dispatches()) == 2

    # PyGithub reports a refused dispatch as False, not as an exception.
    assert not workflow.create_dispatch("no-such-branch")
    assert sandbox.requests[-1][2] == 422
    outsider = github_client(OUTSIDER_TOKEN).get_repo(DOWNSTREAM)
    assert not outsider.get_workflow("upgrade-one-python-dependency.yml").create_dispatch("master")
    assert sandbox.requests[-1][2] == 403
    assert len(sandbox.state.dispatches()) == 2


# -- misc -----------------------------------------------------------------------------------------


def test_branch_and_rate_limit(github_client: Client) -> None:
    gh = github_client()
    branch = gh.get_repo(LIBRARY).get_branch("master")
    assert branch.commit.commit.message.startswith("fix: learner language")
    assert not branch.protected
    limits = gh.get_rate_limit()
    assert limits.resources.core.limit == 5000
    assert gh.rate_limiting[1] == 5000


def test_unknown_paths_are_github_404s(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.api_url}/no/such/endpoint", timeout=10)
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert requests.get(f"{sandbox.url}/favicon.ico", timeout=10).status_code == 404
