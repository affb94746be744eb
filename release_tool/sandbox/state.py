"""What GitHub keeps beside git: releases, pull requests, labels, forks, dispatches, ids.

One JSON file, `ROOT/sandbox-state.json`, so a restarted sandbox still has them. Every change
happens in `State.transaction()`: under one lock, and written atomically (a temporary file
renamed over the old one), so a crash never leaves a half-written file; a transaction that
raises is rolled back to what is on disk.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_FILE = "sandbox-state.json"
_FORMAT = 1


def now() -> str:
    """GitHub's timestamp format: UTC, seconds, `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RepoMeta:
    full_name: str
    id: int
    created_at: str
    parent: str | None = None  # the repository this one is a fork of
    forked_by: str | None = None  # who created the fork (it may live under an organization)
    next_number: int = 1  # issue and pull request numbers share one sequence, as on GitHub
    latest_release: int | None = None  # the release last published with make_latest=true
    collaborators: list[str] = field(default_factory=list)  # users with write access
    ready_at: float | None = None  # a fork being created: the epoch time it appears at


@dataclass
class Release:
    id: int
    repo: str
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    author: str
    created_at: str
    published_at: str | None
    updated_at: str
    make_latest: str = "legacy"


@dataclass
class Asset:
    """A release asset; its bytes live in `ROOT/.sandbox-assets/ID`."""

    id: int
    repo: str
    release_id: int
    name: str
    label: str | None
    content_type: str
    size: int
    digest: str
    uploader: str
    created_at: str
    updated_at: str
    download_count: int = 0


@dataclass
class Pull:
    id: int
    repo: str
    number: int
    title: str
    body: str | None
    state: str
    user: str
    head_repo: str
    head_ref: str
    head_sha: str
    base_ref: str
    created_at: str
    updated_at: str
    closed_at: str | None = None
    draft: bool = False
    maintainer_can_modify: bool = False
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    team_reviewers: list[str] = field(default_factory=list)


@dataclass
class Label:
    id: int
    repo: str
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Dispatch:
    repo: str
    workflow: str  # the file name under .github/workflows/
    ref: str
    inputs: dict[str, Any]
    actor: str
    created_at: str


@dataclass
class Run:
    """A workflow run (a dispatch starts one); `status` queued → in_progress → completed."""

    id: int
    repo: str
    workflow: str  # the file name under .github/workflows/
    workflow_id: int
    run_number: int
    name: str
    head_branch: str | None
    head_sha: str
    actor: str
    inputs: dict[str, Any]
    created_at: str
    updated_at: str
    status: str = "queued"
    conclusion: str | None = None
    event: str = "workflow_dispatch"
    pull_number: int | None = None  # the pull request the run opened, if any


@dataclass
class _Data:
    next_id: int = 1000
    users: dict[str, int] = field(default_factory=dict)
    repos: dict[str, RepoMeta] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    pulls: list[Pull] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    dispatches: list[Dispatch] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    workflows: dict[str, int] = field(default_factory=dict)  # "owner/name:file" → id
    renames: dict[str, str] = field(default_factory=dict)  # old owner/name, lower case → new


class State:
    """The sandbox's non-git state; attributes are read freely, changed only in transactions."""

    def __init__(self, root: Path) -> None:
        self.path = root / STATE_FILE
        self._lock = threading.RLock()
        self._data = self._load()

    # -- persistence ------------------------------------------------------------------------

    def _load(self) -> _Data:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _Data()
        return _Data(
            next_id=raw["next_id"],
            users=dict(raw["users"]),
            repos={k: RepoMeta(**v) for k, v in raw["repos"].items()},
            releases=[Release(**r) for r in raw["releases"]],
            pulls=[Pull(**p) for p in raw["pulls"]],
            labels=[Label(**lb) for lb in raw["labels"]],
            assets=[Asset(**a) for a in raw.get("assets", [])],
            dispatches=[Dispatch(**d) for d in raw["dispatches"]],
            runs=[Run(**r) for r in raw.get("runs", [])],
            workflows=dict(raw["workflows"]),
            renames=dict(raw.get("renames", {})),
        )

    def _save(self) -> None:
        payload = {"format": _FORMAT, **dataclasses.asdict(self._data)}
        text = json.dumps(payload, indent=1, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sandbox-state-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def reload(self) -> None:
        """Read the file again (another process may have written it since)."""
        with self._lock:
            self._data = self._load()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Change the state: all of it is saved at the end, or none of it on an exception."""
        with self._lock:
            before = copy.deepcopy(self._data)
            try:
                yield
                self._save()
            except BaseException:
                self._data = before
                raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state lock (also serialises multi-step git writes against each other)."""
        with self._lock:
            yield

    # -- ids and registries ---------------------------------------------------------------

    def new_id(self) -> int:
        with self._lock:
            self._data.next_id += 1
            return self._data.next_id

    def user_id(self, login: str) -> int:
        """A stable id per login (assigned on first sight, so it survives a restart)."""
        with self._lock:
            if login not in self._data.users:
                with self.transaction():
                    self._data.users[login] = self.new_id()
            return self._data.users[login]

    def repo(self, full_name: str) -> RepoMeta:
        """The metadata of a repository that exists on disk (registered on first sight)."""
        with self._lock:
            meta = self._data.repos.get(full_name)
            if meta is None:
                with self.transaction():
                    meta = RepoMeta(full_name, self.new_id(), now())
                    self._data.repos[full_name] = meta
            return meta

    def add_repo(self, meta: RepoMeta) -> None:
        with self.transaction():
            self._data.repos[meta.full_name] = meta

    def forget_repo(self, full_name: str) -> None:
        """Drop a repository and everything attached to it (used when re-seeding)."""
        with self.transaction():
            data = self._data
            data.repos.pop(full_name, None)
            data.releases = [r for r in data.releases if r.repo != full_name]
            data.pulls = [p for p in data.pulls if full_name not in (p.repo, p.head_repo)]
            data.labels = [lb for lb in data.labels if lb.repo != full_name]
            data.assets = [a for a in data.assets if a.repo != full_name]
            data.dispatches = [d for d in data.dispatches if d.repo != full_name]
            data.runs = [r for r in data.runs if r.repo != full_name]
            data.workflows = {
                k: v for k, v in data.workflows.items() if not k.startswith(full_name + ":")
            }

    def rename_repo(self, old: str, new: str) -> None:
        """Move everything recorded for `old` to `new`, and remember `old` as a redirect."""
        with self.transaction():
            data = self._data
            meta = data.repos.pop(old, None) or RepoMeta(new, self.new_id(), now())
            meta.full_name = new
            data.repos[new] = meta
            for m in data.repos.values():
                if m.parent == old:
                    m.parent = new
            records: list[Release | Asset | Label | Dispatch | Run] = [
                *data.releases,
                *data.assets,
                *data.labels,
                *data.dispatches,
                *data.runs,
            ]
            for record in records:
                if record.repo == old:
                    record.repo = new
            for pull in data.pulls:
                pull.repo = new if pull.repo == old else pull.repo
                pull.head_repo = new if pull.head_repo == old else pull.head_repo
            data.workflows = {
                (new + key[len(old) :] if key.startswith(old + ":") else key): value
                for key, value in data.workflows.items()
            }
            data.renames = {k: (new if v == old else v) for k, v in data.renames.items()}
            data.renames.pop(new.lower(), None)  # the new name is a repository, not a redirect
            data.renames[old.lower()] = new

    def former_names(self, full_name: str) -> list[str]:
        """The names (lower case) that redirect to `full_name`."""
        return [old for old, new in self._data.renames.items() if new == full_name]

    def renamed_to(self, full_name: str) -> str | None:
        """Where a repository that was renamed (or transferred) from `full_name` is now."""
        return self._data.renames.get(full_name.lower())

    def repo_by_id(self, repo_id: int) -> str | None:
        return next((m.full_name for m in self._data.repos.values() if m.id == repo_id), None)

    def forked_by(self, full_name: str) -> str | None:
        meta = self._data.repos.get(full_name)
        return meta.forked_by if meta else None

    def collaborators(self, full_name: str) -> list[str]:
        meta = self._data.repos.get(full_name)
        return list(meta.collaborators) if meta else []

    def add_collaborator(self, full_name: str, login: str) -> None:
        meta = self.repo(full_name)
        if login not in meta.collaborators:
            with self.transaction():
                meta.collaborators.append(login)

    def forks_of(self, full_name: str) -> list[RepoMeta]:
        return [m for m in self._data.repos.values() if m.parent == full_name]

    def workflow_id(self, full_name: str, file_name: str) -> int:
        key = f"{full_name}:{file_name}"
        with self._lock:
            if key not in self._data.workflows:
                with self.transaction():
                    self._data.workflows[key] = self.new_id()
            return self._data.workflows[key]

    def workflow_file(self, full_name: str, workflow_id: int) -> str | None:
        for key, value in self._data.workflows.items():
            repo, _, file_name = key.rpartition(":")
            if repo == full_name and value == workflow_id:
                return file_name
        return None

    # -- records ----------------------------------------------------------------------------

    def releases(self, full_name: str) -> list[Release]:
        return [r for r in self._data.releases if r.repo == full_name]

    def release(self, full_name: str, release_id: int) -> Release | None:
        return next((r for r in self.releases(full_name) if r.id == release_id), None)

    def add_release(self, release: Release) -> None:
        self._data.releases.append(release)

    def assets(self, full_name: str, release_id: int | None = None) -> list[Asset]:
        return [
            a
            for a in self._data.assets
            if a.repo == full_name and release_id in (None, a.release_id)
        ]

    def add_asset(self, asset: Asset) -> None:
        self._data.assets.append(asset)

    def remove_asset(self, asset: Asset) -> None:
        self._data.assets.remove(asset)

    def pulls(self, full_name: str) -> list[Pull]:
        return [p for p in self._data.pulls if p.repo == full_name]

    def pull(self, full_name: str, number: int) -> Pull | None:
        return next((p for p in self.pulls(full_name) if p.number == number), None)

    def add_pull(self, pull: Pull) -> None:
        self._data.pulls.append(pull)

    def labels(self, full_name: str) -> list[Label]:
        return [lb for lb in self._data.labels if lb.repo == full_name]

    def label(self, full_name: str, name: str) -> Label:
        """The repository's label called `name` (case-insensitively), created if missing, as
        GitHub does when a label is added to an issue."""
        for existing in self.labels(full_name):
            if existing.name.lower() == name.lower():
                return existing
        created = Label(self.new_id(), full_name, name)
        self._data.labels.append(created)
        return created

    def dispatches(self, full_name: str | None = None) -> list[Dispatch]:
        return [d for d in self._data.dispatches if full_name in (None, d.repo)]

    def add_dispatch(self, dispatch: Dispatch) -> None:
        self._data.dispatches.append(dispatch)

    def runs(self, full_name: str) -> list[Run]:
        return [r for r in self._data.runs if r.repo == full_name]

    def run(self, run_id: int) -> Run | None:
        return next((r for r in self._data.runs if r.id == run_id), None)

    def add_run(self, run: Run) -> None:
        self._data.runs.append(run)
