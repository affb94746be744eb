"""Every local git operation, built on the one git runner (`release_tool.git_runner`: the only
code that starts git or imports GitPython).

Every git command goes through `run_git` (or `start_git`, the same read started now and
collected later), and every git failure reads the same: `git <command> failed: <reason>`, the
reason being git's first `fatal:`/`error:` line.

Reads (`GitRepo`'s query methods) never change a ref: the remote is inspected with `ls-remote`,
not `fetch`, so a dry run leaves `refs/remotes/*` as they were. Writes are action objects
(`release_tool.git_actions`) that the pipeline applies and, before the push, can undo. The
writes that run hooks or wait on the network (commit, tag, push) are waited for even when the
run is interrupted (`GitCall.settle`), so that what git did is on disk before anyone looks.
The GitHub token reaches git only through `GIT_CONFIG_*` environment variables
(`http.extraheader`): never in a URL, on a command line or in `.git/config`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from release_tool.config import DEFAULT_NETWORK_TIMEOUT
from release_tool.errors import ReleaseError, StepFailed, UsageError
from release_tool.git_runner import (
    GitCall,
    GitFailed,
    credentials_refused,
    run_git,
    start_git,
)

if TYPE_CHECKING:
    from release_tool.example import ExampleRepo


# The readings below are NamedTuples, not frozen dataclasses: they are plain values read from
# git (no defaults, no hooks), and a NamedTuple class is made ~10x faster at import, which a
# dry run's start-up feels.


class WorkingState(NamedTuple):
    """The working copy at a glance: HEAD's commit, its branch (None: detached), and the
    tracked files with changes."""

    head: str
    branch: str | None
    dirty: tuple[str, ...]


class RemoteState(NamedTuple):
    """What `git ls-remote` says: branch heads and tags (peeled to their commits)."""

    heads: Mapping[str, str]
    tags: Mapping[str, str]


#: The settings that decide whether and how git signs (read by `GitRepo.readiness`).
_SIGNING_KEYS = (
    r"^(commit\.gpgsign|tag\.gpgsign|gpg\.format|gpg\.program|gpg\.[a-z0-9]+\.program"
    r"|gpg\.ssh\.defaultkeycommand|user\.signingkey)$"
)


class Readiness(NamedTuple):
    """What committing and tagging need, as git sees it (see `GitRepo.readiness`)."""

    ident: str | None  # `git var GIT_COMMITTER_IDENT`; None: git has no committer identity
    ident_error: str  # why not, in git's words
    untracked: tuple[str, ...]  # of the paths asked about, those git does not track
    ignored: tuple[str, ...]  # of those, the ones a .gitignore rule covers
    signing: Mapping[str, str]  # the signing settings that are set (keys lowercased)


def auth_environment(url: str, token: str | None) -> dict[str, str]:
    """Environment that makes git send the token to `url`'s host, and nowhere else."""
    if not token or not url.startswith(("http://", "https://")):
        return {}
    scheme, rest = url.split("://", 1)
    prefix = f"{scheme}://{rest.split('/', 1)[0]}/"
    import base64  # only with a token to send

    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{prefix}.extraheader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        # Never fall back to a prompt: in CI there is nobody to answer it.
        "GIT_TERMINAL_PROMPT": "0",
    }


class GitRepo:
    """A working copy of the released library.

    Every command runs through `run_git` (reads as plain `git` subprocesses, small writes
    through GitPython) or `start_git` (commit, tag and push, waited for by `GitCall.settle`).
    """

    def __init__(self, root: Path, token: str | None = None) -> None:
        self._token = token
        if (root / ".git").exists():  # the top of a work tree: no need to ask git
            self.root = root
            return
        try:
            top = run_git("rev-parse", "--show-toplevel", cwd=root)
        except (ReleaseError, OSError):
            raise UsageError(
                f"{root} is not a git repository", "run in the library's repository, or pass -C DIR"
            ) from None
        self.root = Path(top)

    # -- plumbing ---------------------------------------------------------------------------

    def _git(self, *args: str, remote_url: str | None = None) -> str:
        """A read: git's stdout (stripped), or the ReleaseError of `_git_failure`."""
        env = auth_environment(remote_url, self._token) if remote_url else {}
        return run_git(*args, cwd=self.root, env=env)

    def _write(self, *args: str, remote_url: str | None = None) -> str:
        """A write (through GitPython): git's stdout, or the ReleaseError of `_git_failure`."""
        env = auth_environment(remote_url, self._token) if remote_url else {}
        return run_git(*args, cwd=self.root, env=env, write=True)

    # -- reads ------------------------------------------------------------------------------

    def head_sha(self) -> str:
        return self._git("rev-parse", "HEAD")

    def rev_parse(self, rev: str) -> str:
        return self._git("rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}")

    def state(self) -> WorkingState:
        """HEAD, the branch and the changed tracked files, from one `git status`."""
        with self.start_state() as pending:
            return pending.result()

    def start_state(self) -> PendingRead[WorkingState]:
        """`state()`, started now and collected later (`result()`)."""
        call = start_git(
            "status", "--porcelain=v2", "--branch", "--untracked-files=no", cwd=self.root
        )
        return PendingRead(call, _working_state)

    def local_tags(self, merged: str | None = None) -> dict[str, str]:
        """Tag name → the commit it points at (annotated tags peeled); with `merged`, only
        the tags reachable from that commit (`git tag --merged`: a maintenance branch does
        not see the releases made on master after it forked)."""
        with self.start_local_tags(merged) as pending:
            return pending.result()

    def start_local_tags(self, merged: str | None = None) -> PendingRead[dict[str, str]]:
        """`local_tags()`, started now and collected later (`result()`)."""
        fmt = "--format=%(refname:strip=2) %(objectname) %(*objectname)"
        reachable = (f"--merged={merged}",) if merged else ()
        return PendingRead(
            start_git("for-each-ref", fmt, *reachable, "refs/tags", cwd=self.root), _tags
        )

    def tags_merged(self, commit: str = "HEAD") -> list[str]:
        """The names of the local tags reachable from `commit` (`git tag --merged`)."""
        return self._git("tag", "--merged", commit).splitlines()

    def readiness(self, paths: list[str]) -> Readiness:
        """What a commit and a tag need, read side by side: the committer identity, which of
        `paths` git tracks (and which untracked ones it ignores), the signing settings."""
        with self.start_readiness(paths) as pending:
            return pending.result(paths)

    def start_readiness(self, paths: list[str]) -> PendingReadiness:
        """`readiness()`, started now and collected later: `result(some)` answers for any
        `some` of `paths` (a path not asked about here is asked then)."""
        return PendingReadiness(self.root, paths)

    def remote_url(self, remote: str) -> str:
        try:
            return self._git("remote", "get-url", remote)
        except ReleaseError:
            raise UsageError(
                f"no git remote named {remote!r}",
                f"add it (git remote add {remote} URL) or set `remote` in the config",
            ) from None

    def ls_remote(self, remote: str, timeout: float = DEFAULT_NETWORK_TIMEOUT) -> RemoteState:
        """The remote's heads and tags, without fetching (so nothing local changes)."""
        with self.start_ls_remote(remote, timeout) as pending:
            return pending.result()

    def start_ls_remote(
        self, remote: str, timeout: float = DEFAULT_NETWORK_TIMEOUT
    ) -> PendingRemote:
        """Start `ls-remote` now and collect it later: the remote is the slowest read (a
        network round trip), so planning reads the local files while it runs."""
        # The URL is only needed to scope the token's header; without a token, skip asking.
        url = self.remote_url(remote) if self._token else None
        env = auth_environment(url, self._token) if url else {}
        return PendingRemote(
            remote,
            start_git(
                "ls-remote", "--heads", "--tags", remote, cwd=self.root, env=env, timeout=timeout
            ),
        )

    def has_commit(self, sha: str) -> bool:
        try:
            self._git("cat-file", "-e", f"{sha}^{{commit}}")
        except ReleaseError:
            return False
        return True

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self._git("merge-base", "--is-ancestor", ancestor, descendant)
        except ReleaseError:
            return False
        return True

    def commits_between(self, base: str, head: str) -> list[tuple[str, str]]:
        """(sha, subject) of every commit `head` has and `base` lacks, newest first."""
        out = self._git("log", "--no-show-signature", "--format=%H %s", f"{base}..{head}")
        return [(line[:40], line[41:]) for line in out.splitlines() if line]

    def config_value(self, key: str) -> str | None:
        try:
            return self._git("config", "--get", key) or None
        except ReleaseError:
            return None

    def _settled(
        self, *args: str, remote_url: str | None = None, timeout: float | None = None
    ) -> tuple[str, str]:
        """A write that runs hooks or waits on the network (commit, tag, push): git's stdout
        and stderr. Interrupted, it still lets git end before returning (`GitCall.settle`), so
        whatever git did is on disk before a rollback (or the remote check) looks; a network
        write past its `timeout` is killed."""
        env = auth_environment(remote_url, self._token) if remote_url else {}
        return start_git(*args, cwd=self.root, env=env, timeout=timeout).settle()

    def commit_paths(self, paths: list[str], message: str, *, verify: bool = True) -> str:
        """Commit exactly `paths`, running the repository's hooks as git does (unless not
        `verify`). A hook that refuses the commit, or that changes files, is a StepFailed
        with the hook's output as its details (the caller rolls back)."""
        self._write("add", "--", *paths)
        tree = self._git("write-tree")  # what the commit must hold: the index, as staged
        flags = () if verify else ("--no-verify",)
        try:
            out, err = self._settled("commit", *flags, "-m", message, "--", *paths)
        except GitFailed as exc:
            hooks = self.hooks("pre-commit", "prepare-commit-msg", "commit-msg") if verify else []
            hint = (
                f"the {', '.join(hooks)} hook refused the commit (its output is above): fix what "
                "it reports, or pass --no-verify to skip the hooks; then run the same command again"
                if hooks
                else "fix the cause and run the same command again"
            )
            raise StepFailed(exc.message.removeprefix("git "), hint, exc.stderr) from None
        head = self.head_sha()
        changed = self._changed_since(tree)
        if changed:
            output = "\n".join(t for t in (err, out) if t)
            raise StepFailed(
                f"a commit hook changed files: {', '.join(changed)}",
                "a release commits only the version files: make the hook leave them alone "
                "(or pass --no-verify), then run the same command again",
                output,
            )
        return head

    def _changed_since(self, tree: str) -> list[str]:
        """Tracked files a hook changed: in the commit (HEAD's tree is not `tree`), or left
        changed in the working tree or the index (the run started on a clean tree)."""
        changed = set(self.state().dirty)
        if self._git("rev-parse", "HEAD^{tree}") != tree:
            changed |= set(self._git("diff", "--name-only", tree, "HEAD").splitlines())
        return sorted(changed)

    def hooks(self, *names: str) -> list[str]:
        """Which of the hooks `names` git would run here (core.hooksPath honoured)."""
        asked = [a for name in names for a in ("--git-path", f"hooks/{name}")]
        paths = self._git("rev-parse", *asked)
        found = []
        for name, path in zip(names, paths.splitlines(), strict=False):
            hook = Path(path) if Path(path).is_absolute() else self.root / path
            if hook.is_file() and os.access(hook, os.X_OK):
                found.append(name)
        return found

    def restore(self, sha: str, paths: list[str]) -> None:
        """Put `paths` back as `sha` has them, in the index and the working tree (a file `sha`
        does not have is only unstaged: it stays on disk, untracked)."""
        if not paths:
            return
        literal = [f":(literal){path}" for path in paths]
        self._write("reset", "-q", sha, "--", *literal)
        known = self._git("ls-tree", "-r", "--name-only", sha, "--", *literal).splitlines()
        if known:
            self._write("checkout", "-q", sha, "--", *(f":(literal){path}" for path in known))

    def reset_soft_keep_files(self, sha: str, paths: list[str]) -> None:
        """Move the branch back to `sha` and unstage `paths` (their files are restored apart)."""
        self._write("reset", "--soft", sha)
        self._write("reset", "-q", sha, "--", *paths)

    def unstage(self, sha: str, paths: list[str]) -> None:
        self._write("reset", "-q", sha, "--", *paths)

    def update_ref(self, ref: str, sha: str) -> None:
        self._write("update-ref", ref, sha)

    def git_dir(self) -> str:
        dot_git = self.root / ".git"
        if dot_git.is_dir():  # the common case, without a subprocess
            return str(dot_git.resolve())
        return self._git("rev-parse", "--absolute-git-dir")

    def create_tag(self, name: str, message: str, sign: bool) -> None:
        # --cleanup=whitespace: a Markdown heading (`### Bug fixes`) is no comment to strip.
        self._settled("tag", "-s" if sign else "-a", "--cleanup=whitespace", name, "-m", message)

    def tag_subject(self, name: str) -> tuple[str, str] | None:
        """A local tag's commit (peeled) and its message's first line; None: no such tag."""
        out = self._git(
            "for-each-ref",
            "--format=%(objectname) %(*objectname) %(contents:subject)",
            f"refs/tags/{name}",
        )
        if not out:
            return None
        sha, peeled, subject = [*out.split(" ", 2), "", ""][:3]
        return (peeled or sha), subject

    def delete_tag(self, name: str) -> None:
        self._write("tag", "-d", name)

    def push(
        self,
        remote: str,
        refspecs: list[str],
        branch: str | None = None,
        timeout: float = DEFAULT_NETWORK_TIMEOUT,
    ) -> None:
        """`git push --atomic`; a failure names each refused ref and git's reason for it
        (`git_push.push_failure`), with the remote's own lines as its details. It is killed
        (with its helper process) when `timeout` seconds pass."""
        url = self.remote_url(remote)
        try:
            self._settled(
                "push", "--atomic", "--porcelain", remote, *refspecs, remote_url=url,
                timeout=timeout,
            )  # fmt: skip
        except GitFailed as exc:
            from release_tool.git_push import push_failure  # a failed push only

            refused = credentials_refused(exc.message)
            raise push_failure(
                remote, branch, exc.message, exc.stdout, exc.stderr, refused
            ) from None


class PendingRemote:
    """An `ls-remote` under way; `result()` waits for it. Leaving the `with` block without
    collecting it (planning failed early) stops the process."""

    def __init__(self, remote: str, call: GitCall) -> None:
        self._remote = remote
        self._call = call

    def __enter__(self) -> PendingRemote:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._call.stop()

    def result(self) -> RemoteState:
        try:
            out = self._call.output()
        except ReleaseError as failure:
            raise ReleaseError(
                f"remote {self._remote!r} is unreachable: {failure.message}",
                "check the network, the remote URL and the token",
            ) from None
        heads: dict[str, str] = {}
        tags: dict[str, str] = {}
        for line in out.splitlines():
            sha, ref = line.split("\t", 1)
            if ref.startswith("refs/heads/"):
                heads[ref.removeprefix("refs/heads/")] = sha
            elif ref.endswith("^{}"):
                tags[ref.removeprefix("refs/tags/").removesuffix("^{}")] = sha  # peeled wins
            elif ref.startswith("refs/tags/"):
                tags.setdefault(ref.removeprefix("refs/tags/"), sha)
        return RemoteState(heads=heads, tags=tags)


_T = TypeVar("_T")


class PendingRead(Generic[_T]):
    """A local read under way; `result()` waits for git and parses its answer. Leaving the
    `with` block without collecting it (planning failed early) stops git."""

    def __init__(self, call: GitCall, parse: Callable[[str], _T]) -> None:
        self._call = call
        self._parse = parse
        self._result: tuple[_T] | None = None  # once collected

    def __enter__(self) -> PendingRead[_T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._call.stop()

    def result(self) -> _T:
        """git's answer, parsed (collected once: asking again gives the same answer)."""
        if self._result is None:
            self._result = (self._parse(self._call.output()),)
        return self._result[0]


class PendingReadiness:
    """The reads of `GitRepo.readiness` under way: the committer identity, which of the
    paths asked about git tracks, the signing settings. Leaving the `with` block without
    collecting them stops git."""

    def __init__(self, root: Path, paths: list[str]) -> None:
        self._root = root
        self._asked = frozenset(paths)
        self._ident = start_git("var", "GIT_COMMITTER_IDENT", cwd=root)
        # No path: no question (a bare `ls-files --` would list every file).
        self._listed = (
            start_git("ls-files", "-z", "--", *_literal(paths), cwd=root) if paths else None
        )
        self._settings = start_git("config", "--get-regexp", _SIGNING_KEYS, cwd=root)

    def __enter__(self) -> PendingReadiness:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for call in (self._ident, self._listed, self._settings):
            if call is not None:
                call.stop()

    def result(self, paths: list[str]) -> Readiness:
        """The readiness for `paths` (any of them not asked about at the start is asked now)."""
        try:
            who: str | None = self._ident.output()
            why = ""
        except ReleaseError as exc:
            who, why = None, exc.message
        tracked = set(self._listed.output().split("\0")) if self._listed else set()
        others = [path for path in paths if path not in self._asked]
        if others:
            tracked |= set(
                run_git("ls-files", "-z", "--", *_literal(others), cwd=self._root).split("\0")
            )
        try:
            found = self._settings.output()
        except ReleaseError:  # exit 1: none of the keys is set
            found = ""
        config = {}
        for line in found.splitlines():
            key, _, value = line.partition(" ")
            config[key.lower()] = value
        untracked = [path for path in paths if path not in tracked]
        ignored = []
        for path in untracked:
            try:
                run_git("check-ignore", "-q", "--", path, cwd=self._root)
                ignored.append(path)
            except ReleaseError:  # exit 1: not ignored
                pass
        return Readiness(who, why, tuple(untracked), tuple(ignored), config)


def _literal(paths: list[str]) -> list[str]:
    """`paths` as pathspecs that mean exactly those paths (no glob, no magic)."""
    return [f":(literal){path}" for path in paths]


def _working_state(status: str) -> WorkingState:
    """`git status --porcelain=v2 --branch --untracked-files=no`, read."""
    head, branch, dirty = "", None, []
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            head = line.removeprefix("# branch.oid ")
        elif line.startswith("# branch.head "):
            name = line.removeprefix("# branch.head ")
            branch = None if name == "(detached)" else name
        elif line[:2] in ("1 ", "2 ", "u "):
            # "1 XY sub mH mI mW hH hI path"; a rename ("2 …") ends "path<TAB>origPath"
            fields = line.split(" ", 8 if line[0] == "1" else 9)
            dirty.append(fields[-1].split("\t")[0])
    return WorkingState(head, branch, tuple(dirty))


def _tags(refs: str) -> dict[str, str]:
    """`git for-each-ref --format='%(refname:strip=2) %(objectname) %(*objectname)'`, read."""
    tags = {}
    for line in refs.splitlines():
        name, sha, peeled = [*line.split(" "), "", ""][:3]
        tags[name] = peeled or sha
    return tags


# --- building repositories (the example pair, test fixtures) --------------------------------


_IDENTITY = {
    "GIT_AUTHOR_NAME": "Example Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.org",
    "GIT_COMMITTER_NAME": "Example Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.org",
}


def build_repository(bare: Path, example: ExampleRepo) -> None:
    """Create the bare repository `bare` holding `example`'s history, tags included."""
    with _scratch() as work:
        run_git("init", "-q", "-b", example.branch, cwd=work)
        for commit in example.history:
            for path, text in commit.files.items():
                target = work / path
                if text is None:
                    target.unlink(missing_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text.encode())
            run_git("add", "-A", cwd=work)
            env = {**_IDENTITY, "GIT_AUTHOR_DATE": commit.date, "GIT_COMMITTER_DATE": commit.date}
            run_git("commit", "-q", "--allow-empty", "-m", commit.message, cwd=work, env=env)
            for tag in commit.tags:  # lightweight, as edx-proctoring's are
                run_git("tag", tag, cwd=work)
        bare.parent.mkdir(parents=True, exist_ok=True)
        run_git("clone", "-q", "--bare", str(work), str(bare), cwd=work)


@contextmanager
def _scratch() -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="release-tool-") as tmp:
        yield Path(tmp)


def clone(
    url: str, dest: Path, token: str | None = None, timeout: float = DEFAULT_NETWORK_TIMEOUT
) -> None:
    """Clone `url` into `dest` (used by rehearsals and tests to get a working copy)."""
    env = auth_environment(url, token)
    run_git("clone", "-q", url, str(dest), cwd=dest.parent, env=env, timeout=timeout)


__all__ = [
    "GitCall",
    "GitFailed",
    "GitRepo",
    "PendingRead",
    "PendingReadiness",
    "PendingRemote",
    "Readiness",
    "RemoteState",
    "WorkingState",
    "auth_environment",
    "build_repository",
    "clone",
    "credentials_refused",
    "run_git",
    "start_git",
]
