"""The released project's own `uv.lock`: its entry for the project moves with the version.

A project with a static `[project] version` and a `uv.lock` records its own version in the
lock (`[[package]] name = "edx-proctoring" version = "5.2.0" source = { editable = "." }`).
When a release changes the version, the lock must follow in the same commit, or `uv sync
--locked` fails on the release commit. The lock is never edited as text: uv rewrites it.

* `check` — before the release: `uv lock --locked` on the files as they are. A lock that is
  already out of date is a preflight problem: moving it would commit changes nobody reviewed.
* `relock` — `uv lock` on the edited pyproject.toml beside the old lock. uv re-resolves with
  every locked pin as a preference, so only the project's own entry changes; the result is
  checked to be exactly that (any other change is refused, naming it).

Both run in a scratch directory holding only the lock inputs (pyproject.toml, uv.lock,
uv.toml, .python-version, and the pyproject.toml of each workspace member), never in the
repository, so planning stays read-only and a dry run shows the lock's diff. Both run with
`--offline` first: uv then reads what it needs from its cache (`UV_CACHE_DIR` passes through)
and touches no network. A check of a lock that is in step needs nothing else; a version change
needs the locked packages' metadata, so when the cache lacks it uv runs again online. Either
way uv looks at the index the project configures, or else the one the lock records, spelt as
recorded (the cache is keyed by it), and runs with `--no-build`: no third-party code runs on
the releasing machine.

uv is the project's `required-version` when it pins one, else the uv this tool ships; the
environment is the resolvers' clean one (see `release_tool.resolvers.common`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from release_tool.errors import ReleaseError, UsageError
from release_tool.resolvers.common import (
    read_text,
    resolver_env,
    run,
    scratch,
    write_tree,
)
from release_tool.resolvers.uv import _recorded_index, required_version, uv_for_version

LOCK = "uv.lock"
_INPUTS = ("pyproject.toml", LOCK, "uv.toml", ".python-version")
_OFFLINE_REFUSED = re.compile(
    r"network (?:was|is) disabled|network connectivity is disabled|--offline", re.IGNORECASE
)
_HINT = "run `uv lock` and commit the result, then release"


def inputs(folder: Path, overlay: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """The lock inputs of the uv project in `folder` ({relative path: text}), or None when it
    has no uv.lock. `overlay` gives texts that differ from the disk (a rollback's pre-image)."""
    overlay = overlay or {}

    def text_of(name: str) -> str | None:
        return overlay[name] if name in overlay else read_text(folder / name)

    files = {name: text for name in _INPUTS if (text := text_of(name)) is not None}
    if LOCK not in files or "pyproject.toml" not in files:
        return None
    workspace = _toml(files["pyproject.toml"], "pyproject.toml").get("tool", {})
    workspace = workspace.get("uv", {}).get("workspace", {})
    for pattern in workspace.get("members", []) if isinstance(workspace, dict) else []:
        for member in sorted(folder.glob(str(pattern))):
            if not member.resolve().is_relative_to(folder.resolve()):
                continue  # a member outside the project's folder is not copied
            relative = (member / "pyproject.toml").relative_to(folder).as_posix()
            if (text := text_of(relative)) is not None:
                files[relative] = text
    return files


def check(files: Mapping[str, str], env: Mapping[str, str] | None = None) -> None:
    """Raise a `UsageError` when uv.lock is not in step with pyproject.toml as they are."""
    try:
        _uv(files, ["lock", "--locked"], env, what="uv lock --locked")
    except ReleaseError as exc:
        if "needs to be updated" in f"{exc.message}\n{exc.details}":
            raise UsageError(
                "uv.lock is out of date with pyproject.toml (before the release)",
                _HINT,
                exc.details,
            ) from None
        raise UsageError(
            f"cannot check uv.lock: {exc.message}",
            "uv needs a Python on PATH and, when its cache lacks the locked packages, the "
            "project's index",
            exc.details,
        ) from None


def relock(files: Mapping[str, str], pyproject: str, env: Mapping[str, str] | None = None) -> str:
    """The new uv.lock for the edited `pyproject` text: the old lock with the project's own
    entry at the new version, and nothing else changed (else a `ReleaseError` naming it)."""
    edited = {**files, "pyproject.toml": pyproject}
    try:
        new_lock = _uv(edited, ["lock"], env, what="uv lock", read=LOCK)
    except ReleaseError as exc:
        raise ReleaseError(
            f"cannot move uv.lock to the new version: {exc.message}",
            "uv needs the locked packages' metadata: from its cache (UV_CACHE_DIR) or the "
            "project's index; make one of them available and run again",
            exc.details,
        ) from None
    project = _toml(pyproject, "pyproject.toml").get("project", {})
    _check_only_own_entry(files[LOCK], new_lock, str(project.get("name", "")))
    return new_lock


def _uv(
    files: Mapping[str, str],
    args: list[str],
    env: Mapping[str, str] | None,
    *,
    what: str,
    read: str | None = None,
) -> str:
    """Run uv ARGS on `files` in a scratch directory, offline first; returns `read`'s text."""
    pyproject = _toml(files["pyproject.toml"], "pyproject.toml")
    uv_toml = _toml(files["uv.toml"], "uv.toml") if "uv.toml" in files else None
    lock = _toml(files[LOCK], LOCK)
    executable, _ = uv_for_version(required_version(pyproject, uv_toml), env=env)
    with scratch("own-lock") as tmp:
        tree = Path(tmp) / "project"
        write_tree(tree, files)
        run_env = resolver_env(env, Path(tmp))
        index = _recorded_index(pyproject, uv_toml, lock)
        command = [executable, *args, "--no-build", *(["--default-index", index] if index else [])]
        try:
            run([*command, "--offline"], cwd=tree, env=run_env, what=f"{what} --offline")
        except ReleaseError as exc:
            if not _OFFLINE_REFUSED.search(exc.details or exc.message):
                raise
            run(command, cwd=tree, env=run_env, what=what)
        return (read_text(tree / read) or "") if read else ""


def _check_only_own_entry(old_text: str, new_text: str, name: str) -> None:
    """uv's new lock may differ from the old one only in the project's own version (and the
    lock format's `version`/`revision` header, when this uv writes a newer one)."""
    old, new = _toml(old_text, LOCK), _toml(new_text, LOCK)
    own = canonicalize_name(name)
    others = _entries(old, own) ^ _entries(new, own)
    changed = sorted({str(dict(e).get("name")) for e in others} | _names_if_differ(old, new, own))
    if changed:
        raise ReleaseError(
            f"uv lock would change more of uv.lock than {name}'s own version: "
            + ", ".join(changed),
            "bring uv.lock in step first (`uv lock`, commit), then release",
        )


def _entries(lock: Mapping[str, Any], own: str) -> set[Any]:
    """Every locked package but the project itself, as hashable values."""
    return {
        _frozen(entry)
        for entry in lock.get("package", [])
        if isinstance(entry, dict) and canonicalize_name(str(entry.get("name", ""))) != own
    }


def _names_if_differ(old: Mapping[str, Any], new: Mapping[str, Any], own: str) -> set[str]:
    """The project's own entry, when more than its version changed; top-level settings."""
    names: set[str] = set()

    def own_entry(lock: Mapping[str, Any]) -> dict[str, Any]:
        for entry in lock.get("package", []):
            if isinstance(entry, dict) and canonicalize_name(str(entry.get("name", ""))) == own:
                return {k: v for k, v in entry.items() if k != "version"}
        return {}

    if own_entry(old) != own_entry(new):
        names.add(f"{own} (more than its version)")
    for key in set(old) | set(new):
        if key not in ("package", "version", "revision") and old.get(key) != new.get(key):
            names.add(f"[{key}]" if isinstance(old.get(key, new.get(key)), dict) else key)
    return names


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _toml(text: str, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}", "fix the file") from None


__all__ = ["LOCK", "check", "inputs", "relock"]
