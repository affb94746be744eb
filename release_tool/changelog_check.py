"""The changelog's promise when it stamps a release: the new heading lands beside the other
releases, holding exactly the Unreleased entries, and the renderer (Sphinx / CommonMark) reads
every other line as it did - or there is no stamp at all, but a `FileEditError` naming the line.

`refuse_to_stamp` turns down a file whose Unreleased heading is written as one but that docutils
reads as part of the text around it (a stray adornment line above it, a transition at the start
of the document): where the entries end is then unknown. `check_stamp` compares the file as
stamped with the file as it was, read by the same parser; it catches what no rule foresaw, such
as an underline that docutils read as the overline of the next title and that the new heading
would turn back into an underline. For RST, the hint quotes docutils' own first error.

The checks read a changelog through `Log` and `Part` (what `release_tool.changelog`'s `Changelog`
and `Section` offer), so that this module does not import that one.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

from release_tool.changelog_headings import Format, Heading, is_adornment, plain_lines
from release_tool.errors import FileEditError

if TYPE_CHECKING:  # `Part` and `Log` are only annotations: no Protocol classes at run time
    from collections.abc import Sequence
    from typing import Protocol

    from release_tool.changelog_style import Style
    from release_tool.versions import Version

    class Part(Protocol):
        """A changelog section (`release_tool.changelog.Section`)."""

        @property
        def title(self) -> str: ...
        @property
        def version(self) -> Version | None: ...
        @property
        def date(self) -> datetime.date | None: ...
        @property
        def header(self) -> int: ...
        @property
        def body(self) -> range: ...
        @property
        def heading(self) -> range: ...
        @property
        def level(self) -> int: ...
        @property
        def is_unreleased(self) -> bool: ...
        @property
        def line(self) -> int: ...

    class Log(Protocol):
        """A parsed changelog (`release_tool.changelog.Changelog`)."""

        @property
        def text(self) -> str: ...
        @property
        def fmt(self) -> Format: ...
        @property
        def name(self) -> str: ...
        @property
        def sections(self) -> Sequence[Part]: ...
        @property
        def style(self) -> Style: ...
        @property
        def headings(self) -> Sequence[Heading]: ...
        def lines(self) -> list[str]: ...


# Markdown only: compiled (and cached by `re`) on first use.
_LINK_REFERENCE = r"\[[^\]]+\]:\s*\S+.*"


def refuse_to_stamp(log: Log, unreleased: Part, version: Version, title: str) -> None:
    """Raise FileEditError if `log`'s Unreleased heading, written with a proper underline, is
    not a heading for Sphinx; `title` is the new heading's text, for the hint."""
    if log.fmt != "rst" or unreleased.level or len(unreleased.heading) < 2:
        return
    plain = plain_lines(log.lines())
    written = plain[unreleased.header].strip()
    underline = plain[unreleased.heading.stop - 1]
    if not is_adornment(underline) or len(underline.rstrip()) < min(4, len(written)):
        return  # no underline, or one too short: a plain line that names the section
    raise FileEditError(
        f"{log.name} line {unreleased.line}: cannot stamp {version}: {written!r} is not a "
        f"heading for Sphinx, which reads it as part of the text around it",
        f"fix the lines above it (a stray adornment line, a missing blank line) so that "
        f"Sphinx shows {written!r} as a heading, or write the '{title}' section yourself"
        + _docutils_error(log),
    )


def check_stamp(before: Log, after: Log, version: Version, title: str) -> None:
    """Raise FileEditError unless `after`, `before` stamped for `version`, reads as `before`
    except for the new heading, which holds what Unreleased held and sits at the releases'
    level. `title` is the new heading's text, for the hint."""
    unreleased = next(s for s in before.sections if s.is_unreleased)
    reader = "Sphinx" if before.fmt == "rst" else "CommonMark"
    found = [s for s in after.sections if s.version == version]
    line = unreleased.line

    def refuse(at: int, why: str) -> FileEditError:
        return FileEditError(
            f"{before.name} line {at}: cannot stamp {version}: {why}",
            f"the headings around line {at} are not read as they are written (see the "
            f"changelog's warnings); fix them, or write the '{title}' section yourself"
            + _docutils_error(before),
        )

    if len(found) != 1 or not found[0].level:
        raise refuse(line, f"the new heading for {version} would not be a heading for {reader}")
    new = found[0]
    level = before.style.level or unreleased.level
    if level and new.level != level:
        raise refuse(
            line,
            f"the new heading would be a level-{new.level} heading, not level {level} "
            f"beside the other releases",
        )
    if _entries(after, new) != _entries(before, unreleased):
        raise refuse(line, f"{version}'s section would not hold exactly the Unreleased entries")
    moved = next((s for s in after.sections if s.is_unreleased), None)
    if moved is None or _entries(after, moved):
        raise refuse(line, "the Unreleased section would not be left empty")
    # Every other section stays as it was. A heading docutils did not take (no blank line above
    # it) may become one, at the new heading's level: the file then reads as it is written.
    olds = list(before.sections)
    nows = [s for s in after.sections if s is not new]
    promoted: set[int] = set()
    for old, now in zip(olds, nows, strict=False):
        same = (old.title, old.version, old.date) == (now.title, now.version, now.date)
        if same and not old.level and now.level == new.level:
            promoted.update(now.heading)
        elif not same or old.level != now.level:
            raise refuse(
                old.line,
                f"{reader} would read {old.title}'s heading otherwise: {_as(old.level)} now, "
                f"{_as(now.level) if same else repr(now.title)} after",
            )
        elif not old.is_unreleased and _entries(before, old) != _entries(after, now):
            raise refuse(old.line, f"the section of {old.title} would change")
    if len(olds) != len(nows):
        raise refuse(line, "the file would have other sections")
    # ... and so does every other heading (a title, an "Added" inside a release).
    old_headings = list(before.headings)
    new_headings = [
        h for h in after.headings if h.title not in new.heading and h.title not in promoted
    ]
    for old_heading, now_heading in zip(old_headings, new_headings, strict=False):
        if _reading(old_heading) != _reading(now_heading):
            raise refuse(
                old_heading.title + 1,
                f"{reader} would read the heading {old_heading.text!r} otherwise: "
                f"{_as(old_heading.level)} now, {now_heading.text!r} {_as(now_heading.level)} "
                f"after",
            )
    if len(new_headings) > len(old_headings):
        extra = new_headings[len(old_headings)].text
        raise refuse(line, f"{reader} would read {extra!r} as a heading too")
    if len(old_headings) > len(new_headings):
        lost = old_headings[len(new_headings)]
        raise refuse(lost.title + 1, f"{reader} would no longer read {lost.text!r} as a heading")


def _entries(log: Log, section: Part) -> list[str]:
    """The section's lines without blank lines (or, in Markdown, link reference definitions,
    which a stamp may move on), without line endings."""
    lines = log.lines()[section.body.start : section.body.stop]
    kept = [line.rstrip("\r\n") for line in lines if line.strip()]
    if log.fmt == "md":
        kept = [line for line in kept if not re.fullmatch(_LINK_REFERENCE, line.strip())]
    return kept


def _as(level: int) -> str:
    return f"a level-{level} heading" if level else "no heading"


def _reading(heading: Heading) -> tuple[object, ...]:
    return (heading.text, heading.level, heading.adornment, heading.underline, len(heading.lines))


def _docutils_error(log: Log) -> str:
    """docutils' first error in an RST file (`; docutils: line 1: …`), else ''. A full parse,
    run only to explain a refusal."""
    if log.fmt != "rst":
        return ""
    import docutils.utils
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    settings = get_default_settings(Parser)
    settings.report_level = settings.halt_level = 5  # collect quietly, never stop
    settings.warning_stream = None
    settings.file_insertion_enabled = settings.raw_enabled = False
    settings.line_length_limit = 10**9
    document = docutils.utils.new_document("<changelog>", settings)
    Parser().parse("\n".join(plain_lines(log.lines())), document)
    errors = [
        (int(message.get("line") or 0), message.children[0].astext() if message.children else "")
        for message in document.findall(nodes.system_message)
        if int(message.get("level", 0)) >= 3
    ]
    if not errors:
        return ""
    line, text = min(errors, key=lambda error: error[0])
    text = text.strip().rstrip(".")  # the hint goes on after it
    return f"; docutils: line {line}: {text}" if line else f"; docutils: {text}"
