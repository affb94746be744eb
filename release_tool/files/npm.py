"""The `package_json` and `npm_lockfile` editors: npm's `"version"` keys, in SemVer spelling.

* package.json: the top-level `"version"` only - never one nested in `"dependencies"` or any
  other object.
* package-lock.json / npm-shrinkwrap.json: the top-level `"version"`, and `packages[""].version`
  when the lockfile has a `"packages"` object (lockfile v2 and v3; v1 has none). A
  dependency's `"version"` never changes, even when it carries the same string as the package.

The file is first checked with `json.loads` (so malformed JSON is reported with its line), then
scanned by a small JSON-aware tokenizer that knows each key's path from the root. Only the
characters of the version string change: duplicate `"//"` comment keys, 2- or 4-space
indentation, key order and a missing final newline all survive, which a parse-and-dump round
trip would not guarantee.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

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

# JSON tokens: a string (escapes included), a punctuation mark, or a bare literal (number,
# true, false, null). Whitespace falls between matches. The text is known to be valid JSON.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')

# (path from the root, the name used in FoundVersion.where and in messages)
_Location = tuple[tuple[str, ...], str]
_TOP_LEVEL: _Location = (("version",), "version")
_ROOT_PACKAGE: _Location = (("packages", "", "version"), 'packages[""].version')


@dataclass(frozen=True)
class _Member:
    """An object member: the keys leading to it from the root, and its value's first token."""

    path: tuple[str | int, ...]
    value: re.Match[str]


class NpmEditor:
    """package.json (`lockfile=False`) or an npm lockfile (`lockfile=True`)."""

    def __init__(self, lockfile: bool) -> None:
        self.lockfile = lockfile

    def read(self, text: str, path: str) -> list[FoundVersion]:
        return found_at(text, self._spans(text, path))

    def write(self, text: str, path: str, new: Version) -> str:
        return replace_spans(text, self._spans(text, path), new.semver)

    def _spans(self, text: str, path: str) -> list[Span]:
        data = _load(text, path)
        locations = [_TOP_LEVEL]
        if self.lockfile and isinstance(data.get("packages"), dict):
            locations.append(_ROOT_PACKAGE)
        members = _members(text)
        return [_span(text, path, members, *location) for location in locations]


def _load(text: str, path: str) -> dict[str, object]:
    """Parse only to validate: malformed JSON must be reported, not scanned."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileEditError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            "fix the JSON syntax error it names",
        ) from None
    if not isinstance(data, dict):
        raise FileEditError(f"{path}: the top level is not a JSON object", "is this an npm file?")
    return data


def _span(
    text: str, path: str, members: list[_Member], key_path: tuple[str, ...], name: str
) -> Span:
    matches = [m.value for m in members if m.path == key_path]
    label = f'top-level "{name}"' if len(key_path) == 1 else name
    exactly_one(
        path,
        [line_of(text, value.start()) for value in matches],
        repeated=f"{label} appears",
        missing=f"no {label}",
    )
    value = matches[0]
    if not value.group().startswith('"'):
        raise FileEditError(
            f"{path}: {label} on line {line_of(text, value.start())} is not a string",
            'write it as "version": "X.Y.Z"',
        )
    # Inside the quotes.
    return Span(name, value.start() + 1, value.end() - 1)


def _members(text: str) -> list[_Member]:
    """Every object member of a valid JSON text, with its path from the root."""
    scanner = _Scanner(list(_TOKEN.finditer(text)))
    scanner.value(0, ())
    return scanner.members


class _Scanner:
    """A recursive walk over the tokens of a valid JSON text, recording object members."""

    def __init__(self, tokens: list[re.Match[str]]) -> None:
        self.tokens = tokens
        self.members: list[_Member] = []

    def value(self, i: int, path: tuple[str | int, ...]) -> int:
        """Walk the value starting at token `i`; return the index of the token after it."""
        first = self.tokens[i].group()
        if first == "{":
            return self.object(i + 1, path)
        if first == "[":
            return self.array(i + 1, path)
        return i + 1  # a string, number, true, false or null

    def object(self, i: int, path: tuple[str | int, ...]) -> int:
        while self.tokens[i].group() != "}":
            if self.tokens[i].group() == ",":
                i += 1
                continue
            key = json.loads(self.tokens[i].group())  # decodes escapes: "\u0076ersion" too
            member_path = (*path, key)
            # tokens[i + 1] is the ':'; the value starts after it.
            self.members.append(_Member(member_path, self.tokens[i + 2]))
            i = self.value(i + 2, member_path)
        return i + 1

    def array(self, i: int, path: tuple[str | int, ...]) -> int:
        index = 0
        while self.tokens[i].group() != "]":
            if self.tokens[i].group() == ",":
                i += 1
                continue
            i = self.value(i, (*path, index))
            index += 1
        return i + 1
