"""The local pipeline end to end: real git, a bare origin, the CLI as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_library

from release_tool import example
from release_tool.cli import cli
from release_tool.git_repo import GitRepo, run_git

FIXTURES = Path(__file__).parent / "fixtures" / "release"


def golden(name: str) -> bytes:
    """The expected file after releasing 5.3.0; the changelog's stamp date is today's."""
    text = (FIXTURES / "5.3.0" / name).read_bytes()
    return text.replace(b"YYYY-MM-DD", date.today().isoformat().encode())


def invoke(repo: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """The CLI in-process; `release`/`plan` run the local steps only (no GitHub here)."""
    if args and args[0] in ("release", "plan"):
        args = (*args, "--local")
    result = CliRunner().invoke(cli, ["-C", str(repo), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def snapshot(repo: Path) -> dict[str, object]:
    """Everything a release could change: work tree bytes, index, local refs, origin's refs."""
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    origin = run_git("remote", "get-url", "origin", cwd=repo)
    return {
        "files": files,
        "index": run_git("ls-files", "-s", cwd=repo),
        "refs": run_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo),
        "head": run_git("rev-parse", "HEAD", cwd=repo),
        "origin": run_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=Path(origin)),
    }


def test_release_minor_of_todays_edx_proctoring(library: Path) -> None:
    """5.2.0 → 5.3.0: exact bytes in every file, one commit, an annotated tag, pushed."""
    before_head = run_git("rev-parse", "HEAD", cwd=library)
    code, _, err = invoke(library, "release", "minor", "--yes")
    assert code == 0, err
    for name in (
        "edx_proctoring/__init__.py",
        "package.json",
        "package-lock.json",
        "CHANGELOG.rst",
    ):
        assert (library / name).read_bytes() == golden(name), name
    # One commit on top of the old HEAD, touching exactly the four files.
    assert run_git("rev-parse", "HEAD~1", cwd=library) == before_head
    changed = run_git("diff", "--name-only", "HEAD~1", "HEAD", cwd=library).splitlines()
    assert sorted(changed) == [
        "CHANGELOG.rst",
        "edx_proctoring/__init__.py",
        "package-lock.json",
        "package.json",
    ]
    assert run_git("log", "-1", "--format=%s", cwd=library) == "chore: release edx-proctoring 5.3.0"
    assert run_git("cat-file", "-t", "v5.3.0", cwd=library) == "tag"  # annotated
    tag_message = run_git("tag", "-l", "--format=%(contents)", "v5.3.0", cwd=library)
    assert "Send the proctoring review email" in tag_message
    origin = Path(run_git("remote", "get-url", "origin", cwd=library))
    head = run_git("rev-parse", "HEAD", cwd=library)
    assert run_git("rev-parse", "master", cwd=origin) == head
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=origin) == head
    assert "Released edx-proctoring 5.3.0 (v5.3.0)" in err
    assert run_git("status", "--porcelain", cwd=library) == ""


def test_rerun_after_success_does_nothing_and_says_so(library: Path) -> None:
    """`current` (or the version itself) finishes a release; a bump word names the next one."""
    assert invoke(library, "release", "minor", "--yes")[0] == 0
    before = snapshot(library)
    code, out, err = invoke(library, "release", "current", "--yes")
    assert code == 0, err
    assert snapshot(library) == before
    assert "finishing the release HEAD already carries" in out
    assert "Nothing to do" in err
    code, out, err = invoke(library, "release", "5.3.0", "--yes")
    assert code == 0, err
    assert snapshot(library) == before
    assert "Nothing to do" in err


def test_dry_run_changes_nothing_and_equals_the_real_run(library: Path) -> None:
    before = snapshot(library)
    code, out, err = invoke(library, "release", "patch", "--dry-run", "--json")
    assert code == 0, err
    assert snapshot(library) == before
    planned = [a["description"] for s in json.loads(out)["plan"]["steps"] for a in s["actions"]]
    code, out, err = invoke(library, "release", "patch", "--yes", "--json")
    assert code == 0, err
    applied = [a["action"] for a in json.loads(out)["result"]["applied"]]
    assert applied == planned
    assert planned[-1] == "git push --atomic origin HEAD:refs/heads/master refs/tags/v5.2.1"


def test_plan_shows_diffs_commit_tag_and_push(library: Path) -> None:
    code, out, _ = invoke(library, "plan", "patch")
    assert code == 0
    assert "-__version__ = '5.2.0'" in out
    assert "+__version__ = '5.2.1'" in out
    assert '+  "version": "5.2.1",' in out
    assert "chore: release edx-proctoring 5.2.1" in out
    assert "annotated tag v5.2.1" in out
    assert "[5.2.1] - " in out  # brackets are text, not terminal markup


def test_failure_between_tag_and_push_rolls_back_exactly(library: Path) -> None:
    origin = Path(run_git("remote", "get-url", "origin", cwd=library))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'denied by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = snapshot(library)
    code, _, err = invoke(library, "release", "minor", "--yes")
    assert code == 1
    assert "push failed" in err and "local changes rolled back" in err
    assert snapshot(library) == before
    hook.unlink()
    code, _, err = invoke(library, "release", "minor", "--yes")  # the same command finishes
    assert code == 0, err
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=origin) == run_git(
        "rev-parse", "HEAD", cwd=library
    )


def test_push_failure_then_tag_already_local_is_resumed(library: Path) -> None:
    """A run killed between tag and push leaves a local tag at HEAD: the re-run pushes it."""
    assert invoke(library, "release", "minor", "--yes", "--skip", "push")[0] == 0
    assert run_git("ls-remote", "--tags", "origin", cwd=library).count("v5.3.0") == 0
    code, out, err = invoke(library, "release", "current", "--yes")
    assert code == 0, err
    assert "HEAD is already tagged v5.3.0" in out
    assert "v5.3.0" in run_git("ls-remote", "--tags", "origin", cwd=library)
    assert run_git("describe", "--tags", cwd=library) == "v5.3.0"


def test_stale_lockfile_is_reported_then_synced(tmp_path: Path) -> None:
    """Today's edx-proctoring: the lockfile says 5.1.0 while the code says 5.2.0."""
    repo = make_library(tmp_path, example.library_files(lock_version="5.1.0"))
    before = snapshot(repo)
    code, _, err = invoke(repo, "release", "5.3.0", "--yes")
    assert code == 2
    assert "version files disagree: 5.1.0, 5.2.0" in err
    assert "package-lock.json (version, line 3)" in err and "5.1.0" in err
    assert "--sync" in err
    assert snapshot(repo) == before
    code, _, err = invoke(repo, "release", "5.3.0", "--sync", "--yes")
    assert code == 0, err
    for name in ("package-lock.json", "package.json", "edx_proctoring/__init__.py"):
        assert (repo / name).read_bytes() == golden(name), name


def test_preflight_reports_every_problem_together(library: Path) -> None:
    run_git("switch", "-q", "-c", "feature", cwd=library)
    (library / "setup.py").write_text("# edited\n")
    before = snapshot(library)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert "uncommitted changes (setup.py)" in err
    assert "on branch 'feature', not 'master'" in err
    assert snapshot(library) == before


def test_behind_the_remote_is_refused(library: Path, tmp_path: Path) -> None:
    origin = run_git("remote", "get-url", "origin", cwd=library)
    other = tmp_path / "other"
    run_git("clone", "-q", origin, str(other), cwd=tmp_path)
    (other / "README.rst").write_text("changed elsewhere\n")
    run_git("commit", "-qam", "docs: elsewhere", cwd=other)
    run_git("push", "-q", "origin", "master", cwd=other)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert "'master' is behind origin/master" in err and "git pull --ff-only" in err


def test_tag_on_another_commit_is_refused(library: Path) -> None:
    run_git("tag", "v5.2.1", "HEAD~1", cwd=library)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert "tag v5.2.1 already exists locally" in err


def test_unreachable_remote_is_refused(library: Path, tmp_path: Path) -> None:
    run_git("remote", "set-url", "origin", str(tmp_path / "gone.git"), cwd=library)
    code, _, err = invoke(library, "release", "patch", "--yes")
    assert code == 2
    assert "remote 'origin' is unreachable" in err


def test_no_terminal_and_no_yes_refuses(library: Path) -> None:
    before = snapshot(library)
    code, _, err = invoke(library, "release", "patch")
    assert code == 2
    assert "no terminal to confirm" in err and "--yes" in err
    assert snapshot(library) == before


def test_empty_notes_need_a_flag(tmp_path: Path) -> None:
    repo = make_library(tmp_path, example.library_files(unreleased=""))
    code, _, err = invoke(repo, "release", "patch", "--yes")
    assert code == 2
    assert "no release notes for 5.2.1 in CHANGELOG.rst" in err
    code, _, err = invoke(repo, "release", "patch", "--yes", "--allow-empty-notes")
    assert code == 0, err


def test_current_releases_what_the_files_say(tmp_path: Path) -> None:
    """The everyday case: the bump was merged with a feature PR; tag and push only."""
    files = example.library_files("5.3.0", unreleased="")
    files["CHANGELOG.rst"] = files["CHANGELOG.rst"].replace(
        "[5.2.0] - 2025-03-20",
        "[5.3.0] - 2025-04-01\n~~~~~~~~~~~~~~~~~~~~\n"
        "* Merged with the feature\n\n[5.2.0] - 2025-03-20",
    )
    repo = make_library(tmp_path, files)
    head = run_git("rev-parse", "HEAD", cwd=repo)
    code, out, err = invoke(repo, "release", "current", "--yes")
    assert code == 0, err
    assert "bump: skipped (the files already say 5.3.0)" in out
    assert run_git("rev-parse", "HEAD", cwd=repo) == head  # no new commit
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=repo) == head


def test_downgrade_is_refused_unless_allowed(library: Path) -> None:
    code, _, err = invoke(library, "release", "5.1.0", "--yes")
    assert code == 2
    assert "--allow-downgrade" in err


def test_bump_only_edits_files(library: Path) -> None:
    head = run_git("rev-parse", "HEAD", cwd=library)
    code, _, err = invoke(library, "bump", "patch", "--pre", "rc")
    assert code == 0, err
    assert "__version__ = '5.2.1rc1'" in (library / "edx_proctoring/__init__.py").read_text()
    assert '"version": "5.2.1-rc.1"' in (library / "package.json").read_text()
    assert run_git("rev-parse", "HEAD", cwd=library) == head


def test_status_shows_files_last_tag_and_progress(library: Path) -> None:
    code, out, _ = invoke(library, "status")
    assert code == 0
    assert 'package-lock.json (packages[""].version)' in out
    assert "last release tag: v5.2.0 (5.2.0)" in out  # release-2015-07-29, npmv1.0.0 ignored
    assert "local tag" in out
    code, out, _ = invoke(library, "status", "--json")
    data = json.loads(out)
    assert data["agree"] is True and data["last_release"]["tag"] == "v5.2.0"


def test_unknown_step_and_bad_version_are_usage_errors(library: Path) -> None:
    assert invoke(library, "release", "patch", "--skip", "deploy")[0] == 2
    code, _, err = invoke(library, "release", "v1.2.3", "--yes")
    assert code == 2 and "without the 'v'" in err


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "release_tool", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


REMOTE_MODULES = (
    "github",  # PyGithub
    "git",  # GitPython: a dry run only reads, through plain git
    "jinja2",  # the default commit message is built in code
    "rich",  # a pipe gets plain text; rich only on a terminal, and for a run's summary table
    "email",  # the stdlib email package: only the email step needs it
    "release_tool.github_api",
    "release_tool.email",
    "release_tool.downstream",
    "release_tool.steps.github_release",
    "release_tool.steps.downstream",
    "release_tool.steps.email",
    # Applying: a dry run plans and shows, it never loads what only a real run needs.
    "release_tool.apply",
    "release_tool.interrupts",
    # wait-for-index, not configured here: the index client is not loaded to say so.
    "release_tool.index_wait",
)


def _imported(result: subprocess.CompletedProcess[str]) -> set[str]:
    return {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["plan", "patch", "--local"],
        ["plan", "patch", "--local", "-q"],
        [
            *("release", "patch", "--dry-run"),
            *("--skip", "github-release", "--skip", "downstream", "--skip", "email"),
        ],
    ],
    ids=["help", "plan-local", "plan-local-quiet", "dry-run-remote-skipped"],
)
def test_a_local_run_imports_no_remote_module(library: Path, args: list[str]) -> None:
    """Start-up stays lean: a run whose remote steps are all left out imports none of them."""
    result = _run_cli(*args, cwd=library)
    assert result.returncode == 0, result.stderr
    imported = _imported(result)
    assert "release_tool.cli" in imported  # the measurement itself works
    assert not imported & set(REMOTE_MODULES), sorted(imported & set(REMOTE_MODULES))
    if "release" in args:  # wait-for-index is planned, and said to be off without its module
        assert "wait-for-index: skipped (not configured (wait_for_index = false))" in result.stdout


def test_the_console_script_leaves_the_collector_on_with_start_up_frozen(library: Path) -> None:
    """The console script pauses the cyclic collector only while it imports the CLI: the
    command then runs with it on (a long release, `sandbox serve`, collect their cycles), and
    what start-up built (the CLI's modules, classes, functions) is frozen out of its view."""
    probe = (
        "import gc, sys\n"
        "from release_tool.__main__ import main\n"
        "before = ('click' in sys.modules, gc.isenabled(), gc.get_freeze_count())\n"
        "sys.argv = ['release-tool', '--version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(before, gc.isenabled(), gc.get_freeze_count() > 10_000, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=library, capture_output=True, text=True, check=False
    )
    assert "release-tool" in result.stdout  # the CLI ran
    assert result.stderr.strip().splitlines()[-1] == "(False, True, 0) True True"


def test_python_m_and_exit_code_for_missing_config(tmp_path: Path) -> None:
    run_git("init", "-q", str(tmp_path / "r"), cwd=tmp_path)
    result = _run_cli("status", cwd=tmp_path / "r")
    assert result.returncode == 2
    assert "error: no pyproject.toml" in result.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["a.py"]\nbranches = "m"\n',
            "tool.release_tool.branches: unknown key",
        ),
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["a.py"]\nsign = "yes"\n',
            "tool.release_tool.sign: expected true or false",
        ),
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["../a.py"]\n',
            "tool.release_tool.version_files[0]: '../a.py' is outside the repository",
        ),
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["/etc/a.py"]\n',
            "is outside the repository",
        ),
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["VERSION"]\n',
            "cannot tell the kind of 'VERSION'",
        ),
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["a.py"]\n'
            '[[tool.release_tool.downstream]]\nrepository = "o/p"\nlables = []\n',
            "tool.release_tool.downstream[0].lables: unknown key",
        ),
        (
            'package = "x"\nrepository = "o/r"\nversion_files = ["a.py"]\n'
            '[tool.release_tool.email]\nto = ["not-an-address"]\n',
            "tool.release_tool.email.to: 'not-an-address' is not a valid email address",
        ),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, message: str) -> None:
    repo = tmp_path / "r"
    run_git("init", "-q", str(repo), cwd=tmp_path)
    (repo / "pyproject.toml").write_text("[tool.release_tool]\n" + toml)
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert message in err


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    run_git("init", "-q", str(repo), cwd=tmp_path)
    (tmp_path / "outside.py").write_text("__version__ = '1.0.0'\n")
    (repo / "v.py").symlink_to(tmp_path / "outside.py")
    (repo / "pyproject.toml").write_text(
        '[tool.release_tool]\npackage = "x"\nrepository = "o/r"\nversion_files = ["v.py"]\n'
    )
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert "leads outside the repository" in err


def test_configuration_reference_is_current() -> None:
    """docs/configuration.md is generated from the config fields: adding a key updates it."""
    from release_tool.config_reference import reference_markdown

    doc = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
    if not doc.is_file():
        pytest.skip("no docs folder beside the tests (an installed sdist)")
    assert doc.read_text() == reference_markdown(), "run: python -m release_tool.config_reference"


def test_a_bug_inside_an_action_is_an_internal_error_and_rolled_back(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A programming error while applying is not "fix the cause": it is a bug, said so, with
    its traceback under RELEASE_TOOL_DEBUG=1; what the run did locally is rolled back all the
    same."""
    before = snapshot(library)

    def broken_tag(self: GitRepo, name: str, message: str, sign: bool) -> None:
        raise AttributeError("'NoneType' object has no attribute 'sha'")

    monkeypatch.setattr(GitRepo, "create_tag", broken_tag)
    code, _, err = invoke(library, "release", "minor", "--yes")
    assert code == 1
    assert (
        "error: internal error during tag: AttributeError: 'NoneType' object has no "
        "attribute 'sha'; local changes rolled back"
    ) in err
    assert "hint: this is a bug in release-tool" in err
    assert "Traceback" not in err
    assert snapshot(library) == before

    monkeypatch.setenv("RELEASE_TOOL_DEBUG", "1")
    code, _, err = invoke(library, "release", "minor", "--yes")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "in broken_tag" in err
    assert snapshot(library) == before


def test_tags_that_are_not_release_versions_never_block(library: Path) -> None:
    """Dated tags with zero-padded parts beside the example's own non-version tags
    (`release-2015-07-29`, `npmv1.0.0`): all ignored."""
    for tag in ("2019.01.15", "v2019.01.15", "2019.1.5-rc"):
        run_git("tag", tag, cwd=library)
    code, _, err = invoke(library, "release", "minor", "--yes")
    assert code == 0, err
    assert run_git("tag", "--points-at", "HEAD", cwd=library) == "v5.3.0"
    code, out, err = invoke(library, "status")
    assert code == 0, err
    assert "last release tag: v5.3.0 (5.3.0)" in out
