"""Reading a text file the tool edits or reads from: UTF-8, no NUL byte, or a UsageError that
names the file and where the first bad byte is.

A leaf module (it imports only the errors), so that the config loader and the editors can
both use it.
"""

from __future__ import annotations

from pathlib import Path

from release_tool.errors import UsageError


def read_text(path: Path, name: str | None = None) -> str:
    """A file's text exactly as stored (no newline translation); `name` (default: the path)
    names it in the UsageError for a file that is not UTF-8 text (see `decode_text`)."""
    return decode_text(path.read_bytes(), str(path) if name is None else name)


def decode_text(data: bytes, name: str) -> str:
    """`data` as UTF-8 text, or a UsageError naming `name` and where the first bad byte is.

    A NUL byte is refused too: no text file holds one, and it would travel into a release
    body or an email that GitHub or an SMTP server refuses, after the push. (A UTF-8
    byte-order mark decodes as U+FEFF and is left to each reader: Python and npm accept one.)
    """
    nul = data.find(b"\0")
    if nul >= 0:
        raise UsageError(
            f"{name}: a NUL byte at offset {nul}, line {_line(data, nul)}: not a text file",
            f"remove the NUL byte from {name}, or check that this is the right file",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{name}: not UTF-8 ({_bad_bytes(exc)})",
            f"save {name} as UTF-8 (e.g. iconv -f latin1 -t utf-8), then run again",
        ) from None


def _bad_bytes(exc: UnicodeDecodeError) -> str:
    """'byte 0xff at offset 1234, line 56' for the first byte that is not UTF-8."""
    data = exc.object
    return f"byte 0x{data[exc.start]:02x} at offset {exc.start}, line {_line(data, exc.start)}"


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
