"""Version-file editors: find the version in a file's text and change only that token.

One editor per kind of version file (the `kind` of a `version_files` entry in the config):

=============  ===================================================  ==========================
kind           locations                                            module
=============  ===================================================  ==========================
python         `__version__ = '…'` at module level                  `release_tool.files.python`
package_json   the top-level `"version"`                            `release_tool.files.npm`
npm_lockfile   top-level `"version"`, and `packages[""].version`    `release_tool.files.npm`
               in lockfile v2/v3
pyproject      `[project] version` (static only)                    `release_tool.files.pyproject`
=============  ===================================================  ==========================

Editors work on text, not on parsed-and-dumped data: a JSON or TOML round trip would lose
duplicate `"//"` keys, a missing final newline, quote styles or indentation, and the diff the
maintainer reviews must show one changed token per location. Each location must be found exactly
once; otherwise the editor raises `FileEditError` naming the file and the line(s).

Editors do no I/O: the caller reads the text (without newline translation) and writes it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from release_tool.errors import FileEditError
from release_tool.versions import Version

__all__ = ["Editor", "FoundVersion", "editor_for"]


@dataclass(frozen=True)
class FoundVersion:
    """One place a version file states the version.

    `where` names the location in the file's own terms (`__version__`, `version`,
    `packages[""].version`, `[project] version`); `text` is the version exactly as written
    there, without quotes; `line` is 1-based.
    """

    where: str
    text: str
    line: int


class Editor(Protocol):
    """Reads and rewrites the version locations of one kind of file."""

    def read(self, text: str, path: str) -> list[FoundVersion]:
        """Every version location of the file, in file order. `path` is for error messages."""
        ...

    def write(self, text: str, path: str, new: Version) -> str:
        """The text with every version location set to `new`, and no other byte changed."""
        ...


def editor_for(kind: str) -> Editor:
    """The editor for a version-file kind: 'python', 'package_json', 'npm_lockfile', 'pyproject'."""
    # Imported here so that a project with only a Python version file never imports tomlkit.
    if kind == "python":
        from release_tool.files.python import PythonEditor

        return PythonEditor()
    if kind in ("package_json", "npm_lockfile"):
        from release_tool.files.npm import NpmEditor

        return NpmEditor(lockfile=kind == "npm_lockfile")
    if kind == "pyproject":
        from release_tool.files.pyproject import PyprojectEditor

        return PyprojectEditor()
    raise ValueError(f"unknown version file kind {kind!r}")


# --- helpers shared by the editors -------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A located version token: `text[start:end]` is the version, without its quotes."""

    where: str
    start: int
    end: int


def line_of(text: str, offset: int) -> int:
    """The 1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def found_at(text: str, spans: Sequence[Span]) -> list[FoundVersion]:
    """The FoundVersion of each span."""
    return [FoundVersion(s.where, text[s.start : s.end], line_of(text, s.start)) for s in spans]


def replace_spans(text: str, spans: Sequence[Span], new: str) -> str:
    """`text` with every span replaced by `new`, and every other character kept."""
    pieces = []
    previous = 0
    for span in sorted(spans, key=lambda s: s.start):
        pieces += [text[previous : span.start], new]
        previous = span.end
    pieces.append(text[previous:])
    return "".join(pieces)


def exactly_one(path: str, lines: list[int], *, repeated: str, missing: str) -> None:
    """Raise the FileEditError for a location found on each of `lines`, unless exactly once.

    `repeated` says what happened more than once ('__version__ is assigned'), `missing` what
    is absent ('no top-level "version"').
    """
    if not lines:
        raise FileEditError(f"{path}: {missing}", f"add it, or remove {path} from version_files")
    if len(lines) > 1:
        times = "twice" if len(lines) == 2 else f"{len(lines)} times"
        listed = ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"
        raise FileEditError(
            f"{path}: {repeated} {times} (lines {listed})",
            "keep exactly one, so that it is clear which one is the version",
        )
