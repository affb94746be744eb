"""Where the version lives, end to end through the CLI (real git, a bare origin):

* versions from tags (setuptools-scm, hatch-vcs, `version_source = "tag"`): the current
  version is the last release tag reachable from HEAD; a release writes only the files that
  hold a version (package.json, the changelog), or none: then only the tag is made and pushed;
* version strings anywhere: `{ path, search }` templates (setup.py, setup.cfg, docs/conf.py)
  and whole-file versions (`VERSION`), byte for byte, exactly one match each;
* the project's own uv.lock: its entry for the project moves with a static version, through uv.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from index_support import hermetic_env

from release_tool import example
from release_tool.cli import cli
from release_tool.git_repo import build_repository, run_git
from release_tool.resolvers.uv import shipped_uv
from release_tool.sandbox import wheels
from release_tool.sandbox.index import IndexServer

CHANGELOG = """\
# Changelog

## [Unreleased]

### Added
- Proctoring review emails in the learner's language

## [1.2.0] - 2025-01-10

### Added
- The first feature
"""

SCM_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64", "setuptools-scm>=8"]
build-backend = "setuptools.build_meta"

[project]
name = "edx-when"
dynamic = ["version"]
requires-python = ">=3.11"

[tool.setuptools_scm]

[tool.release_tool]
package = "edx-when"
repository = "openedx/edx-when"
branch = "main"
version_files = ["package.json"]
changelog = "CHANGELOG.md"
"""

HATCH_VCS_PYPROJECT = """\
[build-system]
requires = ["hatchling", "hatch-vcs"]
build-backend = "hatchling.build"

[project]
name = "event-tracking"
dynamic = ["version"]

[tool.hatch.version]
source = "vcs"

[tool.release_tool]
package = "event-tracking"
repository = "openedx/event-tracking"
branch = "main"
"""

# Not derived from git at all: the configuration says where the version comes from.
CONFIGURED_PYPROJECT = """\
[tool.release_tool]
package = "event-tracking"
repository = "openedx/event-tracking"
branch = "main"
version_source = "tag"
"""


def invoke(repo: Path, *args: str) -> tuple[int, str, str]:
    """The CLI in-process; `release`/`plan` run the local steps only (no GitHub here)."""
    if args and args[0] in ("release", "plan"):
        args = (*args, "--local")
    result = CliRunner().invoke(cli, ["-C", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def make_repo(tmp_path: Path, *commits: example.Commit) -> Path:
    """A clone (branch main) of a bare `origin` holding `commits`."""
    origin = tmp_path / "origin.git"
    build_repository(origin, example.ExampleRepo("openedx/lib", "main", commits))
    work = tmp_path / "lib"
    run_git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    return work


def git(repo: Path, *args: str) -> str:
    return run_git(*args, cwd=repo)


def origin_of(repo: Path) -> Path:
    return Path(git(repo, "remote", "get-url", "origin"))


def snapshot(repo: Path) -> dict[str, object]:
    files = {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    refs = "--format=%(refname) %(objectname)"
    return {
        "files": files,
        "refs": git(repo, "for-each-ref", refs),
        "origin": run_git("for-each-ref", refs, cwd=origin_of(repo)),
    }


def unreachable_tag(repo: Path, tag: str) -> None:
    """A higher release tag on a branch HEAD does not contain (a maintenance line)."""
    git(repo, "switch", "-q", "-c", "elsewhere")
    git(repo, "commit", "-q", "--allow-empty", "-m", "elsewhere")
    git(repo, "tag", tag)
    git(repo, "switch", "-q", "main")


# --- versions from tags ----------------------------------------------------------------------


@pytest.fixture
def scm_repo(tmp_path: Path) -> Path:
    """setuptools-scm: no version in any Python file; package.json beside it; v1.2.0 tagged."""
    package_json = example.PACKAGE_JSON.format(version="1.2.0")
    released = CHANGELOG.replace(
        "### Added\n- Proctoring review emails in the learner's language\n\n", ""
    )
    repo = make_repo(
        tmp_path,
        example.Commit(
            "feat: first",
            {
                "pyproject.toml": SCM_PYPROJECT,
                "package.json": package_json,
                "CHANGELOG.md": released,
            },
            tags=("v1.2.0",),
        ),
        example.Commit("feat: emails", {"CHANGELOG.md": CHANGELOG}),
    )
    unreachable_tag(repo, "v7.0.0")
    return repo


def test_setuptools_scm_project_commits_package_json_and_tags(scm_repo: Path) -> None:
    head = git(scm_repo, "rev-parse", "HEAD")
    code, out, err = invoke(scm_repo, "status", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["version_source"] == "tag"
    assert status["current"] == "1.2.0"  # v7.0.0 is not reachable from HEAD
    assert status["tag"] == "v1.2.0"

    code, out, err = invoke(scm_repo, "plan", "minor")
    assert code == 0, err
    assert "version from tags: 1.2.0" in out
    assert '+  "version": "1.3.0",' in out

    code, out, err = invoke(scm_repo, "release", "minor", "--yes")
    assert code == 0, err
    assert git(scm_repo, "rev-parse", "HEAD~1") == head
    changed = git(scm_repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    assert sorted(changed) == ["CHANGELOG.md", "package.json"]  # no Python version file
    package_json = (scm_repo / "package.json").read_text()
    assert package_json == example.PACKAGE_JSON.format(version="1.3.0")
    assert "## [1.3.0] - " in (scm_repo / "CHANGELOG.md").read_text()
    new_head = git(scm_repo, "rev-parse", "HEAD")
    assert git(scm_repo, "rev-parse", "v1.3.0^{commit}") == new_head
    origin = origin_of(scm_repo)
    assert run_git("rev-parse", "main", cwd=origin) == new_head
    assert run_git("rev-parse", "v1.3.0^{commit}", cwd=origin) == new_head

    # The next version is read from the new tag; package.json gets the SemVer spelling.
    (scm_repo / "CHANGELOG.md").write_text(
        CHANGELOG.replace("[1.2.0]", "[1.3.0]").replace("first feature", "emails")
    )
    git(scm_repo, "commit", "-qam", "docs: next")
    git(scm_repo, "push", "-q", "origin", "main")  # reviewed and merged, as a maintainer would
    code, out, err = invoke(scm_repo, "release", "minor", "--pre", "rc", "--yes")
    assert code == 0, err
    assert '"version": "1.4.0-rc.1"' in (scm_repo / "package.json").read_text()
    assert git(scm_repo, "rev-parse", "v1.4.0rc1^{commit}") == git(scm_repo, "rev-parse", "HEAD")


def test_current_on_a_tagged_head_finishes_and_an_untagged_head_is_refused(
    scm_repo: Path,
) -> None:
    code, _, err = invoke(scm_repo, "release", "current", "--yes")
    assert code == 2
    assert "tag v1.2.0 already exists" in err  # HEAD moved on since v1.2.0
    assert invoke(scm_repo, "release", "patch", "--yes")[0] == 0
    before = snapshot(scm_repo)
    code, out, err = invoke(scm_repo, "release", "current", "--yes")
    assert code == 0, err
    assert "finishing" in out
    assert snapshot(scm_repo) == before


@pytest.mark.parametrize("pyproject", [HATCH_VCS_PYPROJECT, CONFIGURED_PYPROJECT])
def test_tag_only_project_makes_no_commit_and_pushes_only_the_tag(
    tmp_path: Path, pyproject: str
) -> None:
    repo = make_repo(
        tmp_path,
        example.Commit("feat: first", {"pyproject.toml": pyproject}, tags=("v1.2.0",)),
        example.Commit("fix: second", {"README.md": "event-tracking\n"}),
    )
    head = git(repo, "rev-parse", "HEAD")
    code, out, err = invoke(repo, "status")
    assert code == 0, err
    assert "version from tags: 1.2.0" in out

    code, out, err = invoke(repo, "release", "patch", "--yes", "--allow-empty-notes", "--json")
    assert code == 0, err
    result = json.loads(out)
    applied = [a["action"] for a in result["result"]["applied"]]
    assert applied[-1] == "git push --atomic origin refs/tags/v1.2.1"  # the tag only
    assert not any(a.startswith("commit") for a in applied)
    steps = {s["name"]: s for s in result["plan"]["steps"]}
    assert steps["commit"]["skipped"] == "nothing to commit"
    assert git(repo, "rev-parse", "HEAD") == head  # no release commit
    assert git(repo, "rev-parse", "v1.2.1^{commit}") == head
    origin = origin_of(repo)
    assert run_git("rev-parse", "v1.2.1^{commit}", cwd=origin) == head
    assert git(repo, "status", "--porcelain") == ""

    # `current` again: HEAD carries the tag, nothing to do (`patch` would name 1.2.2).
    before = snapshot(repo)
    code, out, err = invoke(repo, "release", "current", "--yes", "--allow-empty-notes")
    assert code == 0, err
    assert snapshot(repo) == before
    code, out, _ = invoke(repo, "status", "--json")
    assert json.loads(out)["current"] == "1.2.1"


def test_tag_only_project_without_any_release_needs_an_explicit_first_version(
    tmp_path: Path,
) -> None:
    repo = make_repo(
        tmp_path, example.Commit("feat: first", {"pyproject.toml": HATCH_VCS_PYPROJECT})
    )
    before = snapshot(repo)
    code, _, err = invoke(repo, "release", "minor", "--yes", "--allow-empty-notes")
    assert code == 2
    assert "no release tag reachable from HEAD" in err
    assert "release-tool release 1.0.0" in err
    assert snapshot(repo) == before
    code, _, err = invoke(repo, "release", "1.0.0", "--yes", "--allow-empty-notes")
    assert code == 0, err
    assert git(repo, "rev-parse", "v1.0.0^{commit}") == git(repo, "rev-parse", "HEAD")


def test_files_source_without_version_files_is_a_usage_error(tmp_path: Path) -> None:
    pyproject = CONFIGURED_PYPROJECT.replace('version_source = "tag"\n', "")
    repo = make_repo(tmp_path, example.Commit("feat: first", {"pyproject.toml": pyproject}))
    code, _, err = invoke(repo, "release", "patch", "--yes")
    assert code == 2
    assert "no version files are configured" in err
    assert 'version_source = "tag"' in err


# --- version strings anywhere ------------------------------------------------------------------

SETUP_PY = """\
from setuptools import setup

setup(
    name='edx-sga',
    version='0.25.0',
    python_requires='>=3.11',
    classifiers=['Programming Language :: Python :: 3.11'],
)
"""

SETUP_CFG = """\
[metadata]
name = xblock-poll
version = 0.25.0
description = target-version = 3.11 is not a version line

[options]
python_requires = >=3.11
"""

DOCS_CONF = """\
# Sphinx configuration\r
project = 'edx-sga'\r
version = '0.25'\r
release = '0.25.0'\r
"""

VERSION_TS = 'export const VERSION = "0.25.0";\n'

PATTERN_PYPROJECT = """\
[tool.release_tool]
package = "edx-sga"
repository = "openedx/edx-sga"
branch = "main"
changelog = "CHANGELOG.md"
version_files = [
    { path = "setup.py", search = "version='{version}'" },
    { path = "setup.cfg", search = "version = {version}" },
    { path = "docs/conf.py", search = "release = '{version}'" },
    { path = "VERSION" },
    { path = "static/version.ts", search = 'VERSION = "{version}"', spelling = "semver" },
]
"""


@pytest.fixture
def pattern_repo(tmp_path: Path) -> Path:
    files = {
        "pyproject.toml": PATTERN_PYPROJECT,
        "setup.py": SETUP_PY,
        "setup.cfg": SETUP_CFG,
        "docs/conf.py": DOCS_CONF,
        "VERSION": "0.25.0\n",
        "static/version.ts": VERSION_TS,
        "CHANGELOG.md": CHANGELOG.replace("1.2.0", "0.25.0"),
    }
    return make_repo(tmp_path, example.Commit("feat: first", files))  # files say the version


def test_setup_py_setup_cfg_docs_conf_and_version_file_are_released_byte_for_byte(
    pattern_repo: Path,
) -> None:
    code, out, err = invoke(pattern_repo, "status")
    assert code == 0, err
    assert "setup.py (version='{version}')" in out
    assert "VERSION (whole file)" in out
    assert "files agree" in out

    code, _, err = invoke(pattern_repo, "release", "minor", "--pre", "rc", "--yes")
    assert code == 0, err
    new = "0.26.0rc1"
    assert (pattern_repo / "setup.py").read_text() == SETUP_PY.replace("'0.25.0'", f"'{new}'")
    assert (pattern_repo / "setup.cfg").read_text() == SETUP_CFG.replace(
        "version = 0.25.0", f"version = {new}"
    )
    conf = (pattern_repo / "docs/conf.py").read_bytes()
    assert conf == DOCS_CONF.replace("'0.25.0'", f"'{new}'").encode()  # CRLF kept
    assert (pattern_repo / "VERSION").read_text() == f"{new}\n"
    assert (pattern_repo / "static/version.ts").read_text() == VERSION_TS.replace(
        "0.25.0", "0.26.0-rc.1"
    )
    changed = git(pattern_repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    assert sorted(changed) == [
        "CHANGELOG.md",
        "VERSION",
        "docs/conf.py",
        "setup.cfg",
        "setup.py",
        "static/version.ts",
    ]
    assert git(pattern_repo, "rev-parse", f"v{new}^{{commit}}") == git(
        pattern_repo, "rev-parse", "HEAD"
    )


def test_two_templates_on_one_file_edit_it_in_turn(tmp_path: Path) -> None:
    conf = "version = '0.25.0'\nrelease = '0.25.0'\n"
    pyproject = PATTERN_PYPROJECT.split("version_files", maxsplit=1)[0] + (
        'version_files = [\n    { path = "conf.py", search = "version = \'{version}\'" },\n'
        '    { path = "conf.py", search = "release = \'{version}\'" },\n]\n'
    )
    files = {"pyproject.toml": pyproject, "conf.py": conf, "CHANGELOG.md": CHANGELOG}
    repo = make_repo(tmp_path, example.Commit("feat: first", files, tags=("v0.25.0",)))
    code, _, err = invoke(repo, "bump", "0.26.0")
    assert code == 0, err
    assert (repo / "conf.py").read_text() == conf.replace("0.25.0", "0.26.0")


@pytest.mark.parametrize(
    ("setup_py", "message"),
    [
        (
            SETUP_PY + "\n# version='0.1.0' was the first\n",
            "setup.py: \"version='{version}'\" matches twice (lines 5 and 10)",
        ),
        (
            SETUP_PY.replace("version='0.25.0'", "version=VERSION"),
            "\"version='{version}'\" not found",
        ),
        (
            SETUP_PY.replace("version='0.25.0'", "version='unknown'"),
            "setup.py: line 5 (\"version='unknown',\") has no version where",
        ),
    ],
)
def test_a_template_must_match_exactly_once(
    pattern_repo: Path, setup_py: str, message: str
) -> None:
    (pattern_repo / "setup.py").write_text(setup_py)
    git(pattern_repo, "commit", "-qam", "change setup.py")
    before = snapshot(pattern_repo)
    code, _, err = invoke(pattern_repo, "release", "patch", "--yes")
    assert code == 2
    assert message in err
    assert snapshot(pattern_repo) == before


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '{ path = "setup.py", search = "version" }',
            "tool.release_tool.version_files[0].search: 'version' must",
        ),
        (
            '{ path = "a.py", search = "v = {version}", kind = "python" }',
            "tool.release_tool.version_files[0].search: only with kind = 'pattern'",
        ),
        (
            '{ path = "VERSION", spelling = "npm" }',
            "tool.release_tool.version_files[0].spelling: 'npm' is not one",
        ),
        (
            '{ path = "VERSION", serch = "{version}" }',
            "tool.release_tool.version_files[0].serch: unknown key",
        ),
        ('"VERSION"', "cannot tell the kind of 'VERSION'"),
    ],
)
def test_bad_version_file_entries_name_the_key(tmp_path: Path, entry: str, message: str) -> None:
    repo = tmp_path / "r"
    run_git("init", "-q", str(repo), cwd=tmp_path)
    (repo / "pyproject.toml").write_text(
        f'[tool.release_tool]\npackage = "x"\nrepository = "o/r"\nversion_files = [{entry}]\n'
    )
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert message in err


# --- the project's own uv.lock -----------------------------------------------------------------

UV_PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "edx-lib"
version = "1.2.0"
requires-python = ">=3.11"
dependencies = ["dep>=1.0"]

[tool.release_tool]
package = "edx-lib"
repository = "openedx/edx-lib"
branch = "main"
version_files = ["pyproject.toml"]
changelog = "CHANGELOG.md"
"""


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    wheels.publish(tmp_path / "index", "dep", "1.0")
    wheels.publish(tmp_path / "index", "dep", "1.1")
    with IndexServer(tmp_path / "index") as server:
        yield server


def use_env(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    for key, value in env.items():
        if key.startswith(("UV_", "XDG_")):
            monkeypatch.setenv(key, value)


def uv(args: list[str], cwd: Path, env: Mapping[str, str]) -> None:
    proc = subprocess.run(
        [shipped_uv()[0], *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def uv_repo(tmp_path: Path, index: IndexServer) -> Path:
    """A static-version project locked with uv against the loopback index (dep 1.0 locked,
    though 1.1 is there: a re-resolution would be seen). uv's cache is warm."""
    lock_dir = tmp_path / "locking"
    lock_dir.mkdir()
    (lock_dir / "pyproject.toml").write_text(UV_PYPROJECT.replace(">=1.0", "==1.0"))
    env = hermetic_env(tmp_path / "env")
    uv(["lock", "--default-index", index.url], lock_dir, env)
    (lock_dir / "pyproject.toml").write_text(UV_PYPROJECT)
    uv(["lock", "--default-index", index.url], lock_dir, env)  # dep stays at 1.0: preferred
    lock = (lock_dir / "uv.lock").read_text()
    assert 'name = "dep"\nversion = "1.0"' in lock
    files = {"pyproject.toml": UV_PYPROJECT, "uv.lock": lock, "CHANGELOG.md": CHANGELOG}
    return make_repo(tmp_path, example.Commit("feat: first", files, tags=("v1.1.0",)))


def own_version_moved(old_lock: str, new_lock: str, old: str, new: str) -> bool:
    entry = 'name = "edx-lib"\nversion = "{}"\n'
    return new_lock == old_lock.replace(entry.format(old), entry.format(new))


def test_uv_lock_moves_with_the_version_offline_from_the_cache(
    uv_repo: Path, index: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = hermetic_env(tmp_path / "env")  # the cache the lock was made with: warm
    use_env(monkeypatch, env)
    old_lock = (uv_repo / "uv.lock").read_text()
    index.requests.clear()
    code, out, err = invoke(uv_repo, "plan", "minor")
    assert code == 0, err
    assert "uv.lock" in out and '+version = "1.3.0"' in out
    code, _, err = invoke(uv_repo, "release", "minor", "--yes")
    assert code == 0, err
    assert index.requests == []  # no network: uv read the cache
    changed = git(uv_repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    assert sorted(changed) == ["CHANGELOG.md", "pyproject.toml", "uv.lock"]  # one commit
    assert own_version_moved(old_lock, (uv_repo / "uv.lock").read_text(), "1.2.0", "1.3.0")
    uv(["lock", "--locked", "--offline"], uv_repo, env)  # uv agrees the lock is in step


def test_uv_lock_with_a_cold_cache_asks_the_index_the_lock_records(
    uv_repo: Path, index: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, hermetic_env(tmp_path / "cold"))
    old_lock = (uv_repo / "uv.lock").read_text()
    index.requests.clear()
    code, _, err = invoke(uv_repo, "release", "patch", "--yes")
    assert code == 0, err
    assert index.requests  # the cache had nothing: uv asked the index the lock records
    assert own_version_moved(old_lock, (uv_repo / "uv.lock").read_text(), "1.2.0", "1.2.1")


def test_a_stale_uv_lock_fails_preflight(
    uv_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_env(monkeypatch, hermetic_env(tmp_path / "env"))
    pyproject = (uv_repo / "pyproject.toml").read_text().replace("dep>=1.0", "dep>=0.9")
    (uv_repo / "pyproject.toml").write_text(pyproject)
    git(uv_repo, "commit", "-qam", "loosen dep without re-locking")
    before = snapshot(uv_repo)
    code, _, err = invoke(uv_repo, "release", "minor", "--yes")
    assert code == 2
    assert "uv.lock is out of date with pyproject.toml" in err
    assert "uv lock" in err
    assert snapshot(uv_repo) == before


def test_a_lock_without_the_version_change_is_left_alone(
    uv_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`release current` changes no version: the lock is checked, not rewritten."""
    use_env(monkeypatch, hermetic_env(tmp_path / "env"))
    head = git(uv_repo, "rev-parse", "HEAD")
    code, _, err = invoke(uv_repo, "release", "current", "--yes")
    assert code == 0, err
    assert git(uv_repo, "rev-parse", "HEAD") == head
    lock = tomllib.loads((uv_repo / "uv.lock").read_text())
    assert {p["name"]: p["version"] for p in lock["package"]}["edx-lib"] == "1.2.0"
