"""Every local git operation, and the only module that imports GitPython.

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
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from release_tool.errors import ReleaseError, StepFailed, UsageError
from release_tool.files.write import write_text_atomically
from release_tool.plan import Outcome

if TYPE_CHECKING:
    from release_tool.example import ExampleRepo


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
    """A working copy of the released library."""

    def __init__(self, root: Path, token: str | None = None) -> None:
        import git  # deferred: GitPython costs start-up time `--help` should not pay

        try:
            self._repo = git.Repo(root, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise UsageError(
                f"{root} is not a git repository", "run in the library's repository, or pass -C DIR"
            ) from None
        self.root = Path(self._repo.working_tree_dir or root)
        self._token = token

    # -- plumbing ---------------------------------------------------------------------------

    def _git(self, *args: str, remote_url: str | None = None) -> str:
        import git

        env = auth_environment(remote_url, self._token) if remote_url else {}
        try:
            with self._repo.git.custom_environment(**env):
                return str(self._repo.git.execute(["git", *args]))
        except git.GitCommandError as exc:
            stderr = str(exc.stderr or "").strip().removeprefix("stderr:").strip(" '\n")
            raise ReleaseError(
                f"git {args[0]} failed: {stderr.splitlines()[-1] if stderr else exc}",
                "see git's message above",
            ) from None

    # -- reads ------------------------------------------------------------------------------

    def head_sha(self) -> str:
        return self._repo.head.commit.hexsha

    def current_branch(self) -> str | None:
        return None if self._repo.head.is_detached else self._repo.active_branch.name

    def dirty_paths(self) -> list[str]:
        """Tracked files with changes, staged or not (untracked files do not block a release)."""
        out = self._git("status", "--porcelain", "--untracked-files=no")
        return [line[3:] for line in out.splitlines() if line.strip()]

    def local_tags(self) -> dict[str, str]:
        """Tag name → the commit it points at (annotated tags peeled)."""
        out = self._git(
            "for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname)", "refs/tags"
        )
        tags = {}
        for line in out.splitlines():
            name, sha, peeled = [*line.split(" "), "", ""][:3]
            tags[name] = peeled or sha
        return tags

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
        url = self.remote_url(remote)
        try:
            out = self._git("ls-remote", "--heads", "--tags", remote, remote_url=url)
        except ReleaseError as exc:
            raise ReleaseError(
                f"remote {remote!r} is unreachable: {exc.message}",
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

    def config_value(self, key: str) -> str | None:
        try:
            return self._git("config", "--get", key) or None
        except ReleaseError:
            return None

    def read_file_at(self, rev: str, path: str) -> str:
        return self._git("show", f"{rev}:{path}")

    # -- writes (used by the actions below) --------------------------------------------------

    def commit_paths(self, paths: list[str], message: str) -> str:
        self._git("add", "--", *paths)
        self._git("commit", "--no-verify", "-m", message, "--", *paths)
        return self.head_sha()

    def reset_soft_keep_files(self, sha: str, paths: list[str]) -> None:
        """Move the branch back to `sha` and unstage `paths` (their files are restored apart)."""
        self._git("reset", "--soft", sha)
        self._git("reset", "-q", sha, "--", *paths)

    def create_tag(self, name: str, message: str, sign: bool) -> None:
        self._git("tag", "-s" if sign else "-a", name, "-m", message)

    def delete_tag(self, name: str) -> None:
        self._git("tag", "-d", name)

    def push(self, remote: str, refspecs: list[str]) -> None:
        url = self.remote_url(remote)
        try:
            self._git("push", "--atomic", "--porcelain", remote, *refspecs, remote_url=url)
        except ReleaseError as exc:
            raise StepFailed(
                f"push to {remote!r} failed: {exc.message}",
                "fix the cause and run the same command again",
            ) from None


# --- the release lock ----------------------------------------------------------------------


@dataclass(frozen=True)
class PreImage:
    """The local state before a run touched it: what a crashed run is rolled back to."""

    head: str
    files: Mapping[str, str]  # relpath → text before the run
    tag: str | None


class ReleaseLock:
    """`.git/release-tool.lock`: one release at a time per repository, and a crash journal.

    The lock holds the pid of the run and the pre-image of the local state. A run that ends,
    well or badly, removes it; one killed outright (SIGKILL, power loss) leaves it, and the
    next run finds a dead pid and calls `recover`: if the push reached the remote, nothing
    local needs undoing; if it did not, the files, the branch and the tag go back to the
    pre-image, so the same command then starts the release afresh.
    """

    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self.path = Path(repo._git("rev-parse", "--absolute-git-dir")) / "release-tool.lock"

    def held_by(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"pid": 0, "host": "", "started": "?"}  # unreadable: treat as stale
        return data if isinstance(data, dict) else {"pid": 0}

    def is_stale(self, data: Mapping[str, object]) -> bool:
        pid = data.get("pid")
        if data.get("host") not in ("", socket.gethostname()) or not isinstance(pid, int):
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

    def acquire(self, preimage: PreImage) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "head": preimage.head,
            "tag": preimage.tag,
            "files": dict(preimage.files),
        }
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            data = self.held_by() or {}
            raise UsageError(
                f"another release is running in this repository (pid {data.get('pid')}, "
                f"since {data.get('started')})",
                f"wait for it to finish; if none is running, run the same command again "
                f"(an interrupted run is recovered) or remove {self.path}",
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)

    def recover(self, remote: str) -> str | None:
        """Undo what a killed run left unpushed; returns what was done, or None if no crash."""
        data = self.held_by()
        if data is None:
            return None
        if not self.is_stale(data):
            raise UsageError(
                f"another release is running in this repository (pid {data.get('pid')}, "
                f"since {data.get('started')})",
                f"wait for it to finish, or remove {self.path} if none is running",
            )
        tag = data.get("tag")
        local_tag = self.repo.local_tags().get(tag) if isinstance(tag, str) else None
        if local_tag is not None:
            remote_tags = self.repo.ls_remote(remote).tags  # unreachable → we cannot tell
            if remote_tags.get(str(tag)) == local_tag:
                self.release()
                return f"an interrupted release had pushed {tag}: finishing it"
        head, files = data.get("head"), data.get("files")
        if isinstance(local_tag, str):
            self.repo.delete_tag(str(tag))
        if isinstance(files, dict) and isinstance(head, str):
            if self.repo.head_sha() != head:
                self.repo.reset_soft_keep_files(head, list(files))
            elif files:
                self.repo._git("reset", "-q", head, "--", *files)
            for relpath, text in files.items():
                write_text_atomically(self.repo.root / relpath, str(text))
        self.release()
        return (
            f"an interrupted release (pid {data.get('pid')}, {data.get('started')}) was "
            "rolled back: its unpushed local changes are undone"
        )


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

    def apply(self) -> Outcome:
        sha = self.repo.commit_paths(list(self.paths), self.message)
        return Outcome(f"committed {sha[:12]}", {"commit": sha})

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

    def apply(self) -> Outcome:
        self.repo.create_tag(self.name, self.message, self.sign)
        return Outcome(f"tagged {self.name}", {"tag": self.name})

    def undo(self) -> None:
        self.repo.delete_tag(self.name)


@dataclass(frozen=True)
class PushAction:
    repo: GitRepo = field(repr=False)
    remote: str
    refspecs: tuple[str, ...]
    step: str = "push"

    def describe(self) -> str:
        return f"git push --atomic {self.remote} {' '.join(self.refspecs)}"

    def details(self) -> str:
        return ""

    def apply(self) -> Outcome:
        self.repo.push(self.remote, list(self.refspecs))
        return Outcome(f"pushed {', '.join(self.refspecs)} to {self.remote}")


# --- building repositories (the example pair, test fixtures) --------------------------------


def run_git(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run git outside a GitRepo (building repositories); errors carry git's own message."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise ReleaseError(f"git {args[0]} failed: {result.stderr.strip()}", "see git's message")
    return result.stdout.strip()


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
    with tempfile.TemporaryDirectory(prefix="release-tool-") as tmp:
        yield Path(tmp)


def clone(url: str, dest: Path, token: str | None = None) -> None:
    """Clone `url` into `dest` (used by rehearsals and tests to get a working copy)."""
    run_git("clone", "-q", url, str(dest), cwd=dest.parent, env=auth_environment(url, token))


def open_repo(root: Path, token: str | None = None) -> GitRepo:
    return GitRepo(root, token)
