"""What is being rolled out downstream: the release, how to link to it, and its changelog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from release_tool.versions import Version

if TYPE_CHECKING:  # the changelog reader (docutils) is imported only when a plan needs it
    from release_tool.changelog import Changelog


@dataclass(frozen=True)
class Upgrade:
    """What is being rolled out downstream: the release, and how to link to it."""

    package: str
    version: Version
    tag: str
    notes: str
    release_url: str
    repository: str  # the library, owner/name
    repository_url: str
    previous: Version | None = None
    # The library's changelog: the PR shows the notes of every release the downstream skips.
    changelog: Changelog | None = field(default=None, compare=False, repr=False)
