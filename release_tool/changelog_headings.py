"""Where a changelog's headings are, as its renderer sees them: docutils for RST (Sphinx's
reader), markdown-it-py for Markdown (CommonMark) - never line regexes.

`real_headings(lines, fmt)` returns the headings the renderer makes: a `## [9.9.9]` inside a
fenced code block, an indented literal block, or a version line with no underline is not one.
`heading_text(text)` reads a heading's text as a changelog heading (`[5.1.2] - 2025-02-10`,
`11.4.0 - 2026-07-16`, `Version 1.2.0 (2024-01-01)`, `v1.2.3`, `Unreleased` ...) and records how
it is written, so that a new heading can be written the same way.

docutils is imported only for RST files, markdown-it only for Markdown files: each costs 30-60 ms
to import. Most RST changelogs need no docutils at all: `changelog_fastrst` reads the common
subset (paragraphs, lists, comments, titles) exactly as docutils does, and declines anything
else. When docutils does run, a 3,000-line changelog parses in tens of milliseconds: nothing in a
body element (a list item, a block quote, a directive's content) is parsed, as a section title can
never appear there, so the parse of the document's own level - which decides every heading - is
unchanged. `tests/test_changelog_styles.py` checks that against the full docutils parse.
"""

from __future__ import annotations

import datetime
import re
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from docutils.frontend import Values
    from markdown_it import MarkdownIt


#: A changelog's markup: reStructuredText or Markdown (by the file's suffix).
Format = Literal["rst", "md"]

# Characters docutils (str.splitlines) or markdown-it take as line breaks besides '\n'. They are
# blanked before parsing so that line numbers stay those of `split_lines` (split at '\n' only).
_OTHER_BREAKS = dict.fromkeys(map(ord, "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), " ")
# An RST adornment line: one punctuation character repeated (docutils' own rule, 1+ chars; a
# title needs 4+ unless the underline is as long as the title).
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1*[ \t]*")


class Heading(NamedTuple):
    """One heading the renderer makes.

    `title` is the 0-based index of the title line, `lines` every line of the heading (overline,
    title, underline). `level` is the RST section depth (1 = the first adornment style seen) or
    the Markdown heading level; `adornment` the RST underline character (two characters, over-
    and underline, for an overlined title) or Markdown's `#` markers (`##`), or `=`/`-` for a
    setext heading; `underline` the underline's length (0 when there is none).
    """

    title: int
    lines: range
    text: str
    level: int
    adornment: str
    underline: int = 0


def plain_lines(lines: list[str]) -> list[str]:
    """The lines without their endings, other line-break characters blanked."""
    return [line.rstrip("\r\n").translate(_OTHER_BREAKS) for line in lines]


def is_adornment(line: str) -> bool:
    """Whether `line` is an RST adornment (under- or overline) of 3+ characters."""
    stripped = line.rstrip("\r\n")
    return len(stripped.strip()) >= 3 and _ADORNMENT.fullmatch(stripped) is not None


def real_headings(plain: list[str], fmt: Format) -> list[Heading]:
    """The headings the renderer makes, in file order, from `plain_lines` output."""
    return _rst_headings(plain) if fmt == "rst" else _md_headings(plain)


# --- RST: docutils ------------------------------------------------------------------------------


def _rst_headings(plain: list[str]) -> list[Heading]:
    from release_tool.changelog_fastrst import fast_titles

    found = fast_titles(plain)  # the common subset, without importing docutils
    if found is None:
        try:
            found = rst_titles(plain)
        except Exception:  # a docutils internal changed: the full parse is slower but the same
            found = rst_titles(plain, full=True)
    headings = []
    for lineno, style, level in found:
        title = lineno - 1
        overline = len(style) == 2
        start = title - 1 if overline else title
        underline = plain[title + 1].rstrip() if title + 1 < len(plain) else ""
        text = plain[title].strip()
        headings.append(Heading(title, range(start, title + 2), text, level, style, len(underline)))
    return headings


def rst_titles(plain: list[str], *, full: bool = False) -> list[tuple[int, str, int]]:
    """(1-based title line, adornment, level) of every section title docutils makes.

    The adornment is the underline character, or over- and underline for an overlined title.
    `full` runs docutils' complete parse instead of the fast one (the tests compare them).
    """
    import docutils.utils
    from docutils.parsers.rst import Parser

    found: list[tuple[int, Any, int]] = []
    document = docutils.utils.new_document("<changelog>", _rst_settings())
    document.release_tool_titles = found  # type: ignore[attr-defined]  # filled by _section
    parser = Parser()  # one per parse: a parser holds its state machine while it runs
    parser.state_classes = _state_classes(fast=not full)
    parser.parse("\n".join(plain), document)
    return sorted((n, "".join(style), level) for n, style, level in found)


@cache
def _rst_settings() -> Values:
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    settings = get_default_settings(Parser)
    settings.report_level = 5  # collect nothing: findings come from our own reading
    settings.halt_level = 5
    settings.warning_stream = None
    settings.file_insertion_enabled = False
    settings.raw_enabled = False
    settings.line_length_limit = 10**9  # docutils' default 10,000 would skip the whole file
    return settings


def _section(self: Any, title: str, source: str, style: Any, lineno: int, messages: Any) -> None:
    """`RSTState.section`, recording each section title docutils accepts and its level."""
    if self.check_subsection(source, style, lineno):
        level = self.memo.title_styles.index(style) + 1
        self.document.release_tool_titles.append((lineno, style, level))
        self.new_subsection(title, lineno, messages)


@cache
def _state_classes(fast: bool) -> tuple[type, ...]:
    from docutils import nodes
    from docutils.parsers.rst import states

    classes: list[type] = []
    machines: list[Any] = []  # reused list-parsing state machines (docutils builds 15 states each)

    def __init__(self: Any, state_machine: Any, debug: bool = False) -> None:
        states.RSTState.__init__(self, state_machine, debug)
        self.nested_sm_kwargs = {"state_classes": tuple(classes), "initial_state": "Body"}

    def nested_parse(
        self: Any,
        block: Any,
        input_offset: int,
        node: Any = None,
        match_titles: bool = False,
        state_machine_class: Any = None,
        state_machine_kwargs: Any = None,
    ) -> int:
        if match_titles or state_machine_class or state_machine_kwargs:
            return int(
                states.RSTState.nested_parse(
                    self,
                    block,
                    input_offset,
                    node,
                    match_titles,
                    state_machine_class,
                    state_machine_kwargs,
                )
            )
        # Body-element content (list item, block quote, directive): no section title can be in
        # it, and nothing in it changes how the lines after it are read.
        return input_offset + len(block)

    def nested_list_parse(
        self: Any,
        block: Any,
        input_offset: int,
        node: Any,
        initial_state: str,
        blank_finish: bool,
        blank_finish_state: str | None = None,
        extra_settings: dict[str, Any] | None = None,
        match_titles: bool = False,
        state_machine_class: Any = None,
        state_machine_kwargs: Any = None,
    ) -> tuple[int, bool]:
        machine = machines.pop() if machines else None
        if machine is None:
            machine = states.NestedStateMachine(
                parent_state_machine=self.state_machine,
                state_classes=tuple(classes),
                initial_state=initial_state,
            )
        machine.initial_state = initial_state
        finish_state = blank_finish_state or initial_state
        machine_states: dict[str, Any] = machine.states
        machine_states[finish_state].blank_finish = blank_finish
        for key, value in (extra_settings or {}).items():
            setattr(machine_states[initial_state], key, value)
        machine.run(block, input_offset, memo=self.memo, node=node, match_titles=False)
        result = (machine.abs_line_offset(), machine_states[finish_state].blank_finish)
        machines.append(machine)
        return result

    def inline_text(self: Any, text: str, lineno: int) -> tuple[list[Any], list[Any]]:
        return [nodes.Text(text)], []  # inline markup never decides a heading

    members: dict[str, Any] = {"section": _section}
    if fast:
        members |= {
            "__init__": __init__,
            "nested_parse": nested_parse,
            "nested_list_parse": nested_list_parse,
            "inline_text": inline_text,
            "nested_sm_cache": [],  # our own: never share state machines with other parsers
        }
    else:
        members |= {"__init__": __init__, "nested_sm_cache": []}
    for base in states.state_classes:
        classes.append(type(base.__name__, (base,), members))
    return tuple(classes)


# --- Markdown: markdown-it-py -------------------------------------------------------------------


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Blocks only: headings and link reference definitions are block structure, and the
    # inline parse would be two thirds of the time.
    return MarkdownIt("commonmark").disable("inline")


def _md_headings(plain: list[str]) -> list[Heading]:
    tokens = _markdown().parse("\n".join(plain))
    headings = []
    for token in tokens:
        if token.type != "heading_open" or token.map is None:
            continue
        start, end = token.map
        level = int(token.tag[1:])
        if token.markup.startswith("#"):  # ATX: the text between the markers
            text = re.sub(r"^\s*#+", "", plain[start])
            text = re.sub(r"(?:\s+#+)?\s*$", "", text).strip()
            headings.append(Heading(start, range(start, start + 1), text, level, "#" * level))
        else:  # setext: text lines, then a line of = or -
            text = " ".join(line.strip() for line in plain[start : end - 1])
            underline = len(plain[end - 1].strip())
            headings.append(
                Heading(start, range(start, end), text, level, token.markup[:1], underline)
            )
    return headings


def link_references(plain: list[str]) -> dict[str, str]:
    """Markdown link reference definitions, by lower-cased label, as markdown-it reads them."""
    env: dict[str, Any] = {}
    _markdown().parse("\n".join(plain), env)
    references = env.get("references", {})
    return {label.lower(): str(ref.get("href", "")) for label, ref in references.items()}


# --- heading text -------------------------------------------------------------------------------

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_MONTH_NAMES = frozenset(_MONTHS + [m[:3] for m in _MONTHS])


def _heading_pattern(month: str) -> str:
    """The release heading grammar; `month` matches a date's month name (groups `bmonth` in
    `January 2, 2025`, `dmonth` in `2 January 2025`)."""
    date = (
        r"(?P<date>\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
        rf"|(?P<bmonth>{month})\.? \d{{1,2}}, \d{{4}}|\d{{1,2}} (?P<dmonth>{month})\.? \d{{4}}"
        r"|\d{4}-\d{1,2}-\?+|[Uu]nreleased|UNRELEASED)"
    )
    return (
        r"(?P<lead>(?:[Vv]ersion|VERSION|[Rr]elease|RELEASE)[ \t]+)?"
        r"(?P<open>\[)?(?P<v>[vV])?(?P<version>\d+(?:\.\d+)+[^\s\]()]*)(?P<close>\])?"
        r"(?:\((?P<url>[^()\s]+)\))?"  # release-please: ## [1.2.0](https://…/compare/…) (date)
        r"(?:(?P<sep>[ \t]*[-–—:][ \t]*|[ \t]+\(|[ \t]+)" + date + r"(?P<closer>\))?)?"
        r"(?P<yanked>[ \t]*\[YANKED\])?[ \t]*"
    )


# Any word where a month name goes: the 24 month names are a third of the grammar's compile time
# at start-up. A month is always a whole run of letters (a `.` or a space must follow), so a
# match whose words are month names is the match the exact grammar makes; when a word is no
# month name (rare), the exact grammar decides.
_HEADING = re.compile(_heading_pattern("[A-Za-z]+"))


@cache
def _exact_heading() -> re.Pattern[str]:
    return re.compile(_heading_pattern("|".join(_MONTHS + [m[:3] for m in _MONTHS])))


def _match_heading(text: str) -> re.Match[str] | None:
    """`text` matched in full by the release heading grammar, months checked."""
    match = _HEADING.fullmatch(text)
    if match is None or all(
        m is None or m in _MONTH_NAMES for m in match.group("bmonth", "dmonth")
    ):
        return match
    return _exact_heading().fullmatch(text)


_UNRELEASED = re.compile(r"\[?Unreleased\]?(?:[ \t]+changes)?[ \t]*", re.IGNORECASE)


class DateFormat(NamedTuple):
    """How a heading writes its date: year-month-day with `sep`, zero-padded or not, or a
    month name (`"B d, Y"`: `January 2, 2025`; `"d B Y"`: `2 January 2025`)."""

    order: Literal["ymd", "B d, Y", "d B Y"] = "ymd"
    sep: str = "-"
    padded: bool = True
    abbreviated: bool = False

    def format(self, date: datetime.date) -> str:
        month = _MONTHS[date.month - 1]
        if self.abbreviated:
            month = month[:3]
        if self.order == "B d, Y":
            return f"{month} {date.day}, {date.year}"
        if self.order == "d B Y":
            return f"{date.day} {month} {date.year}"
        if self.padded:
            return f"{date.year:04d}{self.sep}{date.month:02d}{self.sep}{date.day:02d}"
        return f"{date.year}{self.sep}{date.month}{self.sep}{date.day}"


class HeadingText(NamedTuple):
    """A changelog heading's text, read: what it names and how it is written."""

    version: str | None  # as written, without brackets or `v`; None for Unreleased
    date: datetime.date | None
    date_text: str | None  # as written; "Unreleased" for a `[1.2.0] - Unreleased` placeholder
    date_format: DateFormat | None  # None when there is no date, or it reads as none of ours
    brackets: bool = False
    prefix: str = ""  # "Version ", "v", "Version v" ...
    separator: str = ""  # between the version and the date: " - ", "- ", " (" ...
    closer: str = ""  # ")" after a date in parentheses
    date_span: tuple[int, int] | None = None  # where the date text is in the title line
    url: str | None = None  # Markdown: the link on the version (`[1.2.0](url)`)

    @property
    def is_unreleased(self) -> bool:
        return self.version is None

    @property
    def placeholder_date(self) -> bool:
        """`[1.2.0] - Unreleased`: a section for the version, waiting for its date."""
        return self.date_text is not None and self.date_text.lower() == "unreleased"


def heading_text(text: str) -> HeadingText | None:
    """`text` read as an Unreleased or release heading, or None."""
    stripped = text.strip()
    if _UNRELEASED.fullmatch(stripped):
        return HeadingText(None, None, None, None, brackets=stripped.startswith("["))
    match = _match_heading(stripped)
    if match is None or bool(match["open"]) != bool(match["close"]):
        return None
    if match["url"] and not match["close"]:
        return None
    if bool(match["closer"]) != ("(" in (match["sep"] or "")):
        return None
    date_text = match["date"]
    offset = len(text) - len(text.lstrip())
    return HeadingText(
        version=match["version"],
        date=_date(date_text),
        date_text=date_text,
        date_format=_date_format(date_text),
        brackets=bool(match["open"]),
        prefix=(match["lead"] or "") + (match["v"] or ""),
        separator=match["sep"] or "",
        closer=match["closer"] or "",
        date_span=(offset + match.start("date"), offset + match.end("date")) if date_text else None,
        url=match["url"],
    )


def _date(text: str | None) -> datetime.date | None:
    """A heading's date; None when absent, a placeholder, or not a real date (2021-13-40)."""
    if text is None:
        return None
    if (found := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)) is not None:
        year, month, day = (int(part) for part in found.groups())
    elif (found := re.fullmatch(r"(\w+)\.? (\d{1,2}), (\d{4})", text)) is not None:
        month, day, year = _month(found[1]), int(found[2]), int(found[3])
    elif (found := re.fullmatch(r"(\d{1,2}) (\w+)\.? (\d{4})", text)) is not None:
        day, month, year = int(found[1]), _month(found[2]), int(found[3])
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _month(name: str) -> int:
    return [m[:3] for m in _MONTHS].index(name[:3]) + 1


def _date_format(text: str | None) -> DateFormat | None:
    if text is None:
        return None
    if (found := re.fullmatch(r"\d{4}([-/.])(\d{1,2})\1(\d{1,2})", text)) is not None:
        parts = found[2], found[3]
        # "2023-08-8" is a slip in a padded file; only "2024-3-5" is the unpadded style.
        padded = any(p.startswith("0") for p in parts) or all(len(p) == 2 for p in parts)
        return DateFormat("ymd", found[1], padded)
    if (found := re.fullmatch(r"(\w+)\.? \d{1,2}, \d{4}", text)) is not None:
        return DateFormat("B d, Y", abbreviated=found[1] not in _MONTHS)
    if (found := re.fullmatch(r"\d{1,2} (\w+)\.? \d{4}", text)) is not None:
        return DateFormat("d B Y", abbreviated=found[1] not in _MONTHS)
    return None
