"""The tool where it meets GitHub's behaviours (issue 15, item 7): each behaviour the sandbox has
(`test_sandbox_timing.py`, `test_sandbox_tokens.py`, `test_sandbox_pulls.py` show it over raw
HTTP) met by a real release through the pipeline, on a clone of the sandbox's example library.

- a secondary rate limit (403 with Retry-After) on the release's and the PR's POST: waited out
  as the response asks, at most `RetryPolicy.max_wait`, then repeated, and nothing duplicated;
- a PR opened right after its branch, refused for a moment (422 "No commits between", head
  invalid): retried with backoff, and when it lasts, a clear error;
- a fork created in the background: the fork-mode downstream waits for it;
- symlinks, submodules and files over 1 MB in the downstream: the downstream step reads
  through them (a large file's content from its blob);
- a reviewer GitHub refuses (not a collaborator, the PR's author): reported, the PR opened;
- an App installation token (403 on GET /user) and a fine-grained token limited to the
  library: no traceback; the downstream step opens its PR or says plainly why it cannot;
- a token without the `workflow` permission pushing a release commit that changes
  `.github/workflows/`: the push fails with GitHub's reason and a hint that names the fix.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import (
    DOWNSTREAM,
    LIBRARY,
    MAINTAINER,
    MAINTAINER_TOKEN,
    REVIEWER,
    Contract,
)
from test_github_release import library_project, plan, release, replace_downstream, step

from release_tool.errors import ReleaseError, UsageError
from release_tool.git_repo import GitRepo, run_git
from release_tool.project import RetryPolicy
from release_tool.sandbox import Exchange, Sandbox, Token

BRANCH = "release-tool/edx-proctoring"
BIG = 1536 * 1024  # over GitHub's 1 MB inline limit of the contents API


def timed(sandbox: Sandbox, contract: Contract) -> list[tuple[float, Exchange]]:
    """Every API exchange from now on, with the moment it was answered (still checked
    against GitHub's contract)."""
    seen: list[tuple[float, Exchange]] = []

    def observe(exchange: Exchange) -> None:
        seen.append((time.monotonic(), exchange))
        contract(exchange)

    sandbox.observer = observe
    return seen


def posts(seen: list[tuple[float, Exchange]], suffix: str) -> list[tuple[float, int]]:
    return [(t, e.status) for t, e in seen if e.method == "POST" and e.path.endswith(suffix)]


def open_pulls(sandbox: Sandbox) -> list[Any]:
    return [p for p in sandbox.state.pulls(DOWNSTREAM) if p.state == "open"]


# --- secondary rate limits ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/releases", "/pulls"])
def test_a_secondary_rate_limit_is_waited_out_as_asked(
    sandbox: Sandbox, contract: Contract, tmp_path: Path, suffix: str
) -> None:
    """Retry-After: 1 with max_wait 5: the repeat comes a second later, not at the backoff."""
    project = library_project(sandbox, tmp_path)
    project = dataclasses.replace(project, policy=RetryPolicy(attempts=4, backoff=0.01, max_wait=5))
    seen = timed(sandbox, contract)
    sandbox.add_fault(f"POST /repos/*{suffix} secondary:1")
    release(project)
    (limited, limited_status), (repeated, status) = posts(seen, suffix)
    assert (limited_status, status) == (403, 201)
    assert repeated - limited >= 0.95  # the Retry-After, not the 0.01 s backoff
    assert len(sandbox.state.releases(LIBRARY)) == 1
    assert len(open_pulls(sandbox)) == 1


def test_a_long_retry_after_is_capped_by_max_wait(
    sandbox: Sandbox, contract: Contract, tmp_path: Path
) -> None:
    """GitHub asks for a minute; the policy (RELEASE_TOOL_RETRY_MAX_WAIT) says at most 0.3 s."""
    project = library_project(sandbox, tmp_path)
    project = dataclasses.replace(
        project, policy=RetryPolicy(attempts=4, backoff=0.01, max_wait=0.3)
    )
    seen = timed(sandbox, contract)
    sandbox.add_fault("POST /repos/*/releases secondary:60")
    sandbox.add_fault("POST /repos/*/pulls secondary:60")
    started = time.monotonic()
    release(project)
    assert time.monotonic() - started < 30
    for suffix in ("/releases", "/pulls"):
        (limited, _), (repeated, status) = posts(seen, suffix)
        assert status == 201
        assert 0.25 <= repeated - limited < 5
    assert len(sandbox.state.releases(LIBRARY)) == 1
    assert len(open_pulls(sandbox)) == 1


# --- a pull request right after its branch ---------------------------------------------------


@pytest.mark.parametrize("kind", ["nocommits", "headinvalid"])
def test_a_pr_refused_for_a_moment_after_its_branch_is_retried(
    sandbox: Sandbox, contract: Contract, tmp_path: Path, kind: str
) -> None:
    project = library_project(sandbox, tmp_path)
    seen = timed(sandbox, contract)
    sandbox.add_fault(f"POST /repos/*/pulls {kind} 2")
    _, result = release(project)
    assert [status for _, status in posts(seen, "/pulls")] == [422, 422, 201]
    (pull,) = open_pulls(sandbox)
    assert result.state.pr_urls == (f"{sandbox.url}/{DOWNSTREAM}/pull/{pull.number}",)


def test_a_pr_refused_for_good_is_a_clear_error(
    sandbox: Sandbox, contract: Contract, tmp_path: Path
) -> None:
    project = library_project(sandbox, tmp_path)
    seen = timed(sandbox, contract)
    sandbox.add_fault("POST /repos/*/pulls nocommits 0")
    with pytest.raises(ReleaseError) as failed:
        release(project)
    tries = posts(seen, "/pulls")
    assert [status for _, status in tries] == [422] * project.policy.attempts
    error = failed.value
    assert "downstream failed" in error.message
    assert f"No commits between master and {BRANCH}" in error.message
    assert "GitHub does not see the commits of the branch" in error.message
    assert "run the same command again" in error.hint
    assert open_pulls(sandbox) == []
    # The branch is there: the same command, once GitHub has caught up, opens the PR.
    sandbox.clear_faults()
    release(project, "current")
    assert len(open_pulls(sandbox)) == 1


# --- forks made in the background -----------------------------------------------------------


def test_fork_mode_waits_for_a_fork_github_makes_in_the_background(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.fork_delay = 1.0
    project = library_project(sandbox, tmp_path)
    project = dataclasses.replace(
        project,
        config=replace_downstream(project.config, fork=True),
        policy=RetryPolicy(attempts=4, backoff=0.05, max_wait=0.5),
    )
    before = len(sandbox.requests)
    _, result = release(project)
    fork_ref = f"/api/v3/repos/{MAINTAINER}/edx-platform/git/ref/heads/master"
    waited = [status for _, path, status in sandbox.requests[before:] if path == fork_ref]
    assert waited[0] == 404 and waited[-1] == 200  # not there at first: it was waited for
    (pull,) = open_pulls(sandbox)
    assert (pull.head_repo, pull.head_ref) == (f"{MAINTAINER}/edx-platform", BRANCH)
    assert result.state.pr_urls == (f"{sandbox.url}/{DOWNSTREAM}/pull/{pull.number}",)


# --- what the contents API says about a downstream's files ----------------------------------------


def test_symlinks_submodules_and_large_files_in_the_downstream(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    """requirements/edx/ holds a symlink to a pinned file, a submodule and a 1.5 MB pinned file
    (the contents API sends no content for it): the PR edits the regular files, the large one
    included, and leaves the link and the submodule alone."""
    from github import InputGitTreeElement

    repo = github_client().get_repo(DOWNSTREAM)
    master = repo.get_branch("master").commit.sha
    head = repo.get_git_commit(master)
    filler = "".join(
        f"# {n:07d} a generated comment line, to make this file large\n" for n in range(30_000)
    )
    big = f"edx-proctoring==5.2.0\n{filler}"
    assert len(big) > BIG
    gitmodules = '[submodule "vendor"]\n\tpath = requirements/edx/vendor\n\turl = https://example.org/v.git\n'
    tree = repo.create_git_tree(
        [
            InputGitTreeElement("requirements/edx/link.txt", "120000", "blob", content="base.txt"),
            InputGitTreeElement("requirements/edx/vendor", "160000", "commit", sha="b" * 40),
            InputGitTreeElement(".gitmodules", "100644", "blob", content=gitmodules),
            InputGitTreeElement("requirements/edx/big.txt", "100644", "blob", content=big),
        ],
        base_tree=head.tree,
    )
    commit = repo.create_git_commit("edge cases", tree, [head])
    repo.get_git_ref("heads/master").edit(commit.sha)

    project = library_project(sandbox, tmp_path)
    planned, _ = release(project)
    (action,) = step(planned, "downstream").actions
    assert action.describe().endswith("(5 files)")
    (pull,) = open_pulls(sandbox)
    changed = (
        sandbox.store.git(
            DOWNSTREAM, "diff", "--name-only", "refs/heads/master", f"refs/heads/{BRANCH}"
        )
        .decode()
        .split()
    )
    assert "requirements/edx/big.txt" in changed
    assert "requirements/edx/link.txt" not in changed
    assert "requirements/edx/vendor" not in changed
    new_big = sandbox.store.git(DOWNSTREAM, "show", f"refs/heads/{BRANCH}:requirements/edx/big.txt")
    assert new_big.decode() == big.replace("==5.2.0", "==5.3.0", 1)
    modes = sandbox.store.git(DOWNSTREAM, "ls-tree", f"refs/heads/{BRANCH}", "requirements/edx/")
    assert b"120000 blob" in modes and b"160000 commit" in modes  # still a link, a submodule
    assert pull.head_ref == BRANCH


# --- reviewers GitHub refuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reviewer", "github_says"),
    [
        ("not-a-collaborator", "Reviews may only be requested from collaborators"),
        (MAINTAINER, "Review cannot be requested from pull request author"),
    ],
)
def test_a_reviewer_github_refuses_is_reported_and_the_pr_opened(
    sandbox: Sandbox, tmp_path: Path, reviewer: str, github_says: str
) -> None:
    project = library_project(
        sandbox, tmp_path, change=lambda c: replace_downstream(c, reviewers=(REVIEWER, reviewer))
    )
    planned, result = release(project)
    (pull,) = open_pulls(sandbox)
    assert pull.labels == ["dependencies"]
    assert pull.reviewers == [REVIEWER]  # the one GitHub accepts is asked
    assert result.state.pr_urls == (f"{sandbox.url}/{DOWNSTREAM}/pull/{pull.number}",)
    (summary,) = [o.summary for s, _, o in result.applied if s == "downstream"]
    assert summary.startswith(f"opened PR #{pull.number}")
    # Reported: caught while planning (the reviewer left out, with why), or, when only
    # GitHub could tell, in what the run did (GitHub's own words).
    notes = " ".join(step(planned, "downstream").notes)
    assert f"reviewer {reviewer} left out" in notes or (
        "reviews not requested" in summary and github_says in summary
    )


# --- tokens ---------------------------------------------------------------------------------------

APP_BOT = "release-app[bot]"
INSTALLATION_TOKEN = "ghs_sandboxInstallationToken0001"


def test_an_installation_token_releases_without_reading_its_user(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An App installation token has no user (GET /user: 403): with write access to the
    downstream, the release never asks for one."""
    sandbox.add_token(INSTALLATION_TOKEN, Token(APP_BOT, "installation", account="openedx"))
    sandbox.add_collaborator(DOWNSTREAM, APP_BOT)
    sandbox.add_collaborator(LIBRARY, APP_BOT)
    project = library_project(sandbox, tmp_path, token=INSTALLATION_TOKEN)
    before = len(sandbox.requests)
    _, result = release(project)
    assert ("GET", "/api/v3/user", 403) not in sandbox.requests[before:]
    (pull,) = open_pulls(sandbox)
    assert pull.user == APP_BOT
    assert result.state.release_url
    assert len(sandbox.state.releases(LIBRARY)) == 1


def test_an_installation_token_that_would_need_a_fork_is_refused_at_plan_time(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Without push access to the downstream, the tool would fork as the token's user; an
    installation token has none: the plan says so, before anything is pushed."""
    sandbox.add_token(INSTALLATION_TOKEN, Token(APP_BOT, "installation", account="openedx"))
    project = library_project(sandbox, tmp_path, token=INSTALLATION_TOKEN)
    head = run_git("rev-parse", "HEAD", cwd=project.root)
    with pytest.raises(UsageError) as refused:
        plan(project)
    error = refused.value
    assert "tool.release_tool.downstream[0]" in error.message
    assert DOWNSTREAM in error.message
    assert "GitHub App" in error.message
    assert "403" in error.message
    assert DOWNSTREAM in error.hint
    assert run_git("rev-parse", "HEAD", cwd=project.root) == head
    assert sandbox.state.releases(LIBRARY) == []


def test_a_fine_grained_token_limited_to_the_library_is_reported_clearly(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The token may write the library only: the release goes out; the downstream step stops
    with GitHub's reason and what to change, naming the repository."""
    sandbox.add_token(
        "github_pat_library_only", Token(MAINTAINER, "fine-grained", frozenset({LIBRARY.lower()}))
    )
    project = library_project(sandbox, tmp_path, token="github_pat_library_only")
    with pytest.raises(ReleaseError) as failed:
        release(project)
    error = failed.value
    assert "downstream failed" in error.message
    assert "Resource not accessible by personal access token" in error.message
    assert DOWNSTREAM in error.message
    assert "add that repository to the fine-grained token's repositories" in error.hint
    assert len(sandbox.state.releases(LIBRARY)) == 1  # everything before it was done
    assert open_pulls(sandbox) == []


WORKFLOW = ".github/workflows/release.yml"


def test_a_release_commit_changing_a_workflow_needs_the_workflow_permission(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The version also stands in a workflow file; a token without the `workflow` scope may
    not push the release commit: GitHub's words, a hint naming the scope, nothing left."""
    project = library_project(sandbox, tmp_path)
    work = project.root
    (work / ".github" / "workflows").mkdir(parents=True)
    (work / WORKFLOW).write_text("env:\n  VERSION: '5.2.0'\n")
    pyproject = work / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'version_files = ["edx_proctoring/__init__.py", ',
            'version_files = [{ path = ".github/workflows/release.yml", search = '
            '"VERSION: \'{version}\'" }, "edx_proctoring/__init__.py", ',
        )
    )
    run_git("add", "-A", cwd=work)
    run_git("commit", "-qm", "ci: the version in the release workflow", cwd=work)
    GitRepo(work, MAINTAINER_TOKEN).push("origin", ["master"])  # the maintainer's token may
    sandbox.add_token("ghp_noWorkflowScope", Token(MAINTAINER, workflow=False))
    project = library_project(sandbox, tmp_path, token="ghp_noWorkflowScope")
    head = run_git("rev-parse", "HEAD", cwd=work)
    with pytest.raises(ReleaseError) as failed:
        release(project)
    error = failed.value
    assert "without `workflow` scope" in error.message + error.details
    assert "push failed" in error.message
    assert "`workflow` scope" in error.hint
    assert WORKFLOW in error.hint or ".github/workflows/" in error.hint
    assert run_git("rev-parse", "HEAD", cwd=work) == head  # rolled back: nothing left
    assert sandbox.store.ref(LIBRARY, "refs/tags/v5.3.0") is None
