"""Reading one downstream repository through the GitHub API, for planning and status.

* `resolve_target`: GET the repository (whether the token may push: if not, the change goes
  through the token user's fork; its default branch, when `base` is not configured);
* `BaseFiles`: the files of the base commit (the plan reads `GET branches/{base}` for the
  commit and its root tree, the plan's anchor), a directory at a time. For each literal
  directory of the `files` globs (`requirements/edx` for `requirements/edx/*.txt`), one
  `GET contents/{dir}?ref=COMMIT` listing, matched with fnmatch on posix paths from the root.
  The cost does not grow with the repository: only the directories the globs name are
  listed. (A glob with wildcards in its directories, `requirements/**/base.txt`, lists
  everything below its literal part recursively: the one case that grows with the
  repository's size.)

Known limit: the contents API gives no file mode, so a new PR writes a file it edits as 100644;
an executable requirements file would lose its x bit in that first commit (the PR's diff shows
it), and the next run, which reads the modes from the trees, puts it back.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from fnmatch import fnmatchcase

from release_tool.config import DownstreamConfig
from release_tool.errors import UsageError
from release_tool.github_api import GitHub, GitHubError, RepoInfo, TreeEntry

# Regular files only: a symlink's blob is its target path, a submodule is not a file.
_FILE_MODES = ("100644", "100755")
_MAGIC = frozenset("*?[")
CONTENTS_CAP = 1000  # GitHub's contents API lists at most this many entries of a directory


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def is_file(entry: TreeEntry) -> bool:
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
            (e for e in entries if is_file(e) and fnmatchcase(e.path, glob)),
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


# --- where an entry's change goes ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where an entry's change goes: its base branch, and the repository the branch lives in
    (the downstream itself, or the token user's fork when that user may not push there).

    `repository` is the downstream's canonical name: GitHub answers a renamed (or
    transferred) repository's old name with a redirect (301 on reads, which the read
    follows; 307 on writes, which nothing follows), so every write names this one.
    `configured` is the name the configuration gives, when it is another spelling.
    """

    base: str
    fork: bool
    push_to: str
    head_owner: str
    fork_exists: bool
    can_triage: bool
    repository: str = ""
    configured: str | None = None  # the configured name, when it differs from `repository`

    @property
    def renamed_note(self) -> str:
        """What the plan says about a renamed repository ("" when it was not renamed)."""
        if self.configured is None:
            return ""
        return (
            f"{self.configured} is now {self.repository} (GitHub redirects the old name; "
            "every write goes to the new one: update the configuration)"
        )


def same_repository(one: str, other: str) -> bool:
    """Whether two `owner/name`s are the same repository's (GitHub's names ignore case)."""
    return one.lower() == other.lower()


def canonical_repository(gh: GitHub, entry: DownstreamConfig) -> tuple[RepoInfo, str | None]:
    """(the repository, under its canonical name; the configured name if it differs other
    than in case): one GET, which follows a rename's 301."""
    repo = gh.repository(entry.repository)
    if repo is None:
        raise UsageError(
            f"{entry.key('repository')}: {entry.repository} not found",
            "check the name, and that the token can see the repository",
        )
    moved = None if same_repository(repo.full_name, entry.repository) else entry.repository
    return repo, moved


def resolve_target(gh: GitHub, entry: DownstreamConfig) -> Target:
    """The entry's `Target`: GET the repository (following a rename to its canonical name);
    with a fork, also the login and the fork."""
    repo, moved = canonical_repository(gh, entry)
    full_name = repo.full_name
    base = entry.base or repo.default_branch
    owner, name = full_name.split("/", 1)
    if not (entry.fork or not repo.can_push):
        return Target(base, False, full_name, owner, True, repo.can_triage, full_name, moved)
    if gh.is_app:  # an installation token has no user: no fork to push to, no GET /user
        raise UsageError(
            f"{entry.where}: the GitHub App cannot push to {entry.repository}"
            + (" (fork = true)" if entry.fork else "")
            + ", and an App has no account to fork into",
            f"install the App on {entry.repository} with contents and pull requests write "
            "(and drop fork = true), or use a user's token (GITHUB_TOKEN)",
        )
    try:
        login = gh.login()
    except GitHubError as exc:
        if exc.status != 403:
            raise
        # An App installation token acts for no user: it has no namespace to fork into.
        raise UsageError(
            f"{entry.where}: the token may not push to {entry.repository}, and cannot "
            f"fork it (GET /user answered 403: a GitHub App installation token has no user)",
            f"install the app on {entry.repository} with Contents and Pull requests write "
            "access, or use a personal token of a user who may push there or fork it",
        ) from exc
    push_to = f"{login}/{name}"
    existing = gh.repository(push_to)
    if existing is not None and not same_repository(existing.fork_of or "", full_name):
        raise UsageError(
            f"{push_to} exists and is not a fork of {full_name}",
            f"rename or delete it, or use a token whose user may push to {full_name}",
        )
    if existing is not None:
        push_to = existing.full_name
    return Target(
        base, True, push_to, login, existing is not None, repo.can_triage, full_name, moved
    )
