"""Never publish something wrong (issue 12), locally: real git, a bare origin, the CLI.

Each repository is built in a shape `real-world.md` records: an rc-tagged HEAD, bare and `v`
tags (and both), non-version tags, a maintenance branch below a higher tag on master, local
commits origin has not seen, a detached HEAD, a Python-only package. Every refusal is checked
to change nothing: work tree bytes, index, local refs, origin's refs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from release_tool import example
from release_tool.cli import cli, load_project
from release_tool.git_repo import build_repository, run_git
from release_tool.project import Bump, ReleaseRequest
from release_tool.steps.preflight import gather
from release_tool.versions import parse_version

NOTES = "* Fix the proctoring review email\n\n"


# --- building repositories ---------------------------------------------------------------------


def library(version: str, *, unreleased: str = NOTES, python_only: bool = False) -> dict[str, str]:
    """The example library's tree at `version` (npm files in its SemVer spelling)."""
    files = example.library_files(version, unreleased=unreleased)
    if python_only:
        del files["package.json"], files["package-lock.json"]
        files["pyproject.toml"] = files["pyproject.toml"].replace(
            'version_files = ["edx_proctoring/__init__.py", "package.json", "package-lock.json"]',
            'version_files = ["edx_proctoring/__init__.py"]',
        )
    else:
        semver = parse_version(version).semver
        files["package.json"] = example.PACKAGE_JSON.format(version=semver)
        files["package-lock.json"] = example.PACKAGE_LOCK.format(version=semver)
    return files


def build(tmp_path: Path, *history: example.Commit) -> Path:
    """A clone of a bare origin holding `history` (lightweight tags, as edx-proctoring's)."""
    origin = tmp_path / "origin.git"
    build_repository(origin, example.ExampleRepo(example.LIBRARY, "master", tuple(history)))
    work = tmp_path / "edx-proctoring"
    run_git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    return work


def commit(message: str, files: dict[str, str], *tags: str) -> example.Commit:
    return example.Commit(message, files, tags=tags)


def invoke(repo: Path, *args: str) -> tuple[int, str, str]:
    """The CLI in-process; `release`/`plan` run the local steps only (no GitHub here)."""
    if args and args[0] in ("release", "plan"):
        args = (*args, "--local")
    result = CliRunner().invoke(cli, ["-C", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def origin_of(repo: Path) -> Path:
    return Path(run_git("remote", "get-url", "origin", cwd=repo))


def snapshot(repo: Path) -> dict[str, object]:
    """Everything a release could change: work tree bytes, index, local refs, origin's refs."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {
        "files": files,
        "index": run_git("ls-files", "-s", cwd=repo),
        "refs": run_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo),
        "HEAD": (repo / ".git" / "HEAD").read_text(),
        "origin": run_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=origin_of(repo)),
    }


def tags_at(repo: Path, rev: str = "HEAD") -> list[str]:
    return sorted(run_git("tag", "--points-at", rev, cwd=repo).split())


def sha(repo: Path, rev: str = "HEAD") -> str:
    return run_git("rev-parse", rev, cwd=repo)


def headline(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("Release plan:"))


@pytest.fixture
def rc_tagged(tmp_path: Path) -> Path:
    """HEAD tagged v4.0.1rc1, files saying 4.0.1rc1 (npm: 4.0.1-rc.1), the rc on origin."""
    return build(
        tmp_path,
        commit("feat: 4.0.0", library("4.0.0", unreleased=""), "4.0.0"),
        commit("feat: proctoring review email (#1190)", library("4.0.1rc1"), "v4.0.1rc1"),
    )


# --- 1. bump words always name a new version ---------------------------------------------------


def test_release_on_an_rc_tagged_head_makes_the_final(rc_tagged: Path) -> None:
    rc_commit = sha(rc_tagged)
    code, out, err = invoke(rc_tagged, "release", "release", "--yes")
    assert code == 0, err
    assert "Released edx-proctoring 4.0.1 (v4.0.1)" in err
    assert headline(out) == "Release plan: edx-proctoring 4.0.1rc1 → 4.0.1, tag v4.0.1"
    assert "__version__ = '4.0.1'" in (rc_tagged / "edx_proctoring/__init__.py").read_text()
    assert '"version": "4.0.1",' in (rc_tagged / "package.json").read_text()
    # A release commit on top of the rc's commit, tagged; the rc's tag stays where it was.
    assert sha(rc_tagged, "HEAD~1") == rc_commit
    assert tags_at(rc_tagged) == ["v4.0.1"]
    assert tags_at(rc_tagged, rc_commit) == ["v4.0.1rc1"]
    origin = origin_of(rc_tagged)
    assert sha(origin, "master") == sha(rc_tagged)
    assert sha(origin, "v4.0.1^{commit}") == sha(rc_tagged)


@pytest.mark.parametrize(
    ("args", "new"),
    [
        (("patch",), "4.0.1"),
        (("minor",), "4.1.0"),
        (("major",), "5.0.0"),
        (("release",), "4.0.1"),
        (("pre",), "4.0.1rc2"),
        (("4.0.2",), "4.0.2"),
    ],
)
def test_every_bump_but_current_plans_a_new_version(
    rc_tagged: Path, args: tuple[str, ...], new: str
) -> None:
    before = snapshot(rc_tagged)
    code, out, err = invoke(rc_tagged, "plan", *args)
    assert code == 0, err
    assert headline(out) == f"Release plan: edx-proctoring 4.0.1rc1 → {new}, tag v{new}"
    assert "finishing" not in out and "already tagged" not in out
    assert f"annotated tag v{new}" in out
    assert snapshot(rc_tagged) == before


@pytest.mark.parametrize("bump", ["current", "4.0.1rc1"])
def test_only_current_or_the_tagged_version_itself_is_already_released(
    rc_tagged: Path, bump: str
) -> None:
    before = snapshot(rc_tagged)
    code, out, err = invoke(rc_tagged, "release", bump, "--yes")
    assert code == 0, err
    assert "(finishing the release HEAD already carries)" in out
    assert "Nothing to do: edx-proctoring 4.0.1rc1 (v4.0.1rc1) is already released." in err
    assert snapshot(rc_tagged) == before


def test_a_failure_after_the_push_names_the_bump_that_finishes(library: Path) -> None:
    """After the push HEAD carries the tag: re-running `minor` would release 5.4.0."""
    from release_tool.apply import apply_plan
    from release_tool.plan import Outcome, ReleasePlan, RunState, StepPlan

    class Fails:
        step = "github-release"

        def describe(self) -> str:
            return "create the release"

        def details(self) -> str:
            return ""

        def data(self) -> dict[str, str]:
            return {"action": "fake"}

        def apply(self, state: RunState) -> Outcome:
            from release_tool.errors import ReleaseError

            raise ReleaseError("GitHub answered 502", "")

    class Pushes(Fails):
        step = "push"

        def apply(self, state: RunState) -> Outcome:
            return Outcome("pushed")

    v = parse_version("5.3.0")
    plan = ReleasePlan(
        "edx-proctoring",
        parse_version("5.2.0"),
        v,
        "v5.3.0",
        (StepPlan("push", (Pushes(),)), StepPlan("github-release", (Fails(),))),
    )
    from release_tool.errors import StepFailed

    with pytest.raises(StepFailed) as info:
        apply_plan(plan)
    assert "run the same command again, with 5.3.0 (or current) as BUMP" in info.value.hint


# --- 2. one release per version, whatever the tag's spelling ------------------------------------


def test_current_on_a_bare_tag_adds_no_v_tag(tmp_path: Path) -> None:
    """edx-proctoring's `4.18.4`: `release current` finds the release, makes no `v4.18.4`."""
    work = build(
        tmp_path,
        commit("feat: 4.18.3", library("4.18.3", unreleased=""), "4.18.3"),
        commit("feat: timed exam banner (#1150)", library("4.18.4"), "4.18.4"),
    )
    before = snapshot(work)
    code, out, err = invoke(work, "release", "current", "--yes")
    assert code == 0, err
    assert headline(out).endswith("tag 4.18.4 (finishing the release HEAD already carries)")
    assert "HEAD is already tagged 4.18.4" in out
    assert "v4.18.4" not in out + err
    assert "Nothing to do: edx-proctoring 4.18.4 (4.18.4) is already released." in err
    assert snapshot(work) == before


def test_a_bare_tag_made_locally_is_pushed_in_its_own_spelling(tmp_path: Path) -> None:
    work = build(
        tmp_path,
        commit("feat: 4.18.3", library("4.18.3", unreleased=""), "4.18.3"),
        commit("feat: timed exam banner (#1150)", library("4.18.4")),
    )
    run_git("tag", "4.18.4", cwd=work)  # tagged by hand, not pushed yet
    code, out, err = invoke(work, "release", "current", "--yes")
    assert code == 0, err
    assert "git push --atomic origin refs/tags/4.18.4" in out
    origin = origin_of(work)
    assert sha(origin, "4.18.4^{commit}") == sha(work)
    assert run_git("tag", "-l", "v4.18.4", cwd=origin) == ""
    assert tags_at(work) == ["4.18.4"]


def test_both_spellings_on_head_are_one_release(tmp_path: Path) -> None:
    work = build(tmp_path, commit("feat: 5.2.0", library("5.2.0"), "5.2.0", "v5.2.0"))
    before = snapshot(work)
    code, _, err = invoke(work, "release", "current", "--yes")
    assert code == 0, err
    assert "Nothing to do: edx-proctoring 5.2.0 (v5.2.0) is already released." in err
    assert snapshot(work) == before


@pytest.mark.parametrize("spelling", ["5.1.2", "v5.1.2"])
def test_a_version_tagged_in_either_spelling_elsewhere_is_released(
    tmp_path: Path, spelling: str
) -> None:
    """Some tags point at other code: 5.1.2 exists (bare or v) on another commit."""
    work = build(
        tmp_path,
        commit("feat: 5.1.2 shipped from here", library("5.1.2"), spelling),
        commit("revert: back to 5.1.1 (#1199)", library("5.1.1")),
    )
    before = snapshot(work)
    code, _, err = invoke(work, "release", "patch", "--yes")
    assert code == 2
    assert f"tag {spelling} already exists locally" in err
    assert f"tag {spelling} already exists on origin" in err
    assert "5.1.2 was released before" in err
    assert snapshot(work) == before


def test_non_version_tags_never_block_and_status_lists_them(library: Path) -> None:
    run_git("tag", "2019.01.15", cwd=library)  # a date, on HEAD
    run_git("tag", "deployed-to-stage", cwd=library)
    code, out, _ = invoke(library, "status")
    assert code == 0
    assert (
        "tags that name no version (ignored): 2019.01.15, deployed-to-stage, npmv1.0.0, "
        "release-2015-07-29"
    ) in out
    data = json.loads(invoke(library, "status", "--json")[1])
    assert data["other_tags"] == [
        "2019.01.15",
        "deployed-to-stage",
        "npmv1.0.0",
        "release-2015-07-29",
    ]
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 0, err
    assert tags_at(library) == ["v5.2.1"]


def test_the_last_release_is_the_highest_reachable_from_head(tmp_path: Path) -> None:
    """A maintenance branch forked at 4.17.0 does not see master's v5.2.0."""
    work = build(
        tmp_path,
        commit("feat: 4.17.0", library("4.17.0", unreleased=""), "4.17.0"),
        commit("feat: 5.2.0", library("5.2.0", unreleased=""), "v5.2.0"),
    )
    run_git("switch", "-q", "-c", "4.x", "4.17.0", cwd=work)
    files = library("4.17.0")
    files["pyproject.toml"] = files["pyproject.toml"].replace('branch = "master"', 'branch = "4.x"')
    for name, text in files.items():
        (work / name).write_text(text)
    run_git("commit", "-qam", "fix: backport the review email fix (#1201)", cwd=work)
    run_git("push", "-q", "origin", "4.x", cwd=work)

    code, out, _ = invoke(work, "status")
    assert code == 0
    assert "last release tag: 4.17.0 (4.17.0)" in out
    code, _, err = invoke(work, "release", "patch", "--yes")
    assert code == 0, err
    assert tags_at(work) == ["v4.17.1"]
    assert "last release tag: v4.17.1 (4.17.1)" in invoke(work, "status")[1]
    project = load_project(work)
    facts = gather(project, ReleaseRequest(bump=Bump.parse("current")))
    assert facts.resumed and facts.tag == "v4.17.1"
    assert facts.previous == parse_version("4.17.0")  # not master's 5.2.0

    run_git("switch", "-q", "master", cwd=work)
    assert "last release tag: v5.2.0 (5.2.0)" in invoke(work, "status")[1]


# --- 5. a push shows what it publishes -----------------------------------------------------------


def two_local_commits(repo: Path) -> list[str]:
    (repo / "README.rst").write_text("edx-proctoring\n==============\n\nNot reviewed yet.\n")
    run_git("commit", "-qam", "docs: rewrite the README", cwd=repo)
    (repo / "setup.py").write_text((repo / "setup.py").read_text() + "# experiment\n")
    run_git("commit", "-qam", "wip: try something", cwd=repo)
    return [sha(repo, "HEAD~1"), sha(repo)]


def test_unpushed_commits_are_shown_and_a_real_run_refuses_them(library: Path) -> None:
    first, second = two_local_commits(library)
    before = snapshot(library)
    code, out, err = invoke(library, "plan", "patch")
    assert code == 0, err
    assert "2 commit(s) ahead of origin/master, which the push publishes" in out
    assert "a real run refuses to publish them without --allow-unpushed" in out
    details = out[out.index("also publishes 2 commit(s) origin does not have:") :]
    assert f"{second[:12]} wip: try something" in details
    assert f"{first[:12]} docs: rewrite the README" in details

    code, out, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert err.startswith("error: the push would publish 2 commit(s) besides the release commit")
    assert f"{second[:12]} wip: try something" in err
    assert "--allow-unpushed" in err.splitlines()[-1]
    assert snapshot(library) == before

    code, out, err = invoke(library, "release", "patch", "--yes", "--json")
    assert code == 2
    assert snapshot(library) == before

    code, _, err = invoke(library, "release", "patch", "--yes", "--allow-unpushed")
    assert code == 0, err
    assert run_git("rev-list", "--count", "HEAD~3..master", cwd=origin_of(library)) == "3"


def test_unpushed_commits_show_in_the_json_plan(library: Path) -> None:
    two_local_commits(library)
    code, out, _ = invoke(library, "plan", "patch", "--json")
    assert code == 0
    plan = json.loads(out)["plan"]
    (blocker,) = plan["blockers"]
    assert "2 commit(s)" in blocker["error"] and "--allow-unpushed" in blocker["hint"]
    push = next(s for s in plan["steps"] if s["name"] == "push")
    assert "wip: try something" in push["actions"][0]["details"]


def test_a_detached_head_is_named_as_such(library: Path) -> None:
    run_git("checkout", "-q", "--detach", "HEAD~1", cwd=library)
    before = snapshot(library)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert f"HEAD is detached at {sha(library)[:12]}, not on 'master'" in err
    assert "is behind" not in err
    assert snapshot(library) == before


def test_a_branch_origin_does_not_have(library: Path) -> None:
    run_git("branch", "-q", "-m", "master", "main", cwd=origin_of(library))
    run_git("fetch", "-q", "--prune", "origin", cwd=library)
    before = snapshot(library)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert "origin has no branch 'master'" in err
    assert "up to date" not in err
    assert snapshot(library) == before


def test_behind_and_diverged_say_so(library: Path) -> None:
    run_git("reset", "-q", "--hard", "HEAD~1", cwd=library)
    before = snapshot(library)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert "'master' is behind origin/master by 1 commit(s)" in err
    assert snapshot(library) == before
    (library / "README.rst").write_text("diverged\n")
    run_git("commit", "-qam", "docs: elsewhere", cwd=library)
    before = snapshot(library)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert "'master' and origin/master have diverged" in err
    assert snapshot(library) == before


# --- 7. .devN and .postN for a Python-only package ----------------------------------------------


def test_a_python_only_package_releases_post_and_dev_versions(tmp_path: Path) -> None:
    work = build(tmp_path, commit("feat: 5.2.0", library("5.2.0", python_only=True), "v5.2.0"))
    init = work / "edx_proctoring/__init__.py"
    code, _, err = invoke(work, "release", "5.2.0.post1", "--yes")
    assert code == 0, err
    assert "__version__ = '5.2.0.post1'" in init.read_text()
    assert "[5.2.0.post1] - " in (work / "CHANGELOG.rst").read_text()
    assert tags_at(work) == ["v5.2.0.post1"]

    (work / "CHANGELOG.rst").write_text(
        (work / "CHANGELOG.rst")
        .read_text()
        .replace("Unreleased\n~~~~~~~~~~\n", "Unreleased\n~~~~~~~~~~\n\n* Next\n")
    )
    run_git("commit", "-qam", "docs: notes", cwd=work)
    run_git("push", "-q", "origin", "master", cwd=work)
    code, _, err = invoke(work, "release", "5.3.0.dev1", "--yes")
    assert code == 0, err
    assert tags_at(work) == ["v5.3.0.dev1"]
    # PEP 440 order: 5.3.0.dev1 < 5.3.0a1 < 5.3.0, so `release` finalises it and
    # `pre --pre a` starts the alphas of the same release.
    quiet = "--allow-empty-notes"
    assert "→ 5.3.0a1," in headline(invoke(work, "plan", "pre", "--pre", "a", quiet)[1])
    assert "→ 5.3.0," in headline(invoke(work, "plan", "release", quiet)[1])
    code, _, err = invoke(work, "release", "5.2.0.post2", "--yes")
    assert code == 2 and "lower than the current version 5.3.0.dev1" in err


@pytest.mark.parametrize("version", ["5.3.0.dev1", "5.2.0.post1"])
def test_post_and_dev_are_refused_with_an_npm_file(library: Path, version: str) -> None:
    before = snapshot(library)
    code, _, err = invoke(library, "release", version, "--yes")
    assert code == 2
    assert f"{version} is a " in err and "which npm cannot spell" in err
    assert "package.json" in err
    assert snapshot(library) == before


# --- 8. every problem at once --------------------------------------------------------------------


def test_every_problem_in_one_run(tmp_path: Path) -> None:
    """Disagreeing files no longer hide the rest: notes, git state and tags come with them."""
    files = library("5.2.0", unreleased="")
    files["package-lock.json"] = example.PACKAGE_LOCK.format(version="5.1.0")
    work = build(tmp_path, commit("feat: 5.2.0", files, "v5.2.0"))
    run_git("tag", "v5.3.0", "HEAD", cwd=work)  # a stray tag for the version asked for
    run_git("switch", "-q", "-c", "feature", cwd=work)
    (work / "setup.py").write_text("# edited\n")
    before = snapshot(work)
    code, _, err = invoke(work, "release", "5.3.0", "--yes")
    assert code == 2
    error = err.splitlines()[0]
    assert error.startswith("error: preflight failed: ")
    for problem in (
        "version files disagree: 5.1.0, 5.2.0",
        "uncommitted changes (setup.py)",
        "on branch 'feature', not 'master'",
        "tag v5.3.0 already exists locally",
        "no release notes for 5.3.0 in CHANGELOG.rst",
    ):
        assert problem in error, problem
    assert "package-lock.json (version, line 3)" in err  # the table of who says what
    assert snapshot(work) == before

    # A bump word cannot be computed from disagreeing files; the rest is still reported.
    code, _, err = invoke(work, "release", "patch", "--yes")
    assert code == 2
    error = err.splitlines()[0]
    assert "version files disagree" in error and "uncommitted changes" in error
    assert "on branch 'feature'" in error
    assert snapshot(work) == before


def test_problem_messages_are_listed_once(library: Path) -> None:
    (library / "setup.py").write_text("# edited\n")
    code, _, err = invoke(library, "release", "5.2.0", "--yes")
    assert code == 2
    error = err.splitlines()[0]
    assert error.count("uncommitted changes") == 1
    assert re.search(r"already the version in the files", error)
