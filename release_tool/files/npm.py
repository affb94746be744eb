"""The `package_json` and `npm_lockfile` editors: npm's `"version"` keys, in SemVer spelling.

* package.json: the top-level `"version"` only - never one nested in `"dependencies"` or any
  other object.
* package-lock.json / npm-shrinkwrap.json: the top-level `"version"`, and `packages[""].version`
  when the lockfile has a `"packages"` object (lockfile v2 and v3; v1 has none). A
  dependency's `"version"` never changes, even when it carries the same string as the package.

One pass over the text locates the positions and validates the JSON. The root object is walked
member by member, and so are `packages` and `packages[""]`; every other value is handed to the
standard library's C parser with a hook that drops each object as soon as it is parsed, so a
50 MB lockfile is checked without its object tree ever being built. Malformed JSON is reported
with its line and column, as `json` says it. Only the characters of the version string change:
duplicate `"//"` comment keys, 2- or 4-space indentation, key order and a missing final newline
all survive, which a parse-and-dump round trip would not guarantee.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from json.decoder import JSONDecodeError
from typing import Any

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

_TOP_LEVEL = "version"
_ROOT_PACKAGE = 'packages[""].version'
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Strings (skipped whole) and brackets: enough to measure nesting on the error path.
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _discard(pairs: list[tuple[str, Any]]) -> None:
    """An object parsed and dropped at once: validation without an object tree."""
    return None


_SKIP = json.JSONDecoder(object_pairs_hook=_discard)
# The standard library's string scanner (C): a key, escapes decoded, as `json` reads it.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

# (start, end, is a string) of each "version" value found, by location name.
_Found = dict[str, list[tuple[int, int, bool]]]


class NpmEditor:
    """package.json (`lockfile=False`) or an npm lockfile (`lockfile=True`)."""

    def __init__(self, lockfile: bool) -> None:
        self.lockfile = lockfile

    def read(self, text: str, path: str) -> list[FoundVersion]:
        return found_at(text, _spans(text, path, self.lockfile))

    def write(self, text: str, path: str, new: Version) -> str:
        return replace_spans(text, _spans(text, path, self.lockfile), new.semver)


# Planning reads a file (preflight) and then edits it (bump): the second call finds the
# positions of the same text without a second pass.
@functools.lru_cache(maxsize=4)
def _spans(text: str, path: str, lockfile: bool) -> tuple[Span, ...]:
    found, has_packages = _locate(text, path)
    spans = [_span(text, path, found.get(_TOP_LEVEL, []), _TOP_LEVEL)]
    if lockfile and has_packages:
        spans.append(_span(text, path, found.get(_ROOT_PACKAGE, []), _ROOT_PACKAGE))
    return tuple(spans)


def _span(text: str, path: str, values: list[tuple[int, int, bool]], name: str) -> Span:
    label = f'top-level "{name}"' if name == _TOP_LEVEL else name
    exactly_one(
        path,
        [line_of(text, start) for start, _, _ in values],
        repeated=f"{label} appears",
        missing=f"no {label}",
    )
    start, end, is_string = values[0]
    if not is_string:
        raise FileEditError(
            f"{path}: {label} on line {line_of(text, start)} is not a string",
            'write it as "version": "X.Y.Z"',
        )
    return Span(name, start + 1, end - 1)  # inside the quotes


def _locate(text: str, path: str) -> tuple[_Found, bool]:
    """The version values of the root object and of packages[""], and whether the (last)
    `packages` member is an object; a FileEditError for anything that is not valid JSON."""
    try:
        return _walk(text)
    except _NotAnObject:
        raise FileEditError(
            f"{path}: the top level is not a JSON object", "is this an npm file?"
        ) from None
    except JSONDecodeError as exc:
        raise FileEditError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            "fix the JSON syntax error it names",
        ) from None
    except RecursionError:
        depth, offset = _deepest(text)
        raise FileEditError(
            f"{path}: JSON nested too deeply to read ({depth} levels at line "
            f"{line_of(text, offset)})",
            "is this an npm file? npm never nests a lockfile that deep",
        ) from None


class _NotAnObject(Exception):
    """Valid JSON whose top level is not an object."""


def _walk(text: str) -> tuple[_Found, bool]:
    found: _Found = {}
    has_packages = False

    def value(i: int) -> int:
        """Validate the value at `i` (parsed and dropped); the index after it."""
        return int(_SKIP.raw_decode(text, i)[1])

    def record(name: str, i: int) -> int:
        end = value(i)
        found.setdefault(name, []).append((i, end, text[i] == '"'))
        return end

    def root_package(key: str, i: int) -> int:
        return record(_ROOT_PACKAGE, i) if key == "version" else value(i)

    def packages(key: str, i: int) -> int:
        if key == "" and text[i : i + 1] == "{":
            return _object(text, i, root_package)
        return value(i)

    def root(key: str, i: int) -> int:
        nonlocal has_packages
        if key == "version":
            return record(_TOP_LEVEL, i)
        if key == "packages":
            has_packages = text[i : i + 1] == "{"  # json keeps the last of duplicate keys
            if has_packages:
                return _object(text, i, packages)
        return value(i)

    # npm reads a file that starts with a UTF-8 byte-order mark (it strips it): so do we,
    # and the mark stays where it is.
    start = _skip_space(text, 1 if text.startswith("\ufeff") else 0)
    if text[start : start + 1] != "{":
        value(start)  # invalid JSON is reported as such; valid JSON is not an object
        raise _NotAnObject
    end = _skip_space(text, _object(text, start, root))
    if end != len(text):
        raise JSONDecodeError("Extra data", text, end)
    return found, has_packages


def _object(text: str, i: int, member: Callable[[str, int], int]) -> int:
    """Walk the object whose `{` is at `i`, as `json` parses one: `member(key, start)` handles
    each value and returns the index after it. Returns the index after the `}`."""
    i = _skip_space(text, i + 1)
    if text[i : i + 1] == "}":
        return i + 1
    while True:
        if text[i : i + 1] != '"':
            raise JSONDecodeError("Expecting property name enclosed in double quotes", text, i)
        key, i = _scanstring(text, i + 1)  # decodes escapes: "\u0076ersion" too
        i = _skip_space(text, i)
        if text[i : i + 1] != ":":
            raise JSONDecodeError("Expecting ':' delimiter", text, i)
        i = _skip_space(text, member(key, _skip_space(text, i + 1)))
        if text[i : i + 1] == "}":
            return i + 1
        if text[i : i + 1] != ",":
            raise JSONDecodeError("Expecting ',' delimiter", text, i)
        i = _skip_space(text, i + 1)


def _skip_space(text: str, i: int) -> int:
    match = _WHITESPACE.match(text, i)
    assert match is not None  # `*` always matches
    return match.end()


def _deepest(text: str) -> tuple[int, int]:
    """The deepest nesting of brackets and where it is first reached (the error path only)."""
    depth = deepest = where = 0
    for match in _NESTING.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest, where = depth, match.start()
        elif token in ("]", "}"):
            depth -= 1
    return deepest, where
