"""The one atomic writer (exact bytes, sensible permissions, nothing half-written left over),
and the diff a plan shows for an edit."""

from __future__ import annotations

import difflib
import stat
from pathlib import Path

import pytest

from release_tool.files.write import (
    unified_diff,
    write_bytes_atomically,
    write_text_atomically,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_its_folders_the_exact_bytes_and_0644(tmp_path: Path) -> None:
    path = tmp_path / "dist" / "email" / "release-1.0.eml"
    write_bytes_atomically(path, b"Subject: x\n\n\xe2\x9c\x93\n")
    assert path.read_bytes() == b"Subject: x\n\n\xe2\x9c\x93\n"
    # mkstemp creates 0600; an ordinary file must stay readable by the group and others.
    assert _mode(path) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["release-1.0.eml"]


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    script = tmp_path / "bump.sh"
    script.write_text("old\n")
    script.chmod(0o750)
    write_bytes_atomically(script, b"new\n")
    assert script.read_bytes() == b"new\n"
    assert _mode(script) == 0o750


def test_text_is_written_as_utf8_without_newline_translation(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.rst"
    write_text_atomically(path, "1.0 – ünïcode\r\nline two")
    assert path.read_bytes() == "1.0 – ünïcode\r\nline two".encode()


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "sent"
    path.write_bytes(b"<release.x.1.0@example.org>\n")
    with pytest.raises(TypeError):
        write_bytes_atomically(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"<release.x.1.0@example.org>\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sent"]


def _difflib(relpath: str, old: str, new: str) -> str:
    """The whole-text diff `unified_diff` must equal: difflib over every line."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{relpath}",
        tofile=f"b/{relpath}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # Two edits near the top of a long file (a lockfile's two positions).
        (
            "".join(f"line {i}\n" for i in range(5_000)),
            "".join(f"line {i}\n" if i not in (2, 8) else "changed\n" for i in range(5_000)),
        ),
        # An edit at each end, one in the middle, a longer and a shorter line.
        (
            "".join(f"row {i}\r\n" for i in range(3_000)),
            "".join(
                f"row {i}\r\n" if i not in (0, 1500, 2999) else f"row {i}{'x' * (i % 3)}\r\n"
                for i in range(3_000)
            ),
        ),
        # The last line, without a final newline, changed; and lines added at the end.
        ("a\n" * 100 + "version 1", "a\n" * 100 + "version 2"),
        ("a\n" * 100, "a\n" * 100 + "b\nc\n"),
        ("", "new\n"),
        ("same\n", "same\n"),
    ],
)
def test_the_diff_of_a_long_text_is_the_whole_text_diff(old: str, new: str) -> None:
    assert unified_diff("f.txt", old, new) == _difflib("f.txt", old, new)


def test_the_diff_of_a_version_edit_in_a_large_file_shows_only_that_edit() -> None:
    old = '{\n  "version": "1.0.0",\n' + "".join(f'  "k{i}": "{i}",\n' for i in range(400_000))
    new = old.replace('"version": "1.0.0"', '"version": "1.1.0"', 1)
    diff = unified_diff("package-lock.json", old, new)
    assert diff.splitlines() == [
        "--- a/package-lock.json",
        "+++ b/package-lock.json",
        "@@ -1,5 +1,5 @@",
        " {",
        '-  "version": "1.0.0",',
        '+  "version": "1.1.0",',
        '   "k0": "0",',
        '   "k1": "1",',
        '   "k2": "2",',
    ]
