"""The leaf model of a run: the project, what was asked, what planning learnt, tags.

Imported by the pipeline, the steps and the CLI; imports none of them. Everything here is a
frozen value or a pure function:

* `Project` — the repository being released, its config, credentials and the run's knobs
  (the GitHub retry policy, the index poll interval, a progress callback). Tests build one
  with fast knobs; nothing is monkeypatched.
* `Bump` and `ReleaseRequest` — what the user asked for, parsed once at the edge.
* `FileVersion` and `Facts` — what planning read and decided, shared by the steps.
* tag helpers — the one place that turns versions into tag names and tags into versions.
  `X.Y.Z`, `vX.Y.Z` and the configured `tag_format` spell one release: a version tagged in
  any of them is released, and the tag that exists is the release's tag (`existing_tag`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from release_tool.config import DEFAULT_NETWORK_TIMEOUT, Config
from release_tool.errors import UsageError
from release_tool.versions import Version, parse_version, tag_version

if TYPE_CHECKING:
    from release_tool.git_repo import GitRepo, RemoteState

#: The bump words; anything else is an explicit version.
BUMP_WORDS = ("major", "minor", "patch", "release", "pre", "current")
#: Version file kinds spelt in SemVer.
NPM_KINDS = ("package_json", "npm_lockfile")
#: The default seconds between two looks at the package index.
DEFAULT_POLL_INTERVAL = 10.0


class RetryPolicy(NamedTuple):
    """How hard to try a GitHub request: attempts, the first backoff (doubled), the cap.

    The defaults suit GitHub; tests use `RetryPolicy(backoff=0.01, max_wait=0.05)`.
    """

    attempts: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0


class GitHubApp(NamedTuple):
    """A GitHub App the run authenticates as: its id and private key (PEM), never shown.

    With one, every repository is written with its own installation token (the library's is
    also the one git pushes with: `Project.token`)."""

    id: int
    private_key: str

    def __repr__(self) -> str:
        return f"GitHubApp(id={self.id!r}, private_key=<hidden>)"


@dataclass(frozen=True)
class Project:
    """The repository being released, its config, and what the run may use."""

    root: Path
    config: Config
    repo: GitRepo
    token: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    app: GitHubApp | None = None  # GitHub App authentication (see `GitHubApp`)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    poll_interval: float = DEFAULT_POLL_INTERVAL
    # The overall deadline of one network operation (a git push, ls-remote or clone, a GitHub
    # request, a look at the index): the config's `network_timeout`, or the environment's
    # RELEASE_TOOL_NETWORK_TIMEOUT (see `network_timeout`).
    network_timeout: float = DEFAULT_NETWORK_TIMEOUT
    # Where long waits (the package index) report progress; the CLI shows it on its spinner.
    progress: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def templates(self) -> Path | None:
        """The project's template override folder, if it configures one."""
        return self.root / self.config.templates if self.config.templates else None


#: The environment variable that overrides `network_timeout` (a CI job, a test).
NETWORK_TIMEOUT_ENV = "RELEASE_TOOL_NETWORK_TIMEOUT"


def network_timeout(environ: Mapping[str, str], config: Config | None) -> float:
    """RELEASE_TOOL_NETWORK_TIMEOUT if set (a positive number of seconds), else the config's
    `network_timeout` (the default without a config)."""
    value = environ.get(NETWORK_TIMEOUT_ENV)
    if not value:
        return DEFAULT_NETWORK_TIMEOUT if config is None else config.network_timeout
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < math.inf:  # NaN too
        raise UsageError(
            f"{NETWORK_TIMEOUT_ENV}={value!r} is not a positive number of seconds",
            f"e.g. {NETWORK_TIMEOUT_ENV}=300, or unset it to use network_timeout from the config",
        )
    return seconds


class Bump(NamedTuple):
    """BUMP as given: a bump word, or an explicit version (parsed here, once)."""

    text: str
    word: str | None = None
    version: Version | None = None

    @classmethod
    def parse(cls, text: str) -> Bump:
        if text in BUMP_WORDS:
            return cls(text, word=text)
        return cls(text, version=parse_version(text))

    @property
    def is_current(self) -> bool:
        return self.word == "current"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ReleaseRequest:
    """What the user asked for on the command line."""

    bump: Bump
    pre: str | None = None
    allow_downgrade: bool = False
    allow_empty_notes: bool = False
    sync: bool = False
    send_email: bool = False
    skip: frozenset[str] = frozenset()
    only: frozenset[str] = frozenset()
    local: bool = False  # only the local steps: bump, commit, tag, push
    allow_unpushed: bool = False  # the push may publish local commits origin does not have
    no_verify: bool = False  # skip the repository's commit hooks (git commit --no-verify)
    today: date = field(default_factory=date.today)


class FileVersion(NamedTuple):
    """One version location in one file, as read."""

    path: str
    where: str
    line: int
    text: str
    version: Version
    source: str  # the whole file, as read: what an edit edits

    def __repr__(self) -> str:  # without the whole file
        return (
            f"FileVersion(path={self.path!r}, where={self.where!r}, line={self.line!r}, "
            f"text={self.text!r}, version={self.version!r})"
        )


class Recovery(NamedTuple):
    """What a run killed outright left behind (its lock journal), and how to finish it.

    `kind` is "rollback" (the push never landed: files, branch and tag go back to the
    pre-image) or "finish" (the remote has the release: only git's view of the remote is
    brought up to date, and the release goes on from there).
    """

    kind: str
    pid: object
    started: object
    head: str | None
    files: Mapping[str, str]
    tags: tuple[str, ...]  # local tags the killed run made that the remote does not have
    branch: str | None
    remote_head: str | None = None  # "finish": where the remote's branch is
    journal: Mapping[str, object] = MappingProxyType({})  # the lock as read

    def describe(self) -> str:
        who = f"an interrupted release (pid {self.pid}, {self.started})"
        if self.kind == "finish":
            return f"{who} had pushed: finishing it"
        return f"{who} was not pushed: roll back its local changes"


class LocalCommit(NamedTuple):
    """A commit HEAD has that the remote's branch does not: what a push would publish."""

    sha: str
    subject: str

    def __str__(self) -> str:
        return f"{self.sha[:12]} {self.subject}"


@dataclass(frozen=True)
class Facts:
    """What planning learnt, shared by the steps after preflight."""

    current: Version
    new: Version
    tag: str  # the release's tag: the one that exists (in any spelling), or the one to create
    head: str
    remote: RemoteState
    notes: str  # the changelog section as written (tag message, email)
    resumed: bool
    changelog: tuple[str, str] | None  # the changelog as it is, and stamped for `new`
    previous: Version | None  # the release before this one, for "upgrade from X" wording
    found: tuple[FileVersion, ...] = ()  # every version location, as read
    recovery: Recovery | None = None  # an interrupted run to roll back or finish first
    observed_head: str = ""  # HEAD as read (`head` is where it will be after a rollback)
    notes_markdown: str = ""  # the notes as GitHub-flavoured Markdown (release and PR bodies)
    warnings: tuple[str, ...] = ()  # what preflight found worth saying, short of a problem
    # The commits the push publishes besides the release commit (HEAD ahead of the remote).
    unpushed: tuple[LocalCommit, ...] = ()
    version_source: str = "files"  # where the current version came from: "files" or "tag"

    @property
    def upgraded_from(self) -> Version | None:
        """The version this release replaces in the files (None when releasing `current`)."""
        return self.current if self.current != self.new else None


# --- tags ------------------------------------------------------------------------------------


def tag_name(config: Config, version: Version) -> str:
    """The tag a new release of `version` gets: the configured format."""
    return config.tag_format.format(version=version.pep440)


def tag_spellings(config: Config, version: Version) -> tuple[str, ...]:
    """Every tag that names the release of `version`: the configured format first, then the
    `v` and bare spellings real repositories used before it (`v4.18.4`, `4.18.4`)."""
    spelled = version.pep440
    return tuple(dict.fromkeys((tag_name(config, version), f"v{spelled}", spelled)))


def existing_tag(config: Config, version: Version, *tag_maps: Mapping[str, str]) -> str | None:
    """The tag that already names `version` in any of `tag_maps` (tag → commit), in the
    order of `tag_spellings`; None when the version was never tagged."""
    for tag in tag_spellings(config, version):
        if any(tag in tags for tags in tag_maps):
            return tag
    return None


def release_tag(config: Config, version: Version, *tag_maps: Mapping[str, str]) -> str:
    """The release's tag: the one that exists (any spelling), else the one a release creates."""
    return existing_tag(config, version, *tag_maps) or tag_name(config, version)


def version_of_tag(config: Config, tag: str) -> Version | None:
    """The release version a tag names (the configured format, or the bare or `v` spelling of
    older tags), or None: a tag that is no release version (`2019.01.15`,
    `release-2015-07-29`, `npmv1.0.0`) is ignored, never an error."""
    prefix, _, suffix = config.tag_format.partition("{version}")
    candidates = [tag.removeprefix("v"), tag]
    if tag.startswith(prefix) and tag.endswith(suffix) and len(tag) > len(prefix) + len(suffix):
        candidates.insert(0, tag[len(prefix) : len(tag) - len(suffix)])
    for candidate in candidates:
        version = tag_version(candidate)
        if version is not None:
            return version
    return None


def other_tags(config: Config, tags: Mapping[str, str]) -> list[str]:
    """The tags that name no release version (sorted): never in the way, only listed."""
    return sorted(t for t in tags if version_of_tag(config, t) is None)


def last_release(config: Config, tags: Mapping[str, str]) -> tuple[str, Version] | None:
    """The highest release version among `tags` (pass the tags reachable from HEAD), and its
    tag (the configured spelling when both exist); non-version tags are ignored."""
    releases = [v for t in tags if (v := version_of_tag(config, t)) is not None]
    if not releases:
        return None
    version = max(releases)
    named = [t for t in tags if version_of_tag(config, t) == version]
    spellings = tag_spellings(config, version)
    named.sort(key=lambda t: (spellings.index(t) if t in spellings else len(spellings), t))
    return named[0], version


def releases_before(config: Config, tags: Mapping[str, str], version: Version) -> Version | None:
    """The highest release version among `tags` below `version`."""
    earlier = [v for t in tags if (v := version_of_tag(config, t)) is not None and v < version]
    return max(earlier, default=None)
