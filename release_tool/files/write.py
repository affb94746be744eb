"""The file-edit action: a whole new text for one file, shown as a diff, undoable.

Texts are read and written as UTF-8 bytes without newline translation, so CRLF files, a missing
final newline and every other byte the editor did not touch come back exactly as they were.
`write_bytes_atomically` (and its text form) is the tool's one atomic file writer.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_tool.plan import Outcome, RunState


def read_text(path: Path) -> str:
    """A file's text exactly as stored (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def write_text_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` as UTF-8 in one rename (see `write_bytes_atomically`)."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace `path` in one rename, so a crash never leaves half a file; folders are created.

    The data reaches the disk before the rename. An existing file keeps its permission bits; a
    new one gets 0644 (mkstemp's 0600 would hide an ordinary file from the group).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # only a run that writes pays for it (it imports random)

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unified_diff(relpath: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{relpath}",
        tofile=f"b/{relpath}",
    )
    # A last line without a newline would glue onto the next diff line: mark it as git does.
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


@dataclass(frozen=True)
class WriteFileAction:
    """Give `path` (shown as `relpath`) the text `new`; `old` is what an undo puts back."""

    path: Path
    relpath: str
    old: str
    new: str
    summary: str  # e.g. "5.2.0 → 5.3.0"
    step: str = "bump"
    old_version: str | None = None  # as the file spelled it (None: a changelog stamp)
    new_version: str | None = None

    def describe(self) -> str:
        return f"edit {self.relpath}: {self.summary}"

    def details(self) -> str:
        return unified_diff(self.relpath, self.old, self.new)

    def data(self) -> dict[str, Any]:
        return {
            "action": "edit",
            "path": self.relpath,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "diff": self.details(),
        }

    def apply(self, state: RunState) -> Outcome:
        write_text_atomically(self.path, self.new)
        return Outcome(f"edited {self.relpath}")

    def undo(self) -> None:
        write_text_atomically(self.path, self.old)
