"""`.git/release-tool.lock`: one release at a time per repository, and its crash journal.

A run takes the lock before it applies anything, writing into it the local state before it
(`PreImage`: HEAD, the files it will edit, the tags it will make). A run that ends, well or
badly, removes it; a run killed outright (SIGKILL, power loss) — or one that ends unsettled
(`errors.Unfinished`: its push's fate unknown, its rollback cut short) — leaves it, and the
next plan's `recover` step reads the journal to finish or roll back what that run left.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from release_tool.errors import UsageError
from release_tool.git_repo import GitRepo


def _hostname() -> str:
    import socket  # only the lock needs it, and a dry run takes no lock

    return socket.gethostname()


class PreImage(NamedTuple):
    """The local state before a run touched it: what a crashed run is rolled back to (the
    journal's fields are written one by one by `ReleaseLock.acquire`)."""

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
        if pid == os.getpid():  # this process wrote it, and holds it only while a run is on
            return str(self.path) not in _HELD
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
            _HELD.add(str(self.path))
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise self.busy(self.journal() or {}) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        _HELD.add(str(self.path))

    def release(self) -> None:
        self.path.unlink(missing_ok=True)
        _HELD.discard(str(self.path))

    def leave(self) -> None:
        """Stop holding the lock but leave it, journal and all, for the next run to recover
        (a run that ends unsettled)."""
        _HELD.discard(str(self.path))


#: The locks this process holds now (a journal with this pid that is not here is abandoned).
_HELD: set[str] = set()


def journal_tags(data: Mapping[str, object]) -> tuple[str, ...]:
    """The tags a journal says its run may have created (older journals: one `tag`)."""
    tags = data.get("tags", [data.get("tag")])
    return tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
