"""`release-tool status` for the downstream step: each entry's open PR, or what its base pins.

Reads only, and never raises: a failure reading an entry becomes an "unknown (...)" row.
"""

from __future__ import annotations

from release_tool.config import Config, DownstreamConfig
from release_tool.downstream.pins import version_key
from release_tool.downstream.reads import BaseFiles, resolve_target
from release_tool.errors import ReleaseError
from release_tool.files.requirements import pins_of
from release_tool.github_api import GitHub
from release_tool.versions import Version


def downstream_status(gh: GitHub, config: Config, version: Version) -> list[tuple[str, str]]:
    """(what, state) per downstream entry, for `release-tool status`; never raises."""
    rows = []
    for index, entry in enumerate(config.downstream):
        what = f"PR {entry.repository}"
        try:
            rows.append((what, _entry_status(gh, entry, index, config.package, version)))
        except ReleaseError as exc:
            rows.append((what, f"unknown ({exc.message})"))
    return rows


def _entry_status(
    gh: GitHub, entry: DownstreamConfig, index: int, package: str, version: Version
) -> str:
    target = resolve_target(gh, entry, index)
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
