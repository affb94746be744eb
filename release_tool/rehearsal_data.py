"""Where a rehearsal's downstream repositories come from, and the words that say so.

The rehearsed PR diff is only the one a real run would produce if the downstream's files are
the real ones. So for each `[[tool.release_tool.downstream]]` entry, in this order:

1. `--downstream-from PATH`: a local copy the maintainer names;
2. the real GitHub, read-only, when there is a token to read it with: the files the entry's
   globs match on its base branch, its constraints files and its dispatch workflow (a
   directory listing and a blob per file, as the downstream step reads them), imported into
   the sandbox as one commit under the same name (`github_reader`, `import_snapshot`);
3. otherwise the bundled edx-platform-shaped example under the entry's name, and the result
   says so: "example data, not openedx/openedx-platform".

The reader is injectable (a `Reader` is any callable from an entry to a `Snapshot`): the tests
read from a second sandbox standing in for GitHub.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from release_tool import example
from release_tool.config import DownstreamConfig
from release_tool.downstream.reads import BaseFiles
from release_tool.errors import ReleaseError
from release_tool.git_repo import build_repository, run_git
from release_tool.github_api import GitHub
from release_tool.project import RetryPolicy


@dataclass(frozen=True)
class Snapshot:
    """A downstream's files as read: where from, and path → text."""

    repository: str
    branch: str
    commit: str
    files: Mapping[str, str]
    source: str  # where it was read, e.g. https://api.github.com


Reader = Callable[[DownstreamConfig], Snapshot]


def github_reader(
    api: str, token: str | None, *, timeout: float, policy: RetryPolicy | None = None
) -> Reader:
    """A `Reader` over GitHub's API at `api` (GET requests only)."""
    gh = GitHub(api, token, policy=policy or RetryPolicy(attempts=2, max_wait=5), timeout=timeout)

    def read(entry: DownstreamConfig) -> Snapshot:
        name = entry.repository
        repo = gh.repository(name)
        if repo is None:
            raise ReleaseError(f"{name} not found at {api}", "check the name and the token")
        base = entry.base or repo.default_branch
        head = gh.branch_head(name, base)
        if head is None:
            raise ReleaseError(f"{name} has no branch {base!r}", "check `base` in the entry")
        listing = BaseFiles(gh, name, head.commit, head.tree, f"{name}@{base}")
        texts: dict[str, str] = {}
        for glob in entry.files:
            for hit in listing.match(glob):
                if hit.path not in texts:
                    _keep_text(texts, hit.path, gh.blob(name, hit.sha))
        extra = list(entry.constraints)
        if entry.workflow:
            extra.append(f".github/workflows/{entry.workflow}")
        for path in extra:
            found = None if path in texts else gh.file_at(name, path, head.commit)
            if found is not None:
                _keep_text(texts, path, found[1])
        return Snapshot(name, base, head.commit, texts, api)

    return read


def _keep_text(texts: dict[str, str], path: str, data: bytes) -> None:
    # Not UTF-8: left out (the downstream step would refuse such a file anyway).
    with contextlib.suppress(UnicodeDecodeError):
        texts[path] = data.decode("utf-8")


def import_snapshot(root: Path, snapshot: Snapshot) -> None:
    """The snapshot as a repository of the sandbox root: one commit on its branch."""
    files = dict(snapshot.files) or {"README.rehearsal": "no file matched the entry's globs\n"}
    message = (
        f"{len(snapshot.files)} files of {snapshot.repository}@{snapshot.commit[:12]}, "
        f"read from {snapshot.source}"
    )
    repo = example.ExampleRepo(
        snapshot.repository,
        snapshot.branch,
        (example.Commit(message, files),),
    )
    bare = root / f"{snapshot.repository}.git"
    build_repository(bare, repo)
    run_git("remote", "remove", "origin", cwd=bare)


def import_example(root: Path, full_name: str) -> None:
    """The bundled edx-platform-shaped downstream, under `full_name`."""
    shaped = dataclasses.replace(example.downstream_repo(), full_name=full_name)
    bare = root / f"{full_name}.git"
    build_repository(bare, shaped)
    run_git("remote", "remove", "origin", cwd=bare)


def example_words(full_name: str, why: str) -> str:
    """How the result names a downstream rehearsed on the bundled example."""
    return f"example data, not {full_name} ({why})"


def read_words(snapshot: Snapshot) -> str:
    return (
        f"read from GitHub: {snapshot.repository}@{snapshot.branch} "
        f"{snapshot.commit[:12]} ({len(snapshot.files)} files)"
    )


def import_downstream(
    root: Path, entry: DownstreamConfig, reader: Reader | None, no_reader_why: str
) -> str:
    """Import one downstream into the sandbox root; the words that say where it came from."""
    if reader is None:
        import_example(root, entry.repository)
        return example_words(entry.repository, no_reader_why)
    try:
        snapshot = reader(entry)
    except ReleaseError as exc:
        import_example(root, entry.repository)
        return example_words(entry.repository, f"reading it from GitHub failed: {exc.message}")
    import_snapshot(root, snapshot)
    return read_words(snapshot)
