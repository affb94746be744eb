"""Changelogs: the real edx-proctoring RST shapes, keep-a-changelog Markdown, stamping, notes."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from release_tool.changelog import (
    Section,
    changelog_format,
    parse,
    parse_sections,
    release_notes,
    split_lines,
    stamp,
)
from release_tool.changelog_headings import Format
from release_tool.errors import ConfigError, FileEditError, UsageError
from release_tool.versions import Version, parse_version

FIXTURES = Path(__file__).parent / "fixtures" / "changelog"
D = datetime.date


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def v(text: str) -> Version:
    return parse_version(text)


# --- format -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("CHANGELOG.rst", "rst"),
        ("docs/HISTORY.RST", "rst"),
        ("CHANGELOG.md", "md"),
        ("CHANGES.markdown", "md"),
    ],
)
def test_changelog_format(path: str, fmt: Format) -> None:
    assert changelog_format(path) == fmt


@pytest.mark.parametrize("path", ["CHANGELOG", "CHANGELOG.txt", "NEWS.rst.bak"])
def test_changelog_format_unknown(path: str) -> None:
    with pytest.raises(ConfigError, match="cannot tell the changelog format") as info:
        changelog_format(path)
    assert ".rst" in info.value.hint


# --- parsing the real RST shapes --------------------------------------------------------------


def test_parse_every_irregular_header() -> None:
    sections = parse_sections(fixture("edx_irregular.rst"), "rst")
    assert [(s.title, s.version, s.date, s.line) for s in sections] == [
        ("Unreleased", None, None, 12),
        # No underline, directly under the Unreleased underline, no blank line.
        ("5.2.1", v("5.2.1"), D(2025, 5, 27), 14),
        ("5.2.0", v("5.2.0"), D(2025, 4, 22), 17),
        ("5.1.2", v("5.1.2"), D(2025, 2, 10), 20),
        # No date, a 21-tilde underline.
        ("4.17.0", v("4.17.0"), None, 24),
        # A date that is not zero-padded.
        ("4.16.1", v("4.16.1"), D(2023, 8, 8), 28),
        # A 48-tilde underline.
        ("4.16.0", v("4.16.0"), D(2023, 6, 22), 33),
        ("4.1.0", v("4.1.0"), D(2021, 9, 28), 37),
        # Added after the fact, below a later version.
        ("4.0.4", v("4.0.4"), D(2021, 10, 5), 41),
        ("4.0.0", v("4.0.0"), D(2021, 8, 25), 45),
        ("2.4.7", v("2.4.7"), D(2020, 10, 6), 54),
    ]


def test_section_bodies() -> None:
    text = fixture("edx_irregular.rst")
    lines = split_lines(text)
    sections = {s.title: s for s in parse_sections(text, "rst")}
    assert sections["Unreleased"].body == range(13, 13)  # empty: the next header follows
    assert sections["5.2.1"].body == range(14, 16)
    assert sections["5.1.2"].body == range(21, 23)  # after the underline
    assert sections["2.4.7"].body.stop == len(lines)
    for section in sections.values():
        assert not any(lines[i].startswith("~~~") for i in section.body)


def test_section_model() -> None:
    [unreleased, release] = parse_sections("Unreleased\n~~~~\n\n[1.0.0]\n", "rst")
    assert unreleased == Section("Unreleased", None, None, 0, range(2, 3))
    assert unreleased.is_unreleased
    assert not release.is_unreleased
    assert release.line == 4


@pytest.mark.parametrize(
    ("version", "notes"),
    [
        ("5.2.1", "* Update a dependency to 3.8.0"),
        ("5.2.0", "* Add support for Django 5.2"),
        ("5.1.2", "* Fix exam submit email content"),
        ("4.17.0", "* Add support for Python 3.11 & 3.12"),
        ("4.16.1", "* Update a dependency\n* Add no-op migrations"),
        ("4.16.0", "* Support Django 4.2"),
        ("4.0.4", "* Entry added after the fact, out of order"),
        (
            "4.0.0",
            "**BREAKING CHANGES:**\n\n* Upgrade a dependency with breaking changes\n\n"
            "  * nested detail",
        ),
    ],
)
def test_release_notes(version: str, notes: str) -> None:
    assert release_notes(fixture("edx_irregular.rst"), v(version), "rst") == notes


def test_release_notes_of_a_missing_version() -> None:
    # 4.0.1, 4.0.2 and 4.0.3 were released without a changelog section.
    assert release_notes(fixture("edx_irregular.rst"), v("4.0.1"), "rst") is None


def test_release_notes_of_the_last_section_keep_the_footer() -> None:
    # A known limit: text after the last section cannot be told from its entries.
    notes = release_notes(fixture("edx_irregular.rst"), v("2.4.7"), "rst")
    assert notes is not None
    assert notes.startswith("* Remove a waffle flag\n\nFor details of changes prior")


def test_bracketed_text_in_a_body_is_not_a_header() -> None:
    text = "Unreleased\n~~~~~~~~~~\n[BD-123] fix\n* [5.0.0] was broken\n[5.0.0] was broken\n"
    [unreleased] = parse_sections(text, "rst")
    assert unreleased.body == range(2, 5)


def test_header_versions_in_either_spelling() -> None:
    text = (
        "[5.3.0-rc.1] - 2025-01-01\n~~~\n* rc\n\n[5.2]\n~~~\n* two parts\n\n[1.2.3.post1]\n* odd\n"
    )
    sections = parse_sections(text, "rst")
    assert [s.version for s in sections] == [
        Version(5, 3, 0, ("rc", 1)),
        Version(5, 2, 0),
        Version(1, 2, 3, post=1),  # PEP 440 post-releases are versions too
    ]
    assert [s.title for s in sections] == ["5.3.0-rc.1", "5.2", "1.2.3.post1"]
    assert release_notes(text, Version(5, 3, 0, ("rc", 1)), "rst") == "* rc"


def test_impossible_date_is_no_date() -> None:
    [section] = parse_sections("[1.0.0] - 2021-13-40\n~~~\n", "rst")
    assert section.version == v("1.0.0")
    assert section.date is None


# --- stamping RST -----------------------------------------------------------------------------


def test_stamp_the_real_header_block() -> None:
    # The Unreleased section is empty: the new section is empty too.
    stamped = stamp(fixture("edx_header_block.rst"), v("5.2.0"), D(2025, 4, 22), "rst")
    assert stamped == fixture("edx_header_block.stamped-5.2.0.rst")
    assert release_notes(stamped, v("5.2.0"), "rst") == ""


def test_stamp_moves_unreleased_entries() -> None:
    stamped = stamp(fixture("edx_unreleased_entries.rst"), v("2.6.0"), D(2021, 1, 21), "rst")
    assert stamped == fixture("edx_unreleased_entries.stamped-2.6.0.rst")
    assert release_notes(stamped, v("2.6.0"), "rst") == (
        "* Replace Travis CI with GitHub Actions\n* Add a dropdown component"
    )
    [unreleased] = [s for s in parse_sections(stamped, "rst") if s.is_unreleased]
    assert release_notes_of(stamped, unreleased) == ""


def release_notes_of(text: str, section: Section) -> str:
    return "".join(split_lines(text)[section.body.start : section.body.stop]).strip()


def test_stamp_keeps_a_section_the_author_wrote() -> None:
    # 5.2.1's header has no underline and no blank line above it: it still counts.
    text = fixture("edx_irregular.rst")
    assert stamp(text, v("5.2.1"), D(2025, 5, 28), "rst") is text
    assert stamp(text, v("4.17.0"), D(2025, 5, 28), "rst") is text


def test_stamp_inserts_exactly_the_new_header() -> None:
    text = fixture("edx_irregular.rst")
    lines = split_lines(text)
    stamped = split_lines(stamp(text, v("5.3.0"), D(2025, 6, 3), "rst"))
    header = "[5.3.0] - 2025-06-03"
    assert stamped == [
        *lines[:13],
        "\n",
        header + "\n",
        "~" * len(header) + "\n",
        "\n",
        *lines[13:],
    ]


def test_stamp_is_idempotent() -> None:
    once = stamp(fixture("edx_unreleased_entries.rst"), v("2.6.0"), D(2021, 1, 21), "rst")
    assert stamp(once, v("2.6.0"), D(2021, 1, 22), "rst") == once


@pytest.mark.parametrize(
    ("name", "version", "date", "fmt"),
    [
        ("edx_header_block", "5.2.0", D(2025, 4, 22), "rst"),
        ("edx_unreleased_entries", "2.6.0", D(2021, 1, 21), "rst"),
        ("keepachangelog", "1.2.0", D(2024, 6, 1), "md"),
    ],
)
def test_stamp_keeps_crlf(name: str, version: str, date: D, fmt: Format) -> None:
    suffix = f".{fmt}"
    text = fixture(name + suffix).replace("\n", "\r\n")
    expected = fixture(f"{name}.stamped-{version}{suffix}").replace("\n", "\r\n")
    assert stamp(text, v(version), date, fmt) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Unreleased is the last line, with no line ending.
        (
            "Unreleased\n~~~~~~~~~~",
            "Unreleased\n~~~~~~~~~~\n\n[1.0.0] - 2025-01-02\n~~~~~~~~~~~~~~~~~~~~\n",
        ),
        # Entries at the end of a file without a final newline keep it that way.
        (
            "Unreleased\n~~~~~~~~~~\n* a",
            "Unreleased\n~~~~~~~~~~\n\n[1.0.0] - 2025-01-02\n~~~~~~~~~~~~~~~~~~~~\n\n* a",
        ),
        # Blank lines of the Unreleased section stay where they were. The file's only release
        # heading has no date: the new one has none either (the file's style).
        (
            "Unreleased\n~~~~~~~~~~\n\n\n* a\n\n\n[0.9.0]\n",
            "Unreleased\n~~~~~~~~~~\n\n\n[1.0.0]\n~~~~~~~\n\n* a\n\n\n[0.9.0]\n",
        ),
        # An Unreleased header without an underline.
        ("Unreleased\n* a\n", "Unreleased\n\n[1.0.0] - 2025-01-02\n~~~~~~~~~~~~~~~~~~~~\n\n* a\n"),
    ],
)
def test_stamp_shapes(text: str, expected: str) -> None:
    assert stamp(text, v("1.0.0"), D(2025, 1, 2), "rst") == expected


def test_stamp_a_prerelease_uses_the_pep440_spelling() -> None:
    stamped = stamp("Unreleased\n~~~~~~~~~~\n* a\n", v("1.0.0rc1"), D(2025, 1, 2), "rst")
    assert "[1.0.0rc1] - 2025-01-02\n~~~~~~~~~~~~~~~~~~~~~~~\n" in stamped
    assert release_notes(stamped, v("1.0.0rc1"), "rst") == "* a"


def test_stamp_without_unreleased_or_section() -> None:
    text = "Change Log\n----------\n\n[1.0.0] - 2025-01-01\n~~~~~~~~~~~~~~~~~~~~\n* a\n"
    with pytest.raises(FileEditError) as info:
        stamp(text, v("1.1.0"), D(2025, 2, 1), "rst", name="CHANGELOG.rst")
    assert info.value.message == (
        "CHANGELOG.rst: no section for 1.1.0, and no Unreleased section to stamp"
    )
    assert "[1.1.0] - 2025-02-01" in info.value.hint
    # ... but a section the author wrote is enough.
    assert stamp(text, v("1.0.0"), D(2025, 2, 1), "rst") is text


# --- Markdown ---------------------------------------------------------------------------------


def test_parse_markdown() -> None:
    sections = parse_sections(fixture("keepachangelog.md"), "md")
    assert [(s.title, s.version, s.date, s.line) for s in sections] == [
        ("Unreleased", None, None, 8),
        ("1.1.0", v("1.1.0"), D(2024, 3, 5), 15),
        ("1.0.1", v("1.0.1"), None, 25),  # no brackets, no date
        ("1.0.0", v("1.0.0"), D(2023, 12, 1), 29),  # [YANKED]
    ]


def test_markdown_release_notes() -> None:
    text = fixture("keepachangelog.md")
    assert release_notes(text, v("1.1.0"), "md") == (
        "### Added\n\n- A `--dry-run` option\n\n### Fixed\n\n- Crash on empty input"
    )
    assert release_notes(text, v("1.0.1"), "md") == "- Typo in the help text"
    # The link references at the end belong to no section.
    assert release_notes(text, v("1.0.0"), "md") == "- First release"


def test_stamp_markdown() -> None:
    stamped = stamp(fixture("keepachangelog.md"), v("1.2.0"), D(2024, 6, 1), "md")
    assert stamped == fixture("keepachangelog.stamped-1.2.0.md")
    assert release_notes(stamped, v("1.2.0"), "md") == (
        "### Added\n\n- Markdown changelogs\n- Release notes from the changelog"
    )


def test_markdown_unreleased_without_brackets() -> None:
    text = "# Changelog\n\n## Unreleased\n- a\n\n## [0.1.0] - 2024-01-01\n- b\n"
    stamped = stamp(text, v("0.2.0"), D(2024, 2, 1), "md")
    assert stamped == (
        "# Changelog\n\n## Unreleased\n\n## [0.2.0] - 2024-02-01\n\n- a\n\n"
        "## [0.1.0] - 2024-01-01\n- b\n"
    )


def test_markdown_release_levels_tied_stamp_beside_unreleased() -> None:
    # One release at `###`, one at `##`: the new heading takes Unreleased's `##`, at its level.
    text = "## [Unreleased]\n- c\n\n### [1.0.1] - 2024-01-05\n- b\n\n## [1.0.0] - 2024-01-01\n- a\n"
    stamped = stamp(text, v("1.1.0"), D(2024, 2, 1), "md")
    assert stamped == text.replace("- c\n", "\n## [1.1.0] - 2024-02-01\n\n- c\n")
    assert release_notes(stamped, v("1.1.0"), "md") == "- c"


def test_markdown_does_not_take_rst_headers() -> None:
    text = "## [Unreleased]\n\n[1.0.0] - 2024-01-01\n- a\n"
    assert [s.title for s in parse_sections(text, "md")] == ["Unreleased"]
    assert [s.title for s in parse_sections("## [1.0.0]\n", "rst")] == []


# --- files Sphinx does not read as they are written: no stamp, but the line ---------------------

WIDE = "~" * 48 + "\n"


@pytest.mark.parametrize(
    ("text", "message", "docutils"),
    [
        # A transition at the start, then an overline whose title has no underline: docutils
        # reads `Unreleased` and its underline as part of that error.
        (
            "----------\n\n----------\n.. comment\nUnreleased\n~~~~~~~~~~\n  continued\n"
            f"[1.0.0] - 2023-08-8\n{WIDE}[1.1.0] - 2023-08-8\n{WIDE}",
            "line 5: cannot stamp 2.0.0: 'Unreleased' is not a heading for Sphinx, which reads "
            "it as part of the text around it",
            "line 3: Missing matching underline for section title overline",
        ),
        # No blank line between the title and Unreleased: one paragraph for Sphinx.
        (
            "Change Log\nUnreleased\n~~~~~~~~~~\n* a\n",
            "line 2: cannot stamp 2.0.0: 'Unreleased' is not a heading for Sphinx, which reads "
            "it as part of the text around it",
            None,
        ),
        # The stray overline swallows `[1.4.0]`, so that its underline becomes the overline of
        # 1.3.0's heading; after a new heading it would be an underline again.
        (
            f"----------\nUnreleased\n[1.4.0] - 2023-08-8\n{WIDE}[1.3.0] - 2023-08-8\n{WIDE}",
            "line 3: cannot stamp 2.0.0: Sphinx would read 1.4.0's heading otherwise: no "
            "heading now, a level-2 heading after",
            "line 1: Missing matching underline for section title overline",
        ),
    ],
)
def test_stamp_refuses_a_file_sphinx_does_not_read_as_written(
    text: str, message: str, docutils: str | None
) -> None:
    with pytest.raises(FileEditError) as info:
        stamp(text, v("2.0.0"), D(2025, 6, 3), "rst", name="CHANGELOG.rst")
    assert info.value.message == f"CHANGELOG.rst {message}"
    assert "or write the '[2.0.0] - 2025-06-03' section yourself" in info.value.hint
    if docutils is not None:
        assert info.value.hint.endswith(f"; docutils: {docutils}")


def test_an_underline_read_as_the_next_overline_is_a_finding() -> None:
    text = f"----------\nUnreleased\n[1.4.0] - 2023-08-8\n{WIDE}[1.3.0] - 2023-08-8\n{WIDE}"
    finding = (
        "line 3: '[1.4.0] - 2023-08-8' is not a heading for Sphinx: docutils reads its underline "
        "as the overline of line 5"
    )
    assert finding in [str(f) for f in parse(text, "rst").findings]


def test_stamp_makes_a_release_line_the_heading_it_was_written_as() -> None:
    # Sphinx reads `Unreleased` and `[1.1.0]` as one paragraph; once the new heading and a blank
    # line are in between, 1.1.0's heading is a heading, at the new one's level.
    text = "Unreleased\n[1.1.0] - 2023-08-8\n~~~~~~~~~~~~~~~~~~~~\n* b\n"
    stamped = stamp(text, v("2.0.0"), D(2025, 6, 3), "rst")
    assert stamped == (
        "Unreleased\n\n[2.0.0] - 2025-06-03\n~~~~~~~~~~~~~~~~~~~~\n\n"
        "[1.1.0] - 2023-08-8\n~~~~~~~~~~~~~~~~~~~~\n* b\n"
    )
    assert [(s.title, s.level) for s in parse(stamped, "rst").sections] == [
        ("Unreleased", 0),
        ("2.0.0", 1),
        ("1.1.0", 1),
    ]


# --- property: stamp changes no line but the ones it must -------------------------------------


def stamp_or_refusal(call: Callable[[], str]) -> str | UsageError:
    """The stamped text, or the error that refused it."""
    try:
        return call()
    except UsageError as error:
        return error


entry_lines = st.sampled_from(
    ["* Fix a bug\n", "* Add a feature\n", "  continued\n", "\n", "**BREAKING:**\n", "- item\n"]
)
bodies = st.lists(entry_lines, max_size=6)


@settings(deadline=None)  # the first example pays for importing docutils (~0.3 s on a busy machine)
@given(
    before=st.lists(
        st.sampled_from(["Change Log\n", "----------\n", "\n", ".. comment\n"]), max_size=4
    ),
    unreleased_underline=st.booleans(),
    unreleased_body=bodies,
    releases=st.lists(
        st.tuples(st.integers(0, 4), st.booleans(), st.sampled_from([20, 21, 48]), bodies),
        max_size=4,
    ),
)
@example(  # docutils reads Unreleased as part of an error (refused, as tested above)
    before=["----------\n", "\n", "----------\n", ".. comment\n"],
    unreleased_underline=True,
    unreleased_body=["  continued\n"],
    releases=[(0, True, 48, []), (0, True, 48, []), (4, False, 20, ["* Fix a bug\n"])],
)
@example(  # 1.3.0's overline is 1.4.0's underline (refused, as tested above)
    before=["----------\n"],
    unreleased_underline=False,
    unreleased_body=[],
    releases=[(4, True, 48, []), (3, True, 48, [])],
)
def test_stamp_changes_only_the_unreleased_section(
    before: list[str],
    unreleased_underline: bool,
    unreleased_body: list[str],
    releases: list[tuple[int, bool, int, list[str]]],
) -> None:
    head = [*before, "Unreleased\n"] + (["~~~~~~~~~~\n"] if unreleased_underline else [])
    tail = []
    for minor, underline, width, body in releases:
        tail += (
            [f"[1.{minor}.0] - 2023-08-8\n"] + (["~" * width + "\n"] if underline else []) + body
        )
    text = "".join(head + unreleased_body + tail)
    new = Version(2, 0, 0)

    result = stamp_or_refusal(lambda: stamp(text, new, D(2025, 6, 3), "rst", name="CHANGELOG.rst"))
    if isinstance(result, UsageError):
        # ... or no stamp at all, for a file Sphinx does not read as it is written (a finding),
        # and the error says which file and line.
        assert re.match(r"CHANGELOG\.rst line \d+: cannot stamp 2\.0\.0: ", result.message)
        assert parse(text, "rst").findings
        return
    stamped = split_lines(result)

    # Lines before and after the Unreleased body are untouched ...
    assert stamped[: len(head)] == head
    assert stamped[len(stamped) - len(tail) :] == tail
    middle = stamped[len(head) : len(stamped) - len(tail)]
    # ... and the middle is the Unreleased body's entries, in order, under the new header.
    header = "[2.0.0] - 2025-06-03\n"
    assert middle.count(header) == 1
    assert [line for line in middle if line.strip()] == [
        header,
        "~" * (len(header) - 1) + "\n",
        *[line for line in unreleased_body if line.strip()],
    ]
    notes = release_notes("".join(stamped), new, "rst")
    assert notes == "".join(unreleased_body).strip("\n")
