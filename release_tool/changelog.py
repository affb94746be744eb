"""Keep-a-changelog files, in reStructuredText (CHANGELOG.rst) or Markdown (CHANGELOG.md).

Three jobs: find the sections (`parse_sections`), stamp the Unreleased entries as a release
(`stamp`), and give a release's notes for the GitHub release (`release_notes`).

Section headers are recognised by their text, not by their RST adornment, because real files
are irregular (see real-world.md; all of these come from openedx/edx-proctoring):

* RST: `Unreleased` and `[X.Y.Z] - YYYY-MM-DD` lines at the start of a line. The `~` underline
  below may be any length (20, 21, 48 ...) or missing altogether - even directly under the
  Unreleased underline, with no blank line. The date may be missing (`[4.17.0]`) or not
  zero-padded (`2023-08-8`); sections may be missing or out of order.
* Markdown: `## [X.Y.Z] - YYYY-MM-DD` (brackets and date optional, a trailing `[YANKED]`
  allowed) and `## [Unreleased]` / `## Unreleased`. Link reference definitions at the end of
  the file (`[1.0.0]: https://…`) belong to no section.

Everything else - the title, the preamble, RST comments, sub-headings inside a section - is body
text or preamble and is never rewritten. Lines are split at '\\n' only (`split_lines`), so a
form feed or U+2028 in an entry cannot shift line numbers, and CRLF files stay CRLF.

Known limits: text after the last section (edx-proctoring once ended with "For details of
changes prior to this release ...") belongs to the last section's notes, and Markdown link
references are not updated when a section is stamped.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from release_tool.errors import ConfigError, FileEditError, VersionError
from release_tool.versions import Version, parse_file_version, parse_semver

Format = Literal["rst", "md"]

UNRELEASED = "Unreleased"

_VERSION = r"\[?v?(?P<version>\d[^\]\s]*)\]?"
_DATE = r"(?:[ \t]*[-–—][ \t]*(?P<date>\d{4}-\d{1,2}-\d{1,2}))?"
_YANKED = r"(?:[ \t]*\[YANKED\])?"
_HEADERS: dict[Format, tuple[re.Pattern[str], re.Pattern[str]]] = {
    # RST release headers keep their brackets: a bare "1.2.3" line could be a sentence.
    "rst": (
        re.compile(r"\[v?(?P<version>\d[^\]\s]*)\]" + _DATE + _YANKED + r"[ \t]*"),
        re.compile(r"\[?Unreleased\]?[ \t]*", re.IGNORECASE),
    ),
    "md": (
        re.compile(r"##[ \t]+" + _VERSION + _DATE + _YANKED + r"[ \t]*"),
        re.compile(r"##[ \t]+\[?Unreleased\]?[ \t]*", re.IGNORECASE),
    ),
}
# An RST underline: one punctuation character repeated, of any length from 3.
_UNDERLINE = re.compile(r"([~=\-^*#\"+'`_])\1{2,}[ \t]*")
_LINK_REFERENCE = re.compile(r"\[[^\]]+\]:\s*\S+.*")


@dataclass(frozen=True)
class Section:
    """One `Unreleased` or release section of a changelog.

    `header` and `body` index the lines of `split_lines(text)` (0-based): `header` is the
    header line, `body` the lines after it and its underline (if any) up to the next header.
    """

    title: str  # "Unreleased", or the version as written in the header ("4.16.1")
    version: Version | None  # None for Unreleased, and for a version that does not parse
    date: datetime.date | None  # None when absent or not a real date
    header: int
    body: range

    @property
    def is_unreleased(self) -> bool:
        return self.title == UNRELEASED

    @property
    def line(self) -> int:
        """The header's 1-based line number, for messages."""
        return self.header + 1


def changelog_format(path: str) -> Format:
    """'rst' or 'md', from the file name's suffix."""
    suffix = PurePath(path).suffix.lower()
    if suffix == ".rst":
        return "rst"
    if suffix in (".md", ".markdown"):
        return "md"
    raise ConfigError(
        f"{path}: cannot tell the changelog format from the file name",
        "use a .rst (reStructuredText) or .md (Markdown) changelog",
    )


def split_lines(text: str) -> list[str]:
    """The lines of `text`, each with its line ending, split at '\\n' only."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def parse_sections(text: str, fmt: Format) -> list[Section]:
    """Every Unreleased and release section, in file order."""
    lines = split_lines(text)
    starts = []  # (header index, body start, title, version, date)
    for index, line in enumerate(lines):
        header = _parse_header(line.rstrip("\r\n"), fmt)
        if header is None:
            continue
        body_start = index + 1
        if fmt == "rst" and body_start < len(lines) and _is_underline(lines[body_start]):
            body_start += 1
        starts.append((index, body_start, *header))
    end = _end_of_sections(lines, fmt)
    sections = []
    for n, (index, body_start, title, version, date) in enumerate(starts):
        body_end = starts[n + 1][0] if n + 1 < len(starts) else max(end, body_start)
        sections.append(Section(title, version, date, index, range(body_start, body_end)))
    return sections


def stamp(
    text: str, version: Version, date: datetime.date, fmt: Format, *, name: str = "the changelog"
) -> str:
    """Turn the Unreleased entries into the section of `version`, released on `date`.

    If a section for `version` already exists (the author wrote it in the bumping PR, the
    common case), the text is returned unchanged. Otherwise a clean header
    `[X.Y.Z] - YYYY-MM-DD` (RST: with a `~` underline of the same length; Markdown: `## `) is
    inserted right after the Unreleased header, with blank lines around it, so the Unreleased
    entries now sit under it and the Unreleased section is left empty. No other line changes.
    `name` is the file's name for the error raised when there is neither section.
    """
    sections = parse_sections(text, fmt)
    if any(section.version == version for section in sections):
        return text
    unreleased = next((s for s in sections if s.is_unreleased), None)
    if unreleased is None:
        raise FileEditError(
            f"{name}: no section for {version}, and no Unreleased section to stamp",
            f"add an Unreleased section holding the changes, or write the "
            f"'[{version}] - {date.isoformat()}' section yourself",
        )
    lines = split_lines(text)
    newline = _newline(text)
    before = lines[: unreleased.body.start]
    if before and not before[-1].endswith("\n"):
        before[-1] += newline  # the header was the last line, without a line ending
    body = lines[unreleased.body.start : unreleased.body.stop]
    after = lines[unreleased.body.stop :]
    header = _header_lines(version, date, fmt, newline)
    return "".join(before + _stamped_body(body, header, newline, bool(after)) + after)


def release_notes(text: str, version: Version, fmt: Format) -> str | None:
    """The body of `version`'s section without surrounding blank lines, '\\n'-separated.

    '' when the section is empty; None when there is no section for `version`.
    """
    section = next((s for s in parse_sections(text, fmt) if s.version == version), None)
    if section is None:
        return None
    lines = [
        line.rstrip("\r\n") for line in split_lines(text)[section.body.start : section.body.stop]
    ]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


# --- helpers ----------------------------------------------------------------------------------


def _parse_header(
    line: str, fmt: Format
) -> tuple[str, Version | None, datetime.date | None] | None:
    """(title, version, date) when `line` is a section header, else None."""
    release, unreleased = _HEADERS[fmt]
    if unreleased.fullmatch(line):
        return (UNRELEASED, None, None)
    match = release.fullmatch(line)
    if match is None:
        return None
    title = match.group("version")
    return (title, _lenient_version(title), _date(match.group("date")))


def _lenient_version(text: str) -> Version | None:
    """A header's version in either spelling; None if it is no version we model."""
    try:
        return parse_file_version(text, "python")  # lenient PEP 440: [4.9] is 4.9.0
    except VersionError:
        pass
    try:
        return parse_semver(text)  # [5.3.0-rc.1]
    except VersionError:
        return None


def _date(text: str | None) -> datetime.date | None:
    """`2023-08-8` is 8 August 2023; `2021-13-40` is no date at all."""
    if text is None:
        return None
    year, month, day = (int(part) for part in text.split("-"))
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _is_underline(line: str) -> bool:
    return _UNDERLINE.fullmatch(line.rstrip("\r\n")) is not None


def _end_of_sections(lines: list[str], fmt: Format) -> int:
    """Where the last section ends: before Markdown's trailing link reference definitions."""
    end = len(lines)
    if fmt != "md":
        return end
    while end > 0 and (
        not lines[end - 1].strip() or _LINK_REFERENCE.fullmatch(lines[end - 1].strip())
    ):
        end -= 1
    # Keep the blank lines that separated the last entries from the references.
    while end < len(lines) and not lines[end].strip():
        end += 1
    return end


def _header_lines(version: Version, date: datetime.date, fmt: Format, newline: str) -> list[str]:
    """A clean release header: `[X.Y.Z] - YYYY-MM-DD`, underlined in RST, `## ` in Markdown."""
    header = f"[{version.pep440}] - {date.isoformat()}"
    if fmt == "md":
        return [f"## {header}{newline}"]
    return [header + newline, "~" * len(header) + newline]


def _stamped_body(body: list[str], header: list[str], newline: str, followed: bool) -> list[str]:
    """The new lines under the Unreleased header: blank, the new header, blank, the entries.

    The Unreleased body's own leading and trailing blank lines are kept where they were;
    `followed` says whether another section comes after, which then needs a blank line.
    """
    leading, entries, trailing = _split_blank_edges(body)
    stamped = (leading or [newline]) + header
    if entries:
        stamped += [newline, *entries]
    if trailing:
        stamped += trailing
    elif followed:
        stamped.append(newline)
    return stamped


def _split_blank_edges(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(leading blank lines, the lines between, trailing blank lines)."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    end = len(lines)
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[:start], lines[start:end], lines[end:]


def _newline(text: str) -> str:
    """The file's line ending, from its first line ('\\n' if it has none)."""
    match = re.search(r"\r?\n", text)
    return match.group() if match else "\n"
