"""The `pyproject` editor: a static `[project] version`, and nothing else, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_tool.errors import FileEditError
from release_tool.files import FoundVersion, editor_for
from release_tool.versions import Version

FIXTURES = Path(__file__).parent / "fixtures" / "files"
PATH = "pyproject.toml"
editor = editor_for("pyproject")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def test_golden() -> None:
    # Single quotes and a comment; a lookalike line inside a multi-line string; the same
    # version string in [tool.poetry] and [[tool.other]] - none of which may change.
    text = fixture("pyproject_static.toml")
    assert editor.read(text, PATH) == [FoundVersion("[project] version", "5.2.0", 7)]
    assert editor.write(text, PATH, Version(6, 0, 0)) == fixture("pyproject_static.expected.toml")


def test_crlf_is_kept() -> None:
    text = fixture("pyproject_static.toml").replace("\n", "\r\n")
    expected = fixture("pyproject_static.expected.toml").replace("\n", "\r\n")
    assert editor.read(text, PATH) == [FoundVersion("[project] version", "5.2.0", 7)]
    assert editor.write(text, PATH, Version(6, 0, 0)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[project]\nname = "x"\nversion = "1.0.0"',  # no final newline
            '[project]\nname = "x"\nversion = "1.1.0rc1"',
        ),
        (
            '[ "project" ]  # the table\n"version"="1.0.0"\n',
            '[ "project" ]  # the table\n"version"="1.1.0rc1"\n',
        ),
        (
            '[tool.x]\nversion = "1.0.0"\n[project]\n  version = "1.0.0"\n',
            '[tool.x]\nversion = "1.0.0"\n[project]\n  version = "1.1.0rc1"\n',
        ),
        (
            "[project]\nreadme = '''\nversion = \"0\"\n'''\nversion = \"1.0.0\"\n",
            "[project]\nreadme = '''\nversion = \"0\"\n'''\nversion = \"1.1.0rc1\"\n",
        ),
    ],
)
def test_shapes(text: str, expected: str) -> None:
    assert editor.write(text, PATH, Version(1, 1, 0, ("rc", 1))) == expected


# Each shape: the text, the line the version is on, and the text with 1.1.0rc1 written in.
@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        pytest.param(
            '[project]\r\nname = "x"\r\nversion = "1.0.0"\r\n\r\n[tool.x]\r\nversion = "1.0.0"\r\n',
            3,
            '[project]\r\nname = "x"\r\nversion = "1.1.0rc1"\r\n'
            '\r\n[tool.x]\r\nversion = "1.0.0"\r\n',
            id="crlf",
        ),
        pytest.param(
            '[project]\nversion = "1.0.0"   # bumped by release-tool from "1.0.0"\nname = "x"\n',
            2,
            '[project]\nversion = "1.1.0rc1"   # bumped by release-tool from "1.0.0"\nname = "x"\n',
            id="inline-comment",
        ),
        pytest.param(
            "[project]\nname = 'x'\nversion = '1.0.0'\n",
            3,
            "[project]\nname = 'x'\nversion = '1.1.0rc1'\n",
            id="single-quotes",
        ),
        pytest.param(
            '[project]\nname = "x"\ndependencies = [\n    "a>=1.0.0",\n'
            '    # version = "1.0.0"\n    "b",\n]\nversion = "1.0.0"\n',
            8,
            '[project]\nname = "x"\ndependencies = [\n    "a>=1.0.0",\n'
            '    # version = "1.0.0"\n    "b",\n]\nversion = "1.1.0rc1"\n',
            id="after-multi-line-array",
        ),
        pytest.param(
            # A line scan would take the ''' in this string for an open multi-line string.
            '[project]\ndescription = "a \'\'\' b"\nversion = "1.0.0"\n',
            3,
            '[project]\ndescription = "a \'\'\' b"\nversion = "1.1.0rc1"\n',
            id="triple-quote-inside-a-string",
        ),
        pytest.param(
            '[project.urls]\nHome = "h"\n\n[project]\nversion = "1.0.0"\n',
            5,
            '[project.urls]\nHome = "h"\n\n[project]\nversion = "1.1.0rc1"\n',
            id="sub-table-first",
        ),
    ],
)
def test_shapes_and_lines(text: str, line: int, expected: str) -> None:
    assert editor.read(text, PATH) == [FoundVersion("[project] version", "1.0.0", line)]
    assert editor.write(text, PATH, Version(1, 1, 0, ("rc", 1))) == expected


# --- errors -----------------------------------------------------------------------------------


def message(text: str) -> str:
    with pytest.raises(FileEditError) as info:
        editor.read(text, PATH)
    assert info.value.hint
    with pytest.raises(FileEditError):
        editor.write(text, PATH, Version(1, 0, 0))
    return info.value.message


def test_dynamic_version_lives_elsewhere() -> None:
    text = (
        '[project]\nname = "x"\ndynamic = ["version"]\n\n'
        '[tool.setuptools.dynamic]\nversion = {attr = "x.__version__"}\n'
    )
    assert (
        message(text) == "pyproject.toml: [project] version is dynamic: the version lives elsewhere"
    )


def test_version_only_in_another_table() -> None:
    text = '[tool.poetry]\nname = "x"\nversion = "1.0.0"\n'
    assert message(text) == "pyproject.toml: no [project] table"
    text = '[project]\nname = "x"\n\n[tool.poetry]\nversion = "1.0.0"\n'
    assert message(text) == "pyproject.toml: no [project] version"


@pytest.mark.parametrize(
    "text",
    [
        'project.version = "1.0.0"\n',
        'project = {name = "x", version = "1.0.0"}\n',
        '[project]\nversion = """1.0.0"""\n',
        "[project]\nversion = '''1.0.0'''\n",
    ],
)
def test_version_not_editable_in_place(text: str) -> None:
    assert message(text) == (
        "pyproject.toml: [project] version is not a simple `version = ...` line "
        '(write it as version = "X.Y.Z" directly under [project])'
    )


def test_not_a_string() -> None:
    assert (
        message("[project]\nversion = 1\n") == "pyproject.toml: [project] version is not a string"
    )


def test_invalid_toml_names_the_line() -> None:
    problem = message('[project]\nname = "x"\nversion = "1.0.0\n')
    assert problem.startswith("pyproject.toml: not valid TOML")
    assert "line 3" in problem


def test_escaped_version_is_not_rewritten() -> None:
    # "1.0\u002e0" is 1.0.0 to TOML, but its token is not the version as written.
    assert message('[project]\nversion = "1.0\\u002e0"\n') == (
        "pyproject.toml: could not locate [project] version reliably (line 2 does not hold '1.0.0')"
    )
