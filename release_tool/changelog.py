"""Keep-a-changelog files, in reStructuredText (CHANGELOG.rst) or Markdown (CHANGELOG.md), read
as their readers read them.

`parse(text, path)` gives a `Changelog`: its `sections` (Unreleased and one per release heading),
the heading `style` learnt from the file, and `findings` (line-numbered problems). From it:
`notes(version)` is that version's section, `notes_markdown(version)` the same as GitHub-flavoured
Markdown, and `stamp(version, date)` the file with the Unreleased entries moved under a new
heading written in the file's own style. `rst_to_markdown` (in `release_tool.rst_markdown`) turns
RST notes into Markdown.

Headings are the ones Sphinx (docutils) and CommonMark (markdown-it-py) make, so a `## [9.9.9]`
inside a code block is none (`release_tool.changelog_headings`). Real files are irregular (see
real-world.md), so an RST line written as a release heading that docutils does not take as one -
`[5.2.0] - 2025-04-22` with no underline, directly under `Unreleased`'s underline, as
openedx/edx-proctoring has it - still starts that version's section, and is reported as a finding
("not a heading for Sphinx"). Two headings for one version are an error naming both lines, raised
when that version's notes or stamp are asked for.

A version's notes are exactly its section: from its heading to the next Unreleased or release
heading, or to the next other heading of its own level or above - or of the release headings'
level, for an odd one deeper than the others - so a sub-heading such as "Added" stays inside.
A version without a section has no notes (None). Text after the last section that no heading
closes (edx-proctoring once ended with "For details of changes prior to this release
...") stays in the last section, as in Sphinx; Markdown link reference definitions at the end
belong to no section.

Lines are split at '\\n' only (`split_lines`), so a form feed or U+2028 in an entry cannot shift
line numbers; stamping changes no line but the ones it must, and CRLF files stay CRLF.
Parsing is cached per text; docutils and markdown-it are imported only for their own format.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal, NamedTuple

from release_tool.errors import ConfigError, FileEditError, VersionError
from release_tool.versions import Version, parse_file_version, parse_semver

if TYPE_CHECKING:  # imported where used: `release-tool --help` should not pay for them
    from release_tool.changelog_headings import Format, Heading, HeadingText
    from release_tool.changelog_style import Style, WrittenHeading

    _Candidate = tuple[Heading, HeadingText | None]  # a heading; None: not a changelog one

__all__ = [
    "UNRELEASED",
    "Changelog",
    "Finding",
    "Section",
    "changelog_format",
    "parse",
    "parse_sections",
    "release_notes",
    "rst_to_markdown",
    "split_lines",
    "stamp",
]

UNRELEASED = "Unreleased"

# Markdown only: compiled (and cached by `re`) on first use.
_LINK_REFERENCE = r"\[[^\]]+\]:\s*\S+.*"
# How an Unreleased or release heading can start (a quick test before the full grammar).
_HEADING_STARTS = frozenset("[0123456789vVrRuU")


class Section(NamedTuple):
    """One `Unreleased` or release section of a changelog.

    `header` and `body` index the lines of `split_lines(text)` (0-based): `header` is the title
    line, `body` the lines after the heading (and its underline) up to where the section ends.
    The fields after `body` describe how the heading is written; they are not part of a section's
    identity: equality and hash are those of the first five fields (`identity`).
    """

    title: str  # "Unreleased", or the version as written in the heading ("4.16.1")
    version: Version | None  # None for Unreleased, and for a version that does not parse
    date: datetime.date | None  # None when absent or not a real date
    header: int
    body: range
    heading: range = range(0)  # overline, title, underline
    level: int = 0  # 0: not a heading for Sphinx / CommonMark
    written: HeadingText | None = None

    @property
    def identity(self) -> tuple[str, Version | None, datetime.date | None, int, range]:
        """What equality compares: title, version, date, header and body."""
        return self.title, self.version, self.date, self.header, self.body

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Section) and self.identity == other.identity

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.identity)

    @property
    def is_unreleased(self) -> bool:
        return self.title == UNRELEASED

    @property
    def line(self) -> int:
        """The title's 1-based line number, for messages."""
        return self.header + 1


class Finding(NamedTuple):
    """A line-numbered problem in the changelog: `error`s block the version they concern."""

    line: int  # 1-based
    message: str
    severity: Literal["warning", "error"] = "warning"

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class Changelog(NamedTuple):
    """A parsed changelog. Build it with `parse`."""

    text: str
    fmt: Format
    name: str  # the file's name, for messages
    sections: tuple[Section, ...]
    style: Style
    findings: tuple[Finding, ...]
    headings: tuple[Heading, ...] = ()  # the renderer's (a function of text and fmt)

    @property
    def unreleased(self) -> Section | None:
        return next((s for s in self.sections if s.is_unreleased), None)

    def lines(self) -> list[str]:
        """`split_lines(text)`: the lines that sections index."""
        return split_lines(self.text)

    def section(self, version: Version) -> Section | None:
        """`version`'s section; None if it has none. Two sections are an error naming both."""
        found = [s for s in self.sections if s.version == version]
        if len(found) > 1:
            raise FileEditError(
                f"{self.name}: two headings for {version}, lines {found[0].line} and "
                f"{found[1].line}",
                "keep one heading per version (the first is often the next version's)",
            )
        return found[0] if found else None

    def notes(self, version: Version, *, include_prereleases: bool = False) -> str | None:
        """The body of `version`'s section without surrounding blank lines, '\\n'-separated.

        '' when the section is empty; None when `version` has no section. With
        `include_prereleases`, a final release's notes go on with the sections of the
        pre-releases since the previous final release (newest first, each under its heading).
        """
        section = self.section(version)
        if section is None:
            return None
        lines = split_lines(self.text)
        own = _strip_blank_edges(lines[section.body.start : section.body.stop])
        if not include_prereleases or version.is_prerelease:
            return own
        parts = [own] if own else []
        for pre in self._prereleases_before(version):
            heading = _strip_blank_edges(lines[pre.heading.start : pre.heading.stop])
            body = _strip_blank_edges(lines[pre.body.start : pre.body.stop])
            parts.append(f"{heading}\n\n{body}" if body else heading)
        return "\n\n".join(parts)

    def notes_markdown(self, version: Version, *, include_prereleases: bool = False) -> str | None:
        """`notes` as GitHub-flavoured Markdown (RST notes converted; Markdown as written)."""
        notes = self.notes(version, include_prereleases=include_prereleases)
        if notes is None or self.fmt == "md":
            return notes
        from release_tool.rst_markdown import rst_to_markdown

        return rst_to_markdown(notes)

    def stamp(self, version: Version, date: datetime.date) -> str:
        """The changelog with `version` released on `date`.

        If `version` has a section (the author wrote it in the bumping PR, the common case), the
        text is returned unchanged - unless its heading says `Unreleased` where the date goes
        (`[1.2.0] - Unreleased`), which then gets the date. Otherwise a heading in the file's
        style is inserted right after the Unreleased heading, with blank lines around it, so the
        Unreleased entries now sit under it and the Unreleased section is left empty; a Markdown
        file that links its versions at the end gets the new version's link too. No other line
        changes, and the renderer reads every other line as before: where that cannot be promised
        (`release_tool.changelog_check`), FileEditError names the line.
        """
        section = self.section(version)
        if section is not None:
            if section.written is not None and section.written.placeholder_date:
                return self._date_placeholder(section, date)
            return self.text
        unreleased = self.unreleased
        if unreleased is None:
            raise FileEditError(
                f"{self.name}: no section for {version}, and no Unreleased section to stamp",
                f"add an Unreleased section holding the changes, or write the "
                f"'{self.style.title(version.pep440, date)}' section yourself",
            )
        from release_tool.changelog_check import check_stamp, refuse_to_stamp

        title = self.style.title(version.pep440, date)
        refuse_to_stamp(self, unreleased, version, title)
        lines = split_lines(self.text)
        newline = _newline(self.text)
        before = lines[: unreleased.body.start]
        if before and not before[-1].endswith("\n"):
            before[-1] += newline  # the heading was the last line, without a line ending
        body = lines[unreleased.body.start : unreleased.body.stop]
        after = lines[unreleased.body.stop :]
        from release_tool.changelog_style import next_compare_url

        previous = self._previous(version)
        url = None
        if self.style.linked and previous is not None and previous.written is not None:
            url = next_compare_url(previous.written.url, previous.title, version.pep440)
        heading = self.style.heading(version.pep440, date, newline, url)
        stamped = before + _stamped_body(body, heading, newline, bool(after))
        if self.fmt == "md" and self.style.brackets:
            after = self._linked(after, len(lines) - len(after), version, newline)
        text = "".join(stamped + after)
        check_stamp(self, _parse(text, self.fmt, self.name), version, title)
        return text

    def warnings_for(self, version: Version) -> list[Finding]:
        """The findings, plus what releasing `version` would leave behind: entries under
        Unreleased when `version` already has its own section (they are not in its notes)."""
        found = list(self.findings)
        unreleased = self.unreleased
        if unreleased is not None and any(s.version == version for s in self.sections):
            lines = split_lines(self.text)
            if _strip_blank_edges(lines[unreleased.body.start : unreleased.body.stop]):
                found.append(
                    Finding(
                        unreleased.line,
                        f"Unreleased has entries, and {version} has its own section: they "
                        f"are not in {version}'s notes",
                    )
                )
        return found

    def _previous(self, version: Version) -> Section | None:
        """The section of the release before `version` (the highest lower version)."""
        earlier = [s for s in self.sections if s.version is not None and s.version < version]
        return max(earlier, key=lambda s: s.version or version, default=None)

    def _prereleases_before(self, version: Version) -> list[Section]:
        """Pre-release sections after the last final release before `version`, newest first."""
        versions = [s.version for s in self.sections if s.version is not None]
        finals = [v for v in versions if not v.is_prerelease and v < version]
        floor = max(finals, default=None)
        found = [
            s
            for s in self.sections
            if s.version is not None
            and s.version.is_prerelease
            and s.version < version
            and (floor is None or s.version > floor)
        ]
        return sorted(found, key=lambda s: s.version or version, reverse=True)

    def _date_placeholder(self, section: Section, date: datetime.date) -> str:
        """The text with `section`'s `Unreleased` date placeholder replaced by `date`."""
        from release_tool.changelog_headings import is_adornment

        assert section.written is not None
        assert section.written.date_span is not None
        lines = split_lines(self.text)
        line = lines[section.header]
        ending = line[len(line.rstrip("\r\n")) :]
        start, end = section.written.date_span
        title = line[:start] + self.style.date_format.format(date) + line[end:].rstrip("\r\n")
        lines[section.header] = title + ending
        old = len(line.rstrip("\r\n"))
        for index in section.heading:  # an over- or underline as long as the title stays so
            if index != section.header and is_adornment(lines[index]):
                text = lines[index].rstrip("\r\n")
                if len(text) == old or len(text) < len(title):
                    ending = lines[index][len(text) :]
                    lines[index] = text[0] * max(len(title), len(text) - old + len(title)) + ending
        return "".join(lines)

    def _linked(self, after: list[str], offset: int, version: Version, newline: str) -> list[str]:
        """`after` (the lines from `offset` on) with the new version's link reference added."""
        from release_tool.changelog_headings import link_references, plain_lines
        from release_tool.changelog_style import link_reference_edits

        plain = plain_lines(split_lines(self.text))
        previous = self._previous(version)
        label = self.style.v + version.pep440
        replacements, insert = link_reference_edits(
            plain,
            link_references(plain),
            label,
            version.pep440,
            previous.title if previous else None,
        )
        result = list(after)
        for index, text in replacements.items():
            if index >= offset:
                old = result[index - offset]
                result[index - offset] = text + old[len(old.rstrip("\r\n")) :]
        if insert is not None and insert[0] >= offset:
            at = insert[0] - offset
            if at == len(result) and result and not result[-1].endswith("\n"):
                result[-1] += newline
            result.insert(at, insert[1] + newline)
        return result


def changelog_format(path: str) -> Format:
    """'rst' or 'md', from the file name's suffix."""
    suffix = PurePath(path).suffix.lower()
    if suffix in (".rst", ".rest"):
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


def parse(text: str, path: str) -> Changelog:
    """Read `text`, the changelog at `path` (its suffix gives the format; "rst" or "md" also do).

    Cached per (text, path): the pipeline reads one changelog several times.
    """
    if path in ("rst", "md"):
        parsed = _parse(text, "rst" if path == "rst" else "md", "the changelog")
    else:
        parsed = _parse(text, changelog_format(path), path)
    # An equal text from the cache is another object: an unchanged stamp returns the caller's.
    return parsed if parsed.text is text else parsed._replace(text=text)


def rst_to_markdown(text: str) -> str:
    """RST notes as GitHub-flavoured Markdown (see `release_tool.rst_markdown`)."""
    from release_tool.rst_markdown import rst_to_markdown as convert

    return convert(text)


# --- today's functions, kept for their callers ---------------------------------------------------


def parse_sections(text: str, fmt: Format) -> list[Section]:
    """Every Unreleased and release section, in file order."""
    return list(parse(text, fmt).sections)


def stamp(
    text: str, version: Version, date: datetime.date, fmt: Format, *, name: str = "the changelog"
) -> str:
    """`Changelog.stamp`; `name` is the file's name for errors."""
    return parse(text, fmt)._replace(name=name).stamp(version, date)


def release_notes(text: str, version: Version, fmt: Format) -> str | None:
    """`Changelog.notes`."""
    return parse(text, fmt).notes(version)


# --- parsing -------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _parse(text: str, fmt: Format, name: str) -> Changelog:
    """A heading is a "candidate" (heading, written): `written` None for a heading that is no
    Unreleased or release heading (the title, "Added"), `heading.level` 0 for a line written
    as a heading that the renderer does not take as one."""
    from release_tool.changelog_headings import heading_text, plain_lines, real_headings
    from release_tool.changelog_style import learn_style

    lines = split_lines(text)
    plain = plain_lines(lines)
    real = tuple(real_headings(plain, fmt))
    candidates: list[_Candidate] = [(h, heading_text(h.text)) for h in real]
    findings: list[Finding] = []
    if fmt == "rst":
        candidates += _written_only(plain, candidates, findings)
        candidates.sort(key=lambda c: c[0].title)
    end = _end_of_sections(lines, fmt)
    releases = [_written(c, plain) for c in candidates if c[1] and not c[1].is_unreleased]
    unreleased = next((_written(c, plain) for c in candidates if c[1] and c[1].is_unreleased), None)
    style = learn_style(fmt, releases, unreleased)
    sections = []
    for index, (heading, written) in enumerate(candidates):
        if written is None:
            continue
        level = heading.level or _level_of_text_heading(candidates, index, style)
        if style.level:  # release-please's `### [1.2.1]` holds `### Bug Fixes` like the others
            level = min(level, style.level)
        stop = next(
            (
                h.lines.start
                for h, w in candidates[index + 1 :]
                if w is not None or (h.level and h.level <= level)
            ),
            max(end, heading.lines.stop),
        )
        sections.append(_section(heading, written, stop))
    findings += _duplicates(sections)
    findings += [
        Finding(
            s.line,
            f"{s.title} is a level-{s.level} heading for Sphinx; the other releases are "
            f"level {style.level}",
        )
        for s in sections
        if s.version is not None and s.level and style.level and s.level != style.level
    ]
    findings.sort(key=lambda f: f.line)
    return Changelog(text, fmt, name, tuple(sections), style, tuple(findings), real)


def _written_only(
    plain: list[str], candidates: list[_Candidate], findings: list[Finding]
) -> list[_Candidate]:
    """RST lines written as release or Unreleased headings that docutils does not take as
    headings: each starts its section all the same, and is a finding."""
    from release_tool.changelog_headings import Heading, heading_text, is_adornment

    taken = {index for heading, _ in candidates for index in heading.lines}
    found: list[_Candidate] = []
    for index, line in enumerate(plain):
        if index in taken or line[:1] not in _HEADING_STARTS:
            continue
        written = heading_text(line)
        if written is None or not (written.is_unreleased or written.brackets or written.date_text):
            continue
        underlined = index + 1 < len(plain) and index + 1 not in taken
        underlined = underlined and is_adornment(plain[index + 1])
        stop = index + 2 if underlined else index + 1
        taken.update(range(index, stop))
        adornment = plain[index + 1].strip()[0] if underlined else ""
        length = len(plain[index + 1].rstrip()) if underlined else 0
        heading = Heading(index, range(index, stop), line.strip(), 0, adornment, length)
        found.append((heading, written))
        if not underlined and index + 1 in taken and is_adornment(plain[index + 1]):
            why = f"docutils reads its underline as the overline of line {index + 3}"
        elif not underlined:
            why = "it has no underline"
        elif length < min(4, len(line.strip())):
            why = "its underline is too short"
        else:
            why = "docutils reads it as part of the text around it"
        findings.append(Finding(index + 1, f"{line.strip()!r} is not a heading for Sphinx: {why}"))
    return found


def _written(candidate: _Candidate, plain: list[str]) -> WrittenHeading:
    from release_tool.changelog_style import WrittenHeading

    heading, written = candidate
    assert written is not None
    return WrittenHeading(
        written,
        len(plain[heading.title].strip()),
        heading.adornment,
        heading.underline,
        heading.level,
    )


def _level_of_text_heading(candidates: list[_Candidate], index: int, style: Style) -> int:
    """The level a heading-in-text-only stands for: the release headings', or one below the
    real heading it sits under."""
    if style.level:
        return style.level
    above = [heading.level for heading, _ in candidates[:index] if heading.level]
    return above[-1] + 1 if above else 1


def _section(heading: Heading, written: HeadingText, stop: int) -> Section:
    if written.is_unreleased:
        title, version = UNRELEASED, None
    else:
        title, version = written.version or "", _lenient_version(written.version or "")
    return Section(
        title,
        version,
        written.date,
        heading.title,
        range(heading.lines.stop, max(stop, heading.lines.stop)),
        heading.lines,
        heading.level,
        written,
    )


def _duplicates(sections: list[Section]) -> list[Finding]:
    seen: dict[object, Section] = {}
    found = []
    for section in sections:
        key = section.version if section.version is not None else section.title
        if key in seen:
            first = seen[key]
            found.append(
                Finding(
                    section.line,
                    f"a second heading for {section.title} (the first is on line {first.line})",
                    "error" if section.version is not None else "warning",
                )
            )
        else:
            seen[key] = section
    return found


def _lenient_version(text: str) -> Version | None:
    """A heading's version in either spelling; None if it is no version we model."""
    try:
        return parse_file_version(text, "python")  # lenient PEP 440: [4.9] is 4.9.0
    except VersionError:
        pass
    try:
        return parse_semver(text)  # [5.3.0-rc.1]
    except VersionError:
        return None


def _end_of_sections(lines: list[str], fmt: Format) -> int:
    """Where the last section ends: before Markdown's trailing link reference definitions."""
    end = len(lines)
    if fmt != "md":
        return end
    while end > 0 and (
        not lines[end - 1].strip() or re.fullmatch(_LINK_REFERENCE, lines[end - 1].strip())
    ):
        end -= 1
    # Keep the blank lines that separated the last entries from the references.
    while end < len(lines) and not lines[end].strip():
        end += 1
    return end


# --- writing -------------------------------------------------------------------------------------


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


def _strip_blank_edges(lines: list[str]) -> str:
    _, middle, _ = _split_blank_edges(lines)
    return "\n".join(line.rstrip("\r\n") for line in middle)


def _newline(text: str) -> str:
    """The file's line ending, from its first line ('\\n' if it has none)."""
    match = re.search(r"\r?\n", text)
    return match.group() if match else "\n"
