"""The docutils-free reading of common RST changelogs gives exactly docutils' headings.

`fast_titles` either returns what docutils' parser returns, or None ("ask docutils"). Checked on
every fixture, and on documents generated from the subset's grammar (which it must read without
docutils) and from near misses and constructs outside it (where it may decline, but never
differs). A local dry run of the bundled example library does not import docutils at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from docutils.parsers.rst.states import Body
from docutils.utils import column_width as docutils_column_width
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from release_tool import changelog_fastrst
from release_tool.changelog import Changelog, parse, split_lines
from release_tool.changelog_fastrst import PATTERNS, column_width, fast_titles
from release_tool.changelog_headings import plain_lines, rst_titles

FIXTURES = Path(__file__).parent / "fixtures" / "changelog"
ALL_RST = sorted(FIXTURES.glob("**/*.rst"))
# Shapes of real libraries (real-world.md): the fast path must read them without docutils.
REAL_SHAPES = [
    "edx_header_block.rst",
    "edx_irregular.rst",
    "edx_unreleased_entries.rst",
    "styles/proctoring.rst",
    "styles/no_underline.rst",
    "styles/completion.rst",
    "styles/lti_consumer.rst",
]


def plain_of(text: str) -> list[str]:
    return plain_lines(split_lines(text))


def both(text: str) -> tuple[list[tuple[int, str, int]] | None, list[tuple[int, str, int]]]:
    plain = plain_of(text)
    return fast_titles(plain), rst_titles(plain, full=True)


@contextmanager
def docutils_only() -> Iterator[None]:
    """Changelogs parsed while the fast path declines everything: docutils decides."""
    declined: Callable[[list[str]], None] = lambda plain: None  # noqa: E731
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(changelog_fastrst, "fast_titles", declined)
        yield


def reading(text: str, name: str = "CHANGELOG.rst") -> tuple[Any, ...]:
    """Everything a parse gives that a user sees: sections (with their heading lines and
    levels), the learned style, and the findings with their line numbers and messages."""
    parsed: Changelog = parse(text, name)
    sections = tuple((s, s.heading, s.level, s.written) for s in parsed.sections)
    return sections, parsed.style, parsed.findings


def same_reading_both_ways(text: str) -> tuple[Any, ...]:
    fast = reading(text, "fast/CHANGELOG.rst")
    with docutils_only():
        slow = reading(text, "slow/CHANGELOG.rst")
    assert fast[0] == slow[0] and fast[1] == slow[1]
    assert [(f.line, f.message.replace("fast/", "")) for f in fast[2]] == [
        (f.line, f.message.replace("slow/", "")) for f in slow[2]
    ]
    return fast


# --- the grammar is docutils' ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_patterns_are_docutils_own(name: str) -> None:
    pattern = Body.patterns[name]
    assert getattr(pattern, "pattern", pattern) == PATTERNS[name]
    assert Body.initial_transitions[: len(PATTERNS)] == tuple(PATTERNS)


@given(st.text(alphabet="(#)iIvx1209aZ.:-+/>|=_ ", min_size=1, max_size=10))
def test_quick_tests_never_hide_a_pattern(line: str) -> None:
    # The enumerator and the constructs after it are tried only behind a quick test.
    line = line.rstrip()
    if re.match(PATTERNS["enumerator"], line):
        assert changelog_fastrst._may_enumerate(line)
    if any(re.match(PATTERNS[name], line) for name in changelog_fastrst._OTHER):
        assert line[:1] in changelog_fastrst._OTHER_STARTS


@given(st.text(alphabet="(#)iIvx1209aZ.-+*\u2022\u2043 \u00a0", min_size=1, max_size=10))
def test_bullet_and_enumerator_are_read_as_the_patterns_match(line: str) -> None:
    # Read in code so that a common changelog compiles neither pattern: the same answers.
    line = line.rstrip()
    bullet = re.match(PATTERNS["bullet"], line)
    assert changelog_fastrst._bullet_end(line) == (bullet.end() if bullet else 0)
    enumerator = re.match(PATTERNS["enumerator"], line)
    assert changelog_fastrst._may_enumerate(line) == (enumerator is not None)


@given(st.text(max_size=12))
def test_column_width_is_docutils(text: str) -> None:
    assert column_width(text) == docutils_column_width(text)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_RST, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_fast_path_agrees_with_docutils(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    fast, full = both(text)
    assert fast is None or fast == full
    same_reading_both_ways(text)
    same_reading_both_ways(text.replace("\n", "\r\n"))


@pytest.mark.parametrize("name", REAL_SHAPES)
def test_real_shapes_are_read_without_docutils(name: str) -> None:
    fast, full = both((FIXTURES / name).read_bytes().decode("utf-8"))
    assert fast is not None and fast == full and fast


def test_literal_blocks_and_directives_are_left_to_docutils() -> None:
    text = (FIXTURES / "styles" / "literal_blocks.rst").read_bytes().decode("utf-8")
    assert fast_titles(plain_of(text)) is None


def test_an_underline_less_version_line_is_found_either_way() -> None:
    # Today's edx-proctoring: `[5.2.0] - …` right under Unreleased's underline, no underline.
    text = (FIXTURES / "styles" / "no_underline.rst").read_bytes().decode("utf-8")
    sections, _, findings = same_reading_both_ways(text)
    assert "line 14: '[5.2.0] - 2025-04-22' is not a heading for Sphinx: it has no underline" in [
        str(f) for f in findings
    ]
    assert [level for _, _, level, _ in sections][:3] == [2, 0, 2]  # 0: no heading


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Title\n-----\n", [(1, "-", 1)]),
        ("Title\n--\n", []),  # too short for the title, and under 4: a paragraph
        ("Title\n----\n", [(1, "-", 1)]),  # too short, but 4+: a title (docutils warns)
        ("Ti\n--\n", [(1, "-", 1)]),
        ("para\nTitle\n-----\n", []),  # no blank line before it: the paragraph goes on
        ("A\n===\nB\n---\nC\n~~~\nD\n---\n", [(1, "=", 1), (3, "-", 2), (5, "~", 3), (7, "-", 2)]),
        ("A\n===\nB\n---\nC\n===\nD\n~~~\n", [(1, "=", 1), (3, "-", 2), (5, "=", 1)]),  # D skips
        ("* item\nTitle\n-----\n", [(2, "-", 1)]),
        ("1. Foo\n------\n", [(1, "-", 1)]),  # not a list item: the next line is no item
        ("1. Foo\n2. Bar\n------\n", [(2, "-", 1)]),  # an item, then a title
        ("=====\nTitle\n=====\n\nSub\n---\n", [(2, "==", 1), (5, "-", 2)]),
        ("..\n   comment\n\nTitle\n-----\n", [(4, "-", 1)]),
        ("Para::\n\n  code\n", None),
        ("Para\n\n----\n\nMore\n", None),  # a transition
        (".. note:: x\n", None),
        ("Term\n  definition\n", None),
        ("=====  =====\na      b\n=====  =====\n", None),
        (":field: value\n", None),
        ("a. alpha\n", None),
    ],
)
def test_examples(text: str, expected: list[tuple[int, str, int]] | None) -> None:
    fast, full = both(text)
    assert fast == expected
    if expected is not None:
        assert full == expected


# --- generated documents ------------------------------------------------------------------------

FIRST_WORDS = ["Fix", "Added", "Unreleased", "[5.2.0]", "5.2.0", "v1.2.3", "Version", "Ça"]
FIRST_WORDS += ["**BREAKING**", "``code``", "日本語", "e.g.", "1.2", "Change", "Sub"]
WORDS = [*FIRST_WORDS, "-", "2025-04-22", "(2024-01-01)", "`link`_", "crash", "x", "é", "a̐"]
ADORNMENTS = list("=-~^*#+\"'`._!$%&,/;<>?@\\|}")
NEAR_MISS_ADORNMENTS = [*ADORNMENTS, ":", "—", "-=", "-- "]


@st.composite
def words(draw: st.DrawFn, first: list[str] = FIRST_WORDS) -> str:
    head = draw(st.sampled_from(first))
    tail = draw(st.lists(st.sampled_from(WORDS), max_size=4))
    return " ".join([head, *tail])


def width(text: str) -> int:
    return docutils_column_width(text)


@st.composite
def title(draw: st.DrawFn, near_miss: bool, overline: bool = True) -> list[str]:
    text = draw(words())
    char = draw(st.sampled_from(NEAR_MISS_ADORNMENTS if near_miss else ADORNMENTS))
    length = max(1, width(text) + draw(st.integers(-4, 3)))
    line = (char * length)[: max(1, length)]
    if overline and draw(st.booleans()) and draw(st.booleans()):  # over- and underlined
        if not near_miss:
            line = char * max(4, width(text) + draw(st.integers(0, 2)))
        inset = " " * draw(st.integers(0, 2))
        under = line if not near_miss or draw(st.booleans()) else line + char
        return [line, inset + text, under]
    return [text, line]


@st.composite
def paragraph(draw: st.DrawFn, near_miss: bool) -> list[str]:
    lines = [draw(words()), *draw(st.lists(words(first=WORDS), max_size=2))]
    if near_miss and draw(st.booleans()):
        lines[-1] += draw(st.sampled_from(["::", " ::", ":"]))
    return lines


@st.composite
def bullets(draw: st.DrawFn, near_miss: bool) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        marker = draw(st.sampled_from(["*", "-", "+", "•", "1.", "2)", "(3)"]))
        gap = " " * draw(st.integers(1, 3))
        lines.append(marker + gap + draw(words()))
        indent = len(marker) + len(gap) - (draw(st.integers(0, 1)) if near_miss else 0)
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["text", "nested", "blank-then-text"]))
            if kind == "blank-then-text":
                lines.append("")
            prefix = "* " if kind == "nested" else ""
            lines.append(" " * max(indent, 1) + prefix + draw(words(first=WORDS)))
    return lines


@st.composite
def comment(draw: st.DrawFn) -> list[str]:
    shape = draw(st.sampled_from(["edx", "inline", "inline+more", "empty", "target"]))
    text = draw(words(first=["There", "Note", "Fix", "5.2.0", "Unreleased"]))  # no `[1]`
    if shape == "edx":  # `..` alone, then indented text (edx-proctoring's header)
        return ["..", *("   " + draw(words(first=WORDS)) for _ in range(draw(st.integers(1, 3))))]
    if shape == "inline":
        return [".. " + text]
    if shape == "inline+more":
        return [".. " + text, "   " + draw(words(first=WORDS))]
    if shape == "empty":
        return [".."]
    return [".. _GitHub commit history: https://github.com/edx/edx-proctoring/commits/master"]


def block_quote(draw: st.DrawFn) -> list[str]:
    return [" " * draw(st.integers(1, 4)) + draw(words(first=WORDS))]


# Constructs outside the subset, which the fast path must leave to docutils.
OUTSIDE = [
    ["Example::", "", "    Title", "    -----"],
    [".. code-block:: rst", "", "    [9.9.9] - 2020-01-01", "    ~~~~~~~~~~~~~~~~~~~~"],
    [".. note::", "   a note"],
    [".. |sub| replace:: text"],
    [".. [1] a footnote"],
    [".. [cit] a citation"],
    ["+-----+-----+", "| a   | b   |", "+-----+-----+"],
    ["=====  =====", "a      b", "=====  ====="],
    ["----------"],
    ["----"],
    [":field: value"],
    ["-a  an option"],
    ["Term", "  definition"],
    ["| line", "| block"],
    [">>> 1 + 1", "2"],
    ["__ https://example.org"],
    ["#. auto"],
    ["a. alpha", "b. beta"],
    ["IV. roman"],
]


@st.composite
def document(draw: st.DrawFn, near_miss: bool) -> str:
    blocks: list[list[str]] = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(
            st.sampled_from(
                ["title", "title", "paragraph", "bullets", "comment", "quote", "edx-today"]
                + (["outside"] if near_miss else [])
            )
        )
        if kind == "title":
            block = draw(title(near_miss))
            if draw(st.booleans()):  # a title directly under another title's underline
                block += draw(title(near_miss, overline=near_miss))
        elif kind == "paragraph":
            block = draw(paragraph(near_miss))
            if draw(st.booleans()):  # no blank line before a title: the paragraph goes on
                block += draw(title(near_miss, overline=near_miss))
        elif kind == "bullets":
            block = draw(bullets(near_miss))
            if draw(st.booleans()):  # a title right after the list
                block += draw(title(near_miss, overline=near_miss))
        elif kind == "comment":
            block = draw(comment())
        elif kind == "quote":
            block = block_quote(draw)
        elif kind == "edx-today":  # a version line with no underline, under Unreleased's
            block = ["Unreleased", "~~~~~~~~~~", "[5.2.1] - 2025-05-27", "* Update a dependency"]
        else:
            block = draw(st.sampled_from(OUTSIDE))
        blocks.append(block)
    lines: list[str] = []
    for block in blocks:
        if lines and (not near_miss or draw(st.integers(0, 3))):
            lines.append("")
        lines += block
    if near_miss or draw(st.booleans()):
        lines = [mutate(draw, line) for line in lines]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))


def mutate(draw: st.DrawFn, line: str) -> str:
    """Trailing spaces and tabs; leading spaces as a tab (docutils expands tabs to 8)."""
    if line.startswith("  ") and draw(st.integers(0, 3)) == 0:
        line = "\t" + line.lstrip(" ")
    if draw(st.integers(0, 4)) == 0:
        line += draw(st.sampled_from([" ", "  ", "\t", " \t"]))
    return line


# Lines that start, end or continue the constructs above, in any order: adversarial soup.
SOUP = ["", "", "Title", "Ti", "[5.2.0] - 2025-04-22", "-----", "--", "=====", "~~~~", "====="]
SOUP += ["* a", "*", "- b", "  c", " d", "    e", "\tf", "1. x", "2. y", "(1) z", "#. w", "a. q"]
SOUP += ["..", ".. c", ".. _t: u", "   ..", "Para::", "::", "x ::", "\u00a0g", "\u3000h", "日本語"]
SOUP += [":f: v", "| l", ">>> 1", "__ u", "+--+--+", "==  ==", "-a  o", "Term", "   def"]
SOUP += ["-=-=-", "——————", "Title  ", "Title\t", "   =====", " Title", "::::", "....", "____"]


@st.composite
def soup(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.sampled_from(SOUP), max_size=14))
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(document(near_miss=False))
def test_subset_documents_are_read_without_docutils_and_agree(text: str) -> None:
    fast, full = both(text)
    assert fast is not None, text
    assert fast == full, text


@EXAMPLES
@given(document(near_miss=True))
def test_near_misses_agree_whenever_the_fast_path_reads_them(text: str) -> None:
    fast, full = both(text)
    event("declined" if fast is None else "read without docutils")
    assert fast is None or fast == full, text


@EXAMPLES
@given(soup())
def test_line_soup_agrees_whenever_the_fast_path_reads_it(text: str) -> None:
    fast, full = both(text)
    event("declined" if fast is None else "read without docutils")
    assert fast is None or fast == full, text


@settings(max_examples=40, deadline=None)
@given(document(near_miss=True))
def test_findings_are_the_same_whichever_path_ran(text: str) -> None:
    same_reading_both_ways(text)


# --- start-up: a local dry run imports no docutils ------------------------------------------


def test_a_local_dry_run_imports_no_docutils(library: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "release_tool", "plan", "patch", "--local"],
        cwd=library,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "CHANGELOG.rst: section [5.2.1] stamped" in result.stdout  # the changelog was read
    imported = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "release_tool.changelog_headings" in imported  # the measurement itself works
    assert not {name for name in imported if name.split(".")[0] == "docutils"}
