"""The working tree as it is, brought into a rehearsal's clone: uncommitted changes included.

A release runs on commits; a rehearsal is asked what the release *would* do with the working
tree the maintainer has now (a configuration change not committed yet, say). `overlay` copies
every file git would consider (tracked, and untracked but not ignored) from the working tree
over the clone, removes what the working tree deleted, and commits the difference as one
"rehearsal commit". What it cannot bring, it names: ignored files (a release never commits
them either), the working trees of submodules, and anything that is neither a file nor a link.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from release_tool.git_repo import run_git

COMMIT_MESSAGE = "rehearsal: the working tree's uncommitted changes"


@dataclass(frozen=True)
class Overlay:
    """What `overlay` did: the paths it changed (committed as `commit`), and what it left out."""

    changed: tuple[str, ...]
    left_out: tuple[str, ...]
    commit: str | None  # the rehearsal commit; None when the working tree was clean


def _listed(source: Path, *args: str) -> list[str]:
    out = run_git("ls-files", "-z", *args, cwd=source)
    return [path for path in out.split("\0") if path]


def overlay(source: Path, clone: Path) -> Overlay:
    """Make `clone`'s files those of `source`'s working tree, and commit them if they differ."""
    submodules: set[str] = set()
    for line in run_git("ls-files", "-s", cwd=source).splitlines():
        mode, _, rest = line.partition(" ")
        if mode == "160000":
            submodules.add(rest.split("\t", 1)[1])
    left_out = [f"{path} (a submodule: its working tree is not copied)" for path in submodules]
    present = _listed(source, "--cached", "--others", "--exclude-standard")
    deleted = set(_listed(source, "--deleted"))
    for path in sorted(set(present)):
        if path in submodules:
            continue
        src, dst = source / path, clone / path
        if path in deleted or not os.path.lexists(src):
            if os.path.lexists(dst):
                dst.unlink()
            continue
        if src.is_symlink():
            if os.path.lexists(dst):
                dst.unlink()
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(os.readlink(src))
        elif src.is_file():
            if dst.is_symlink():
                dst.unlink()
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        else:
            left_out.append(f"{path} (neither a file nor a link)")
    kept = set(present) | submodules
    for path in _listed(clone, "--cached"):  # removed from the index (`git rm`)
        if path not in kept and os.path.lexists(clone / path):
            (clone / path).unlink()
    run_git("add", "-A", cwd=clone)
    names = run_git("diff", "--cached", "--name-only", "--no-renames", "-z", "HEAD", cwd=clone)
    changed = sorted(path for path in names.split("\0") if path)
    if not changed:
        return Overlay((), tuple(left_out), None)
    run_git("commit", "-q", "--no-verify", "-m", COMMIT_MESSAGE, cwd=clone)
    return Overlay(tuple(changed), tuple(left_out), run_git("rev-parse", "HEAD", cwd=clone))
