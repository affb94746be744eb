"""What the local-release hardening tests share: running the CLI as a process, hooks, a view.

A release here is `release-tool -C REPO release minor --yes --local` on a clone of the example
library with a bare `origin` beside it (`conftest.make_library`). It runs as a real process, so
that a git hook can signal it the way a terminal would (Ctrl-C reaches the whole process group;
`kill` a single process). `local_view` is everything a release could change, so "nothing
changed" and "state moved forward" are asserted on files, index, refs, origin and the lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from release_tool.git_repo import run_git

# In a hook run by git run by release-tool: the release-tool process (git's parent).
RELEASE_TOOL_PID = "PY=\"$(awk '{print $4}' /proc/$PPID/stat)\"\n"
ZERO = "0" * 40


def once(marker: Path) -> str:
    """A hook's first lines that let it act only the first time (a rollback runs hooks too)."""
    return f'[ -e "{marker}" ] && exit 0\ntouch "{marker}"\n'


def cli(
    repo: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`release-tool -C REPO ARGS` as a process (a release: `--yes --local` added)."""
    if args and args[0] == "release":
        args = (*args, "--yes", "--local")
    elif args and args[0] == "plan":
        args = (*args, "--local")
    return subprocess.run(
        [sys.executable, "-m", "release_tool", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
    )


def start_cli(repo: Path, *args: str) -> subprocess.Popen[str]:
    """The same, started in a process group of its own (a terminal's Ctrl-C hits the group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "release_tool", "-C", str(repo), *args, "--yes", "--local"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        start_new_session=True,
    )


def origin_of(repo: Path) -> Path:
    return Path(run_git("remote", "get-url", "origin", cwd=repo))


def hook(git_dir: Path, name: str, script: str) -> Path:
    """Install an executable hook `name` (a shell script body) in `git_dir`."""
    path = git_dir / "hooks" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def local_view(repo: Path) -> dict[str, object]:
    """Everything a local release could change: every file of the working tree (a symlink as
    its link), the status, the index, every local ref, origin's refs, the release lock."""
    files: dict[str, bytes] = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if ".git" in rel.parts:
            continue
        if path.is_symlink():
            files[str(rel)] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            files[str(rel)] = path.read_bytes()
    refs = "--format=%(refname) %(objectname)"
    return {
        "files": files,
        "status": run_git("status", "--porcelain", "--untracked-files=all", cwd=repo),
        "index": run_git("ls-files", "-s", cwd=repo),
        "refs": run_git("for-each-ref", refs, cwd=repo),
        "head": run_git("rev-parse", "HEAD", cwd=repo),
        "origin": run_git("for-each-ref", refs, cwd=origin_of(repo)),
        "lock": (repo / ".git" / "release-tool.lock").exists(),
    }


def released(repo: Path, before_head: str) -> None:
    """The end state of an undisturbed 5.2.0 → 5.3.0 release: one commit on `before_head`,
    tagged v5.3.0, pushed with the tag, origin/master up to date, a clean tree, no lock."""
    head = run_git("rev-parse", "HEAD", cwd=repo)
    assert run_git("rev-parse", "HEAD~1", cwd=repo) == before_head
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=repo) == head
    assert run_git("rev-parse", "refs/remotes/origin/master", cwd=repo) == head
    origin = origin_of(repo)
    assert run_git("rev-parse", "master", cwd=origin) == head
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=origin) == head
    assert run_git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / ".git" / "release-tool.lock").exists()
    assert "5.3.0" in (repo / "edx_proctoring" / "__init__.py").read_text()
