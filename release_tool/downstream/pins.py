"""Which files of a downstream's base commit pin the package, and how they change.

`read_pins` reads the base branch's head (`GET branches/{base}`: the commit and its root tree,
the plan's anchor), the files the entry's globs match (each distinct blob once), and its
`constraints` files: one in a directory already listed is there or not for free; any other is
read with `GET contents/{path}?ref=COMMIT` (its content inline; a 404 when it is absent). The
pin lines are edited with `files.requirements.update_pins` (pure, all or nothing: a hashed
file, a pin newer than the release or an unparseable pin is an error now, before anything is
written).

With the release's `tag`, a git URL pin moves to that tag from any ref, once `GitUrls` has
checked that the URL names the released repository (its canonical name: an old owner's
name redirects to it). A file whose header says it is generated is refused when
`refuse_generated` (the `edit` strategy, unless `allow_generated`).

`expected_tree` is the sha the base's tree has once the edits are applied (computed locally
from the non-recursive trees of the root and of the directories on the changed paths), and the
files' real modes: how the plan tells whether an open PR is current.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from release_tool.config import DownstreamConfig
from release_tool.downstream.objects import tree_sha_after
from release_tool.downstream.reads import BaseFiles, is_file
from release_tool.errors import FileEditError, UsageError
from release_tool.files.generated import generated_by
from release_tool.files.requirements import GitUrl, PinEdit, git_urls, update_pins
from release_tool.github_api import GitHub, TreeEntry
from release_tool.versions import Version


@dataclass(frozen=True)
class FileChange:
    """One downstream file the PR changes."""

    path: str
    mode: str
    edit: PinEdit
    constraints: bool


@dataclass(frozen=True)
class Pins:
    """What the base branch says: its commit and root tree (the plan's anchor), and the edit
    of every file read."""

    commit: str
    tree: str
    edits: tuple[tuple[TreeEntry, PinEdit, bool], ...]  # (entry, edit, is a constraints file)
    files: BaseFiles = field(repr=False, compare=False)

    @property
    def changes(self) -> tuple[FileChange, ...]:
        return tuple(
            FileChange(entry.path, entry.mode, edit, constraints)
            for entry, edit, constraints in self.edits
            if edit.changed
        )

    @property
    def already_current(self) -> bool:
        return not self.changes


def base_files(gh: GitHub, entry: DownstreamConfig, base: str) -> BaseFiles:
    """The base branch's head (`GET branches/{base}`: the plan's anchor), to read from."""
    repo = entry.repository
    head = gh.branch_head(repo, base)
    if head is None:
        raise UsageError(
            f"{repo} has no branch {base!r}",
            f"set {entry.key('base')} to an existing branch",
        )
    return BaseFiles(gh, repo, head.commit, head.tree, f"{repo}@{base}")


class GitUrls:
    """Whether a git URL names the released repository: by name (case-insensitive), else by
    canonical name (one GET per repository, following a rename's redirect)."""

    def __init__(self, gh: GitHub, library: str) -> None:
        from urllib.parse import urlsplit

        self.gh, self.library = gh, library
        self.hosts = {"github.com", "www.github.com", urlsplit(gh.web).netloc.lower()}
        self._canonical: dict[str, str | None] = {}

    def canonical(self, full_name: str) -> str | None:
        key = full_name.lower()
        if key not in self._canonical:
            info = self.gh.repository(full_name)
            self._canonical[key] = info.full_name.lower() if info else None
        return self._canonical[key]

    def check(self, where: str, url: GitUrl, package: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(url.url)
        host = parts.netloc.rpartition("@")[2].lower()
        names = [p for p in parts.path.split("/") if p]
        named = "/".join(names).removesuffix(".git") if len(names) == 2 else ""
        if host in self.hosts and named:
            if named.lower() == self.library.lower():
                return
            mine = self.canonical(self.library)
            if mine is not None and self.canonical(named) == mine:
                return
        raise FileEditError(
            f"{where} line {url.line} installs {package} from {url.url}, which is not "
            f"{self.library}",
            f"point that line at {self.library} (or replace it with {package}==<version>) "
            "by hand, then re-run",
        )


def read_pins(
    gh: GitHub,
    entry: DownstreamConfig,
    base: str,
    package: str,
    version: Version,
    files: BaseFiles | None = None,
    *,
    tag: str | None = None,
    library: str | None = None,
    refuse_generated: bool = False,
) -> Pins:
    """Read `base`'s commit, the files the config names, and edit their pins (nothing written).

    Requests: the branch (unless `files` already read it); one contents listing per literal
    directory of the globs; each distinct matched blob once; a constraints file outside those
    directories is read with `GET contents/{path}` (a 404 when it does not exist); a git URL
    naming another repository than `library`, that repository and the library (to compare
    their canonical names).
    """
    urls = GitUrls(gh, library) if library else None
    repo = entry.repository
    files = files or base_files(gh, entry, base)
    chosen: dict[str, TreeEntry] = {}
    for glob in entry.files:
        hits = files.match(glob)
        if not hits:
            raise UsageError(
                f"{entry.key('files')}: {glob!r} matches no file in {repo}@{base}",
                "globs match paths from the repository root, e.g. 'requirements/edx/*.txt'",
            )
        for hit in hits:
            chosen.setdefault(hit.path, hit)

    texts: dict[str, str] = {}  # blob sha → text: identical files are read once

    def text_of(path: str, sha: str, data: bytes | None = None) -> str:
        if sha not in texts:
            try:
                texts[sha] = (gh.blob(repo, sha) if data is None else data).decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(
                    f"{repo}: {path} is not UTF-8 text", f"leave it out of {entry.key('files')}"
                ) from None
        return texts[sha]

    def edit_of(path: str, text: str, constraints: bool) -> PinEdit:
        try:
            if urls is not None:
                for url in git_urls(path, text, package):
                    urls.check(path, url, package)
            edit = update_pins(
                path,
                text,
                package,
                version.pep440,
                raise_lower_bound=entry.raise_lower_bound,
                is_constraints=constraints,
                tag=tag,
                move_held=entry.move_held,
            )
        except FileEditError as exc:
            raise FileEditError(f"{repo}@{base}: {exc.message}", exc.hint) from None
        generated = generated_by(text) if refuse_generated and edit.changed else None
        if generated is not None:
            raise UsageError(
                f"{repo}@{base}: {path} is a generated file (its header says "
                f"{generated!r}): editing its pins by hand would not survive its regeneration",
                f'use strategy = "relock" for {repo} (its own tool regenerates the file), or '
                "allow_generated = true to edit it anyway",
            )
        return edit

    edits = []
    for path, blob in chosen.items():
        constraints = path in entry.constraints
        edits.append((blob, edit_of(path, text_of(path, blob.sha), constraints), constraints))
    for path in entry.constraints:
        if path in chosen:
            continue
        known, found = files.seen(path)
        if known:
            # In a directory listed already: it is there or not, for free.
            if found is None or not is_file(found):
                continue
            text = text_of(path, found.sha)
        else:
            inline = gh.file_at(repo, path, files.commit)
            if inline is None:
                continue  # not there: that one request was the whole cost
            sha, data = inline
            found = TreeEntry(path, "100644", "blob", sha)
            text = text_of(path, sha, data)
        edits.append((found, edit_of(path, text, True), True))

    pinning = [
        edit
        for _, edit, constraints in edits
        if not constraints and (edit.changes or edit.already_current)
    ]
    if not pinning:
        read = ", ".join(f"{e.path} ({_presence(e)})" for _, e, c in edits if not c)
        raise UsageError(
            f"{repo}@{base} does not pin {package}: none of the files matched by "
            f"{entry.key('files')} does ({read})",
            f"point `files` at the requirements files that pin {package} with == or a git URL"
            + (
                ""
                if entry.raise_lower_bound
                else ", or set raise_lower_bound = true to raise `>=` bounds"
            ),
        )
    return Pins(files.commit, files.tree, tuple(edits), files)


def _presence(edit: PinEdit) -> str:
    return {
        "requirement": "only a lower bound",
        "comment-only": "only in comments",
        "absent": "not mentioned",
    }[edit.presence]


def expected_tree(
    files: BaseFiles, changes: Sequence[FileChange]
) -> tuple[str, tuple[FileChange, ...]]:
    """The sha of the base's tree with `changes` applied, and `changes` with the modes the
    base's tree gives their files.

    Reads the git trees of the root and of every directory on a changed path (non-recursive,
    a few requests whatever the repository's size): exactly what the new root's sha depends
    on, and the only place the files' modes are given.
    """
    directories = {""}
    for change in changes:
        directory = posixpath.dirname(change.path)
        while directory:
            directories.add(directory)
            directory = posixpath.dirname(directory)
    entries = [e for d in sorted(directories) for e in files.tree_entries(d) or ()]
    modes = {e.path: e.mode for e in entries}
    moded = tuple(dataclasses.replace(c, mode=modes.get(c.path, c.mode)) for c in changes)
    sha = tree_sha_after(entries, {c.path: c.edit.new_text.encode() for c in moded})
    return sha, moded


def version_key(text: str) -> tuple[int, Any]:
    """Sort key for versions as written in files (PEP 440 order; unparseable ones last)."""
    from packaging.version import InvalidVersion
    from packaging.version import Version as PackagingVersion

    try:
        return (0, PackagingVersion(text))
    except InvalidVersion:
        return (1, text)
