"""`release-tool status` for the downstream step: each entry's open PR, or what its base pins
(`edit`, `dispatch`) or locks (`relock`).

Reads only, and never raises: a failure reading an entry becomes an "unknown (...)" row. A
relocked entry's row reads the lock at the base commit, as the plan does: `uv.lock` (uv), or
each compiled file (`compile`'s targets, pip-tools), through the same directory listings and
blobs, never a clone.
"""

from __future__ import annotations

import dataclasses
import tomllib

from release_tool.config import Config, DownstreamConfig
from release_tool.downstream.pins import version_key
from release_tool.downstream.reads import BaseFiles, resolve_target
from release_tool.downstream.relock import Resolver, detect, refuse_undetected, versions_in_lock
from release_tool.errors import ReleaseError
from release_tool.files.requirements import pins_of
from release_tool.github_api import GitHub
from release_tool.versions import Version


def downstream_status(gh: GitHub, config: Config, version: Version) -> list[tuple[str, str]]:
    """(what, state) per downstream entry, for `release-tool status`; never raises."""
    rows = []
    for entry in config.downstream:
        what = f"PR {entry.repository}"
        try:
            rows.append((what, _entry_status(gh, entry, config.package, version)))
        except ReleaseError as exc:
            rows.append((what, f"unknown ({exc.message})"))
    return rows


def _entry_status(gh: GitHub, entry: DownstreamConfig, package: str, version: Version) -> str:
    target = resolve_target(gh, entry)
    repository = target.repository or entry.repository  # the canonical name
    # A dispatched workflow names its own branch: for it, only the pins can be shown.
    branch = "" if entry.strategy == "dispatch" else entry.branch.format(package=package)
    pull = gh.open_pull(repository, target.head_owner, branch) if branch else None
    if pull is not None:
        return f"open #{pull.number} {pull.html_url}"
    head = gh.branch_head(repository, target.base)
    if head is None:
        return f"unknown (no branch {target.base})"
    files = BaseFiles(gh, repository, head.commit, head.tree, f"{repository}@{target.base}")
    if entry.strategy in (None, "relock"):
        # As the plan decides: relock when configured or detected, else edit.
        resolver = detect(entry, files)
        if resolver is not None:
            return _lock_status(gh, entry, files, resolver, package, version)
        if entry.strategy == "relock":
            refuse_undetected(gh, dataclasses.replace(entry, repository=repository), files)
    pinned: set[str] = set()
    read: set[str] = set()
    for glob in entry.files:
        for blob in files.match(glob):
            if blob.path not in read:
                read.add(blob.path)
                text = gh.blob(repository, blob.sha).decode("utf-8", "replace")
                pinned.update(v for _, v in pins_of(blob.path, text, package))
    if pinned and all(version_key(v) == version_key(version.pep440) for v in pinned):
        return f"already pins {version}"
    return "none" + (f" (pins {', '.join(sorted(pinned, key=version_key))})" if pinned else "")


def _lock_status(
    gh: GitHub,
    entry: DownstreamConfig,
    files: BaseFiles,
    resolver: Resolver,
    package: str,
    version: Version,
) -> str:
    """What the base's lock holds of `package`: "already locks X", "none (locks Y)", "none
    (not in ...)", or "unknown (...)" when the lock is missing or unreadable."""

    def text_of(path: str) -> str | None:
        found = files.match(path)
        if not found:
            return None
        return gh.blob(files.repo, found[0].sha).decode("utf-8", "replace")

    if resolver == "uv":
        paths = ["uv.lock"]
    else:
        # A compiled file not there yet is one the first relock creates.
        paths = list(dict.fromkeys(c.target for c in entry.compile))
        if not paths:
            return "unknown (resolver = 'pip-tools', but `compile` is not configured)"
    present = [(path, text) for path in paths if (text := text_of(path)) is not None]
    if not present:
        missing = "no uv.lock" if resolver == "uv" else f"none of {', '.join(paths)}"
        return f"unknown ({files.label} has {missing})"
    try:
        locked = versions_in_lock(resolver, present, package)
    except tomllib.TOMLDecodeError as exc:
        return f"unknown ({files.label}: uv.lock is not valid TOML: {exc})"
    if not locked:
        return f"none (not in {', '.join(path for path, _ in present)})"
    if all(version_key(v) == version_key(version.pep440) for v in locked):
        return f"already locks {version}"
    return f"none (locks {', '.join(sorted(locked, key=version_key))})"
