"""The one atomic writer: exact bytes, sensible permissions, and nothing half-written left over."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from release_tool.files.write import write_bytes_atomically, write_text_atomically


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
