"""The value types and text helpers every version-file editor shares.

A leaf module: the editors (`python`, `npm`, `pyproject`) import from here, and
`release_tool.files` imports the editors (through `editor_for`) and re-exports these names, so
there is no import cycle between the package and its editors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from release_tool.errors import FileEditError
from release_tool.versions import Version

__all__ = [
    "Editor",
    "FoundVersion",
    "Span",
    "exactly_one",
    "found_at",
    "line_of",
    "replace_spans",
]


class FoundVersion(NamedTuple):
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


class Span(NamedTuple):
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
