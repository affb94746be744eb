"""The downstream step: upgrade the released package's pins in each downstream repository.

For each `[[tool.release_tool.downstream]]` entry, with no clone and reads only while planning:

1. GET the repository (whether the token may push: if not, the change goes through the token
   user's fork; its default branch, when `base` is not configured);
2. GET `branches/{base}`: the base commit and its root tree, the plan's anchor;
3. for each literal directory of the `files` globs (`requirements/edx` for
   `requirements/edx/*.txt`), one `GET contents/{dir}?ref=COMMIT` listing, matched with fnmatch
   on posix paths from the root; read each distinct matched blob once. The cost does not grow
   with the repository: only the directories the globs name are listed. (A glob with wildcards
   in its directories, `requirements/**/base.txt`, lists everything below its literal part
   recursively: the one case that grows with the repository's size);
4. a `constraints` file in a directory already listed is there or not for free; any other is
   read with `GET contents/{path}?ref=COMMIT` (its content inline; a 404 when it is absent);
5. edit the pin lines with `files.requirements.update_pins` (pure, all or nothing: a hashed
   file, a pin newer than the release or an unparseable pin is an error now, before anything
   is written);
6. look for the tool's open pull request (`pulls?head=OWNER:BRANCH`). When there is one, decide
   whether it is current from its commit (GET git/commits) and the sha the tree must have,
   computed locally (git's own object hashing) from the non-recursive trees of the root and
   of the directories on the changed paths: a few requests, whatever the repository's size.

The result is one `DownstreamPRAction` per entry (or a note saying why there is nothing to do),
whose `apply` writes one commit through the Git Data API (a tree with `base_tree` and inline
contents, a commit whose parent is the planned base commit), points the tool's branch at it,
and opens the pull request or updates it in place. The base is not read again: what a dry run
printed is what happens, even if the base moved meanwhile (GitHub merges the PR 3-way; the
summary says when the base moved). Every point of that sequence is safe to die at: the
re-run's plan sees what exists and does the rest.

A new PR editing four files costs 14 requests in all: the repository, the branch, one
directory listing, four blobs, the PR lookup; the tree, the commit, the branch, the PR, its
labels, its reviewers.

Known limit: the contents API gives no file mode, so a new PR writes a file it edits as 100644;
an executable requirements file would lose its x bit in that first commit (the PR's diff shows
it), and the next run, which reads the modes from the trees, puts it back.

`strategy = "dispatch"` entries run the downstream's own upgrade workflow instead
(`DispatchWorkflowAction`), with inputs rendered from the entry's templates.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from release_tool import rendering
from release_tool.config import Config, DownstreamConfig
from release_tool.errors import FileEditError, ReleaseError, UsageError
from release_tool.files.requirements import PinChange, PinEdit, pins_of, update_pins
from release_tool.files.write import unified_diff
from release_tool.github_api import GitHub, PullInfo, RepoInfo, TreeEntry
from release_tool.plan import Action, Outcome, StepPlan
from release_tool.versions import Version

STEP = "downstream"
# Regular files only: a symlink's blob is its target path, a submodule is not a file.
_FILE_MODES = ("100644", "100755")


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


# --- git object ids, computed locally ----------------------------------------------------------


def git_blob_sha(data: bytes) -> str:
    """The object id git gives a blob with this content."""
    return _git_object_sha("blob", data)


def _git_object_sha(kind: str, data: bytes) -> str:
    # SHA-1 is git's object naming here, not a security measure.
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def tree_sha_after(entries: Iterable[TreeEntry], changes: Mapping[str, bytes]) -> str:
    """The sha of the root tree listed by `entries` once the files in `changes` are replaced.

    `entries` (paths from the root) must list every directory on a changed path completely,
    the root included: a recursive listing does, and so do the non-recursive listings of just
    those directories. Only the trees on the changed paths are rebuilt; every other tree keeps
    the sha GitHub listed.
    """
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for entry in entries:
        parent, name = posixpath.split(entry.path)
        children.setdefault(parent, {})[name] = (entry.mode, entry.sha)
        if entry.type == "tree":
            children.setdefault(entry.path, {})
    dirty: set[str] = set()
    for path, data in changes.items():
        parent, name = posixpath.split(path)
        mode = children.get(parent, {}).get(name, ("100644", ""))[0]
        children.setdefault(parent, {})[name] = (mode, git_blob_sha(data))
        while True:
            dirty.add(parent)
            if not parent:
                break
            parent = posixpath.dirname(parent)
    for directory in sorted(dirty, key=lambda d: d.count("/") + bool(d), reverse=True):
        sha = _tree_object_sha(children[directory])
        if directory:
            parent, name = posixpath.split(directory)
            children[parent][name] = ("040000", sha)
        else:
            return sha
    return _tree_object_sha(children[""])


def _tree_object_sha(items: Mapping[str, tuple[str, str]]) -> str:
    def sort_key(name: str) -> bytes:
        # git sorts a tree's entries by name, comparing a subtree's name as if it ended in '/'.
        is_tree = items[name][0] in ("040000", "40000")
        return (name + "/" if is_tree else name).encode()

    body = b"".join(
        f"{items[name][0].lstrip('0')} {name}".encode() + b"\0" + bytes.fromhex(items[name][1])
        for name in sorted(items, key=sort_key)
    )
    return _git_object_sha("tree", body)


# --- reading the downstream's files, a directory at a time -----------------------------------

_MAGIC = frozenset("*?[")
CONTENTS_CAP = 1000  # GitHub's contents API lists at most this many entries of a directory


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _is_file(entry: TreeEntry) -> bool:
    return entry.type == "blob" and entry.mode in _FILE_MODES


class BaseFiles:
    """The files of one base commit, read a directory at a time: never the whole tree.

    * `directory(d)`: the entries of `d`, one `GET contents/{d}?ref=COMMIT` (cached). A
      listing of 1,000 entries may be cut short by GitHub, so `d`'s git tree is read instead.
    * `tree_entries(d)`: the entries of `d` from its git tree (non-recursive), with their real
      modes (the contents API has none); reaching `d` reads each tree on the way from the
      root tree down, each once.
    * `subtree(d)`: everything below `d`, from one recursive listing of `d`'s tree. Only a glob
      with wildcards in its directories needs it, and that is the one read that grows with
      the size of the repository (GitHub truncates it at 100,000 entries or 7 MB).
    """

    def __init__(self, gh: GitHub, repo: str, commit: str, tree: str, label: str) -> None:
        self.gh, self.repo, self.commit, self.tree, self.label = gh, repo, commit, tree, label
        self._listed: dict[str, tuple[TreeEntry, ...]] = {}  # complete, non-recursive
        self._trees: dict[str, tuple[TreeEntry, ...] | None] = {}
        self._below: dict[str, tuple[TreeEntry, ...]] = {}  # complete, recursive

    def directory(self, directory: str) -> tuple[TreeEntry, ...]:
        if directory not in self._listed:
            found = self.gh.directory(self.repo, directory, self.commit) or ()
            if len(found) >= CONTENTS_CAP:
                found = self.tree_entries(directory) or ()
            self._listed[directory] = found
        return self._listed[directory]

    def tree_entries(self, directory: str) -> tuple[TreeEntry, ...] | None:
        """`directory`'s entries (paths from the root), or None if it is not a directory."""
        if directory not in self._trees:
            sha = self._tree_sha(directory)
            listing = None if sha is None else self.gh.tree(self.repo, sha, recursive=False)
            self._trees[directory] = (
                None
                if listing is None
                else tuple(
                    TreeEntry(_join(directory, e.path), e.mode, e.type, e.sha)
                    for e in listing.entries
                )
            )
        return self._trees[directory]

    def _tree_sha(self, directory: str) -> str | None:
        if not directory:
            return self.tree
        parent = posixpath.dirname(directory)
        for entry in self.tree_entries(parent) or ():
            if entry.path == directory and entry.type == "tree":
                return entry.sha
        return None

    def subtree(self, directory: str) -> tuple[TreeEntry, ...]:
        if directory not in self._below:
            sha = self._tree_sha(directory)
            listing = None if sha is None else self.gh.tree(self.repo, sha)
            if listing is not None and listing.truncated:
                raise UsageError(
                    f"{self.label}: {directory or 'the repository'} has too many files to list "
                    "in one request",
                    "GitHub truncated the recursive listing that a glob with wildcards in its "
                    "directories needs: name the directory, e.g. 'requirements/edx/*.txt', or "
                    "use strategy = 'dispatch'",
                )
            self._below[directory] = (
                ()
                if listing is None
                else tuple(
                    TreeEntry(_join(directory, e.path), e.mode, e.type, e.sha)
                    for e in listing.entries
                )
            )
        return self._below[directory]

    def match(self, glob: str) -> list[TreeEntry]:
        """The regular files `glob` matches (fnmatch on the path from the root), by path.

        A glob whose directories are literal (`requirements/edx/*.txt`) lists that one
        directory, so its wildcards match names in it; otherwise everything below the glob's
        literal directories is listed, and a `*` may span directories, as fnmatch does.
        """
        parts = glob.split("/")
        wild = next(
            (i for i, part in enumerate(parts) if _MAGIC.intersection(part)), len(parts) - 1
        )
        if wild >= len(parts) - 1:
            entries = self.directory("/".join(parts[:-1]))
        else:
            entries = self.subtree("/".join(parts[:wild]))
        return sorted(
            (e for e in entries if _is_file(e) and fnmatchcase(e.path, glob)),
            key=lambda e: e.path,
        )

    def seen(self, path: str) -> tuple[bool, TreeEntry | None]:
        """(whether a listing already read says what is at `path`, what it is)."""
        parent = posixpath.dirname(path)
        known: list[tuple[TreeEntry, ...] | None] = [
            self._listed.get(parent),
            self._trees.get(parent),
            *(
                entries
                for d, entries in self._below.items()
                if not d or parent == d or parent.startswith(d + "/")
            ),
        ]
        for entries in known:
            if entries is not None:
                return True, next((e for e in entries if e.path == path), None)
        return False, None


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


# --- reading the downstream's pins --------------------------------------------------------------


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


def _where(index: int) -> str:
    return f"tool.release_tool.downstream[{index}]"


def read_pins(
    gh: GitHub, entry: DownstreamConfig, index: int, base: str, package: str, version: Version
) -> Pins:
    """Read `base`'s commit, the files the config names, and edit their pins (nothing written).

    Requests: the branch; one contents listing per literal directory of the globs; each
    distinct matched blob once; a constraints file outside those directories is read with
    `GET contents/{path}` (a 404 when it does not exist).
    """
    repo = entry.repository
    head = gh.branch_head(repo, base)
    if head is None:
        raise UsageError(
            f"{repo} has no branch {base!r}", f"set `base` in {_where(index)} to an existing branch"
        )
    files = BaseFiles(gh, repo, head.commit, head.tree, f"{repo}@{base}")
    chosen: dict[str, TreeEntry] = {}
    for glob in entry.files:
        hits = files.match(glob)
        if not hits:
            raise UsageError(
                f"{_where(index)}.files: {glob!r} matches no file in {repo}@{base}",
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
                    f"{repo}: {path} is not UTF-8 text", f"leave it out of {_where(index)}.files"
                ) from None
        return texts[sha]

    def edit_of(path: str, text: str, constraints: bool) -> PinEdit:
        try:
            return update_pins(
                path,
                text,
                package,
                version.pep440,
                raise_lower_bound=entry.raise_lower_bound,
                is_constraints=constraints,
            )
        except FileEditError as exc:
            raise FileEditError(f"{repo}@{base}: {exc.message}", exc.hint) from None

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
            if found is None or not _is_file(found):
                continue
            text = text_of(path, found.sha)
        else:
            inline = gh.file_at(repo, path, head.commit)
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
            f"{_where(index)}.files does ({read})",
            f"point `files` at the requirements files that pin {package} with == or a git URL"
            + (
                ""
                if entry.raise_lower_bound
                else ", or set raise_lower_bound = true to raise `>=` bounds"
            ),
        )
    return Pins(head.commit, head.tree, tuple(edits), files)


def _presence(edit: PinEdit) -> str:
    return {
        "requirement": "only a lower bound",
        "comment-only": "only in comments",
        "absent": "not mentioned",
    }[edit.presence]


# --- rendering -----------------------------------------------------------------------------------


def _change_dict(change: PinChange) -> dict[str, Any]:
    return {"line": change.line, "old": change.old, "new": change.new, "kind": change.kind}


def template_context(
    upgrade: Upgrade, changes: Sequence[FileChange], *, downstream: str, base: str, branch: str
) -> dict[str, Any]:
    files = [
        {
            "path": c.path,
            "constraints": c.constraints,
            "changes": [_change_dict(x) for x in c.edit.changes],
        }
        for c in changes
    ]
    olds = {x.old for c in changes for x in c.edit.changes if x.old != upgrade.version.pep440}
    return {
        "package": upgrade.package,
        "version": upgrade.version.pep440,
        "previous_version": upgrade.previous.pep440 if upgrade.previous else None,
        "previous_versions": sorted(olds, key=_version_key),
        "tag": upgrade.tag,
        "release_url": upgrade.release_url,
        "repository": upgrade.repository,
        "repository_url": upgrade.repository_url,
        "notes": upgrade.notes,
        "files": files,
        "constraints": [f for f in files if f["constraints"]],
        "downstream": downstream,
        "base": base,
        "branch": branch,
    }


def _version_key(text: str) -> tuple[int, Any]:
    """Sort key for versions as written in files (PEP 440 order; unparseable ones last)."""
    from packaging.version import InvalidVersion
    from packaging.version import Version as PackagingVersion

    try:
        return (0, PackagingVersion(text))
    except InvalidVersion:
        return (1, text)


def _render(name: str, context: dict[str, Any], templates: Path | None) -> str:
    return rendering.render(name, context, override_dir=templates)


# --- the actions -----------------------------------------------------------------------------


@dataclass
class PullLinks:
    """The PR URLs of one run's downstream step, shared by its actions.

    `apply_plan` merges outcomes with `dict.update`, so each action reports every URL known so
    far: the last one's `downstream_pr_urls` holds them all.
    """

    urls: list[str] = field(default_factory=list)

    def add(self, url: str) -> dict[str, str]:
        if url not in self.urls:
            self.urls.append(url)
        return {"downstream_pr_urls": "\n".join(self.urls)}


@dataclass(frozen=True)
class DownstreamPRAction:
    """Open or update the tool's pull request on one downstream repository."""

    gh: GitHub = field(repr=False, compare=False)
    repository: str
    push_to: str  # the repository the branch lives in: the downstream, or the user's fork
    fork: bool
    fork_exists: bool
    head_owner: str
    base: str
    base_commit: str  # the base branch's commit the plan read: the new commit's parent
    base_tree: str  # that commit's tree
    branch: str
    files: tuple[FileChange, ...]
    expected_tree: str | None  # the sha the new tree will have, when the plan computed it
    commit_message: str
    title: str
    body: str
    labels: tuple[str, ...]  # to add
    reviewers: tuple[str, ...]  # to request
    pull: PullInfo | None  # the open PR found while planning
    update_branch: bool
    pull_changes: tuple[tuple[str, str], ...] = ()  # fields to PATCH on the open PR
    links: PullLinks = field(default_factory=PullLinks, repr=False, compare=False)
    step: str = STEP

    @property
    def writes_commit(self) -> bool:
        return self.pull is None or self.update_branch

    def describe(self) -> str:
        count = f"({len(self.files)} file{'s' if len(self.files) != 1 else ''})"
        via = f" from the fork {self.push_to}" if self.fork else ""
        if self.pull is None:
            return f"open PR on {self.repository}{via}: {self.title} {count}"
        parts = (["branch"] if self.update_branch else []) + [k for k, _ in self.pull_changes]
        parts += ["labels"] if self.labels else []
        parts += ["reviewers"] if self.reviewers else []
        return (
            f"update PR #{self.pull.number} on {self.repository}{via}: {', '.join(parts)} {count}"
        )

    def details(self) -> str:
        lines = [
            f"repository: {self.repository} (base {self.base} at {self.base_commit[:12]})",
            f"branch: {self.branch}"
            + (f" on the fork {self.push_to}" if self.fork else "")
            + ("" if self.writes_commit else " (already current)"),
        ]
        if self.fork and not self.fork_exists:
            lines.append(f"fork: create {self.push_to}, then sync its {self.base}")
        if self.pull is not None:
            lines.append(f"pull request: #{self.pull.number} {self.pull.html_url}")
        lines.append(f"title: {self.title}")
        if self.labels:
            lines.append(f"labels: {', '.join(self.labels)}")
        if self.reviewers:
            lines.append(f"reviewers: {', '.join(self.reviewers)}")
        lines += ["", "body:", *(f"  {line}" if line else "" for line in self.body.splitlines())]
        lines += [
            "",
            "commit message:",
            *(f"  {line}" if line else "" for line in self.commit_message.splitlines()),
            "",
        ]
        diffs = "".join(unified_diff(c.path, c.edit.old_text, c.edit.new_text) for c in self.files)
        return "\n".join(lines) + "\n" + diffs

    def apply(self) -> Outcome:
        """Write the commit on the planned base commit, point the branch, open or update the PR.

        The base is not read again: the commit's parent is the commit the plan read, so the PR
        is exactly what the plan showed, even if the base branch moved since. Its diff is
        relative to that commit and GitHub merges it 3-way: a concurrent change of the same
        lines shows as a conflict, never as a silent revert. GitHub's answer to the PR's POST
        (or PATCH) names the base branch's head: if that is not the planned commit, the
        summary says so.
        """
        gh = self.gh
        pull = self.pull
        if self.writes_commit:
            push_to = self.push_to
            if self.fork:
                if not self.fork_exists:
                    push_to = gh.fork(self.repository)
                    gh.wait_for_branch(push_to, self.base)
                # The fork must hold the base commit before a commit can name it as parent.
                gh.sync_fork(push_to, self.base)
            files = {c.path: (c.mode, c.edit.new_text) for c in self.files}
            tree = gh.create_tree(
                push_to, base_tree=self.base_tree, files=files, expected=self.expected_tree
            )
            commit = gh.create_commit(
                push_to, message=self.commit_message, tree=tree, parent=self.base_commit
            )
            gh.point_branch(push_to, self.branch, commit, exists=True if pull else None)
        labels, reviewers = self.labels, self.reviewers
        if pull is None:
            pull = gh.create_pull(
                self.repository,
                base=self.base,
                head_owner=self.head_owner,
                branch=self.branch,
                same_repo=not self.fork,
                title=self.title,
                body=self.body,
            )
            verb = "opened"
            # A create that found the PR a failed earlier attempt had opened: only what is
            # still missing.
            labels = tuple(x for x in labels if x.lower() not in {y.lower() for y in pull.labels})
            reviewers = tuple(
                x for x in reviewers if x.lower() not in {y.lower() for y in pull.reviewers}
            )
        else:
            verb = "updated"
            if self.pull_changes:
                pull = gh.update_pull(self.repository, pull.number, dict(self.pull_changes))
        if labels:
            gh.add_labels(self.repository, pull.number, labels)
        if reviewers:
            gh.request_reviewers(self.repository, pull.number, reviewers)
        summary = f"{verb} PR #{pull.number} on {self.repository}: {pull.html_url}"
        if self.writes_commit and pull.base_sha and pull.base_sha != self.base_commit:
            summary += (
                f" (the base moved during the run: the PR is based on {self.base_commit[:12]}, "
                "GitHub will merge it 3-way)"
            )
        return Outcome(summary, self.links.add(pull.html_url))


@dataclass(frozen=True)
class DispatchWorkflowAction:
    """Run the downstream's own upgrade workflow (workflow_dispatch) instead of editing."""

    gh: GitHub = field(repr=False, compare=False)
    repository: str
    workflow: str
    ref: str
    inputs: tuple[tuple[str, str], ...]
    step: str = STEP

    def describe(self) -> str:
        return f"run workflow {self.workflow} on {self.repository} (ref {self.ref})"

    def details(self) -> str:
        return "\n".join(f"{key}: {value}" for key, value in self.inputs)

    def apply(self) -> Outcome:
        self.gh.dispatch(self.repository, self.workflow, ref=self.ref, inputs=dict(self.inputs))
        return Outcome(f"dispatched {self.workflow} on {self.repository}")


# --- planning ------------------------------------------------------------------------------------


def plan_downstream(
    gh: GitHub, config: Config, upgrade: Upgrade, *, templates: Path | None = None
) -> StepPlan:
    """The downstream step for every configured entry, with reads only."""
    if not config.downstream:
        return StepPlan(STEP, skipped="not configured")
    actions: list[Action] = []
    done: list[str] = []  # entries with nothing to do, and why
    notes: list[str] = []  # what the plan should say besides its actions
    links = PullLinks()
    for index, entry in enumerate(config.downstream):
        if entry.strategy == "dispatch":
            planned = _plan_dispatch(gh, entry, index, upgrade)
        else:
            planned = _plan_edit(gh, entry, index, upgrade, templates, links)
        if isinstance(planned, str):
            done.append(planned)
        else:
            action, note = planned
            actions.append(action)
            notes += [note] if note else []
    known = {"downstream_pr_urls": "\n".join(links.urls)} if links.urls else {}
    if not actions:
        return StepPlan(STEP, skipped="already done: " + "; ".join(done), outputs=known)
    return StepPlan(STEP, tuple(actions), notes=tuple(done + notes), outputs=known)


@dataclass(frozen=True)
class Target:
    """Where an entry's change goes: the repository, its base, and where the branch lives."""

    repo: RepoInfo
    base: str
    fork: bool
    push_to: str
    head_owner: str
    fork_exists: bool
    can_triage: bool


def resolve_target(gh: GitHub, entry: DownstreamConfig, index: int) -> Target:
    repo = gh.repository(entry.repository)
    if repo is None:
        raise UsageError(
            f"{_where(index)}.repository: {entry.repository} not found",
            "check the name, and that the token can see the repository",
        )
    base = entry.base or repo.default_branch
    owner, name = entry.repository.split("/", 1)
    if not (entry.fork or not repo.can_push):
        return Target(repo, base, False, entry.repository, owner, True, repo.can_triage)
    login = gh.login()
    push_to = f"{login}/{name}"
    existing = gh.repository(push_to)
    if existing is not None and existing.fork_of != entry.repository:
        raise UsageError(
            f"{push_to} exists and is not a fork of {entry.repository}",
            f"rename or delete it, or use a token whose user may push to {entry.repository}",
        )
    return Target(repo, base, True, push_to, login, existing is not None, repo.can_triage)


def _plan_edit(
    gh: GitHub,
    entry: DownstreamConfig,
    index: int,
    upgrade: Upgrade,
    templates: Path | None,
    links: PullLinks,
) -> tuple[Action, str] | str:
    """The entry's action and a note, or why there is nothing to do."""
    if not entry.files:
        raise UsageError(
            f"{_where(index)}.files is empty",
            "list the requirements files that pin the package (globs)",
        )
    target = resolve_target(gh, entry, index)
    repo, base = entry.repository, target.base
    pins = read_pins(gh, entry, index, base, upgrade.package, upgrade.version)
    branch = entry.branch.format(package=upgrade.package)
    pull = gh.open_pull(repo, target.head_owner, branch)
    if pull is not None:
        links.add(pull.html_url)  # known now: the plan reports it even if nothing changes
    if pins.already_current:
        where = f" (PR #{pull.number} {pull.html_url} is still open)" if pull else ""
        return f"{repo}@{base} already pins {upgrade.package} {upgrade.version}{where}"

    changes = pins.changes
    context = template_context(upgrade, changes, downstream=repo, base=base, branch=branch)
    title = _render("github/pr_title.txt.j2", context, templates).strip()
    body = _render("github/pr_body.md.j2", context, templates).strip() + "\n"
    message = _render("github/downstream_commit.txt.j2", context, templates).strip() + "\n"

    labels, reviewers = entry.labels, entry.reviewers
    note = ""
    if not target.can_triage and (labels or reviewers):
        # Without triage access GitHub refuses both; the PR is still worth opening.
        note = (
            f"{repo}: labels and reviewers skipped (the token's user has no triage "
            "access there; a maintainer can add them)"
        )
        labels, reviewers = (), ()
    update_branch = False
    expected: str | None = None
    pull_changes: list[tuple[str, str]] = []
    if pull is not None:
        # Current means: a commit on the planned base whose tree is that base plus our edits.
        # A few reads (the PR's commit, the trees on the changed paths), never the whole tree.
        head = gh.commit(target.push_to, pull.head_sha)
        expected, changes = expected_tree(pins.files, changes)
        update_branch = head is None or head.parents != (pins.commit,) or head.tree != expected
        for key, want, have in (
            ("title", title, pull.title),
            ("body", body, pull.body),
            ("base", base, pull.base),
        ):
            if want != have:
                pull_changes.append((key, want))
        have_labels = {x.lower() for x in pull.labels}
        labels = tuple(x for x in labels if x.lower() not in have_labels)
        have_reviewers = {x.lower() for x in (*pull.reviewers, pull.author)}
        reviewers = tuple(x for x in reviewers if x.lower() not in have_reviewers)
        if not (update_branch or pull_changes or labels or reviewers):
            links.add(pull.html_url)
            return f"{repo}: PR #{pull.number} is up to date ({pull.html_url})"
    action = DownstreamPRAction(
        gh=gh,
        repository=repo,
        push_to=target.push_to,
        fork=target.fork,
        fork_exists=target.fork_exists,
        head_owner=target.head_owner,
        base=base,
        base_commit=pins.commit,
        base_tree=pins.tree,
        branch=branch,
        files=changes,
        expected_tree=expected,
        commit_message=message,
        title=title,
        body=body,
        labels=labels,
        reviewers=reviewers,
        pull=pull,
        update_branch=update_branch,
        pull_changes=tuple(pull_changes),
        links=links,
    )
    return action, note


def render_inputs(
    entry: DownstreamConfig, index: int, upgrade: Upgrade
) -> tuple[tuple[str, str], ...]:
    context = {
        "package": upgrade.package,
        "version": upgrade.version.pep440,
        "previous_version": upgrade.previous.pep440 if upgrade.previous else None,
        "tag": upgrade.tag,
        "release_url": upgrade.release_url,
        "repository": upgrade.repository,
        "notes": upgrade.notes,
        "downstream": entry.repository,
    }
    return tuple(
        (key, rendering.render_string(value, context, what=f"{_where(index)}.inputs.{key}"))
        for key, value in entry.inputs.items()
    )


def _plan_dispatch(
    gh: GitHub, entry: DownstreamConfig, index: int, upgrade: Upgrade
) -> tuple[Action, str] | str:
    """The entry's dispatch action, or why there is nothing to do."""
    repo_name = entry.repository
    if not entry.workflow:
        raise UsageError(
            f"{_where(index)}: strategy = 'dispatch' needs `workflow`",
            "name the workflow file, e.g. workflow = 'upgrade-one-python-dependency.yml'",
        )
    repo = gh.repository(repo_name)
    if repo is None:
        raise UsageError(
            f"{_where(index)}.repository: {repo_name} not found",
            "check the name, and that the token can see the repository",
        )
    if not repo.can_push:
        raise UsageError(
            f"dispatching a workflow on {repo_name} needs write access, which "
            "the token's user does not have",
            "use a token with actions write access there, or strategy = 'edit'",
        )
    base = entry.base or repo.default_branch
    inputs = render_inputs(entry, index, upgrade)
    if entry.files:
        pins = read_pins(gh, entry, index, base, upgrade.package, upgrade.version)
        if pins.already_current:
            return f"{repo_name}@{base} already pins {upgrade.package} {upgrade.version}"
    branch = dict(inputs).get("branch")
    if branch:
        # The workflow opens its PR from the `branch` input: if that PR is open, it has run.
        pull = gh.open_pull(repo_name, repo_name.split("/", 1)[0], branch)
        if pull is not None:
            return f"{repo_name}: the workflow's PR #{pull.number} is open ({pull.html_url})"
    if not gh.workflow_exists(repo_name, entry.workflow):
        raise UsageError(
            f"{_where(index)}.workflow: {entry.workflow} not found in {repo_name}",
            "name a file under .github/workflows/ of that repository",
        )
    return DispatchWorkflowAction(gh, repo_name, entry.workflow, base, inputs), ""


# --- status --------------------------------------------------------------------------------------


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
    # A dispatched workflow names its own branch: for it, only the pins can be shown.
    branch = "" if entry.strategy == "dispatch" else entry.branch.format(package=package)
    pull = gh.open_pull(entry.repository, target.head_owner, branch) if branch else None
    if pull is not None:
        return f"open #{pull.number} {pull.html_url}"
    head = gh.branch_head(entry.repository, target.base)
    if head is None:
        return f"unknown (no branch {target.base})"
    files = BaseFiles(
        gh, entry.repository, head.commit, head.tree, f"{entry.repository}@{target.base}"
    )
    pinned: set[str] = set()
    read: set[str] = set()
    for glob in entry.files:
        for blob in files.match(glob):
            if blob.path not in read:
                read.add(blob.path)
                text = gh.blob(entry.repository, blob.sha).decode("utf-8", "replace")
                pinned.update(v for _, v in pins_of(blob.path, text, package))
    if pinned and all(_version_key(v) == _version_key(version.pep440) for v in pinned):
        return f"already pins {version}"
    return "none" + (f" (pins {', '.join(sorted(pinned, key=_version_key))})" if pinned else "")
