"""The `pyproject` editor: a static `version = "…"` in the `[project]` table of pyproject.toml.

tomlkit does all of it. It parses the file (a style-preserving parser: `tomlkit.dumps` of an
untouched document gives back the text byte for byte), says what the version is and whether it
is declared `dynamic` (then it lives in another file and this one must not be edited), finds the
`version` item of the `[project]` table, and the edit replaces that one string item - same quote
style, same comment and spacing around it - before `tomlkit.dumps` writes the document out. A
`version` in another table (`[tool.poetry]`, `[tool.something]`) is never touched.

Where the version is written (its line, for messages and the plan) is found from the document
too: dumped with a marker in place of the version, the marker's offset is the version's offset
in the original text, since nothing before it changes. After editing, the new text must equal
the old one with that token replaced, and tomlkit re-reads it to check that the only change in
the data is `project.version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from release_tool.errors import FileEditError
from release_tool.files.spans import (
    FoundVersion,
    Span,
    found_at,
    line_of,
    replace_spans,
)
from release_tool.versions import Version

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.items import String, Table

WHERE = "[project] version"
_EDIT_HINT = 'write it as version = "X.Y.Z" directly under [project]'


class PyprojectEditor:
    """Reads and writes `[project] version`; writes the PEP 440 spelling."""

    def read(self, text: str, path: str) -> list[FoundVersion]:
        return found_at(text, [_locate(text, path).span])

    def write(self, text: str, path: str, new: Version) -> str:
        import tomlkit
        from tomlkit.items import String

        located = _locate(text, path)
        located.table["version"] = String.from_raw(new.pep440, located.item.type)
        edited = tomlkit.dumps(located.document)
        if edited != replace_spans(text, [located.span], new.pep440):
            raise FileEditError(
                f"{path}: editing [project] version would change more than the version",
                _EDIT_HINT,
            )
        _check_only_version_changed(text, edited, path, new.pep440)
        return edited


@dataclass(frozen=True)
class _Located:
    """The parsed file, its `[project]` table, the version item and where its text is."""

    document: TOMLDocument
    table: Table
    item: String
    span: Span


def _locate(text: str, path: str) -> _Located:
    import tomlkit
    from tomlkit.items import String

    document = _parse_document(text, path)
    value = _declared_version(document.unwrap(), path)
    found = _version_item(document)
    if found is None:
        raise FileEditError(
            f"{path}: [project] version is not a simple `version = ...` line ({_EDIT_HINT})",
            f"{_EDIT_HINT}, or remove {path} from version_files",
        )
    table, item = found
    # Dump the document with a marker in the version's place: everything before the marker is
    # the original text, so the marker's offset is the version's offset.
    marker = _marker(text)
    table["version"] = String.from_raw(marker, item.type)
    start = tomlkit.dumps(document).index(marker)
    table["version"] = item
    written = item.as_string()[len(item.type.value) : -len(item.type.value)]
    span = Span(WHERE, start, start + len(written))
    if written != value or text[span.start : span.end] != value:
        raise FileEditError(
            f"{path}: could not locate [project] version reliably "
            f"(line {line_of(text, span.start)} does not hold {value!r})",
            _EDIT_HINT,
        )
    return _Located(document, table, item, span)


def _version_item(document: TOMLDocument) -> tuple[Table, String] | None:
    """The `[project]` header table and its `version = "…"` item, if written that way.

    Not a `project.version = ...` dotted key, an inline `project = {...}` table, a dotted
    `version` key or a multi-line string: those are refused rather than rewritten.
    """
    from tomlkit.items import String, Table

    for key, table in document.body:
        if key is None or key.key != "project" or key.is_dotted():
            continue
        if not isinstance(table, Table) or table.is_super_table():
            continue
        for inner, item in table.value.body:
            if inner is None or inner.key != "version" or inner.is_dotted():
                continue
            if isinstance(item, String) and not item.type.is_multiline():
                return table, item
    return None


def _marker(text: str) -> str:
    """A string that does not occur in `text`."""
    marker = "release-tool-version-marker"
    while marker in text:
        marker += "-x"
    return marker


def _parse_document(text: str, path: str) -> TOMLDocument:
    import tomlkit  # deferred: tomlkit costs ~40 ms to import
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise FileEditError(
            f"{path}: not valid TOML: {exc}", "fix the syntax error it names"
        ) from None


def _parse(text: str, path: str) -> dict[str, Any]:
    return _parse_document(text, path).unwrap()


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


def _check_only_version_changed(old_text: str, new_text: str, path: str, new: str) -> None:
    """Re-read both texts: the edit must change `project.version` and nothing else."""
    expected = _parse(old_text, path)
    expected["project"]["version"] = new
    if _parse(new_text, path) != expected:
        raise FileEditError(
            f"{path}: editing [project] version would change more than the version",
            _EDIT_HINT,
        )
