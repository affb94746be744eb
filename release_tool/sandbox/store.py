"""The git side of the sandbox: bare repositories under `ROOT/OWNER/NAME.git`, read and written
with git's own plumbing (`cat-file`, `ls-tree`, `hash-object -w`, `mktree`, `commit-tree`,
`update-ref`), so every ref, commit, tree and blob the API hands out is a real git object that a
clone sees and `git fsck` accepts.

Ref updates go through `update-ref` with the expected old value, so an API write racing a
`git push` to the same ref fails cleanly instead of losing one of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ZERO_SHA = "0" * 40
_SHA = re.compile(r"[0-9a-f]{40}")
_PERSON = re.compile(r"(?P<name>.*) <(?P<email>[^>]*)> (?P<epoch>-?\d+) (?P<tz>[+-]\d{4})")
_MODES = {
    "100644": "blob",
    "100755": "blob",
    "120000": "blob",
    "040000": "tree",
    "160000": "commit",
}

# Git must not read the server operator's configuration, hooks or templates: the repositories
# behave the same on every machine.
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


class GitError(Exception):
    """A git command failed; `stderr` says why."""

    def __init__(self, args: tuple[str, ...], stderr: str) -> None:
        super().__init__(f"git {' '.join(args[:2])}: {stderr.strip()}")
        self.stderr = stderr


class RefConflict(GitError):
    """A ref was not at the value the update expected (created, moved or deleted meanwhile)."""


def is_sha(text: str) -> bool:
    return bool(_SHA.fullmatch(text))


@dataclass(frozen=True)
class Person:
    """An author, committer or tagger, with the time zone the date was written in."""

    name: str
    email: str
    date: datetime

    def to_git(self) -> str:
        offset = self.date.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        tz = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        return f"{int(self.date.timestamp())} {tz}"

    @classmethod
    def from_git(cls, line: str) -> Person:
        match = _PERSON.fullmatch(line)
        if not match:
            return cls(line, "", datetime.fromtimestamp(0, UTC))
        tz = match["tz"]
        delta = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
        zone = timezone(-delta if tz[0] == "-" else delta)
        return cls(match["name"], match["email"], datetime.fromtimestamp(int(match["epoch"]), zone))


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True)
class Tag:
    sha: str
    object: str
    type: str
    tag: str
    tagger: Person
    message: str


@dataclass(frozen=True)
class Entry:
    """A tree entry: `path` is relative to the tree that was listed."""

    mode: str
    type: str
    sha: str
    path: str
    size: int | None = None


@dataclass(frozen=True)
class NewEntry:
    """One element of a tree write: `sha` None and `content` None deletes `path`."""

    path: str
    mode: str
    type: str
    sha: str | None = None
    content: bytes | None = None


class TreeError(ValueError):
    """A tree write that names a bad mode, type, path or object."""


class GitStore:
    """The bare repositories under one root, addressed by `OWNER/NAME`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- plumbing ---------------------------------------------------------------------------

    def path(self, full_name: str) -> Path:
        return self.root / f"{full_name}.git"

    def exists(self, full_name: str) -> bool:
        return (self.path(full_name) / "HEAD").is_file()

    def canonical(self, full_name: str) -> str | None:
        """The repository `full_name` names, spelled as on disk: owner and name are
        case-insensitive, as on GitHub (None: no such repository)."""
        if self.exists(full_name):
            return full_name
        owner, _, name = full_name.lower().partition("/")
        for owner_dir in self.root.iterdir() if self.root.is_dir() else ():
            if owner_dir.name.lower() != owner or not owner_dir.is_dir():
                continue
            for repo_dir in owner_dir.glob("*.git"):
                if repo_dir.name.lower() == f"{name}.git" and (repo_dir / "HEAD").is_file():
                    return f"{owner_dir.name}/{repo_dir.name.removesuffix('.git')}"
        return None

    def move(self, old: str, new: str) -> None:
        """Rename a repository (its directory)."""
        dest = self.path(new)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.path(old).rename(dest)
        if not any(self.path(old).parent.iterdir()):
            self.path(old).parent.rmdir()

    def repositories(self) -> list[str]:
        return sorted(
            f"{p.parent.name}/{p.name.removesuffix('.git')}"
            for p in self.root.glob("*/*.git")
            if (p / "HEAD").is_file()
        )

    def git(
        self,
        full_name: str,
        *args: str,
        data: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> bytes:
        """Run git in the repository; stdout as bytes (trees and blobs are binary)."""
        result = subprocess.run(
            ["git", *args],
            cwd=self.path(full_name),
            input=data,
            capture_output=True,
            check=False,
            env={**os.environ, **_GIT_ENV, **(env or {})},
        )
        if check and result.returncode != 0:
            raise GitError(args, result.stderr.decode(errors="replace"))
        return result.stdout

    def _text(self, full_name: str, *args: str) -> str:
        return self.git(full_name, *args).decode().strip()

    # -- refs -------------------------------------------------------------------------------

    def default_branch(self, full_name: str) -> str:
        head = self.git(full_name, "symbolic-ref", "-q", "HEAD", check=False).decode().strip()
        return head.removeprefix("refs/heads/") or "main"

    def refs(self, full_name: str, prefix: str = "refs/") -> list[tuple[str, str, str]]:
        """(ref, sha, object type) of every ref whose name starts with `prefix` (a string
        prefix, as GitHub's matching-refs is: `refs/tags/v5` matches `refs/tags/v5.1.0`)."""
        return [r for r in self._for_each_ref(full_name) if r[0].startswith(prefix)]

    def ref(self, full_name: str, ref: str) -> tuple[str, str] | None:
        """(sha, object type) of one fully-qualified ref, or None."""
        # A pattern keeps this cheap in repositories with hundreds of tags; it also matches
        # refs *under* `ref` (refs/heads/a matches refs/heads/a/b), hence the exact filter.
        found = [r for r in self._for_each_ref(full_name, ref) if r[0] == ref]
        return (found[0][1], found[0][2]) if found else None

    def _for_each_ref(self, full_name: str, *patterns: str) -> list[tuple[str, str, str]]:
        out = self._text(
            full_name,
            "for-each-ref",
            "--format=%(refname) %(objectname) %(objecttype)",
            "--",
            *patterns,
        )
        refs = []
        for line in out.splitlines():
            ref, sha, kind = line.split(" ")
            refs.append((ref, sha, kind))
        return refs

    def update_ref(self, full_name: str, ref: str, new: str, old: str | None) -> None:
        """Set `ref` to `new` if it is now at `old` (None: only if it does not exist yet)."""
        try:
            self.git(full_name, "update-ref", "-m", "sandbox API", ref, new, old or ZERO_SHA)
        except GitError as exc:
            raise RefConflict(("update-ref", ref), exc.stderr) from None

    def delete_ref(self, full_name: str, ref: str, old: str) -> None:
        try:
            self.git(full_name, "update-ref", "-d", ref, old)
        except GitError as exc:
            raise RefConflict(("update-ref", ref), exc.stderr) from None

    # -- objects ----------------------------------------------------------------------------

    def object_type(self, full_name: str, sha: str) -> str | None:
        if not is_sha(sha):
            return None
        out = self.git(full_name, "cat-file", "-t", sha, check=False).decode().strip()
        return out or None

    def resolve_commit(self, full_name: str, rev: str) -> str | None:
        """The commit a branch, tag or sha names (None if it names nothing)."""
        return self._resolve(full_name, rev, "commit")

    def resolve_tree(self, full_name: str, rev: str) -> str | None:
        """The tree a branch, tag, commit or tree sha names (None if it names nothing)."""
        return self._resolve(full_name, rev, "tree")

    def _resolve(self, full_name: str, rev: str, kind: str) -> str | None:
        if rev.startswith("-"):  # never an option to rev-parse
            return None
        out = self.git(
            full_name,
            "rev-parse",
            "-q",
            "--verify",
            "--end-of-options",
            f"{rev}^{{{kind}}}",
            check=False,
        )
        return out.decode().strip() or None

    def commit(self, full_name: str, sha: str) -> Commit | None:
        if self.object_type(full_name, sha) != "commit":
            return None
        raw = self.git(full_name, "cat-file", "commit", sha).decode(errors="replace")
        header, _, message = raw.partition("\n\n")
        tree, parents, people = "", [], {}
        for line in header.splitlines():
            if line.startswith(" "):  # continuation of a multi-line header (gpgsig)
                continue
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key in ("author", "committer"):
                people[key] = Person.from_git(value)
        return Commit(sha, tree, tuple(parents), people["author"], people["committer"], message)

    def tag(self, full_name: str, sha: str) -> Tag | None:
        if self.object_type(full_name, sha) != "tag":
            return None
        raw = self.git(full_name, "cat-file", "tag", sha).decode(errors="replace")
        header, _, message = raw.partition("\n\n")
        fields = dict(line.split(" ", 1) for line in header.splitlines() if " " in line)
        return Tag(
            sha,
            fields["object"],
            fields["type"],
            fields["tag"],
            Person.from_git(fields.get("tagger", "")),
            message,
        )

    def blob(self, full_name: str, sha: str) -> bytes | None:
        if self.object_type(full_name, sha) != "blob":
            return None
        return self.git(full_name, "cat-file", "blob", sha)

    def tree(self, full_name: str, sha: str, *, recursive: bool = False) -> list[Entry]:
        args = ["ls-tree", "-l", "-z", "--full-tree"]
        if recursive:
            args += ["-r", "-t"]
        out = self.git(full_name, *args, sha).decode(errors="replace")
        entries = []
        for record in filter(None, out.split("\0")):
            meta, _, path = record.partition("\t")
            mode, kind, obj, size = meta.split()
            entries.append(Entry(mode, kind, obj, path, None if size == "-" else int(size)))
        return entries

    def entry_at(self, full_name: str, commit: str, path: str) -> Entry | None:
        """The tree entry at `path` in `commit` ('' is the root tree)."""
        if not path:
            tree = self.resolve_tree(full_name, commit)
            return Entry("040000", "tree", tree, "") if tree else None
        out = self.git(
            full_name, "ls-tree", "-l", "-z", "--full-tree", commit, "--", path, check=False
        ).decode(errors="replace")
        for record in filter(None, out.split("\0")):
            meta, _, found = record.partition("\t")
            if found == path:
                mode, kind, obj, size = meta.split()
                return Entry(mode, kind, obj, path, None if size == "-" else int(size))
        return None

    def write_blob(self, full_name: str, data: bytes) -> str:
        return self.git(full_name, "hash-object", "-w", "--stdin", data=data).decode().strip()

    def write_tree(self, full_name: str, entries: list[NewEntry], base_tree: str | None) -> str:
        """A tree: `base_tree` (or nothing) with `entries` written over it, paths nested as
        needed; unchanged subtrees are reused, not rewritten."""
        root = _Dir(self, full_name, base_tree, root=True)
        for new in entries:
            parts = new.path.strip("/").split("/")
            if not new.path or any(p in ("", ".", "..", ".git") for p in parts):
                raise TreeError(f"tree.path {new.path!r} is invalid")
            if _MODES.get(new.mode) is None:
                raise TreeError(f"tree.mode {new.mode!r} is invalid")
            if new.type != _MODES[new.mode]:
                raise TreeError(f"tree.type {new.type!r} does not match mode {new.mode}")
            sha = new.sha
            if new.content is not None:
                if new.type != "blob":
                    raise TreeError("tree.content is only allowed for blobs")
                sha = self.write_blob(full_name, new.content)
            elif (
                sha is not None
                and new.type != "commit"
                and self.object_type(full_name, sha) != new.type
            ):
                raise TreeError(f"tree.sha {sha} is not a valid {new.type}")
            root.put(parts, None if sha is None else Entry(new.mode, new.type, sha, parts[-1]))
        sha = root.write()
        assert sha is not None  # the root is written even when empty
        return sha

    def write_commit(
        self,
        full_name: str,
        tree: str,
        parents: list[str],
        message: str,
        author: Person,
        committer: Person,
    ) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": author.to_git(),
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": committer.to_git(),
        }
        # The message goes through stdin byte for byte: `-m` would be re-wrapped by git.
        return self.git(full_name, *args, data=message.encode(), env=env).decode().strip()

    def write_tag(
        self, full_name: str, name: str, message: str, obj: str, kind: str, tagger: Person
    ) -> str:
        text = (
            f"object {obj}\ntype {kind}\ntag {name}\n"
            f"tagger {tagger.name} <{tagger.email}> {tagger.to_git()}\n\n{message}"
        )
        if not text.endswith("\n"):
            text += "\n"
        return self.git(full_name, "mktag", data=text.encode()).decode().strip()

    # -- history ----------------------------------------------------------------------------

    def is_ancestor(self, full_name: str, ancestor: str, descendant: str) -> bool:
        result = subprocess.run(
            ["git", "merge-base", "--is-ancestor", ancestor, descendant],
            cwd=self.path(full_name),
            capture_output=True,
            check=False,
            env={**os.environ, **_GIT_ENV},
        )
        return result.returncode == 0

    def count_commits(self, full_name: str, base: str, head: str) -> int:
        return int(self._text(full_name, "rev-list", "--count", f"{base}..{head}") or "0")

    def diff_stats(self, full_name: str, base: str, head: str) -> tuple[int, int, int]:
        """(additions, deletions, changed files) between the merge base and `head`."""
        out = self._text(full_name, "diff", "--numstat", f"{base}...{head}")
        additions = deletions = files = 0
        for line in out.splitlines():
            added, deleted, _ = line.split("\t", 2)
            files += 1
            additions += int(added) if added.isdigit() else 0
            deletions += int(deleted) if deleted.isdigit() else 0
        return additions, deletions, files

    def merge_tree(self, full_name: str, ours: str, theirs: str) -> str | None:
        """The tree of merging two commits, or None when they conflict."""
        result = subprocess.run(
            ["git", "merge-tree", "--write-tree", ours, theirs],
            cwd=self.path(full_name),
            capture_output=True,
            check=False,
            env={**os.environ, **_GIT_ENV},
        )
        if result.returncode != 0:
            return None
        return result.stdout.decode().split("\n", 1)[0].strip()

    def fetch(self, full_name: str, source: str, src_ref: str, dst_ref: str) -> None:
        """Copy `source`'s `src_ref` (and its objects) into this repository as `dst_ref`."""
        self.git(
            full_name, "fetch", "-q", "--no-tags", str(self.path(source)), f"+{src_ref}:{dst_ref}"
        )

    # -- whole repositories -------------------------------------------------------------------

    def clone_bare(self, source: Path, full_name: str) -> None:
        """A bare copy of `source` (a bare repository or a working copy): branches and tags."""
        dest = self.path(full_name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["git", "clone", "-q", "--bare", str(source), str(dest)],
            capture_output=True,
            check=False,
            env={**os.environ, **_GIT_ENV},
        )
        if result.returncode != 0:
            raise GitError(("clone", str(source)), result.stderr.decode(errors="replace"))
        # The copy must not point back at where it came from (a user's path, or a sibling).
        self.git(full_name, "remote", "remove", "origin", check=False)

    def remove(self, full_name: str) -> None:
        shutil.rmtree(self.path(full_name), ignore_errors=True)


class _Dir:
    """A directory being rewritten: children are loaded from git only when a write descends
    into them, and written back bottom-up with `mktree`."""

    def __init__(
        self, store: GitStore, full_name: str, tree: str | None, *, root: bool = False
    ) -> None:
        self._store, self._full_name, self._root = store, full_name, root
        self._children: dict[str, Entry | _Dir] = {}
        if tree:
            for entry in store.tree(full_name, tree):
                self._children[entry.path] = entry

    def put(self, parts: list[str], entry: Entry | None) -> None:
        name = parts[0]
        if len(parts) == 1:
            if entry is None:
                self._children.pop(name, None)
            else:
                self._children[name] = entry
            return
        child = self._children.get(name)
        if isinstance(child, Entry):
            # A file in the way of a directory is replaced by it, as GitHub does.
            child = _Dir(self._store, self._full_name, child.sha if child.type == "tree" else None)
            self._children[name] = child
        elif child is None:
            if entry is None:
                return  # deleting below a directory that does not exist: nothing to do
            child = _Dir(self._store, self._full_name, None)
            self._children[name] = child
        child.put(parts[1:], entry)

    def write(self) -> str | None:
        """The tree's sha, or None for an empty subdirectory (git has no empty directories)."""
        lines = []
        missing_ok = False
        for name, child in sorted(self._children.items()):
            if isinstance(child, _Dir):
                sha = child.write()
                if sha is None:
                    continue
                lines.append(f"040000 tree {sha}\t{name}")
            else:
                lines.append(f"{child.mode} {child.type} {child.sha}\t{name}")
                # A submodule's commit lives in another repository: mktree must not look for it.
                missing_ok = missing_ok or child.type == "commit"
        if not lines and not self._root:
            return None
        data = "".join(line + "\0" for line in lines).encode()
        args = ["mktree", "-z", *(["--missing"] if missing_ok else [])]
        return self._store.git(self._full_name, *args, data=data).decode().strip()
