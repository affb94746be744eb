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
pattern        where a `search` template's `{version}` stands, or   `release_tool.files.pattern`
               the whole file (`VERSION`)
=============  ===================================================  ==========================

Editors change one token per location and keep every other byte: a plain JSON or TOML round
trip would lose duplicate `"//"` keys, a missing final newline, quote styles or indentation, and
the diff the maintainer reviews must show one changed token per location. (The pyproject editor
goes through tomlkit, whose round trip is byte-exact, and checks that it was.) Each location must
be found exactly once; otherwise the editor raises `FileEditError` naming the file and the
line(s).

Editors do no I/O: the caller reads the text (without newline translation) and writes it back.
"""

from __future__ import annotations

# The helpers live in the leaf module `spans` (the editors import them from there); they are
# re-exported here for callers that import them from the package.
from release_tool.files.spans import (
    Editor,
    FoundVersion,
    Span,
    exactly_one,
    found_at,
    line_of,
    replace_spans,
)

__all__ = [
    "Editor",
    "FoundVersion",
    "Span",
    "editor_for",
    "exactly_one",
    "found_at",
    "line_of",
    "replace_spans",
]


def editor_for(kind: str, *, search: str | None = None, semver: bool = False) -> Editor:
    """The editor for a version-file kind: 'python', 'package_json', 'npm_lockfile', 'pyproject',
    or 'pattern' (`search` is its template, None for a whole-file version; `semver` its spelling).
    """
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
    if kind == "pattern":
        from release_tool.files.pattern import PatternEditor

        return PatternEditor(search, semver=semver)
    raise ValueError(f"unknown version file kind {kind!r}")
