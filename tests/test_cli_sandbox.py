"""`release-tool sandbox serve`: a sandbox a user starts by hand and points the tool at."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from release_tool.git_repo import auth_environment, run_git

# `release-tool` with Ctrl-C working even if this test was started with SIGINT ignored (as a
# background job in CI can be): a child inherits the ignore, so it restores Python's handler.
INTERRUPTIBLE = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from release_tool.cli import main; sys.argv[0] = 'release-tool'; main()"
)


def test_serve_prints_the_api_url_and_serves_the_seeded_example(tmp_path: Path) -> None:
    token = "cli-sandbox-token"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            INTERRUPTIBLE,
            "sandbox",
            "serve",
            "--root",
            str(tmp_path / "root"),
            "--seed",
            "example",
            "--token",
            f"{token}:maintainer",
            "--grant",
            "maintainer:openedx/edx-proctoring",
            "--fault",
            "POST /repos/*/releases 503 1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        api = proc.stdout.readline().strip()
        assert api.startswith("http://127.0.0.1:") and api.endswith("/api/v3")
        request = urllib.request.Request(
            f"{api}/repos/openedx/edx-proctoring", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            repo = json.load(response)
        assert repo["full_name"] == "openedx/edx-proctoring"
        assert repo["default_branch"] == "master"
        assert repo["permissions"]["push"] is True
        base = api.removesuffix("/api/v3")
        clone = tmp_path / "clone"
        run_git("clone", "-q", f"{base}/openedx/edx-proctoring.git", str(clone), cwd=tmp_path)
        assert (clone / "edx_proctoring" / "__init__.py").is_file()
        # The fault given on the command line answers the first release creation.
        body = json.dumps({"tag_name": "v9.9.9"}).encode()
        create = urllib.request.Request(
            f"{api}/repos/openedx/edx-proctoring/releases",
            data=body,
            method="POST",
            headers={"Authorization": f"token {token}"},
        )
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(create, timeout=10)
        assert failed.value.code == 503
        # A push with the token over smart HTTP works.
        (clone / "NOTES").write_text("pushed through the sandbox\n")
        run_git("add", "NOTES", cwd=clone)
        run_git("commit", "-qm", "notes", cwd=clone)
        env = auth_environment(f"{base}/openedx/edx-proctoring.git", token)
        run_git("push", "-q", "origin", "master", cwd=clone, env=env)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert token not in err
    bare = tmp_path / "root" / "openedx" / "edx-proctoring.git"
    assert run_git("log", "-1", "--format=%s", "master", cwd=bare) == "notes"


def test_bad_fault_spec_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "release_tool",
            "sandbox",
            "serve",
            "--root",
            str(tmp_path),
            "--fault",
            "POST",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")


def test_serve_renames_a_repository_and_the_old_name_redirects(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            INTERRUPTIBLE,
            "sandbox",
            "serve",
            "--root",
            str(tmp_path / "root"),
            "--seed",
            "example",
            "--rename",
            "openedx/edx-proctoring=openedx/edx-proctoring-renamed",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        api = proc.stdout.readline().strip()
        with urllib.request.urlopen(f"{api}/repos/openedx/edx-proctoring", timeout=10) as moved:
            repo = json.load(moved)  # urllib follows the 301 to /repositories/ID
        assert repo["full_name"] == "openedx/edx-proctoring-renamed"
        assert moved.url.startswith(f"{api}/repositories/")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert (tmp_path / "root" / "openedx" / "edx-proctoring-renamed.git").is_dir()


def test_bad_rename_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "release_tool", "sandbox", "serve", "--root", str(tmp_path)),
            *("--rename", "openedx/no-such-repo=openedx/other"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: the sandbox has no repository openedx/no-such-repo")
