"""The file-edit action: a whole new text for one file, shown as a diff, undoable.

Texts are read and written as UTF-8 bytes without newline translation, so CRLF files, a missing
final newline and every other byte the editor did not touch come back exactly as they were.
`write_bytes_atomically` (and its text form) is the tool's one atomic file writer.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release_tool.plan import Outcome, RunState


def write_text_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` as UTF-8 in one rename (see `write_bytes_atomically`)."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Replace `path` in one rename, so a crash never leaves half a file; folders are created.

    The data reaches the disk before the rename. An existing file keeps its permission bits; a
    new one gets 0644 (mkstemp's 0600 would hide an ordinary file from the group). A symlink
    is followed: the file it points at is replaced, and the link stays a link (planning has
    checked that it points inside the repository).
    """
    if path.is_symlink():
        path = path.resolve()
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


def unified_diff(relpath: str, old: str, new: str, context: int = 3) -> str:
    """The unified diff of two texts, as `git diff` shows it.

    Only the lines between the first and the last difference (and `context` lines around
    them) are compared line by line: the lines before and after are found equal in large
    blocks, so a version edit in a 50 MB lockfile costs milliseconds, not a diff of millions
    of lines.
    """
    # More lines than the context: a change inside a run of equal lines may be placed
    # (by difflib) a few lines from where the first and last differing characters are.
    start, old_end, new_end = _changed_lines(old, new, context + 16)
    lines = difflib.unified_diff(
        old[start:old_end].splitlines(keepends=True),
        new[start:new_end].splitlines(keepends=True),
        fromfile=f"a/{relpath}",
        tofile=f"b/{relpath}",
        n=context,
    )
    offset = old.count("\n", 0, start)  # the lines skipped before the compared part
    # A last line without a newline would glue onto the next diff line: mark it as git does.
    return "".join(
        _moved(line, offset)
        if line.startswith("@@")
        else line
        if line.endswith("\n")
        else line + "\n\\ No newline at end of file\n"
        for line in lines
    )


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _moved(header: str, offset: int) -> str:
    """A hunk header with its line numbers moved down by `offset` lines."""
    if not offset:
        return header
    return _HUNK.sub(
        lambda m: f"@@ -{int(m[1]) + offset}{m[2] or ''} +{int(m[3]) + offset}{m[4] or ''} @@",
        header,
    )


def _changed_lines(old: str, new: str, margin: int) -> tuple[int, int, int]:
    """Where the two texts' differing lines, with `margin` lines either side, start (the
    same offset in both: what comes before is equal) and end in `old` and in `new`."""
    shorter = min(len(old), len(new))
    prefix = _common_prefix(old, new, shorter)
    # The common suffix, not overlapping the common prefix.
    suffix = _common_suffix(old, new, shorter - prefix)
    start = old.rfind("\n", 0, prefix) + 1  # the start of the first differing line
    for _ in range(margin):
        if start == 0:
            break
        start = old.rfind("\n", 0, start - 1) + 1
    end = len(old) - suffix  # the end of the last differing line, then `margin` more
    for _ in range(margin + 1):
        found = old.find("\n", end)
        end = len(old) if found < 0 else found + 1
        if end == len(old):
            break
    return start, end, len(new) - (len(old) - end)


def _common_prefix(a: str, b: str, limit: int) -> int:
    """The length of the common prefix of `a` and `b` (at most `limit`), compared in blocks."""
    block = 1 << 16
    i = 0
    while i + block <= limit and a[i : i + block] == b[i : i + block]:
        i += block
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the common suffix of `a` and `b` (at most `limit`), compared in blocks."""
    block = 1 << 16
    i = 0
    la, lb = len(a), len(b)
    while i + block <= limit and a[la - i - block : la - i] == b[lb - i - block : lb - i]:
        i += block
    while i < limit and a[la - i - 1] == b[lb - i - 1]:
        i += 1
    return i


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
        """Put the old text back (nothing to do when the edit never reached the file)."""
        try:
            if self.path.read_bytes() == self.old.encode("utf-8"):
                return
        except OSError:
            pass
        write_text_atomically(self.path, self.old)
