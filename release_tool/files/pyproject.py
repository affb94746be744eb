"""The `pyproject` editor: a static `version = "…"` in the `[project]` table of pyproject.toml.

tomlkit says what the version is (and whether it is declared `dynamic`, in which case it lives
in another file and this one must not be edited); a line scan finds where it is written, so the
edit is one token and every other byte stays as it was. A `version` in another table
(`[tool.poetry]`, `[tool.something]`) is never touched. After editing, tomlkit re-reads the new
text and checks that the only change in the data is `project.version`: the line scan is simple,
and the check makes sure that its simplicity never costs a wrong edit.
"""

from __future__ import annotations

import re
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

WHERE = "[project] version"

# `[name]` (not `[[name]]`), with a bare or quoted name: the start of a table.
_TABLE_HEADER = re.compile(
    r"""[ \t]*\[(?!\[)[ \t]*([A-Za-z0-9_.\-"' \t]+?)[ \t]*\][ \t]*(?:#.*)?"""
)
_ARRAY_HEADER = re.compile(r"""[ \t]*\[\[[ \t]*([A-Za-z0-9_.\-"' \t]+?)[ \t]*\]\][ \t]*(?:#.*)?""")
# `version = "…"` or `version = '…'`, optionally with a comment; group 1 or 2 is the version.
_VERSION_LINE = re.compile(
    r"""[ \t]*(?:version|"version"|'version')[ \t]*=[ \t]*"""
    r"""(?:"([^"\\\r\n]*)"|'([^'\r\n]*)')[ \t]*(?:#.*)?"""
)
_EDIT_HINT = 'write it as version = "X.Y.Z" directly under [project]'


class PyprojectEditor:
    """Reads and writes `[project] version`; writes the PEP 440 spelling."""

    def read(self, text: str, path: str) -> list[FoundVersion]:
        return found_at(text, [_version_span(text, path)])

    def write(self, text: str, path: str, new: Version) -> str:
        edited = replace_spans(text, [_version_span(text, path)], new.pep440)
        _check_only_version_changed(text, edited, path, new.pep440)
        return edited


def _version_span(text: str, path: str) -> Span:
    value = _declared_version(_parse(text, path), path)
    spans = _scan_project_version(text)
    exactly_one(
        path,
        [line_of(text, span.start) for span in spans],
        repeated="[project] version is written",
        missing=f"[project] version is not a simple `version = ...` line ({_EDIT_HINT})",
    )
    span = spans[0]
    if text[span.start : span.end] != value:
        raise FileEditError(
            f"{path}: could not locate [project] version reliably "
            f"(line {line_of(text, span.start)} does not hold {value!r})",
            _EDIT_HINT,
        )
    return span


def _parse(text: str, path: str) -> dict[str, Any]:
    import tomlkit  # deferred: tomlkit costs ~40 ms to import
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(text).unwrap()
    except ParseError as exc:
        raise FileEditError(
            f"{path}: not valid TOML: {exc}", "fix the syntax error it names"
        ) from None


def _declared_version(data: dict[str, Any], path: str) -> str:
    """The static `[project] version`, or the FileEditError saying why there is none."""
    project = data.get("project")
    if not isinstance(project, dict):
        raise FileEditError(
            f"{path}: no [project] table", "add one, or remove the file from version_files"
        )
    if "version" in project.get("dynamic", []):
        raise FileEditError(
            f"{path}: [project] version is dynamic: the version lives elsewhere",
            "list the file that holds it (e.g. the package's __init__.py) in version_files "
            "instead of pyproject.toml",
        )
    version = project.get("version")
    if version is None:
        raise FileEditError(f"{path}: no [project] version", f"add one: {_EDIT_HINT}")
    if not isinstance(version, str):
        raise FileEditError(f"{path}: [project] version is not a string", _EDIT_HINT)
    return version


def _scan_project_version(text: str) -> list[Span]:
    """Spans of the `version = "…"` lines that sit directly in the `[project]` table."""
    spans = []
    table: str | None = ""  # "" is the root table; None an array of tables
    multiline: str | None = None  # the delimiter of an open multi-line string
    for match in re.finditer(r"[^\n]*\n?", text):
        line = match.group().rstrip("\r\n")
        if multiline is not None:
            multiline = None if line.count(multiline) % 2 == 1 else multiline
            continue
        multiline = _opens_multiline(line)
        header = _TABLE_HEADER.fullmatch(line)
        if header:
            table = _table_name(header.group(1))
        elif _ARRAY_HEADER.fullmatch(line):
            table = None
        elif table == "project" and (version := _VERSION_LINE.fullmatch(line)):
            group = 1 if version.group(1) is not None else 2
            start = match.start() + version.start(group)
            spans.append(Span(WHERE, start, start + len(version.group(group))))
    return spans


def _opens_multiline(line: str) -> str | None:
    """The delimiter of a multi-line string this line opens and does not close, if any."""
    for delimiter in ('"""', "'''"):
        if line.count(delimiter) % 2 == 1:
            return delimiter
    return None


def _table_name(raw: str) -> str:
    """`project`, ` "project" ` and `'project'` all name the table project."""
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


def _check_only_version_changed(old_text: str, new_text: str, path: str, new: str) -> None:
    """Re-read both texts: the edit must change `project.version` and nothing else."""
    expected = _parse(old_text, path)
    expected["project"]["version"] = new
    if _parse(new_text, path) != expected:
        raise FileEditError(
            f"{path}: editing [project] version would change more than the version",
            _EDIT_HINT,
        )
