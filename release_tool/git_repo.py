"""Every local git operation: the only module that runs git, and the only one importing GitPython.

Every git command goes through `run_git` (or `start_git`, the same read started now and
collected later), and every git failure reads the same: `git <command> failed: <reason>`, the
reason being git's first `fatal:`/`error:` line (`_git_failure`).

Reads (`GitRepo`'s query methods) never change a ref: the remote is inspected with `ls-remote`,
not `fetch`, so a dry run leaves `refs/remotes/*` as they were. Writes are action objects
(`CommitAction`, `TagAction`, `PushAction`) that the pipeline applies and, before the push,
can undo. The GitHub token reaches git only through `GIT_CONFIG_*` environment variables
(`http.extraheader`): never in a URL, on a command line or in `.git/config`.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release_tool.errors import ReleaseError, StepFailed, UsageError
from release_tool.plan import Outcome, RunState

if TYPE_CHECKING:
    from release_tool.example import ExampleRepo


@dataclass(frozen=True)
class WorkingState:
    """The working copy at a glance: HEAD's commit, its branch (None: detached), and the
    tracked files with changes."""

    head: str
    branch: str | None
    dirty: tuple[str, ...]


@dataclass(frozen=True)
class RemoteState:
    """What `git ls-remote` says: branch heads and tags (peeled to their commits)."""

    heads: Mapping[str, str]
    tags: Mapping[str, str]


def auth_environment(url: str, token: str | None) -> dict[str, str]:
    """Environment that makes git send the token to `url`'s host, and nowhere else."""
    if not token or not url.startswith(("http://", "https://")):
        return {}
    scheme, rest = url.split("://", 1)
    prefix = f"{scheme}://{rest.split('/', 1)[0]}/"
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

    Every command runs through `run_git`: reads as plain `git` subprocesses, writes (commit,
    tag, push, rollback) through GitPython.
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

    def state(self) -> WorkingState:
        """HEAD, the branch and the changed tracked files, from one `git status`."""
        out = self._git("status", "--porcelain=v2", "--branch", "--untracked-files=no")
        head, branch, dirty = "", None, []
        for line in out.splitlines():
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

    def local_tags(self, merged: str | None = None) -> dict[str, str]:
        """Tag name → the commit it points at (annotated tags peeled); with `merged`, only
        the tags reachable from that commit (`git tag --merged`: a maintenance branch does
        not see the releases made on master after it forked)."""
        fmt = "--format=%(refname:strip=2) %(objectname) %(*objectname)"
        reachable = (f"--merged={merged}",) if merged else ()
        out = self._git("for-each-ref", fmt, *reachable, "refs/tags")
        tags = {}
        for line in out.splitlines():
            name, sha, peeled = [*line.split(" "), "", ""][:3]
            tags[name] = peeled or sha
        return tags

    def tags_merged(self, commit: str = "HEAD") -> list[str]:
        """The names of the local tags reachable from `commit` (`git tag --merged`)."""
        return self._git("tag", "--merged", commit).splitlines()

    def remote_url(self, remote: str) -> str:
        try:
            return self._git("remote", "get-url", remote)
        except ReleaseError:
            raise UsageError(
                f"no git remote named {remote!r}",
                f"add it (git remote add {remote} URL) or set `remote` in the config",
            ) from None

    def ls_remote(self, remote: str) -> RemoteState:
        """The remote's heads and tags, without fetching (so nothing local changes)."""
        with self.start_ls_remote(remote) as pending:
            return pending.result()

    def start_ls_remote(self, remote: str) -> PendingRemote:
        """Start `ls-remote` now and collect it later: the remote is the slowest read (a
        network round trip), so planning reads the local files while it runs."""
        # The URL is only needed to scope the token's header; without a token, skip asking.
        url = self.remote_url(remote) if self._token else None
        env = auth_environment(url, self._token) if url else {}
        return PendingRemote(
            remote, start_git("ls-remote", "--heads", "--tags", remote, cwd=self.root, env=env)
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

    def commit_paths(self, paths: list[str], message: str) -> str:
        self._write("add", "--", *paths)
        self._write("commit", "--no-verify", "-m", message, "--", *paths)
        return self.head_sha()

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
        self._write("tag", "-s" if sign else "-a", name, "-m", message)

    def delete_tag(self, name: str) -> None:
        self._write("tag", "-d", name)

    def push(self, remote: str, refspecs: list[str]) -> None:
        url = self.remote_url(remote)
        try:
            self._write("push", "--atomic", "--porcelain", remote, *refspecs, remote_url=url)
        except ReleaseError as exc:
            hint = (
                "set GITHUB_TOKEN (or GH_TOKEN) to a token allowed to push here, then run the "
                "same command again"
                if credentials_refused(exc.message)
                else "fix the cause and run the same command again"
            )
            raise StepFailed(f"push to {remote!r} failed: {exc.message}", hint) from None


# --- the git runner ------------------------------------------------------------------------


def run_git(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, write: bool = False
) -> str:
    """Run one git command in `cwd` and return its stdout, stripped: the one way the tool runs git.

    `env` is added to the environment (the token's `GIT_CONFIG_*` header, an identity). A
    read is a plain subprocess, so that a dry run starts fast: importing GitPython costs about
    50 ms and two `git version` calls before the first command. A `write` (commit, tag, push,
    rollback) goes through GitPython, imported the first time a run writes. Either way a
    failure is the ReleaseError of `_git_failure`.
    """
    if not write:
        return start_git(*args, cwd=cwd, env=env).output()
    import git

    try:
        return str(git.Git(cwd).execute(["git", *args], env=dict(env or {})))
    except git.GitCommandError as exc:
        raise _git_failure(args[0], str(exc.stderr or "")) from None


def start_git(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> GitCall:
    """Start a read now and collect it later (`GitCall.output()`), as `run_git` would return it."""
    process = subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    return GitCall(args[0], process)


class GitCall:
    """A git subprocess under way."""

    def __init__(self, command: str, process: subprocess.Popen[str]) -> None:
        self._command = command
        self._process = process

    def output(self) -> str:
        """Wait for git: its stdout (stripped), or the ReleaseError of `_git_failure`."""
        out, err = self._process.communicate()
        if self._process.returncode != 0:
            raise _git_failure(self._command, err)
        return out.strip()

    def stop(self) -> None:
        """Kill git if it is still running (its answer is no longer wanted)."""
        if self._process.returncode is None:
            self._process.kill()
            self._process.communicate()


def _hostname() -> str:
    import socket  # only the lock needs it, and a dry run takes no lock

    return socket.gethostname()


# What git says when the remote turns the credentials away (GitHub answers 401 or 403).
_REFUSED = (
    "authentication failed",
    "could not read username",  # git wanted to ask for a password: none was accepted
    "terminal prompts disabled",
    "returned error: 401",
    "returned error: 403",
    "permission denied",
    "invalid username or password",
)


def credentials_refused(message: str) -> bool:
    """Whether git's message says the remote refused (or never got) the credentials."""
    return any(words in message.lower() for words in _REFUSED)


def _git_failure(command: str, stderr: str) -> ReleaseError:
    """git's reason in one line: its first `fatal:`/`error:` line (what follows is usually
    advice, e.g. "Please make sure you have the correct access rights"), else its last line."""
    # GitPython wraps git's stderr as "  stderr: '…'".
    text = stderr.strip().removeprefix("stderr:").strip().strip("'")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reasons = [line for line in lines if line.startswith(("fatal:", "error:"))]
    said = reasons[0] if reasons else lines[-1] if lines else "no message"
    return ReleaseError(f"git {command} failed: {said}", "see git's message above")


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


# --- the release lock ----------------------------------------------------------------------


@dataclass(frozen=True)
class PreImage:
    """The local state before a run touched it: what a crashed run is rolled back to."""

    head: str
    files: Mapping[str, str]  # relpath → text before the run
    tags: tuple[str, ...]  # local tags the run may create
    branch: str | None = None  # pushed to the remote's branch of the same name


class ReleaseLock:
    """`.git/release-tool.lock`: one release at a time per repository, and a crash journal.

    The lock holds the pid of the run and the pre-image of the local state. A run that ends,
    well or badly, removes it; one killed outright (SIGKILL, power loss) leaves it, and the
    next plan finds a dead pid and plans the `recover` step from the journal (see
    `release_tool.steps.recover`).
    """

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.path = Path(repo.git_dir()) / "release-tool.lock"

    def journal(self) -> dict[str, object] | None:
        """The lock's record, or None when no run holds it."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"pid": 0, "host": "", "started": "?"}  # unreadable: treat as stale
        return data if isinstance(data, dict) else {"pid": 0}

    def is_stale(self, data: Mapping[str, object]) -> bool:
        pid = data.get("pid")
        if data.get("host") not in ("", _hostname()) or not isinstance(pid, int):
            return False  # another machine's run (a shared folder): never assume it is dead
        if pid <= 0:
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def busy(self, data: Mapping[str, object]) -> UsageError:
        return UsageError(
            f"another release is running in this repository (pid {data.get('pid')}, "
            f"since {data.get('started')})",
            f"wait for it to finish; if none is running, run the same command again "
            f"(an interrupted run is recovered) or remove {self.path}",
        )

    def acquire(self, preimage: PreImage, *, stale: Mapping[str, object] | None = None) -> None:
        """Take the lock; `stale` is the journal of a dead run this run recovers, whose lock
        it takes over (only if the lock still holds exactly that journal)."""
        record = {
            "pid": os.getpid(),
            "host": _hostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "head": preimage.head,
            "tags": list(preimage.tags),
            "branch": preimage.branch,
            "files": dict(preimage.files),
        }
        if stale is not None:
            if self.journal() != dict(stale):
                raise self.busy(self.journal() or {})
            tmp = self.path.with_name(self.path.name + f".{os.getpid()}")
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, self.path)
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise self.busy(self.journal() or {}) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def journal_tags(data: Mapping[str, object]) -> tuple[str, ...]:
    """The tags a journal says its run may have created (older journals: one `tag`)."""
    tags = data.get("tags", [data.get("tag")])
    return tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()


# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitAction:
    repo: GitRepo = field(repr=False)
    paths: tuple[str, ...]
    message: str
    parent: str  # HEAD when planned: where an undo puts the branch back
    step: str = "commit"

    def describe(self) -> str:
        return f"commit {len(self.paths)} file(s): {self.message.splitlines()[0]}"

    def details(self) -> str:
        return "files: " + ", ".join(self.paths) + "\n\n" + self.message

    def data(self) -> dict[str, Any]:
        return {
            "action": "commit",
            "paths": list(self.paths),
            "message": self.message,
            "parent": self.parent,
        }

    def apply(self, state: RunState) -> Outcome:
        sha = self.repo.commit_paths(list(self.paths), self.message)
        return Outcome(f"committed {sha[:12]}", RunState(commit=sha))

    def undo(self) -> None:
        self.repo.reset_soft_keep_files(self.parent, list(self.paths))


@dataclass(frozen=True)
class TagAction:
    repo: GitRepo = field(repr=False)
    name: str
    message: str
    sign: bool = False
    step: str = "tag"

    def describe(self) -> str:
        return f"{'signed' if self.sign else 'annotated'} tag {self.name}"

    def details(self) -> str:
        return self.message

    def data(self) -> dict[str, Any]:
        return {"action": "tag", "name": self.name, "message": self.message, "signed": self.sign}

    def apply(self, state: RunState) -> Outcome:
        self.repo.create_tag(self.name, self.message, self.sign)
        return Outcome(f"tagged {self.name}", RunState(tag=self.name))

    def undo(self) -> None:
        self.repo.delete_tag(self.name)


@dataclass(frozen=True)
class PushAction:
    repo: GitRepo = field(repr=False)
    remote: str
    refspecs: tuple[str, ...]
    step: str = "push"
    publishes: tuple[str, ...] = ()  # "sha subject" of the other commits the push publishes

    def describe(self) -> str:
        return f"git push --atomic {self.remote} {' '.join(self.refspecs)}"

    def details(self) -> str:
        if not self.publishes:
            return ""
        head = f"also publishes {len(self.publishes)} commit(s) {self.remote} does not have:"
        return "\n".join((head, *(f"  {line}" for line in self.publishes)))

    def data(self) -> dict[str, Any]:
        return {"action": "push", "remote": self.remote, "refspecs": list(self.refspecs)}

    def apply(self, state: RunState) -> Outcome:
        self.repo.push(self.remote, list(self.refspecs))
        return Outcome(f"pushed {', '.join(self.refspecs)} to {self.remote}")


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


def clone(url: str, dest: Path, token: str | None = None) -> None:
    """Clone `url` into `dest` (used by rehearsals and tests to get a working copy)."""
    run_git("clone", "-q", url, str(dest), cwd=dest.parent, env=auth_environment(url, token))
