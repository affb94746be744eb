"""The `pattern` editor: a version written anywhere, found by the text around it.

A `version_files` entry `{ path = "setup.py", search = "version='{version}'" }` says where the
version stands in a file no other editor knows: `search` is the text around it, literally,
with `{version}` in the version's place. Real shapes:

* `setup.py`: `version='{version}'` (the `setup(...)` keyword argument);
* `setup.cfg`: `version = {version}` (under `[metadata]`);
* `docs/conf.py`: `release = '{version}'` (Sphinx);
* `VERSION`: no `search` at all — the whole file is the version (surrounding blank space and
  the final newline kept).

`{version}` matches a version token (a digit first, then letters, digits and `.+!_-`, never
ending on punctuation); the text around it matches exactly, character for character. Text that
starts or ends with a name does not match inside a longer name (`version='…'` is not found in
`python_version='3.11'`, nor `version = …` in `target-version = …`). The template must match
exactly once; otherwise `FileEditError` names the file and the line(s). The edit replaces the
version token and nothing else. `spelling = "semver"` writes `5.3.0-rc.1` rather than `5.3.0rc1`.
"""

from __future__ import annotations

import re

from release_tool.errors import FileEditError
from release_tool.files.spans import (
    FoundVersion,
    Span,
    exactly_one,
    found_at,
    line_of,
    replace_spans,
)
from release_tool.versions import Version

_VERSION_RE = r"[0-9](?:[0-9A-Za-z.+!_-]*[0-9A-Za-z])?"
WHOLE_FILE = "whole file"


class PatternEditor:
    """Reads and writes the version where `search` (or the whole file) says it stands."""

    def __init__(self, search: str | None, *, semver: bool = False) -> None:
        self.search = search
        self.semver = semver

    def read(self, text: str, path: str) -> list[FoundVersion]:
        return found_at(text, [self._span(text, path)])

    def write(self, text: str, path: str, new: Version) -> str:
        return replace_spans(
            text, [self._span(text, path)], new.semver if self.semver else new.pep440
        )

    def _span(self, text: str, path: str) -> Span:
        if self.search is None:
            return _whole_file(text, path)
        return _searched(text, path, self.search)


def _whole_file(text: str, path: str) -> Span:
    stripped = text.strip()
    start = text.index(stripped) if stripped else 0
    if not re.fullmatch(_VERSION_RE, stripped):
        first = stripped.splitlines()[0] if stripped else ""
        raise FileEditError(
            f"{path}: expected the file to hold only the version, found {first[:60]!r}",
            f'give a search template: {{ path = "{path}", search = "... {{version}} ..." }}',
        )
    return Span(WHOLE_FILE, start, start + len(stripped))


def search_regex(search: str) -> re.Pattern[str]:
    """The regular expression of a `search` template (exactly one `{version}` in it)."""
    before, _, after = search.partition("{version}")
    guard_after = r"(?![\w-])" if _wordy(after[-1:]) else ""
    return re.compile(
        f"{_guard_before(before)}{re.escape(before)}(?P<version>{_VERSION_RE})"
        f"{re.escape(after)}{guard_after}"
    )


def _wordy(char: str) -> bool:
    return char.isalnum() or char == "_"


def _guard_before(before: str) -> str:
    if not before:
        return r"(?<![\w.+!-])"  # not the tail of a longer token
    return r"(?<![\w-])" if _wordy(before[0]) else ""


def _searched(text: str, path: str, search: str) -> Span:
    matches = list(search_regex(search).finditer(text))
    if not matches:
        _explain_missing(text, path, search)
    lines = [line_of(text, m.start("version")) for m in matches]
    exactly_one(path, lines, repeated=f"{search!r} matches", missing=f"{search!r} not found")
    match = matches[0]
    return Span(search, match.start("version"), match.end("version"))


def _explain_missing(text: str, path: str, search: str) -> None:
    """A sharper error when the text before `{version}` is there but no version follows it."""
    before = search.partition("{version}")[0]
    if not before.strip():
        return
    found = re.search(_guard_before(before) + re.escape(before), text)
    if found is None:
        return
    start = text.rfind("\n", 0, found.start()) + 1
    line = text[start:].split("\n", 1)[0].strip()
    raise FileEditError(
        f"{path}: line {line_of(text, found.start())} ({line[:80]!r}) has no version where "
        f"{search!r} has {{version}}",
        "write the version there literally, or point search at the line that holds it",
    )
