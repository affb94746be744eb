"""Pull requests as GitHub refuses them: review requests to non-collaborators or to the author,
and a pull request opened right after its branch was pushed (the `nocommits` fault)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from github import GithubException, InputGitTreeElement
from sandbox_fixtures import DOWNSTREAM, MAINTAINER, OUTSIDER, REVIEWER

from release_tool.sandbox import Sandbox, seed_example
from release_tool.sandbox.state import Pull

Client = Callable[..., Any]
NOT_COLLABORATOR = (
    "Reviews may only be requested from collaborators. One or more of the users or teams you "
    f"specified is not a collaborator of the {DOWNSTREAM} repository."
)


def open_pull(repo: Any, branch: str = "topic") -> Any:
    head = repo.get_git_commit(repo.get_branch("master").commit.sha)
    tree = repo.create_git_tree(
        [InputGitTreeElement(f"{branch}.txt", "100644", "blob", content="x\n")],
        base_tree=head.tree,
    )
    repo.create_git_ref(f"refs/heads/{branch}", repo.create_git_commit("x", tree, [head]).sha)
    return repo.create_pull(base="master", head=branch, title="t", body="")


def test_reviews_only_from_collaborators_and_never_the_author(
    sandbox: Sandbox, github_client: Client
) -> None:
    pr = open_pull(github_client().get_repo(DOWNSTREAM))
    with pytest.raises(GithubException) as stranger:
        pr.create_review_request(reviewers=[REVIEWER, "not-a-collaborator"])
    assert stranger.value.status == 422
    assert stranger.value.data["message"] == NOT_COLLABORATOR
    # A user with no access at all to the repository is no collaborator either.
    with pytest.raises(GithubException) as outsider:
        pr.create_review_request(reviewers=[OUTSIDER])
    assert outsider.value.data["message"] == NOT_COLLABORATOR
    with pytest.raises(GithubException) as author:
        pr.create_review_request(reviewers=[MAINTAINER])
    assert author.value.data["message"] == "Review cannot be requested from pull request author."
    assert _pull(sandbox, pr.number).reviewers == []  # nothing was half-done

    pr.create_review_request(reviewers=[REVIEWER, "second-reviewer"])
    assert [u.login for u in pr.get_review_requests()[0]] == [REVIEWER, "second-reviewer"]

    # A collaborator added later (in-process) may be asked too.
    sandbox.add_collaborator(DOWNSTREAM, "late-reviewer")
    pr.create_review_request(reviewers=["late-reviewer"])
    assert "late-reviewer" in _pull(sandbox, pr.number).reviewers


def test_seeded_example_makes_its_reviewer_a_collaborator(tmp_path: Path) -> None:
    root = tmp_path / "root"
    seed_example(root)
    token = "t0k"
    with Sandbox(root, tokens={token: MAINTAINER}, grants=[(MAINTAINER, DOWNSTREAM)]) as sb:
        import github

        gh = github.Github(base_url=sb.api_url, auth=github.Auth.Token(token), retry=None)
        pr = open_pull(gh.get_repo(DOWNSTREAM))
        pr.create_review_request(reviewers=[REVIEWER])  # the example's configured reviewer
        assert _pull(sb, pr.number).reviewers == [REVIEWER]
        response = requests.post(
            f"{sb.api_url}/repos/{DOWNSTREAM}/pulls/{pr.number}/requested_reviewers",
            json={"reviewers": ["second-reviewer"]},
            headers={"Authorization": f"token {token}"},
            timeout=10,
        )
        assert (response.status_code, response.json()["message"]) == (422, NOT_COLLABORATOR)


def _pull(sandbox: Sandbox, number: int) -> Pull:
    pull = sandbox.state.pull(DOWNSTREAM, number)
    assert pull is not None
    return pull
