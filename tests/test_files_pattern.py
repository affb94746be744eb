"""The pattern editor: a version found by the text around it, or a whole-file version."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_tool.errors import FileEditError
from release_tool.files import editor_for
from release_tool.files.pattern import PatternEditor
from release_tool.versions import parse_version

NEW = parse_version("5.3.0rc1")


def test_a_name_does_not_match_inside_a_longer_name() -> None:
    text = "python_version='3.11'\nsetup(version='5.2.0', target-version='3.8')\n"
    editor = PatternEditor("version='{version}'")
    [found] = editor.read(text, "setup.py")
    assert (found.text, found.line) == ("5.2.0", 2)
    assert editor.write(text, "setup.py", NEW) == text.replace("'5.2.0'", "'5.3.0rc1'")


def test_setup_cfg_line_without_quotes_and_crlf() -> None:
    text = "[metadata]\r\nname = x\r\nversion = 5.2.0\r\n[options]\r\npython_requires = >=3.11\r\n"
    edited = editor_for("pattern", search="version = {version}").write(text, "setup.cfg", NEW)
    assert edited == text.replace("5.2.0", "5.3.0rc1")


def test_semver_spelling() -> None:
    text = 'export const VERSION = "5.2.0";'
    editor = PatternEditor('VERSION = "{version}"', semver=True)
    assert editor.write(text, "v.ts", NEW) == 'export const VERSION = "5.3.0-rc.1";'


@pytest.mark.parametrize("text", ["5.2.0", "5.2.0\n", "\n  5.2.0  \r\n\n"])
def test_whole_file_keeps_the_space_around_the_version(text: str) -> None:
    editor = PatternEditor(None)
    [found] = editor.read(text, "VERSION")
    assert found.where == "whole file"
    assert editor.write(text, "VERSION", NEW) == text.replace("5.2.0", "5.3.0rc1")


@pytest.mark.parametrize("text", ["", "version: 5.2.0\n", "5.2.0\n5.2.1\n"])
def test_whole_file_with_more_than_a_version_is_refused(text: str) -> None:
    with pytest.raises(FileEditError, match="VERSION: expected the file to hold only the version"):
        PatternEditor(None).read(text, "VERSION")


def test_a_version_token_never_ends_on_punctuation() -> None:
    text = "This is release 5.2.0.\n"
    editor = PatternEditor("release {version}")
    assert editor.write(text, "README", NEW) == "This is release 5.3.0rc1.\n"


@given(
    before=st.text(alphabet="abc =:'\"\n#", max_size=30),
    after=st.text(alphabet="abc =:'\"\n#", max_size=30),
)
def test_only_the_version_changes(before: str, after: str) -> None:
    """Whatever surrounds the one located version, every other character is kept."""
    text = f"{before}\n__v__ = '5.2.0'\n{after}"
    edited = PatternEditor("__v__ = '{version}'").write(text, "f.py", NEW)
    assert edited == f"{before}\n__v__ = '5.3.0rc1'\n{after}"
