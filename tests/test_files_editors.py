"""What every editor promises: write then read gives the new version, and only its lines change."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_tool.files import editor_for
from release_tool.versions import Version, parse_file_version

FIXTURES = Path(__file__).parent / "fixtures" / "files"

# (kind, fixture) for every golden input.
INPUTS = [
    ("python", "edx_proctoring_init.py.txt"),
    ("python", "edx_proctoring_init_2019.py.txt"),
    ("python", "double_quotes.py.txt"),
    ("package_json", "package_two_comments.json"),
    ("npm_lockfile", "package-lock-v3.json"),
    ("npm_lockfile", "npm-shrinkwrap-v1.json"),
    ("npm_lockfile", "npm-shrinkwrap-v2.json"),
    ("pyproject", "pyproject_static.toml"),
]

numbers = st.integers(min_value=0, max_value=999)
versions = st.builds(
    Version,
    numbers,
    numbers,
    numbers,
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), numbers),
)


@given(st.sampled_from(INPUTS), versions, st.booleans())
def test_write_changes_only_the_version_lines(
    kind_and_name: tuple[str, str], new: Version, crlf: bool
) -> None:
    kind, name = kind_and_name
    text = (FIXTURES / name).read_bytes().decode("utf-8")
    if crlf:
        text = text.replace("\n", "\r\n")
    editor = editor_for(kind)
    before = editor.read(text, name)

    written = editor.write(text, name, new)

    after = editor.read(written, name)
    assert [(f.where, f.line) for f in after] == [(f.where, f.line) for f in before]
    assert all(parse_file_version(f.text, kind) == new for f in after)
    spelled = new.semver if kind in ("package_json", "npm_lockfile") else new.pep440
    assert all(f.text == spelled for f in after)
    # Every other line is byte for byte the same, line endings included.
    old_lines, new_lines = text.splitlines(keepends=True), written.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    changed = {n for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=True), 1) if a != b}
    assert changed <= {f.line for f in before}
    # And on a changed line, only the version token differs.
    for found in before:
        old_line, new_line = old_lines[found.line - 1], new_lines[found.line - 1]
        assert old_line.replace(found.text, spelled, 1) == new_line


@pytest.mark.parametrize("kind", ["python", "package_json", "npm_lockfile", "pyproject"])
def test_every_kind_has_an_editor(kind: str) -> None:
    editor = editor_for(kind)
    assert callable(editor.read)
    assert callable(editor.write)


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown version file kind 'setup_cfg'"):
        editor_for("setup_cfg")
