"""The `python` editor: `__version__ = '…'` in real edx-proctoring shapes, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_tool.errors import FileEditError
from release_tool.files import FoundVersion, editor_for
from release_tool.files.python import _plain_case, _tokenized_span
from release_tool.versions import Version, parse_file_version

FIXTURES = Path(__file__).parent / "fixtures" / "files"
PATH = "edx_proctoring/__init__.py"
editor = editor_for("python")


def fixture(name: str) -> str:
    # Bytes, not read_text(): no newline translation may hide a changed byte.
    return (FIXTURES / name).read_bytes().decode("utf-8")


GOLDEN = [
    # Today's file: a comment above, single quotes.
    ("edx_proctoring_init", Version(5, 3, 0, ("rc", 1)), FoundVersion("__version__", "5.2.0", 6)),
    # The 2019 file: `from __future__`, and `default_app_config = …  # pylint: …` after.
    ("edx_proctoring_init_2019", Version(1, 5, 0), FoundVersion("__version__", "1.5.0rc5", 8)),
    # Double quotes and a trailing comment; a docstring example and an indented reassignment
    # are not the version.
    ("double_quotes", Version(2, 6, 0), FoundVersion("__version__", "2.5.0", 9)),
]


@pytest.mark.parametrize(("name", "new", "found"), GOLDEN)
def test_golden(name: str, new: Version, found: FoundVersion) -> None:
    text = fixture(f"{name}.py.txt")
    assert editor.read(text, PATH) == [found]
    assert editor.write(text, PATH, new) == fixture(f"{name}.expected.py.txt")


@pytest.mark.parametrize(("name", "new", "found"), GOLDEN)
def test_crlf_is_kept(name: str, new: Version, found: FoundVersion) -> None:
    text = fixture(f"{name}.py.txt").replace("\n", "\r\n")
    expected = fixture(f"{name}.expected.py.txt").replace("\n", "\r\n")
    assert editor.read(text, PATH) == [found]
    assert editor.write(text, PATH, new) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("__version__ = '1.0.0'", "__version__ = '1.1.0'"),  # no final newline
        ('__version__="1.0.0"#tight\n', '__version__="1.1.0"#tight\n'),
        ('__version__: str = "1.0.0"\n', '__version__: str = "1.1.0"\n'),
        ("__version__: str\n__version__ = '1.0.0'\n", "__version__: str\n__version__ = '1.1.0'\n"),
        ("# café ☕\n__version__ = '1.0.0'  # é\n", "# café ☕\n__version__ = '1.1.0'  # é\n"),
        ("x = 1; y = 2\n__version__ = u'1.0.0'\n", "x = 1; y = 2\n__version__ = u'1.1.0'\n"),
        ("\ufeff__version__ = '1.0.0'\n", "\ufeff__version__ = '1.1.0'\n"),  # a UTF-8 BOM
        ('x = "\t"\n\t\n__version__ = "1.0.0"\n', 'x = "\t"\n\t\n__version__ = "1.1.0"\n'),
        # A version inside a bracketed expression's continuation is not at statement start.
        (
            "X = (\n__version__\n)\n__version__ = '1.0.0'\n",
            "X = (\n__version__\n)\n__version__ = '1.1.0'\n",
        ),
    ],
)
def test_shapes(text: str, expected: str) -> None:
    assert editor.write(text, PATH, Version(1, 1, 0)) == expected


def test_two_part_version_is_read_and_replaced_with_three() -> None:
    # openedx/completion once had __version__ = '4.9'.
    text = "__version__ = '4.9'\n"
    [found] = editor.read(text, "completion/__init__.py")
    assert found.text == "4.9"
    assert parse_file_version(found.text, "python") == Version(4, 9, 0)
    assert (
        editor.write(text, "completion/__init__.py", Version(4, 9, 1)) == "__version__ = '4.9.1'\n"
    )


def test_other_assignments_are_untouched() -> None:
    text = fixture("edx_proctoring_init_2019.py.txt")
    new = editor.write(text, PATH, Version(9, 9, 9))
    changed = [
        (old, line)
        for old, line in zip(text.splitlines(), new.splitlines(), strict=True)
        if old != line
    ]
    assert changed == [("__version__ = '1.5.0rc5'", "__version__ = '9.9.9'")]


# --- errors -----------------------------------------------------------------------------------


def message(text: str) -> str:
    with pytest.raises(FileEditError) as info:
        editor.read(text, PATH)
    assert info.value.hint
    # write() finds the same problem.
    with pytest.raises(FileEditError):
        editor.write(text, PATH, Version(1, 0, 0))
    return info.value.message


def test_missing() -> None:
    text = '"""No version here."""\n__version_info__ = (1, 0)\n'
    assert message(text) == f"{PATH}: no module-level `__version__ = '…'` assignment"


def test_only_indented_assignment_is_missing() -> None:
    text = "try:\n    __version__ = '1.0.0'\nexcept ImportError:\n    pass\n"
    assert "no module-level" in message(text)


def test_assigned_twice() -> None:
    text = "# comment\n\n__version__ = '5.2.0'\n\n\n\n\n\n__version__ = '5.2.1'\n"
    assert message(text) == f"{PATH}: __version__ is assigned twice (lines 3 and 9)"


def test_assigned_three_times() -> None:
    text = "__version__ = '1'\n__version__ = '2'\n__version__ = '3'\n"
    assert message(text) == f"{PATH}: __version__ is assigned 3 times (lines 1, 2 and 3)"


@pytest.mark.parametrize(
    "value",
    [
        "get_version()",
        "f'{MAJOR}.0.0'",
        "'1.0' '.0'",
        "('1.0.0')",
        "b'1.0.0'",
        "'''1.0.0'''",
        "'1.0.0' + SUFFIX",
        "VERSION = '1.0.0'",
    ],
)
def test_not_a_plain_literal(value: str) -> None:
    text = f"import x\n__version__ = {value}\n"
    assert message(text) == f"{PATH}: __version__ on line 2 is not a plain string literal"


def test_unreadable_python_names_the_line() -> None:
    text = "__version__ = '1.0.0'\nx = (\n"
    assert "cannot read the file as Python" in message(text)
    text = "if x:\n        a = 1\n    b = 2\n__version__ = '1.0.0'\n"
    assert "(line 3)" in message(text)


# --- the ast fast path agrees with the tokenizer --------------------------------------------


FIXTURE_DIR = Path(__file__).parent / "fixtures" / "files"

_LINES = st.sampled_from(
    [
        "__version__ = '5.2.0'",
        '__version__ = "5.2.0"',
        "__version__ = '5.2.0'  # comment",
        "__version__: str = '1.0.0'",
        "__version__ = '1'; x = 2",
        "__version__ = x = '1'",
        "__version__ = ('1.0.0')",
        "__version__ = f'{1}'",
        "__version__ = '1' '2'",
        "if True:\n    __version__ = '0.1.0'",
        '"""\n__version__ = \'9.9.9\'\n"""',
        "'''doc'''",
        "# __version__ = '0.0.1'",
        "import os",
        "x = 'é'",
        "__version__ = 'é1.0'",
        "default_app_config = 'x'  # pylint: disable=invalid-name",
        "",
        "def f():\n    pass",
        "__version__ += 'x'",
        "__version__ = '2.0.0'\\\n",
    ]
)


@given(st.lists(_LINES, max_size=6), st.sampled_from(["\n", "\r\n"]))
def test_fast_path_agrees_with_the_tokenizer(lines: list[str], newline: str) -> None:
    text = newline.join(line.replace("\n", newline) for line in lines) + newline
    quick = _plain_case(text)
    if quick is not None:
        assert quick == _tokenized_span(text, "x.py")


def test_fast_path_agrees_on_every_fixture() -> None:
    checked = 0
    for path in FIXTURE_DIR.rglob("*.py.txt"):
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        quick = _plain_case(text)
        if quick is not None:
            checked += 1
            assert quick == _tokenized_span(text, str(path)), path
    assert checked  # the real edx-proctoring files take the fast path


@pytest.mark.parametrize(
    "expression",
    ["-" * 10_000 + "1", "not " * 3_000 + "1", "1" + "+1" * 3_000],
    ids=["unary minus (MemoryError)", "not (RecursionError)", "a long sum (RecursionError)"],
)
def test_a_module_too_deep_for_ast_is_read_by_the_tokenizer(expression: str) -> None:
    # ast.parse gives up on these (MemoryError, RecursionError): that is no bad input here.
    text = f"x = {expression}\n__version__ = '1.0.0'\n"
    assert editor.read(text, "pkg/__init__.py") == [FoundVersion("__version__", "1.0.0", 2)]
    assert editor.write(text, "pkg/__init__.py", Version(1, 1, 0)).endswith(
        "__version__ = '1.1.0'\n"
    )
