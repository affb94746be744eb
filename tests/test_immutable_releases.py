"""Immutable releases through the CLI, against the sandbox: the assets are built on the tagged
commit in a clean checkout, attached to a draft, and only then is the release published; a run
that stopped after the draft was made is finished by the same command, on the same draft."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import github
import pytest
from click.testing import CliRunner
from sandbox_fixtures import LIBRARY, MAINTAINER_TOKEN

from release_tool.cli import cli
from release_tool.git_repo import auth_environment, run_git
from release_tool.sandbox import Sandbox
from release_tool.steps.notes import OWN_MARKER

# The "build": what `python -m build` would leave in dist/, named after the version that git
# says the checkout is at (a setuptools-scm project's build reads it the same way).
BUILD_PY = """\
import os, pathlib, subprocess
tag = subprocess.check_output(["git", "describe", "--tags", "--exact-match"], text=True).strip()
version = tag.removeprefix("v")
dist = pathlib.Path("dist")
dist.mkdir()
(dist / f"edx_proctoring-{version}-py3-none-any.whl").write_bytes(b"wheel " + version.encode())
(dist / f"edx_proctoring-{version}.tar.gz").write_bytes(b"sdist " + version.encode() * 3)
if "GITHUB_TOKEN" in os.environ:
    raise SystemExit("the build sees the release's token")
"""
ASSETS = """\
release_assets = ["dist/*.whl", "dist/*.tar.gz"]
build_command = [{python!r}, "build.py"]
"""


def invoke(work: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-C", str(work), *args])
    return result.exit_code, result.stdout, result.stderr


def commit_and_push(work: Path, url: str, message: str) -> None:
    run_git("add", "-A", cwd=work)
    run_git("commit", "-q", "-m", message, cwd=work)
    run_git("push", "-q", "origin", "HEAD", cwd=work, env=auth_environment(url, MAINTAINER_TOKEN))


@pytest.fixture
def work(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone of the library configured for immutable releases (pushed: origin agrees)."""
    url = sandbox.git_url(LIBRARY)
    dest = tmp_path / "edx-proctoring"
    run_git(
        "clone", "-q", url, str(dest), cwd=tmp_path, env=auth_environment(url, MAINTAINER_TOKEN)
    )
    (dest / "build.py").write_text(BUILD_PY)
    pyproject = (dest / "pyproject.toml").read_text()
    settings = ASSETS.format(python=sys.executable)
    pyproject = pyproject.replace(
        'changelog = "CHANGELOG.rst"\n', f'changelog = "CHANGELOG.rst"\n{settings}'
    )
    (dest / "pyproject.toml").write_text(pyproject)
    commit_and_push(dest, url, "build: attach the wheel and the sdist to releases")
    monkeypatch.setenv("GITHUB_TOKEN", MAINTAINER_TOKEN)
    monkeypatch.setenv("RELEASE_TOOL_GITHUB_API", sandbox.api_url)
    monkeypatch.setenv("RELEASE_TOOL_RETRY_BACKOFF", "0.01")
    monkeypatch.setenv("RELEASE_TOOL_RETRY_MAX_WAIT", "0.05")
    return dest


def assets(sandbox: Sandbox, release_id: int) -> list[tuple[str, int]]:
    return sorted((a.name, a.size) for a in sandbox.state.assets(LIBRARY, release_id))


EXPECTED = [("edx_proctoring-5.3.0-py3-none-any.whl", 11), ("edx_proctoring-5.3.0.tar.gz", 21)]


def release_writes(sandbox: Sandbox) -> list[str]:
    """The writes to releases and their assets, in order."""
    writes = []
    for method, path, status in sandbox.requests:
        if "/api/uploads/" in path:
            writes.append(f"upload {status}")
        elif method != "GET" and path.endswith("/releases"):
            writes.append(f"{method} release {status}")
        elif method != "GET" and re.search(r"/releases/\d+$", path):
            writes.append(f"{method} release/ID {status}")
    return writes


def test_a_release_is_a_draft_until_its_assets_are_attached(work: Path, sandbox: Sandbox) -> None:
    code, out, err = invoke(work, "release", "minor", "--dry-run")
    assert code == 0, err
    assert "as a draft, build and upload its assets, publish it" in out
    assert f"build: {sys.executable} build.py in a clean checkout of v5.3.0" in out
    assert "assets: dist/*.whl, dist/*.tar.gz" in out
    assert OWN_MARKER not in out
    assert sandbox.state.releases(LIBRARY) == []

    code, _, err = invoke(work, "release", "minor", "--yes", "--skip", "downstream")
    assert code == 0, err
    (release,) = sandbox.state.releases(LIBRARY)
    assert (release.tag_name, release.draft, release.prerelease) == ("v5.3.0", False, False)
    assert (release.body or "").endswith(OWN_MARKER)
    assert assets(sandbox, release.id) == EXPECTED
    # Created as a draft (never "latest" while one), two uploads, then published.
    assert release_writes(sandbox) == [
        "POST release 201",
        "upload 201",
        "upload 201",
        "PATCH release/ID 200",  # published
        "PATCH release/ID 200",  # then made the latest (a draft cannot be)
    ]
    latest = github.Github(base_url=sandbox.api_url, auth=github.Auth.Token(MAINTAINER_TOKEN))
    assert latest.get_repo(LIBRARY).get_latest_release().id == release.id
    # The build ran in a clean checkout of the tag, without the release's credentials, and
    # left the working tree alone.
    made = sorted(str(p.relative_to(work)) for p in (work / "dist").rglob("*") if p.is_file())
    assert made == ["dist/release/5.3.0/notification.eml"]  # the email draft only


def test_a_fault_after_the_draft_then_the_same_command_finishes_that_draft(
    work: Path, sandbox: Sandbox
) -> None:
    sandbox.add_fault("POST /api/uploads/* 502 4")  # every attempt of the first upload
    code, _, err = invoke(work, "release", "minor", "--yes", "--skip", "downstream")
    assert code == 1, err
    (draft,) = sandbox.state.releases(LIBRARY)
    assert draft.draft and assets(sandbox, draft.id) == []
    assert "while uploading edx_proctoring-5.3.0-py3-none-any.whl to release v5.3.0" in err
    assert "run it with 5.3.0 (or current) as BUMP" in err

    # Someone also drafted notes for the tag by hand: GitHub allows it, and that draft is theirs.
    theirs = github.Github(base_url=sandbox.api_url, auth=github.Auth.Token(MAINTAINER_TOKEN))
    theirs.get_repo(LIBRARY).create_git_release("v5.3.0", "5.3.0 (notes)", "by hand", draft=True)

    code, out, err = invoke(work, "release", "current", "--dry-run")
    assert code == 0, err
    assert "finish the draft release v5.3.0" in out
    # A lost answer: the asset arrives, the response does not; the upload is looked for first.
    sandbox.add_fault("POST /api/uploads/* after:502 1")
    code, _, err = invoke(work, "release", "current", "--yes", "--skip", "downstream")
    assert code == 0, err
    releases = {r.id: r for r in sandbox.state.releases(LIBRARY)}
    assert len(releases) == 2  # no second draft of the tool's, none left behind
    assert not releases[draft.id].draft
    assert assets(sandbox, draft.id) == EXPECTED
    (other,) = (r for r in releases.values() if r.id != draft.id)
    assert (other.draft, other.body) == (True, "by hand")

    writes = len(release_writes(sandbox))
    code, out, err = invoke(work, "release", "current", "--yes", "--skip", "downstream")
    assert code == 0, err  # nothing left to do
    assert "github-release: skipped (already done: release v5.3.0 exists" in out
    assert len(release_writes(sandbox)) == writes
    assert len(sandbox.state.releases(LIBRARY)) == 2


def test_a_partial_upload_is_replaced(work: Path, sandbox: Sandbox) -> None:
    code, _, err = invoke(work, "release", "minor", "--yes", "--local")
    assert code == 0, err
    client = github.Github(base_url=sandbox.api_url, auth=github.Auth.Token(MAINTAINER_TOKEN))
    draft = client.get_repo(LIBRARY).create_git_release(
        "v5.3.0", "5.3.0", f"left by a run\n\n{OWN_MARKER}", draft=True
    )
    stub = work.parent / "edx_proctoring-5.3.0-py3-none-any.whl"
    stub.write_bytes(b"trunc")
    draft.upload_asset(str(stub))
    code, _, err = invoke(work, "release", "current", "--yes", "--skip", "downstream")
    assert code == 0, err
    (release,) = sandbox.state.releases(LIBRARY)
    assert release.id == draft.id and not release.draft
    assert assets(sandbox, release.id) == EXPECTED


def test_a_pre_release_is_never_made_latest(work: Path, sandbox: Sandbox) -> None:
    code, _, err = invoke(work, "release", "minor", "--pre", "rc", "--yes", "--skip", "downstream")
    assert code == 0, err
    (release,) = sandbox.state.releases(LIBRARY)
    assert (release.tag_name, release.prerelease, release.draft) == ("v5.3.0rc1", True, False)
    assert release.make_latest == "false"
    client = github.Github(base_url=sandbox.api_url, auth=github.Auth.Token(MAINTAINER_TOKEN))
    with pytest.raises(github.UnknownObjectException):
        client.get_repo(LIBRARY).get_latest_release()


def test_a_failed_build_creates_nothing_on_github(work: Path, sandbox: Sandbox) -> None:
    (work / "build.py").write_text("import sys\nprint('compiling...')\nsys.exit('no compiler')\n")
    commit_and_push(work, sandbox.git_url(LIBRARY), "build: broken")
    code, _, err = invoke(work, "release", "minor", "--yes", "--skip", "downstream")
    assert code == 1
    assert f"build_command failed (exit 1): {sys.executable} build.py" in err
    assert "no compiler" in err and "compiling..." in err
    assert sandbox.state.releases(LIBRARY) == []


def test_build_command_needs_release_assets(work: Path) -> None:
    pyproject = (work / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(
        pyproject.replace('release_assets = ["dist/*.whl", "dist/*.tar.gz"]\n', "")
    )
    code, _, err = invoke(work, "plan", "minor")
    assert code == 2
    assert "build_command: set, but release_assets is empty" in err
