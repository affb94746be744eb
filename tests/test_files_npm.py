"""The `package_json` and `npm_lockfile` editors on real edx-proctoring shapes, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release_tool.errors import FileEditError
from release_tool.files import FoundVersion, editor_for
from release_tool.versions import Version

FIXTURES = Path(__file__).parent / "fixtures" / "files"
package_json = editor_for("package_json")
lockfile = editor_for("npm_lockfile")
ROOT = 'packages[""].version'


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


GOLDEN = [
    # Two "//" keys, 2-space indent, version on line 4, no final newline (2018-2021).
    (
        "package_json",
        "package_two_comments",
        Version(2, 5, 0, ("rc", 1)),
        [FoundVersion("version", "2.4.0", 4)],
    ),
    # Lockfile v3 (since 2024), behind the code; dependencies carry the same string 5.1.0.
    (
        "npm_lockfile",
        "package-lock-v3",
        Version(5, 2, 1),
        [FoundVersion("version", "5.1.0", 3), FoundVersion(ROOT, "5.1.0", 9)],
    ),
    # npm-shrinkwrap.json, lockfile v1: 4-space indent, nested dependencies, no "packages".
    (
        "npm_lockfile",
        "npm-shrinkwrap-v1",
        Version(2, 6, 4),
        [FoundVersion("version", "2.6.3", 3)],
    ),
    # Lockfile v2: "packages" and the v1-compatible "dependencies".
    (
        "npm_lockfile",
        "npm-shrinkwrap-v2",
        Version(3, 8, 0, ("b", 1)),
        [FoundVersion("version", "3.7.9", 3), FoundVersion(ROOT, "3.7.9", 9)],
    ),
]


@pytest.mark.parametrize(("kind", "name", "new", "found"), GOLDEN)
def test_golden(kind: str, name: str, new: Version, found: list[FoundVersion]) -> None:
    editor = editor_for(kind)
    text = fixture(f"{name}.json")
    assert editor.read(text, f"{name}.json") == found
    assert editor.write(text, f"{name}.json", new) == fixture(f"{name}.expected.json")


@pytest.mark.parametrize(("kind", "name", "new", "found"), GOLDEN)
def test_crlf_is_kept(kind: str, name: str, new: Version, found: list[FoundVersion]) -> None:
    editor = editor_for(kind)
    text = fixture(f"{name}.json").replace("\n", "\r\n")
    expected = fixture(f"{name}.expected.json").replace("\n", "\r\n")
    assert editor.read(text, f"{name}.json") == found
    assert editor.write(text, f"{name}.json", new) == expected


def test_duplicate_comment_keys_survive() -> None:
    text = fixture("package_two_comments.json")
    new = package_json.write(text, "package.json", Version(3, 0, 0))
    assert new.count('"//":') == 2
    assert not new.endswith("\n")
    # ... which a parse-and-dump round trip would not have kept.
    assert json.dumps(json.loads(text), indent=2).count('"//":') == 1


def test_package_json_kind_ignores_lockfile_positions() -> None:
    text = fixture("package-lock-v3.json")
    assert package_json.read(text, "package-lock.json") == [FoundVersion("version", "5.1.0", 3)]


def test_lockfile_dependencies_never_change() -> None:
    text = fixture("package-lock-v3.json")
    new = lockfile.write(text, "package-lock.json", Version(5, 2, 1))
    before, after = json.loads(text), json.loads(new)
    assert after["version"] == after["packages"][""]["version"] == "5.2.1"
    for data in (before, after):
        data["version"] = data["packages"][""]["version"] = "x"
    assert before == after


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A nested "version" before the top-level one, in an object and in an array.
        (
            '{"config": {"version": "1.0.0"}, "list": [{"version": "1.0.0"}], "version": "1.0.0"}',
            '{"config": {"version": "1.0.0"}, "list": [{"version": "1.0.0"}], "version": "1.1.0"}',
        ),
        # A string that contains the text of a version key.
        (
            '{"description": "set \\"version\\": \\"1.0.0\\" {[", "version" : "1.0.0"}\n',
            '{"description": "set \\"version\\": \\"1.0.0\\" {[", "version" : "1.1.0"}\n',
        ),
        # Compact, and escaped key spelling.
        ('{"\\u0076ersion":"1.0.0"}', '{"\\u0076ersion":"1.1.0"}'),
        # Non-ASCII before the version.
        (
            '{"description": "café ☕", "version": "1.0.0"}',
            '{"description": "café ☕", "version": "1.1.0"}',
        ),
        # Numbers, literals and empty containers are skipped correctly.
        (
            '{"a": [1, -2.5e3, true, false, null, [], {}], "b": {}, "version": "1.0.0"}',
            '{"a": [1, -2.5e3, true, false, null, [], {}], "b": {}, "version": "1.1.0"}',
        ),
    ],
)
def test_top_level_only(text: str, expected: str) -> None:
    assert package_json.write(text, "package.json", Version(1, 1, 0)) == expected


def test_writes_semver_spelling() -> None:
    text = '{\n  "version": "5.2.0"\n}\n'
    assert package_json.write(text, "package.json", Version(5, 3, 0, ("a", 1))) == (
        '{\n  "version": "5.3.0-alpha.1"\n}\n'
    )


# --- errors -----------------------------------------------------------------------------------


def message(editor_kind: str, text: str, path: str = "package.json") -> str:
    editor = editor_for(editor_kind)
    with pytest.raises(FileEditError) as info:
        editor.read(text, path)
    assert info.value.hint
    with pytest.raises(FileEditError):
        editor.write(text, path, Version(1, 0, 0))
    return info.value.message


def test_missing() -> None:
    text = '{\n  "name": "x",\n  "dependencies": {"y": {"version": "1.0.0"}}\n}\n'
    assert message("package_json", text) == 'package.json: no top-level "version"'


def test_twice() -> None:
    text = '{\n  "name": "x",\n  "version": "1.0.0",\n  "//": "",\n  "version": "1.0.1"\n}\n'
    assert message("package_json", text) == (
        'package.json: top-level "version" appears twice (lines 3 and 5)'
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            '{\n  "name": "x",\n  "version": "1.0.0"\n  "main": "index.js"\n}\n',
            "(line 4, column 3)",
        ),
        ('{\n  "version": "1.0.0",\n}\n', "(line 3, column 1)"),
        ("", "(line 1, column 1)"),
        ('{\n  "version": "1.0.0"\n', "(line 3, column 1)"),
    ],
)
def test_malformed_json(text: str, where: str) -> None:
    problem = message("package_json", text)
    assert problem.startswith("package.json: not valid JSON: ")
    assert problem.endswith(where)


def test_malformed_lockfile() -> None:
    text = fixture("package-lock-v3.json").replace('"lockfileVersion": 3,', '"lockfileVersion": 3')
    problem = message("npm_lockfile", text, "package-lock.json")
    assert problem.startswith("package-lock.json: not valid JSON")
    assert "line 5" in problem


def test_not_a_string() -> None:
    text = '{\n  "version": 5\n}\n'
    assert (
        message("package_json", text)
        == 'package.json: top-level "version" on line 2 is not a string'
    )


def test_not_an_object() -> None:
    assert "not a JSON object" in message("package_json", '["version", "1.0.0"]')


def test_lockfile_root_package_without_version() -> None:
    text = '{\n  "version": "1.0.0",\n  "packages": {\n    "": {"name": "x"}\n  }\n}\n'
    assert message("npm_lockfile", text, "package-lock.json") == (
        'package-lock.json: no packages[""].version'
    )


def test_lockfile_root_package_twice() -> None:
    text = (
        '{\n  "version": "1.0.0",\n  "packages": {\n    "": {"version": "1.0.0"},\n'
        '    "": {"version": "1.0.0"}\n  }\n}\n'
    )
    assert message("npm_lockfile", text, "package-lock.json") == (
        'package-lock.json: packages[""].version appears twice (lines 4 and 5)'
    )


def test_large_lockfile() -> None:
    # Real lockfiles hold thousands of packages; the scan must stay linear and correct.
    entries = ",\n".join(
        f'    "node_modules/p{i}": {{"version": "5.1.0", "dependencies": {{"q": "^1"}}}}'
        for i in range(20_000)
    )
    text = (
        '{\n  "version": "5.1.0",\n  "packages": {\n    "": {"version": "5.1.0"},\n'
        f"{entries}\n  }}\n}}\n"
    )
    new = lockfile.write(text, "package-lock.json", Version(5, 2, 0))
    assert new.count('"5.2.0"') == 2
    assert new.count('"5.1.0"') == 20_000


# --- large and deep lockfiles -------------------------------------------------------------------


def _big_lockfile(packages: int) -> tuple[str, list[int]]:
    """A lockfile v2 of `packages` packages that sets every trap a scan can fall into, and
    the offsets (inside the quotes) of its two package positions.

    Traps: the top-level "version" comes after "packages" and "dependencies"; packages and
    dependencies carry the package's own version string; a "version" key nested in objects
    and arrays; packages[""] holds "version" after a nested one; strings hold quotes,
    brackets and the text `"version": "5.1.0"`; an escaped key spelling that is not a
    version key ("\\u0076ersions").
    """
    entries = []
    for i in range(packages):
        entries.append(
            f'    "node_modules/p{i}": {{\n'
            f'      "version": "5.1.0",\n'
            f'      "resolved": "https://registry.npmjs.org/p{i}/-/p{i}-5.1.0.tgz",\n'
            f'      "description": "set \\"version\\": \\"5.1.0\\" {{[",\n'
            f'      "engines": [{{"version": "5.1.0"}}, 1, true, null],\n'
            f'      "\\u0076ersions": {{"version": "5.1.0"}}\n'
            "    }"
        )
    deps = ",\n".join(
        f'    "p{i}": {{"version": "5.1.0", "requires": {{}}}}' for i in range(packages)
    )
    head = (
        '{\n  "name": "big",\n  "lockfileVersion": 2,\n  "packages": {\n'
        '    "": {\n      "name": "big",\n      "engines": {"version": "5.1.0"},\n'
        '      "version": "5.1.0"\n    },\n'
    )
    text = (
        head + ",\n".join(entries) + '\n  },\n  "dependencies": {\n' + deps + "\n  },\n"
        '  "version": "5.1.0"\n}\n'
    )
    root = text.index('"version": "5.1.0"\n    },') + len('"version": "')
    top = text.rindex('"version": "5.1.0"') + len('"version": "')
    return text, [top, root]


def test_a_big_lockfile_has_exactly_its_two_positions_found_and_changed() -> None:
    text, offsets = _big_lockfile(20_000)
    assert len(text) > 5_000_000
    lines = [text.count("\n", 0, offset) + 1 for offset in offsets]
    assert lockfile.read(text, "package-lock.json") == [
        FoundVersion("version", "5.1.0", lines[0]),
        FoundVersion(ROOT, "5.1.0", lines[1]),
    ]
    new = lockfile.write(text, "package-lock.json", Version(5, 2, 0))
    expected = text
    for offset in sorted(offsets, reverse=True):
        assert expected[offset : offset + 5] == "5.1.0"
        expected = expected[:offset] + "5.2.0" + expected[offset + 5 :]
    assert new == expected


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_a_lockfile_nested_too_deeply_is_bad_input(depth: int) -> None:
    text = '{\n  "version": "1.0.0",\n  "deep": ' + "[" * depth + "]" * depth + "\n}\n"
    problem = message("npm_lockfile", text, "package-lock.json")
    assert problem == (
        f"package-lock.json: JSON nested too deeply to read ({depth + 1} levels at line 3)"
    )


def test_a_deep_but_readable_lockfile_is_read() -> None:
    text = '{\n  "deep": ' + "[" * 200 + "]" * 200 + ',\n  "version": "1.0.0"\n}\n'
    assert package_json.read(text, "package.json") == [FoundVersion("version", "1.0.0", 3)]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"version": "1.0.0"} x', "Extra data (line 1, column 22)"),
        ('{"version": "1.0.0", "dependencies": {"a": [1,]}}', "Expecting value"),
        ('{"version": "1.0.0", "packages": {"": {"version" "1"}}}', "Expecting ':' delimiter"),
        ('{"version": "1.0.0\x01"}', "Invalid control character"),
        ('{"version": "1.0.0", "packages": {"": {"version": "1"}', "Expecting ',' delimiter"),
    ],
)
def test_malformed_anywhere_is_reported_with_its_position(text: str, where: str) -> None:
    problem = message("npm_lockfile", text, "package-lock.json")
    assert problem.startswith("package-lock.json: not valid JSON: ")
    assert where in problem


def test_a_byte_order_mark_is_read_past_and_kept_as_npm_does() -> None:
    text = '\ufeff{\n  "version": "1.0.0"\n}\n'
    assert package_json.read(text, "package.json") == [FoundVersion("version", "1.0.0", 2)]
    assert package_json.write(text, "package.json", Version(1, 1, 0)) == (
        '\ufeff{\n  "version": "1.1.0"\n}\n'
    )
