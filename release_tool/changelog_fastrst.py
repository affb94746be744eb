"""The section titles of a common RST changelog, found without importing docutils.

Importing `docutils.parsers.rst` costs 25-45 ms: most of a local dry run's budget. Real
changelogs use a small part of reStructuredText: paragraphs, bullet and numbered lists,
comments (`..` + indented text, as in edx-proctoring's header), hyperlink targets, block quotes
and section titles. `fast_titles` reads exactly that subset the way docutils' parser
(`docutils/parsers/rst/states.py`) does, and returns None - "ask docutils" - as soon as a line
could start anything else: a literal block (`::`), a directive, a table, a transition, a field,
definition or option list, a line block, a doctest, a footnote, a substitution.

How docutils decides, and what is copied here:

- A document is read line by line in its `Body` state; the first line of a block is tried
  against `Body.patterns` in order (the patterns below are docutils', character for character;
  `tests/test_changelog_fastrst.py` compares them). Nothing inside a body element (a list item,
  a comment, a block quote) can be a section title, and where such an element ends depends only
  on indentation, never on its content: a list item runs while the lines are blank or indented
  at least as far as its text, a comment, target or block quote while they are blank or indented.
- An unindented text line is a section title when the next line is an underline (one
  punctuation character repeated) at least as wide as the title, or 4+ characters long ("Title
  underline too short" is only a warning); a shorter underline makes both lines a paragraph.
  Otherwise the paragraph runs to the next blank or indented line: a title-like pair inside it is
  no title.
- An overline + title + the same underline is a title when the overline is 4+ characters.
- Levels follow the order in which adornment styles first appear; a title may go at most one
  level deeper than the section it is in, else docutils drops it ("Inconsistent title style").
"""

from __future__ import annotations

import re
from functools import cache

# docutils' `Body.patterns` (states.py), in the order docutils tries them.
_ENUM = r"([0-9]+|[a-z]|[A-Z]|[ivxlcdm]+|[IVXLCDM]+|#)"
_OPTARG = r"([a-zA-Z][a-zA-Z0-9_-]*|<[^<>]+>)"
_OPTION = rf"((-|\+)[a-zA-Z0-9]( ?{_OPTARG})?|(--|/)[a-zA-Z0-9][a-zA-Z0-9_-]*([ =]{_OPTARG})?)"
PATTERNS = {
    "bullet": "[-+*\u2022\u2023\u2043]( +|$)",
    "enumerator": rf"((?P<parens>\({_ENUM}\))|(?P<rparen>{_ENUM}\))|(?P<period>{_ENUM}\.))( +|$)",
    "field_marker": r":(?![: ])([^:\\]|\\.|:(?!([ `]|$)))*(?<! ):( +|$)",
    "option_marker": rf"{_OPTION}(, {_OPTION})*(  +| ?$)",
    "doctest": r">>>( +|$)",
    "line_block": r"\|( +|$)",
    "grid_table_top": r"\+-[-+]+-\+ *$",
    "simple_table_top": "=+( +=+)+ *$",
    "explicit_markup": r"\.\.( +|$)",
    "anonymous": r"__( +|$)",
    "line": r"([!-/:-@[-`{-~])\1* *$",
}
# The bullet and enumerator patterns are read in code (`_bullet_end`, `_may_enumerate`: the
# tests compare them with the patterns), so that the common changelog compiles neither.
_BULLETS = "-+*\u2022\u2023\u2043"
_ROMAN = (frozenset("ivxlcdm"), frozenset("IVXLCDM"))
_EXPLICIT = re.compile(PATTERNS["explicit_markup"])
_ANONYMOUS = re.compile(PATTERNS["anonymous"])
_LINE = re.compile(PATTERNS["line"])
# The constructs between the enumerator and explicit markup, all outside the subset. They and
# the enumerator are compiled on first use (milliseconds), behind a test a match implies.
_OTHER = [
    *("field_marker", "option_marker", "doctest", "line_block"),
    *("grid_table_top", "simple_table_top"),
]
_OTHER_STARTS = frozenset(":-+/>|=")
_AFFIXES = {"parens": ("(", ")"), "rparen": ("", ")"), "period": ("", ".")}


class _Decline(Exception):
    """The document leaves the subset: docutils decides."""


def fast_titles(plain: list[str]) -> list[tuple[int, str, int]] | None:
    """(1-based title line, adornment, level) of every section title, as `rst_titles` gives
    them; None when the document uses anything outside the subset this module reads."""
    # docutils' `string2lines`: tabs to 8 columns, trailing whitespace dropped.
    lines = [line.expandtabs(8).rstrip() if "\t" in line else line.rstrip() for line in plain]
    try:
        return _Reader(lines).titles()
    except _Decline:
        return None


class _Reader:
    """One pass over the lines in docutils' `Body` state, at the document's own level."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.styles: list[str] = []  # adornment styles in order of first appearance
        self.level = 0  # the current section's level (0: the document)
        self.found: list[tuple[int, str, int]] = []

    def titles(self) -> list[tuple[int, str, int]]:
        lines, index = self.lines, 0
        while index < len(lines):
            line = lines[index]
            if not line:
                index += 1
            elif line[0] == " ":  # a block quote
                index = self._indented_end(index + 1)
            elif end := _bullet_end(line):
                index = self._item_end(index, end)
            elif _may_enumerate(line) and (match := _regex("enumerator").match(line)):
                if self._is_enumerated_item(index, match):
                    index = self._item_end(index, match.end())
                else:  # docutils: "TransitionCorrection('text')"
                    index = self._text(index)
            elif line[0] in _OTHER_STARTS and _regex("other").match(line):
                raise _Decline
            elif match := _EXPLICIT.match(line):
                self._check_explicit(line[match.end() :])
                index = self._indented_end(index + 1)
            elif _ANONYMOUS.match(line):
                raise _Decline
            elif _LINE.match(line):
                index = self._overlined(index)
            else:
                index = self._text(index)
        return self.found

    # --- extents of body elements (docutils' `StringList.get_indented`) -------------------------

    def _indented_end(self, index: int) -> int:
        """The first line at or after `index` that is neither blank nor indented."""
        lines = self.lines
        while index < len(lines) and (not lines[index] or lines[index][0] == " "):
            index += 1
        return index

    def _item_end(self, index: int, indent: int) -> int:
        """Where a list item starting at `index` ends; its text starts at column `indent`."""
        lines = self.lines
        if not lines[index][indent:]:  # the text starts on the next line: any indentation
            return self._indented_end(index + 1)
        index += 1
        while index < len(lines):
            line = lines[index]
            if line and (line[0] != " " or line[:indent].strip()):
                break
            index += 1
        return index

    def _is_enumerated_item(self, index: int, match: re.Match[str]) -> bool:
        """docutils' `Body.is_enumerated_list_item`, for arabic numbers only."""
        fmt = next(name for name in _AFFIXES if match[name])
        prefix, suffix = _AFFIXES[fmt]
        text = match[fmt][len(prefix) : -1]
        if not ("0" <= text[:1] <= "9"):  # letters, roman numerals, `#`: docutils decides
            raise _Decline
        if index + 1 >= len(self.lines):
            return True
        following = self.lines[index + 1]
        if not following[:1].strip():  # blank or indented
            return True
        return following.startswith((f"{prefix}{int(text) + 1}{suffix} ", f"{prefix}#{suffix} "))

    @staticmethod
    def _check_explicit(rest: str) -> None:
        """A comment or a hyperlink target is read; any other explicit construct declines."""
        if rest[:1] in ("[", "|") or "::" in rest:  # footnote, citation, substitution, directive
            raise _Decline
        if rest.startswith('end of inclusion from "'):  # docutils' own marker for `include`
            raise _Decline

    # --- paragraphs and titles ---------------------------------------------------------------

    def _text(self, index: int) -> int:
        """docutils' `Text` state: the line at `index` starts a paragraph or is a title."""
        lines = self.lines
        if index + 1 < len(lines):
            following = lines[index + 1]
            if following and following[0] == " ":  # a definition list
                raise _Decline
            if following and _LINE.match(following):
                title = lines[index]
                if len(following) >= 4 or column_width(title) <= len(following):
                    self._title(index + 1, following[0])
                    return index + 2
        end = index + 1
        while end < len(lines) and lines[end] and lines[end][0] != " ":
            end += 1
        if lines[end - 1].endswith("::"):  # a literal block follows
            raise _Decline
        return end

    def _overlined(self, index: int) -> int:
        """docutils' `Line` state: an overline, a title and the same underline."""
        lines = self.lines
        overline = lines[index]
        if len(overline) < 4 or index + 2 >= len(lines):
            raise _Decline
        title, underline = lines[index + 1], lines[index + 2]
        if not title or (title[0] != " " and _LINE.match(title)) or underline != overline:
            raise _Decline  # a transition, or a malformed title
        self._title(index + 2, overline[0] + underline[0])
        return index + 3

    def _title(self, lineno: int, style: str) -> None:
        """docutils' `RSTState.check_subsection`: the title's level, or no title."""
        try:
            level = self.styles.index(style) + 1
        except ValueError:
            level = len(self.styles) + 1
        if level > self.level + 1:  # "Inconsistent title style": the lines are dropped
            return
        if level > len(self.styles):
            self.styles.append(style)
        self.level = level
        self.found.append((lineno, style, level))


def _bullet_end(line: str) -> int:
    """Where the bullet pattern's match at the start of `line` ends (a bullet, then spaces or
    the end of the line); 0 when it does not match. `line` has no trailing whitespace."""
    if line[:1] not in _BULLETS or line[1:2] not in ("", " "):
        return 0
    return len(line) - len(line[1:].lstrip(" "))


def _may_enumerate(line: str) -> bool:
    """Whether `line` matches the enumerator pattern: its marker, up to the first space or the
    end of the line, is `(E)`, `E)` or `E.` with E a number, a letter, a roman numeral or `#`."""
    space = line.find(" ")
    marker = line if space < 0 else line[:space]
    if marker.endswith("."):
        enumerator = marker[:-1]
    elif marker.endswith(")"):
        enumerator = marker[1:-1] if marker.startswith("(") else marker[:-1]
    else:
        return False
    if not enumerator.isascii() or not enumerator:
        return False
    return (
        enumerator == "#"
        or enumerator.isdigit()
        or (len(enumerator) == 1 and enumerator.isalpha())
        or any(set(enumerator) <= roman for roman in _ROMAN)
    )


@cache
def _regex(name: str) -> re.Pattern[str]:
    if name == "other":
        return re.compile("|".join(f"(?:{PATTERNS[other]})" for other in _OTHER))
    return re.compile(PATTERNS[name])


def column_width(text: str) -> int:
    """docutils' `utils.column_width`: wide East Asian characters count 2, combining ones 0."""
    if text.isascii():
        return len(text)
    import unicodedata  # only for a title with non-ASCII text

    wide = sum(unicodedata.east_asian_width(c) in ("W", "F") for c in text)
    return len(text) + wide - sum(1 for c in text if unicodedata.combining(c))
