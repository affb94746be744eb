"""The downstream step against the sandbox, with real PyGithub and no mock of our own seams.

End to end: the example library is released with the pipeline and the PR on the example
downstream is read back from the sandbox (its state, and the git objects in its bare
repositories). Narrower tests plan and apply the downstream step alone (`plan_downstream`),
which is what `release-tool downstream VERSION` does, to count its requests exactly.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest
from sandbox_fixtures import (
    DOWNSTREAM,
    LIBRARY,
    MAINTAINER,
    MAINTAINER_TOKEN,
    OUTSIDER,
    OUTSIDER_TOKEN,
)
from test_github_release import (
    FAST,
    NOTES,
    NOTES_MD,
    api_calls,
    commit_changelog_entry,
    library_project,
    plan,
    release,
    release_twice_if_it_fails,
    replace_downstream,
    step,
    writes,
)
from test_requirements_pins import FIXTURES, GOLDEN, Golden

from release_tool import example
from release_tool.config import Config, config_from_mapping
from release_tool.downstream import (
    DownstreamPRAction,
    Upgrade,
    plan_downstream,
    tree_sha_after,
)
from release_tool.errors import FileEditError, ReleaseError, UsageError
from release_tool.git_repo import run_git
from release_tool.github_api import GitHub, TreeEntry
from release_tool.plan import Outcome, RunState, StepPlan
from release_tool.sandbox import Sandbox
from release_tool.sandbox.store import Entry
from release_tool.steps.downstream import plan_released
from release_tool.versions import parse_version

BRANCH = "release-tool/edx-proctoring"
PINNED_FILES = [
    "requirements/edx/base.txt",
    "requirements/edx/development.txt",
    "requirements/edx/doc.txt",
    "requirements/edx/testing.txt",
]


# --- helpers ----------------------------------------------------------------------------------


def example_config(tmp_path: Path, **downstream: Any) -> Config:
    data = tomllib.loads(example.LIBRARY_PYPROJECT)["tool"]["release_tool"]
    config = config_from_mapping(data, tmp_path)
    return replace_downstream(config, **downstream) if downstream else config


def upgrade(
    version: str = "5.3.0", package: str = "edx-proctoring", tag: str | None = None
) -> Upgrade:
    return Upgrade(
        package=package,
        version=parse_version(version),
        tag=tag or f"v{version}",
        notes=NOTES,
        release_url=f"https://example.test/releases/tag/v{version}",
        repository=LIBRARY,
        repository_url=f"https://example.test/{LIBRARY}",
    )


def client(sandbox: Sandbox, token: str = MAINTAINER_TOKEN) -> GitHub:
    return GitHub(sandbox.api_url, token, policy=FAST)


def apply_step(planned: StepPlan) -> list[Outcome]:
    return [action.apply(RunState()) for action in planned.actions]


def put_files(
    github_client: Any, files: dict[str, bytes | None], repository: str = DOWNSTREAM
) -> None:
    """Commit files to the downstream's master through the contents API (None deletes)."""
    from github import UnknownObjectException

    repo = github_client().get_repo(repository)
    for path, data in files.items():
        try:
            sha = repo.get_contents(path).sha
        except UnknownObjectException:
            sha = None
        if data is None:
            repo.delete_file(path, f"remove {path}", sha)
        elif sha is None:
            repo.create_file(path, f"add {path}", data)
        else:
            repo.update_file(path, f"update {path}", data, sha)


def became_the_library(sandbox: Sandbox, old: str) -> None:
    """Make `old` a former name of the library (openedx/edx-proctoring was edx/edx-proctoring
    until the organisation moved): GitHub redirects it."""
    sandbox.rename(LIBRARY, old)
    sandbox.rename(old, LIBRARY)


def git(sandbox: Sandbox, repository: str, *args: str) -> str:
    return sandbox.store.git(repository, *args).decode()


def head_of(sandbox: Sandbox, repository: str = DOWNSTREAM, branch: str = BRANCH) -> str:
    found = sandbox.store.ref(repository, f"refs/heads/{branch}")
    assert found is not None, f"{repository} has no branch {branch}"
    return found[0]


def changed_lines(
    sandbox: Sandbox, base: str, head: str, repository: str = DOWNSTREAM
) -> dict[str, list[str]]:
    """path → the -/+ lines of `git diff -U0 base head` (the whole change, nothing hidden)."""
    out: dict[str, list[str]] = {}
    path = ""
    for line in git(sandbox, repository, "diff", "-U0", base, head).splitlines():
        if line.startswith("+++ b/"):
            path = line[6:]
            out[path] = []
        elif line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
            out[path].append(line)
    return out


def open_pulls(sandbox: Sandbox) -> list[Any]:
    return [p for p in sandbox.state.pulls(DOWNSTREAM) if p.state == "open"]


def only_pull(sandbox: Sandbox) -> Any:
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    assert pull.state == "open"
    return pull


def assert_final_state(sandbox: Sandbox, version: str = "5.3.0") -> None:
    """One open PR from the tool's branch, labelled, reviewer asked, pins and nothing else."""
    pull = only_pull(sandbox)
    assert (pull.head_repo, pull.head_ref, pull.base_ref) == (DOWNSTREAM, BRANCH, "master")
    assert pull.title == f"chore: upgrade edx-proctoring to {version}"
    assert pull.labels == ["dependencies"]
    assert pull.reviewers == ["edx-platform-reviewer"]
    diff = changed_lines(sandbox, "refs/heads/master", head_of(sandbox))
    assert sorted(diff) == PINNED_FILES
    for lines in diff.values():
        assert lines == ["-edx-proctoring==5.2.0", f"+edx-proctoring=={version}"]
    parents = git(sandbox, DOWNSTREAM, "rev-list", "--parents", "-n1", head_of(sandbox)).split()
    assert parents[1:] == [head_of(sandbox, branch="master")]


# --- the whole release --------------------------------------------------------------------------


def test_release_opens_a_pr_changing_exactly_the_pin_lines(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = library_project(sandbox, tmp_path)
    planned, result = release(project)

    (action,) = step(planned, "downstream").actions
    assert isinstance(action, DownstreamPRAction)
    assert action.describe() == (
        "open PR on openedx/edx-platform: chore: upgrade edx-proctoring to 5.3.0 (4 files)"
    )
    details = action.details()
    assert "branch: release-tool/edx-proctoring" in details
    for path in PINNED_FILES:
        assert f"--- a/{path}\n+++ b/{path}\n" in details
    assert_final_state(sandbox)
    pull = only_pull(sandbox)
    assert result.outputs["downstream_pr_urls"] == f"{sandbox.url}/{DOWNSTREAM}/pull/1"
    # The body: what changed, the notes, the release link, the files.
    assert "from 5.2.0 to **5.3.0**" in pull.body
    assert NOTES_MD in pull.body
    assert f"Release: {result.outputs['release_url']}" in pull.body
    for path in PINNED_FILES:
        assert f"- `{path}`: line 12, 5.2.0 → 5.3.0" in pull.body
    assert "constraint" not in pull.body.lower().replace("re-running", "")
    assert pull.body == action.body  # the dry run showed exactly what was opened
    # One commit on top of the base, with the rendered message.
    message = git(sandbox, DOWNSTREAM, "log", "-1", "--format=%B", head_of(sandbox))
    assert message.startswith("chore: upgrade edx-proctoring to 5.3.0\n\n")


def test_a_release_after_an_open_pr_updates_that_pr(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    release(project)
    first_head = head_of(sandbox)
    commit_changelog_entry(project, "* Fix the 5.3.0 regression")
    before = len(sandbox.requests)
    planned, result = release(project, "patch")

    (action,) = step(planned, "downstream").actions
    assert action.describe() == (
        "update PR #1 on openedx/edx-platform: branch, title, body (4 files)"
    )
    assert_final_state(sandbox, "5.3.1")
    assert head_of(sandbox) != first_head
    assert "- Fix the 5.3.0 regression" in only_pull(sandbox).body  # as Markdown
    assert result.outputs["downstream_pr_urls"] == f"{sandbox.url}/{DOWNSTREAM}/pull/1"
    downstream_writes = [(m, p) for m, p, _ in writes(sandbox, before) if DOWNSTREAM in p]
    assert downstream_writes == [
        ("POST", f"/api/v3/repos/{DOWNSTREAM}/git/trees"),
        ("POST", f"/api/v3/repos/{DOWNSTREAM}/git/commits"),
        ("PATCH", f"/api/v3/repos/{DOWNSTREAM}/git/refs/heads/{BRANCH}"),
        ("PATCH", f"/api/v3/repos/{DOWNSTREAM}/pulls/1"),
    ]


# --- request economy -----------------------------------------------------------------------------


def _run_downstream(sandbox: Sandbox, config: Config) -> tuple[StepPlan, list[Any]]:
    before = len(sandbox.requests)
    planned = plan_downstream(client(sandbox), config, upgrade())
    apply_step(planned)
    return planned, api_calls(sandbox, before)


def _paths(calls: list[Any]) -> list[tuple[str, str]]:
    """(method, path) of each call (the sandbox records no query string)."""
    return [(m, p) for m, p, _ in calls]


class RecordingGitHub(GitHub):
    """The real client, which also notes each request's query parameters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, str, dict[str, Any] | None]] = []

    def _json(
        self, verb: str, path: str, body: Any = None, parameters: dict[str, Any] | None = None
    ) -> Any:
        self.sent.append((verb, path, parameters))
        return super()._json(verb, path, body, parameters)


def _base(sandbox: Sandbox) -> str:
    return head_of(sandbox, branch="master")


def _reviewer_checks(d: str) -> list[tuple[str, str]]:
    """Before a new PR asks for a review: who opens it (GitHub refuses the author as a
    reviewer), and whether the reviewer is a collaborator (else GitHub refuses too)."""
    return [("GET", "/user"), ("GET", f"{d}/collaborators/edx-platform-reviewer")]


def _writes_of_a_new_pr(d: str) -> list[tuple[str, str]]:
    return [
        ("POST", f"{d}/git/trees"),
        ("POST", f"{d}/git/commits"),
        ("POST", f"{d}/git/refs"),
        ("POST", f"{d}/pulls"),
        ("POST", f"{d}/issues/1/labels"),
        ("POST", f"{d}/pulls/1/requested_reviewers"),
    ]


def test_a_new_pr_editing_4_files_takes_16_requests(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    # Four distinct files that pin (the example's doc.txt is byte-identical to testing.txt,
    # which would save a read), and no constraints file: exactly four blobs to read.
    doc = "requirements/edx/doc.txt"
    put_files(github_client, {doc: example.downstream_files()[doc].encode() + b"sphinx==8.1\n"})
    config = example_config(tmp_path, files=("requirements/edx/*.txt",), constraints=())
    base = _base(sandbox)
    planned, calls = _run_downstream(sandbox, config)
    assert len(cast(DownstreamPRAction, planned.actions[0]).files) == 4
    d = f"/repos/{DOWNSTREAM}"
    # Each matched file's blob, in path order.
    blobs = [
        cast(Entry, sandbox.store.entry_at(DOWNSTREAM, base, path)).sha for path in PINNED_FILES
    ]
    assert len(set(blobs)) == 4
    assert _paths(calls) == [
        ("GET", d),
        ("GET", f"{d}/branches/master"),
        ("GET", f"{d}/contents/requirements/edx"),  # never the recursive tree
        *[("GET", f"{d}/git/blobs/{sha}") for sha in blobs],
        ("GET", f"{d}/pulls"),
        *_reviewer_checks(d),
        *_writes_of_a_new_pr(d),
    ]
    assert len(calls) == 16
    assert_final_state(sandbox)


def test_the_example_config_takes_16_requests(sandbox: Sandbox, tmp_path: Path) -> None:
    # The example reads its four compiled files (testing.txt and doc.txt are byte-identical:
    # three distinct blobs) and requirements/constraints.txt, which exists but does not pin
    # the package: read inline through the contents API, one request, no blob.
    _, calls = _run_downstream(sandbox, example_config(tmp_path))
    d = f"/repos/{DOWNSTREAM}"
    blobs = [p for _, p, _ in calls if "/git/blobs/" in p]
    assert len(blobs) == len(set(blobs)) == 3
    assert _paths(calls) == [
        ("GET", d),
        ("GET", f"{d}/branches/master"),
        ("GET", f"{d}/contents/requirements/edx"),
        *[("GET", p) for p in blobs],
        ("GET", f"{d}/contents/requirements/constraints.txt"),
        ("GET", f"{d}/pulls"),
        *_reviewer_checks(d),
        *_writes_of_a_new_pr(d),
    ]
    assert [s for _, _, s in calls[:8]] == [200] * 8
    assert [s for _, _, s in calls[8:10]] == [200, 204]
    assert len(calls) == 16
    assert_final_state(sandbox)


def test_every_file_is_read_at_the_commit_the_branch_read_gave(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # The branch is read once; everything after it names that commit, so the plan is one
    # consistent snapshot even if the branch moves while it is being read.
    gh = RecordingGitHub(sandbox.api_url, MAINTAINER_TOKEN, policy=FAST)
    plan_downstream(gh, example_config(tmp_path), upgrade())
    base = _base(sandbox)
    d = f"/repos/{DOWNSTREAM}"
    contents = [(path, params) for _, path, params in gh.sent if "/contents/" in path]
    assert contents == [
        (f"{d}/contents/requirements/edx", {"ref": base}),
        (f"{d}/contents/requirements/constraints.txt", {"ref": base}),
    ]
    assert [path for _, path, _ in gh.sent if "/branches/" in path] == [f"{d}/branches/master"]


def test_a_constraints_file_that_does_not_exist_costs_one_request(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = example_config(
        tmp_path,
        files=("requirements/edx/*.txt",),
        constraints=("requirements/no-such-constraints.txt",),
    )
    _, calls = _run_downstream(sandbox, config)
    # The four .txt files are three distinct blobs (doc.txt == testing.txt); the constraints
    # file's 404 is the one request its absence costs.
    missing = [c for c in calls if "/contents/requirements/no-such-constraints.txt" in c[1]]
    assert [s for _, _, s in missing] == [404]
    assert len(calls) == 12 + 3 + 1
    assert_final_state(sandbox)


def test_a_constraints_file_in_a_listed_directory_costs_no_lookup(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    # Its directory is listed for the globs: its presence (or absence) is known for free, and
    # a present one costs its blob read only.
    constraints = "requirements/edx/constraints.txt"
    put_files(github_client, {constraints: b"edx-proctoring<6\nedx-proctoring==5.2.0\n"})
    config = example_config(
        tmp_path,
        files=("requirements/edx/*.in",),
        constraints=(constraints, "requirements/edx/absent.txt"),
        raise_lower_bound=True,
    )
    _, calls = _run_downstream(sandbox, config)
    contents = [p.split("?")[0] for _, p, _ in calls if "/contents/" in p]
    assert contents == [f"/repos/{DOWNSTREAM}/contents/requirements/edx"]
    head = head_of(sandbox)
    assert changed_lines(sandbox, "refs/heads/master", head)[constraints] == [
        "-edx-proctoring==5.2.0",
        "+edx-proctoring==5.3.0",
    ]


def test_the_plan_reads_the_same_whatever_the_repository_size(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    # Many files elsewhere change nothing: no request lists them (no recursive tree), and the
    # request sequence is the same.
    config = example_config(tmp_path)
    before = len(sandbox.requests)
    plan_downstream(client(sandbox), config, upgrade())
    small = [p.split("?")[0] for _, p, _ in api_calls(sandbox, before)]
    _commit_files(github_client, {f"lms/djangoapps/app{i}/views.py": "x = 1\n" for i in range(300)})
    before = len(sandbox.requests)
    plan_downstream(client(sandbox), config, upgrade())
    big = [p.split("?")[0] for _, p, _ in api_calls(sandbox, before)]
    assert big == small
    assert not any("/git/trees" in p for p in big)


def _commit_files(
    github_client: Any, files: dict[str, str], modes: dict[str, str] | None = None
) -> str:
    """One commit on the downstream's master writing `files` (path → text), with `modes`
    (path → git mode, e.g. 100755) for some; its sha."""
    from github import InputGitTreeElement

    repo = github_client().get_repo(DOWNSTREAM)
    master = repo.get_git_ref("heads/master")
    parent = repo.get_git_commit(master.object.sha)
    elements = [
        InputGitTreeElement(path, (modes or {}).get(path, "100644"), "blob", content=text)
        for path, text in files.items()
    ]
    tree = repo.create_git_tree(elements, base_tree=parent.tree)
    commit = repo.create_git_commit("add files", tree, [parent])
    master.edit(commit.sha)
    return str(commit.sha)


def test_a_directory_over_githubs_listing_cap_is_read_from_its_tree(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    # GitHub's contents API lists 1,000 entries of a directory at most: a full listing may be
    # cut short, so the directory's git tree (no cap) is read instead.
    many = {f"requirements/edx/extra-{i:04}.txt": "six==1.16\n" for i in range(1000)}
    many["requirements/edx/zz-last.txt"] = "edx-proctoring==5.2.0\n"  # past the 1,000th
    _commit_files(github_client, many)
    before = len(sandbox.requests)
    (action,) = plan_downstream(client(sandbox), example_config(tmp_path), upgrade()).actions
    assert isinstance(action, DownstreamPRAction)
    assert "requirements/edx/zz-last.txt" in [c.path for c in action.files]
    calls = [p.split("?")[0] for _, p, _ in api_calls(sandbox, before)]
    base = _base(sandbox)
    d = f"/repos/{DOWNSTREAM}"
    trees = [
        sandbox.store.resolve_tree(DOWNSTREAM, base),
        cast(Entry, sandbox.store.entry_at(DOWNSTREAM, base, "requirements")).sha,
        cast(Entry, sandbox.store.entry_at(DOWNSTREAM, base, "requirements/edx")).sha,
    ]
    assert calls[2:6] == [
        f"{d}/contents/requirements/edx",  # 1,000 entries: maybe not all of them
        # requirements/edx's tree, reached from the root tree, non-recursively
        *[f"{d}/git/trees/{sha}" for sha in trees],
    ]
    assert sum("/git/trees/" in p for p in calls) == 3


def test_a_glob_with_wildcard_directories_lists_below_its_literal_part(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # `requirements/*/base.txt`: the one case that needs a recursive listing, of
    # `requirements` only (its sha from the root tree).
    config = example_config(tmp_path, files=("requirements/*/base.txt",), constraints=())
    gh = RecordingGitHub(sandbox.api_url, MAINTAINER_TOKEN, policy=FAST)
    (action,) = plan_downstream(gh, config, upgrade()).actions
    assert isinstance(action, DownstreamPRAction)
    assert [c.path for c in action.files] == ["requirements/edx/base.txt"]
    base = _base(sandbox)
    root = sandbox.store.resolve_tree(DOWNSTREAM, base)
    requirements = cast(Entry, sandbox.store.entry_at(DOWNSTREAM, base, "requirements")).sha
    d = f"/repos/{DOWNSTREAM}"
    assert [(p, q) for _, p, q in gh.sent if "/git/trees/" in p] == [
        (f"{d}/git/trees/{root}", None),
        (f"{d}/git/trees/{requirements}", {"recursive": 1}),
    ]
    assert not any("/contents/" in p for _, p, _ in gh.sent)


# --- converging -----------------------------------------------------------------------------------


def test_rerun_after_success_writes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    config = example_config(tmp_path)
    apply_step(plan_downstream(client(sandbox), config, upgrade()))
    before = len(sandbox.requests)
    again = plan_downstream(client(sandbox), config, upgrade())
    assert again.actions == ()
    assert again.skipped == (
        f"already done: {DOWNSTREAM}: PR #1 is up to date ({sandbox.url}/{DOWNSTREAM}/pull/1)"
    )
    assert writes(sandbox, before) == []
    # Reads only: the plan's eight, then the PR's commit and the trees its tree depends on
    # (the root, requirements, requirements/edx: non-recursive, whatever the repository size).
    calls = [p.split("?")[0] for _, p, _ in api_calls(sandbox, before)]
    d = f"/repos/{DOWNSTREAM}"
    base = _base(sandbox)
    assert calls[8:] == [
        f"{d}/git/commits/{head_of(sandbox)}",
        *[
            f"{d}/git/trees/{cast(Entry, sandbox.store.entry_at(DOWNSTREAM, base, t)).sha}"
            if t
            else f"{d}/git/trees/{sandbox.store.resolve_tree(DOWNSTREAM, base)}"
            for t in ("", "requirements", "requirements/edx")
        ],
    ]
    assert len(calls) == 12


def test_already_pinned_downstream_is_left_alone(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    put_files(
        github_client, {p: example.downstream_files("5.3.0")[p].encode() for p in PINNED_FILES}
    )
    before = len(sandbox.requests)
    planned = plan_downstream(client(sandbox), example_config(tmp_path), upgrade())
    assert planned.skipped == f"already done: {DOWNSTREAM}@master already pins edx-proctoring 5.3.0"
    assert writes(sandbox, before) == []
    assert sandbox.state.pulls(DOWNSTREAM) == []


def test_missing_labels_and_reviewers_are_added(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    config = example_config(
        tmp_path,
        labels=("dependencies", "python"),
        reviewers=("edx-platform-reviewer", "second-reviewer"),
    )
    apply_step(plan_downstream(client(sandbox), example_config(tmp_path), upgrade()))
    before = len(sandbox.requests)
    planned = plan_downstream(client(sandbox), config, upgrade())
    (action,) = planned.actions
    assert action.describe() == "update PR #1 on openedx/edx-platform: labels, reviewers (4 files)"
    apply_step(planned)
    assert [(m, p) for m, p, _ in writes(sandbox, before)] == [
        ("POST", f"/api/v3/repos/{DOWNSTREAM}/issues/1/labels"),
        ("POST", f"/api/v3/repos/{DOWNSTREAM}/pulls/1/requested_reviewers"),
    ]
    pull = only_pull(sandbox)
    assert pull.labels == ["dependencies", "python"]
    assert pull.reviewers == ["edx-platform-reviewer", "second-reviewer"]


DOWNSTREAM_WRITES = [
    "POST /repos/*/git/trees",
    "POST /repos/*/git/commits",
    "POST /repos/*/git/refs",
    "POST /repos/*/pulls",
    "POST /repos/*/issues/*/labels",
    "POST /repos/*/pulls/*/requested_reviewers",
]


def _downstream_twice_if_it_fails(sandbox: Sandbox, config: Config, version: str) -> bool:
    """The downstream step alone (as `release-tool downstream VERSION`); again if it failed."""
    try:
        apply_step(plan_downstream(client(sandbox), config, upgrade(version)))
    except ReleaseError:
        apply_step(plan_downstream(client(sandbox), config, upgrade(version)))
        return True
    return False


@pytest.mark.parametrize("kind", ["500", "reset", "ratelimit"])
@pytest.mark.parametrize("write", DOWNSTREAM_WRITES)
def test_a_fault_on_each_write_then_a_rerun_converges(
    sandbox: Sandbox, tmp_path: Path, write: str, kind: str
) -> None:
    sandbox.add_fault(f"{write} {kind} 1")
    failed = _downstream_twice_if_it_fails(sandbox, example_config(tmp_path), "5.3.0")
    assert sandbox.faults == []  # the fault did fire
    # A 5xx or a dropped connection on a POST is looked after and retried within the run; a
    # rate limit that resets in an hour is not waited out: the run stops, the re-run finishes.
    assert failed == (kind == "ratelimit")
    assert_final_state(sandbox)


@pytest.mark.parametrize("kind", ["500", "reset", "ratelimit"])
@pytest.mark.parametrize("write", ["PATCH /repos/*/git/refs/*", "PATCH /repos/*/pulls/*"])
def test_a_fault_on_each_update_then_a_rerun_converges(
    sandbox: Sandbox, tmp_path: Path, write: str, kind: str
) -> None:
    config = example_config(tmp_path)
    apply_step(plan_downstream(client(sandbox), config, upgrade("5.3.0")))
    sandbox.add_fault(f"{write} {kind} 1")
    failed = _downstream_twice_if_it_fails(sandbox, config, "5.3.1")
    assert sandbox.faults == []
    assert failed == (kind == "ratelimit")  # PATCHes are retried by urllib3, as GETs are
    assert_final_state(sandbox, "5.3.1")


@pytest.mark.parametrize("kind", ["500", "reset", "ratelimit"])
def test_a_fault_in_a_whole_release_then_the_same_command_converges(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    project = library_project(sandbox, tmp_path)
    sandbox.add_fault(f"POST /repos/*/pulls {kind} 1")
    failed = release_twice_if_it_fails(project, "downstream")
    assert failed == (kind == "ratelimit")
    assert sandbox.faults == []
    assert_final_state(sandbox)
    assert len(sandbox.state.releases(LIBRARY)) == 1


def test_died_after_the_branch_before_the_pr(sandbox: Sandbox, tmp_path: Path) -> None:
    config = example_config(tmp_path)
    sandbox.add_fault("POST /repos/*/pulls 500 *")  # every attempt fails
    with pytest.raises(ReleaseError, match="500"):
        apply_step(plan_downstream(client(sandbox), config, upgrade()))
    assert sandbox.store.ref(DOWNSTREAM, f"refs/heads/{BRANCH}") is not None
    assert sandbox.state.pulls(DOWNSTREAM) == []
    sandbox.clear_faults()

    before = len(sandbox.requests)
    apply_step(plan_downstream(client(sandbox), config, upgrade()))
    d = f"/api/v3/repos/{DOWNSTREAM}"
    assert writes(sandbox, before) == [
        ("POST", f"{d}/git/trees", 201),
        ("POST", f"{d}/git/commits", 201),
        ("POST", f"{d}/git/refs", 422),  # the branch is there: re-point it
        ("PATCH", f"{d}/git/refs/heads/{BRANCH}", 200),
        ("POST", f"{d}/pulls", 201),
        ("POST", f"{d}/issues/1/labels", 200),
        ("POST", f"{d}/pulls/1/requested_reviewers", 201),
    ]
    assert_final_state(sandbox)


def test_died_after_the_pr_before_labels(sandbox: Sandbox, tmp_path: Path) -> None:
    config = example_config(tmp_path)
    sandbox.add_fault("POST /repos/*/issues/*/labels 502 *")
    with pytest.raises(ReleaseError, match="502"):
        apply_step(plan_downstream(client(sandbox), config, upgrade()))
    sandbox.clear_faults()
    before = len(sandbox.requests)
    planned = plan_downstream(client(sandbox), config, upgrade())
    assert planned.actions[0].describe() == (
        "update PR #1 on openedx/edx-platform: labels, reviewers (4 files)"
    )
    apply_step(planned)
    assert [m for m, _, _ in writes(sandbox, before)] == ["POST", "POST"]
    assert_final_state(sandbox)


def _moved_summary(url: str, planned_base: str) -> str:
    return (
        f"opened PR #1 on {DOWNSTREAM}: {url} (the base moved during the run: the PR is based "
        f"on {planned_base[:12]}, GitHub will merge it 3-way)"
    )


@pytest.mark.parametrize("fork", [False, True], ids=["same-repo", "fork"])
def test_base_moved_between_plan_and_apply(
    sandbox: Sandbox, tmp_path: Path, github_client: Any, fork: bool
) -> None:
    config = example_config(tmp_path, fork=fork)
    planned = plan_downstream(client(sandbox), config, upgrade())
    planned_base = _base(sandbox)
    put_files(github_client, {"README.rst": b"moved on\n"})
    moved = _base(sandbox)
    before = len(sandbox.requests)
    (outcome,) = apply_step(planned)

    # No re-read of the base: the apply is writes only (and, for a new fork, its readiness).
    assert all(m != "GET" or "/git/ref/" in p for m, p, _ in api_calls(sandbox, before))
    pull = only_pull(sandbox)
    assert outcome.summary == _moved_summary(f"{sandbox.url}/{DOWNSTREAM}/pull/1", planned_base)
    # Nothing half-written: the whole PR, on exactly the base the plan showed.
    push_to = f"{MAINTAINER}/edx-platform" if fork else DOWNSTREAM
    head = head_of(sandbox, push_to)
    assert (pull.head_repo, pull.labels, pull.reviewers) == (
        push_to,
        ["dependencies"],
        ["edx-platform-reviewer"],
    )
    parents = git(sandbox, push_to, "rev-list", "--parents", "-n1", head).split()
    assert parents[1:] == [planned_base]
    diff = changed_lines(sandbox, planned_base, head, push_to)
    assert sorted(diff) == PINNED_FILES
    assert all(
        lines == ["-edx-proctoring==5.2.0", "+edx-proctoring==5.3.0"] for lines in diff.values()
    )
    # Merged 3-way onto the moved base, the concurrent change stays: no silent revert.
    merged = git(sandbox, push_to, "merge-tree", "--write-tree", moved, head).split()[0]
    assert git(sandbox, push_to, "show", f"{merged}:README.rst") == "moved on\n"
    assert "edx-proctoring==5.3.0" in git(
        sandbox, push_to, "show", f"{merged}:requirements/edx/base.txt"
    )

    # The re-run plans against the new base, and moves the PR onto it.
    (action,) = plan_downstream(client(sandbox), config, upgrade()).actions
    assert action.describe().startswith("update PR #1 on openedx/edx-platform")
    (outcome,) = apply_step(plan_downstream(client(sandbox), config, upgrade()))
    assert "the base moved" not in outcome.summary
    head = head_of(sandbox, push_to)
    assert git(sandbox, push_to, "rev-parse", f"{head}^").strip() == moved


def test_a_concurrent_change_of_the_pin_lines_is_a_conflict_not_a_revert(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    planned = plan_downstream(client(sandbox), example_config(tmp_path), upgrade())
    planned_base = _base(sandbox)
    path = "requirements/edx/base.txt"
    text = example.downstream_files()[path].replace(
        "edx-proctoring==5.2.0", "edx-proctoring==5.2.5"
    )
    put_files(github_client, {path: text.encode()})
    moved = _base(sandbox)
    (outcome,) = apply_step(planned)
    assert outcome.summary == _moved_summary(f"{sandbox.url}/{DOWNSTREAM}/pull/1", planned_base)
    head = head_of(sandbox)
    assert git(sandbox, DOWNSTREAM, "rev-parse", f"{head}^").strip() == planned_base
    # GitHub's 3-way merge of the PR into the moved base: a conflict on that line, which a
    # human resolves; the PR never silently puts 5.2.0's neighbour lines back.
    merge = sandbox.store.git(
        DOWNSTREAM, "merge-tree", "--write-tree", "--name-only", moved, head, check=False
    ).decode()
    assert "CONFLICT (content): Merge conflict in requirements/edx/base.txt" in merge


def test_an_executable_file_loses_its_mode_in_a_new_pr_and_the_rerun_restores_it(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    # The documented limit: the contents API gives no modes, so a new PR writes 100644; the
    # next run reads the modes from the trees, and puts the executable bit back.
    path = "requirements/edx/base.txt"
    _commit_files(github_client, {path: example.downstream_files()[path]}, {path: "100755"})
    config = example_config(tmp_path)

    def mode() -> str:
        return git(sandbox, DOWNSTREAM, "ls-tree", head_of(sandbox), path).split()[0]

    apply_step(plan_downstream(client(sandbox), config, upgrade()))
    assert mode() == "100644"
    (action,) = plan_downstream(client(sandbox), config, upgrade()).actions
    assert action.describe() == "update PR #1 on openedx/edx-platform: branch (4 files)"
    apply_step(plan_downstream(client(sandbox), config, upgrade()))
    assert mode() == "100755"
    assert plan_downstream(client(sandbox), config, upgrade()).actions == ()
    diff = changed_lines(sandbox, "refs/heads/master", head_of(sandbox))
    assert diff[path] == ["-edx-proctoring==5.2.0", "+edx-proctoring==5.3.0"]


# --- errors at plan time, nothing written --------------------------------------------------------


def _plan_fails(sandbox: Sandbox, config: Config, version: str = "5.3.0") -> UsageError:
    before = len(sandbox.requests)
    with pytest.raises(UsageError) as caught:
        plan_downstream(client(sandbox), config, upgrade(version))
    assert writes(sandbox, before) == []
    assert caught.value.exit_code == 2
    return caught.value


def test_a_glob_that_matches_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    config = example_config(tmp_path, files=("requirements/edx/*.txt", "requirements/*.pip"))
    error = _plan_fails(sandbox, config)
    assert error.message == (
        "tool.release_tool.downstream[0].files: 'requirements/*.pip' "
        "matches no file in openedx/edx-platform@master"
    )


def test_files_that_do_not_pin_the_package(sandbox: Sandbox, tmp_path: Path) -> None:
    config = example_config(tmp_path, files=("requirements/edx/*.in", "README.rst"))
    error = _plan_fails(sandbox, config)
    assert "does not pin edx-proctoring" in error.message
    assert "requirements/edx/kernel.in (only a lower bound)" in error.message
    assert "README.rst (not mentioned)" in error.message
    assert "raise_lower_bound" in error.hint


def test_a_pin_newer_than_the_release(sandbox: Sandbox, tmp_path: Path) -> None:
    error = _plan_fails(sandbox, example_config(tmp_path), "5.1.0")
    assert isinstance(error, FileEditError)
    assert "pins edx-proctoring 5.2.0, newer than 5.1.0" in error.message
    assert error.message.startswith("openedx/edx-platform@master: requirements/edx/")


def test_hashed_requirements_are_refused(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    put_files(
        github_client,
        {"requirements/edx/base.txt": (FIXTURES / "hashed" / "base.txt").read_bytes()},
    )
    error = _plan_fails(sandbox, example_config(tmp_path))
    assert "hashed" in error.message
    assert "pip-compile --generate-hashes" in error.hint


def test_unknown_repository_and_base(sandbox: Sandbox, tmp_path: Path) -> None:
    error = _plan_fails(sandbox, example_config(tmp_path, repository="openedx/nope"))
    assert error.message == "tool.release_tool.downstream[0].repository: openedx/nope not found"
    error = _plan_fails(sandbox, example_config(tmp_path, base="no-such-branch"))
    assert error.message == "openedx/edx-platform has no branch 'no-such-branch'"


# --- every era of edx-platform's requirements, through the step ----------------------------------


ERAS = [g for g in GOLDEN if not g.is_constraints]


@pytest.mark.parametrize("golden", ERAS, ids=lambda g: f"{g.case}-{g.package}")
def test_every_era_through_the_downstream_step(
    sandbox: Sandbox, tmp_path: Path, github_client: Any, golden: Golden
) -> None:
    source = (FIXTURES / golden.case / golden.name).read_bytes()
    expected = (FIXTURES / golden.case / (golden.name + golden.expected)).read_bytes()
    put_files(github_client, {golden.path: source})
    config = example_config(
        tmp_path, files=(golden.path,), raise_lower_bound=golden.raise_lower_bound
    )
    # A git URL moves to the release's tag as it exists: spelled as the golden file has it.
    tag = re.search(rb"\.git@([^#\s]+)#egg=" + golden.package.encode() + b"==", expected)
    if tag is not None:
        became_the_library(sandbox, f"edx/{golden.package}")  # the URLs' old owner
    wanted = upgrade(golden.new_version, golden.package, tag and tag.group(1).decode())
    (action,) = plan_downstream(client(sandbox), config, wanted).actions
    assert isinstance(action, DownstreamPRAction)
    assert [c.edit.changes for c in action.files] == [golden.changes]
    apply_step(plan_downstream(client(sandbox), config, wanted))

    branch = f"release-tool/{golden.package}"
    head = head_of(sandbox, branch=branch)
    assert sandbox.store.git(DOWNSTREAM, "show", f"{head}:{golden.path}") == expected
    assert list(changed_lines(sandbox, "refs/heads/master", head)) == [golden.path]
    # And the re-run finds the PR current.
    assert plan_downstream(client(sandbox), config, wanted).actions == ()


def test_a_constraints_pin_is_updated_and_called_out(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    constraints = (FIXTURES / "constraints" / "constraints.txt").read_bytes()
    put_files(
        github_client,
        {
            "requirements/constraints.txt": constraints,
            "requirements/edx/base.txt": b"django==4.2.20\nedx-proctoring==3.8.5\n",
        },
    )
    # A constraint with a reason is a hold: moved only on request.
    config = example_config(tmp_path, files=("requirements/edx/base.txt",), move_held=True)
    apply_step(plan_downstream(client(sandbox), config, upgrade("3.9.0")))
    head = head_of(sandbox)
    assert (
        sandbox.store.git(DOWNSTREAM, "show", f"{head}:requirements/constraints.txt")
        == (FIXTURES / "constraints" / "constraints.txt.expected").read_bytes()
    )
    body = only_pull(sandbox).body
    assert "> [!WARNING]" in body
    assert "`requirements/constraints.txt`" in body
    assert "Check whether the constraint is still needed" in body


# --- fork mode -------------------------------------------------------------------------------


def test_fork_mode_for_a_token_without_push_access(sandbox: Sandbox, tmp_path: Path) -> None:
    gh = client(sandbox, OUTSIDER_TOKEN)
    planned = plan_downstream(gh, example_config(tmp_path), upgrade())
    (action,) = planned.actions
    assert action.describe() == (
        "open PR on openedx/edx-platform from the fork "
        "outsider/edx-platform: chore: upgrade edx-proctoring to 5.3.0 "
        "(4 files)"
    )
    assert "fork: create outsider/edx-platform" in action.details()
    assert any("labels and reviewers skipped" in n for n in planned.notes)
    apply_step(planned)

    fork = f"{OUTSIDER}/edx-platform"
    assert sandbox.state.repo(fork).parent == DOWNSTREAM
    pull = only_pull(sandbox)
    assert (pull.head_repo, pull.head_ref, pull.user) == (fork, BRANCH, OUTSIDER)
    assert sandbox.store.ref(DOWNSTREAM, f"refs/heads/{BRANCH}") is None  # nothing upstream
    diff = changed_lines(sandbox, "refs/heads/master", head_of(sandbox, fork), fork)
    assert sorted(diff) == PINNED_FILES
    # The re-run: the fork and the PR are found, nothing is written.
    before = len(sandbox.requests)
    assert plan_downstream(gh, example_config(tmp_path), upgrade()).actions == ()
    assert writes(sandbox, before) == []


def test_fork_mode_reuses_and_syncs_the_fork(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    config = example_config(tmp_path, fork=True)
    apply_step(plan_downstream(client(sandbox), config, upgrade()))
    fork = f"{MAINTAINER}/edx-platform"
    pull = only_pull(sandbox)
    assert (pull.head_repo, pull.labels, pull.reviewers) == (
        fork,
        ["dependencies"],
        ["edx-platform-reviewer"],
    )  # maintainer may triage upstream

    # Upstream moves on; the next release rebases the PR onto it, in the same fork.
    put_files(github_client, {"README.rst": b"moved on\n"})
    before = len(sandbox.requests)
    apply_step(plan_downstream(client(sandbox), config, upgrade("5.3.1")))
    paths = [(m, p) for m, p, _ in writes(sandbox, before)]
    assert ("POST", f"/api/v3/repos/{fork}/merge-upstream") in paths
    assert not any(p.endswith("/forks") for _, p in paths)  # known to exist: not asked again
    pull = only_pull(sandbox)
    head = head_of(sandbox, fork)
    assert git(sandbox, fork, "rev-parse", f"{head}^") == git(
        sandbox, DOWNSTREAM, "rev-parse", "refs/heads/master"
    )
    assert "edx-proctoring==5.3.1" in git(
        sandbox, fork, "show", f"{head}:requirements/edx/base.txt"
    )


# --- `release-tool downstream VERSION`, git object ids -------------------------------------------


def test_downstream_only_for_an_earlier_release(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    _, result = release(project, skip=frozenset({"email", "downstream"}))
    assert sandbox.state.pulls(DOWNSTREAM) == []
    planned = plan_released(project, parse_version("5.3.0"))
    apply_step(planned)
    pull = only_pull(sandbox)
    assert f"Release: {result.outputs['release_url']}" in pull.body
    assert NOTES_MD in pull.body


def test_dry_run_of_the_whole_release_shows_the_pr(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    before = len(sandbox.requests)
    planned = plan(project)
    assert writes(sandbox, before) == []
    (action,) = step(planned, "downstream").actions
    assert "-edx-proctoring==5.2.0\n+edx-proctoring==5.3.0\n" in action.details()
    assert planned.to_json()["steps"][-2]["actions"][0]["details"] == action.details()


def test_tree_sha_after_matches_git(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    run_git("init", "-q", cwd=work)
    files = {
        "a.txt": "a\n",
        "dir/b.txt": "b\n",
        "dir/sub/c.txt": "c\n",
        "dir-x": "x\n",
        "dir.y/d.txt": "d\n",
    }
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    (work / "run.sh").write_text("#!/bin/sh\n")
    (work / "run.sh").chmod(0o755)
    run_git("add", "-A", cwd=work)
    listing = []
    tree = run_git("write-tree", cwd=work)
    for line in run_git("ls-tree", "-r", "-t", tree, cwd=work).splitlines():
        meta, path = line.split("\t", 1)
        mode, kind, sha = meta.split()
        listing.append(TreeEntry(path, mode.rjust(6, "0"), kind, sha))
    changes = {"dir/sub/c.txt": b"C\r\n", "run.sh": b"#!/bin/sh\nexit 0\n"}
    for path, data in changes.items():
        (work / path).write_bytes(data)
    run_git("add", "-A", cwd=work)
    assert tree_sha_after(listing, changes) == run_git("write-tree", cwd=work)


def test_downstream_actions_compare_without_the_client(tmp_path: Path) -> None:
    # Frozen actions: the plan a dry run shows and the one a real run applies compare equal.
    fields = {f.name for f in dataclasses.fields(DownstreamPRAction) if not f.compare}
    assert fields == {"gh"}


def test_several_downstreams_report_every_pr_url(sandbox: Sandbox, tmp_path: Path) -> None:
    # A second downstream the maintainer may not push to: that one goes through a fork.
    other = "openedx/edx-platform-next"
    sandbox.copy_repository(sandbox.repository_path(DOWNSTREAM), other)
    config = example_config(tmp_path)
    config = dataclasses.replace(
        config,
        downstream=(
            config.downstream[0],
            dataclasses.replace(config.downstream[0], repository=other),
        ),
    )
    planned = plan_downstream(client(sandbox), config, upgrade())
    assert [a.describe().split(":")[0] for a in planned.actions] == [
        f"open PR on {DOWNSTREAM}",
        f"open PR on {other} from the fork {MAINTAINER}/edx-platform-next",
    ]
    outcomes = apply_step(planned)
    assert [url for outcome in outcomes for url in outcome.produced.pr_urls] == [
        f"{sandbox.url}/{DOWNSTREAM}/pull/1",
        f"{sandbox.url}/{other}/pull/1",
    ]
    again = plan_downstream(client(sandbox), config, upgrade())
    assert again.skipped is not None
    assert again.skipped.count("is up to date") == 2
