"""Changelogs in every heading style of real-world.md's table: read as Sphinx / CommonMark read
them, notes exactly a version's section, new headings written in the file's own style."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_changelog import stamp_or_refusal

from release_tool import changelog_headings
from release_tool.changelog import Changelog, parse, split_lines
from release_tool.changelog_headings import heading_text, plain_lines, rst_titles
from release_tool.errors import FileEditError, UsageError
from release_tool.versions import Version, parse_version

STYLES = Path(__file__).parent / "fixtures" / "changelog" / "styles"
ALL_RST = sorted((STYLES.parent).glob("**/*.rst"))
D = datetime.date


def read(name: str) -> str:
    return (STYLES / name).read_bytes().decode("utf-8")


def v(text: str) -> Version:
    return parse_version(text)


def changelog(name: str) -> Changelog:
    return parse(read(name), name)


# --- stamping: the new heading in the file's own style (golden files) ---------------------------

STAMPS = [
    # edx-proctoring: bracketed, dated, `~` (underlines of 20, 21 and 48, an undated heading).
    ("proctoring.rst", "5.2.0", D(2025, 4, 22)),
    # edx-proctoring today: `[5.2.0] - …` with no underline, right under Unreleased's.
    ("no_underline.rst", "5.2.1", D(2025, 5, 27)),
    # completion: title `=`, Unreleased and the releases `-`: the new one beside Unreleased.
    ("completion.rst", "4.9.0", D(2025, 6, 2)),
    # xblock-lti-consumer: ~100 unbracketed `11.4.0 - 2026-07-16` under `-`, Unreleased `~`.
    ("lti_consumer.rst", "11.5.0", D(2026, 8, 3)),
    # `Version X.Y.Z (date)`, overlined title, sub-sections inside releases.
    ("version_parens.rst", "2.2.0", D(2024, 9, 9)),
    # `vX.Y.Z`, undated, `*` underlines under a `#` title.
    ("v_prefix.rst", "1.5.0", D(2024, 9, 9)),
    # `[4.0.4]- 2021-…` and `[1.0.2]` underlined with the title's character: outvoted.
    ("odd_one_offs.rst", "4.2.0", D(2021, 10, 5)),
    # Two headings for 2.3.0: another version is still stamped.
    ("duplicates.rst", "2.4.0", D(2022, 6, 1)),
    # Heading-like lines in literal blocks, a code-block and a comment are no headings.
    ("literal_blocks.rst", "1.2.0", D(2024, 3, 3)),
    ("prereleases.rst", "2.0.0", D(2025, 3, 20)),
    # `1.3.0 - Unreleased`: the section exists and gets its date.
    ("placeholder.rst", "1.3.0", D(2024, 7, 1)),
    # keep-a-changelog links: the new version's link, and [unreleased] starting from it.
    ("links.md", "0.2.0", D(2024, 2, 2)),
    # `###` releases under a `##` heading, and a fenced block holding `## [9.9.9]`.
    ("fenced.md", "1.2.0", D(2024, 3, 3)),
    # release-please: `## [1.3.0](…/compare/v1.2.1...v1.3.0) (2024-05-02)`, patches at `###`.
    ("release_please.md", "1.4.0", D(2024, 6, 1)),
]


def golden(name: str, version: str) -> str:
    stem, suffix = name.rsplit(".", 1)
    return read(f"{stem}.stamped-{version}.{suffix}")


@pytest.mark.parametrize(("name", "version", "date"), STAMPS)
def test_stamp_writes_the_files_own_style(name: str, version: str, date: D) -> None:
    before = changelog(name)
    stamped = before.stamp(v(version), date)
    assert stamped == golden(name, version)
    after = parse(stamped, name)
    # The new section is a real heading, at the level of the file's release headings ...
    new = after.section(v(version))
    assert new is not None
    assert new.date == (date if before.style.dated else None)
    assert new.level == (before.style.level or new.level) > 0
    # ... holding exactly what Unreleased held, which is now empty.
    unreleased = before.unreleased
    if unreleased is not None and before.section(v(version)) is None:
        lines = split_lines(before.text)
        entries = "".join(lines[unreleased.body.start : unreleased.body.stop]).strip("\n")
        assert after.notes(v(version)) == entries
        assert after.unreleased is not None
        assert not "".join(
            split_lines(stamped)[after.unreleased.body.start : new.heading.start]
        ).strip()
    # Every other line is byte for byte the same: stamping again changes nothing.
    assert after.stamp(v(version), date + datetime.timedelta(days=1)) is stamped


@pytest.mark.parametrize(("name", "version", "date"), STAMPS)
def test_stamp_keeps_crlf(name: str, version: str, date: D) -> None:
    text = read(name).replace("\n", "\r\n")
    assert parse(text, name).stamp(v(version), date) == golden(name, version).replace("\n", "\r\n")


def test_completion_new_release_is_beside_unreleased_not_inside() -> None:
    stamped = parse(changelog("completion.rst").stamp(v("4.9.0"), D(2025, 6, 2)), "c.rst")
    assert stamped.unreleased is not None
    levels = {s.title: s.level for s in stamped.sections}
    assert levels["Unreleased"] == levels["4.9.0"] == levels["4.8.0"] == 2


def test_lti_consumer_new_release_at_the_release_level() -> None:
    # There Unreleased is `~` (level 2) and the releases `-` (level 3): the file's majority.
    stamped = parse(changelog("lti_consumer.rst").stamp(v("11.5.0"), D(2026, 8, 3)), "l.rst")
    levels = {s.title: s.level for s in stamped.sections}
    assert (levels["Unreleased"], levels["11.5.0"], levels["11.4.0"]) == (2, 3, 3)


def test_stamp_without_version_headings_uses_unreleaseds_adornment() -> None:
    # Today's style, but beside Unreleased: `-` here, not `~` (which would nest it inside).
    text = "Change Log\n==========\n\nUnreleased\n----------\n\n* a\n"
    stamped = parse(text, "CHANGELOG.rst").stamp(v("1.0.0"), D(2025, 1, 2))
    assert stamped == (
        "Change Log\n==========\n\nUnreleased\n----------\n\n"
        "[1.0.0] - 2025-01-02\n--------------------\n\n* a\n"
    )
    levels = [s.level for s in parse(stamped, "CHANGELOG.rst").sections]
    assert levels == [2, 2]


def test_stamp_error_hint_in_the_files_style() -> None:
    text = read("lti_consumer.rst").replace("Unreleased\n~~~~~~~~~~\n", "")
    with pytest.raises(FileEditError) as info:
        parse(text, "CHANGELOG.rst").stamp(v("11.5.0"), D(2026, 8, 3))
    assert info.value.message == (
        "CHANGELOG.rst: no section for 11.5.0, and no Unreleased section to stamp"
    )
    assert "'11.5.0 - 2026-08-03'" in info.value.hint


# --- style learning -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "describe"),
    [
        ("proctoring.rst", "[1.0.0] - 2025-01-02", "[X.Y.Z] - <date> underlined with '~'"),
        ("lti_consumer.rst", "1.0.0 - 2025-01-02", "X.Y.Z - <date> underlined with '-'"),
        (
            "version_parens.rst",
            "Version 1.0.0 (2025-01-02)",
            "Version X.Y.Z (<date>) underlined with '='",
        ),
        ("v_prefix.rst", "v1.0.0", "vX.Y.Z underlined with '*'"),
        ("odd_one_offs.rst", "[1.0.0] - 2025-01-02", "[X.Y.Z] - <date> underlined with '~'"),
        ("links.md", "[1.0.0] - 2025-01-02", "## [X.Y.Z] - <date>"),
        ("fenced.md", "1.0.0 - 2025-01-02", "### X.Y.Z - <date>"),
        ("release_please.md", "[1.0.0] (2025-01-02)", "## [X.Y.Z] (<date>)"),
    ],
)
def test_learnt_style(name: str, title: str, describe: str) -> None:
    style = changelog(name).style
    assert style.learnt
    assert style.title("1.0.0", D(2025, 1, 2)) == title
    assert style.describe() == describe


@pytest.mark.parametrize(
    ("dates", "written"),
    [
        (["2024-3-5", "2024-1-20", "2023-12-01"], "2025-1-2"),  # unpadded wins 2:1
        (["2024-3-5", "2023-12-01"], "2025-01-02"),  # a tie keeps today's padding
        (["2023-08-8", "2023-08-18"], "2025-01-02"),  # a slip in a padded file
        (["2024/03/05", "2024/01/20"], "2025/01/02"),
        (["2024.03.05", "2024-01-20", "2024.01.02"], "2025.01.02"),
        (["March 5, 2024", "January 20, 2024"], "January 2, 2025"),
        (["5 Mar 2024", "20 Jan 2024"], "2 Jan 2025"),
    ],
)
def test_date_format_is_learnt(dates: list[str], written: str) -> None:
    body = "".join(f"[1.{n}.0] - {d}\n{'~' * (10 + len(d))}\n* x\n\n" for n, d in enumerate(dates))
    text = "Unreleased\n~~~~~~~~~~\n\n" + body
    style = parse(text, "CHANGELOG.rst").style
    assert style.title("1.9.0", D(2025, 1, 2)) == f"[1.9.0] - {written}"


def test_fixed_underline_length_is_learnt() -> None:
    # completion's old sections: 48 tildes under titles of different lengths.
    lines = ["Unreleased\n~~~~~~~~~~\n\n"]
    for version in ["0.1.14", "0.1.7", "0.1.6", "0.0.11"]:
        lines.append(f"[{version}] - 2018-10-04\n{'~' * 48}\n* x\n\n")
    stamped = parse("".join(lines), "c.rst").stamp(v("0.2.0"), D(2019, 1, 2))
    assert "[0.2.0] - 2019-01-02\n" + "~" * 48 + "\n" in stamped


@pytest.mark.parametrize(
    ("text", "version", "date", "fields"),
    [
        ("[5.1.2] - 2025-02-10", "5.1.2", D(2025, 2, 10), (True, "", " - ", "")),
        ("[4.0.4]- 2021-08-30", "4.0.4", D(2021, 8, 30), (True, "", "- ", "")),
        ("11.4.0 - 2026-07-16", "11.4.0", D(2026, 7, 16), (False, "", " - ", "")),
        ("2.3 – 2020-08-27", "2.3", D(2020, 8, 27), (False, "", " – ", "")),
        ("Version 1.2.0 (2024-01-01)", "1.2.0", D(2024, 1, 1), (False, "Version ", " (", ")")),
        ("v1.2.3", "1.2.3", None, (False, "v", "", "")),
        ("[v1.2.3] - 2024-01-01", "1.2.3", D(2024, 1, 1), (True, "v", " - ", "")),
        ("[1.0.0] - 2023-12-01 [YANKED]", "1.0.0", D(2023, 12, 1), (True, "", " - ", "")),
        ("3.1.0 - 2021-10-?", "3.1.0", None, (False, "", " - ", "")),
        ("1.3.0 - Unreleased", "1.3.0", None, (False, "", " - ", "")),
    ],
)
def test_heading_text(
    text: str, version: str, date: D | None, fields: tuple[bool, str, str, str]
) -> None:
    read_ = heading_text(text)
    assert read_ is not None
    assert (read_.version, read_.date) == (version, date)
    assert (read_.brackets, read_.prefix, read_.separator, read_.closer) == fields


_HEADING_PARTS = st.sampled_from(
    [
        *("[", "]", "v", "1.2.0", "Version ", " - ", " (", ")", "–", " ", "2025-01-02"),
        *("Unreleased", "Jan", "January", "June", "Jun", "Junk", "Foo", "may", ".", "3", "3,"),
        *("2025", "[YANKED]"),
    ]
)


@given(st.lists(_HEADING_PARTS, max_size=9).map("".join))
def test_month_names_are_read_as_the_exact_grammar_reads_them(text: str) -> None:
    # Start-up compiles any word where a month goes, and checks the word in code.
    exact = changelog_headings._exact_heading().fullmatch(text)
    found = changelog_headings._match_heading(text)
    assert (found and (found.span(), found.groupdict())) == (
        exact and (exact.span(), exact.groupdict())
    )


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("1.2.0 (June 3, 2025)", D(2025, 6, 3)),
        ("[1.2.0] - 3 Jan. 2025", D(2025, 1, 3)),
        ("1.2.0 - Junk 3, 2025", None),  # no month: no heading
        ("1.2.0 - 3 may 2025", None),
    ],
)
def test_month_name_dates(text: str, date: D | None) -> None:
    read_ = heading_text(text)
    assert (read_.date if read_ else None) == date
    assert (read_ is not None) == (date is not None)


@pytest.mark.parametrize(
    "text",
    [
        "Change Log",
        "Added",
        "2024",
        "[BD-123] fix",
        "1.2.3 was broken",
        "[1.2.3",
        "1.2.3 (2024-01-01",
    ],
)
def test_not_a_version_heading(text: str) -> None:
    assert heading_text(text) is None


# --- sections: exactly the version's own ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "notes"),
    [
        ("proctoring.rst", "5.1.1", "* Upgrade `pyjwt <https://pypi.org/project/PyJWT/>`_ to 2.10"),
        ("proctoring.rst", "4.17.0", "* Add support for Python 3.11 & 3.12"),
        ("proctoring.rst", "4.16.0", "* Support Django 4.2"),
        # The last section runs to the end of the file (as in Sphinx).
        (
            "proctoring.rst",
            "4.15.1",
            "* Fix the onboarding status panel\n\n**Sub-heading-like bold line**\n\n"
            "* and a list after it",
        ),
        ("no_underline.rst", "5.2.0", "* Add support for Django 5.2"),
        ("no_underline.rst", "5.1.2", "* Fix exam submit email content"),
        ("completion.rst", "4.8.0", "* Add support for Django 5.2"),
        ("completion.rst", "4.7.10", "* Switch from ``edx-sphinx-theme`` to ``sphinx-book-theme``"),
        (
            "lti_consumer.rst",
            "11.4.0",
            "* Fix broken call to LMS ``get_block_for_descriptor_internal`` due to "
            "descriptor->block rename.",
        ),
        ("lti_consumer.rst", "11.3.1", "* Updated translations."),
        ("lti_consumer.rst", "2.3.0", "* Move LTI configuration access to plugin model."),
        ("lti_consumer.rst", "2.0.0", "* LTI 1.3 support."),
        (
            "version_parens.rst",
            "2.1.0",
            "- Add the ``--quiet`` option.\n- Fix a crash on empty files.",
        ),
        # Sub-sections stay inside their release.
        (
            "version_parens.rst",
            "2.0.0",
            "Breaking changes\n----------------\n\n- Drop Python 3.7.\n\n"
            "Other changes\n-------------\n\n- Faster start-up.",
        ),
        ("v_prefix.rst", "1.3.2", "* Fix the retry delay."),
        ("odd_one_offs.rst", "4.0.4", "* The heading has no space before its dash"),
        ("odd_one_offs.rst", "1.0.2", "* Underlined with the title's character"),
        ("odd_one_offs.rst", "1.0.1", "* Older entry"),
        (
            "literal_blocks.rst",
            "1.1.0",
            "* Real entry\n\n..\n   [7.7.7] - 2077-01-01\n"
            "   ~~~~~~~~~~~~~~~~~~~~\n   A commented-out section.",
        ),
        ("literal_blocks.rst", "1.0.0", "* First release"),
        ("links.md", "0.1.0", "### Added\n\n- First release"),
        ("fenced.md", "1.1.0", "- Real entry"),
        # A `###` release holds its `###` sub-headings, as release-please writes them.
        (
            "release_please.md",
            "1.2.1",
            "### Bug Fixes\n\n* quote paths ([#38](https://github.com/example/lib/issues/38))",
        ),
        ("release_please.md", "1.2.0", "### Features\n\n* first feature"),
        ("prereleases.rst", "2.0.0rc1", "* Drop Python 3.8"),
    ],
)
def test_notes_are_exactly_the_section(name: str, version: str, notes: str) -> None:
    assert changelog(name).notes(v(version)) == notes


def test_lti_consumer_every_release_is_a_section() -> None:
    log = changelog("lti_consumer.rst")
    text_headings = [
        line for line in read("lti_consumer.rst").splitlines() if line[:1].isdigit() and " " in line
    ]
    releases = [s for s in log.sections if s.version is not None]
    assert len(releases) == len(text_headings) == 100
    assert log.findings == ()
    for section in releases:  # no section's notes reach into the next one
        notes = log.notes(section.version) or ""  # type: ignore[arg-type]
        assert "\n---" not in notes
        assert notes.count("\n") < 6
    assert {s.title: s.date for s in releases}["3.1.0"] is None  # `2022-08-?`


@pytest.mark.parametrize("version", ["10.2.0", "6.2.0", "4.1.0", "12.0.0"])
def test_a_version_without_a_section_has_no_notes(version: str) -> None:
    # Released without a section: None, never the rest of the file.
    assert changelog("lti_consumer.rst").notes(v(version)) is None


def test_heading_like_lines_in_code_are_not_headings() -> None:
    for name in ("literal_blocks.rst", "fenced.md"):
        log = changelog(name)
        assert [s.title for s in log.sections] == ["Unreleased", "1.1.0", "1.0.0"]
        assert log.findings == ()
        for version in ("9.9.9", "8.8.8", "7.7.7"):
            assert log.notes(v(version)) is None
    unreleased = changelog("literal_blocks.rst").unreleased
    assert unreleased is not None
    assert unreleased.body == range(5, 17)


def test_a_line_without_underline_is_a_finding() -> None:
    log = changelog("no_underline.rst")
    assert [str(f) for f in log.findings] == [
        "line 14: '[5.2.0] - 2025-04-22' is not a heading for Sphinx: it has no underline"
    ]
    assert log.findings[0].severity == "warning"


def test_too_short_underline_is_a_finding() -> None:
    log = parse("Unreleased\n~~~~~~~~~~\n\n[1.0.0]\n~~~\n* a\n", "CHANGELOG.rst")
    assert [str(f) for f in log.findings] == [
        "line 4: '[1.0.0]' is not a heading for Sphinx: its underline is too short"
    ]
    assert log.notes(v("1.0.0")) == "* a"


def test_a_release_at_another_level_is_a_finding() -> None:
    assert [str(f) for f in changelog("odd_one_offs.rst").findings] == [
        "line 21: 1.0.2 is a level-1 heading for Sphinx; the other releases are level 2"
    ]


def test_duplicate_headings_are_an_error_naming_both_lines() -> None:
    log = changelog("duplicates.rst")
    [finding] = log.findings
    assert (finding.line, finding.severity) == (13, "error")
    assert "line 9" in finding.message
    calls: list[Callable[[], object]] = [
        lambda: log.notes(v("2.3.0")),
        lambda: log.stamp(v("2.3.0"), D(2022, 6, 1)),
    ]
    for call in calls:
        with pytest.raises(FileEditError) as info:
            call()
        assert info.value.message == "duplicates.rst: two headings for 2.3.0, lines 9 and 13"
    assert log.notes(v("2.2.0")) == "* Older"


def test_entries_left_under_unreleased() -> None:
    log = changelog("entries_left.rst")
    # The author wrote 3.1.0's section and left an entry under Unreleased: nothing moves ...
    assert log.stamp(v("3.1.0"), D(2024, 5, 6)) is log.text
    assert log.notes(v("3.1.0")) == "* Written in the bumping PR"
    # ... and the release is warned that the entry is not in its notes.
    assert [str(f) for f in log.warnings_for(v("3.1.0"))] == [
        "line 4: Unreleased has entries, and 3.1.0 has its own section: they are not in "
        "3.1.0's notes"
    ]
    assert log.warnings_for(v("3.2.0")) == []


# --- pre-releases ---------------------------------------------------------------------------


def test_final_release_notes_include_the_prereleases() -> None:
    stamped = parse(changelog("prereleases.rst").stamp(v("2.0.0"), D(2025, 3, 20)), "p.rst")
    assert stamped.notes(v("2.0.0")) == "* Final polish"
    assert stamped.notes(v("2.0.0"), include_prereleases=True) == (
        "* Final polish\n\n"
        "[2.0.0rc2] - 2025-03-10\n~~~~~~~~~~~~~~~~~~~~~~~\n\n* Fix the rc1 regression\n\n"
        "[2.0.0rc1] - 2025-03-01\n~~~~~~~~~~~~~~~~~~~~~~~\n\n* Drop Python 3.8\n\n"
        # A pre-release of 1.9.1, which was never released: its changes ship in 2.0.0.
        "[1.9.1rc1] - 2025-01-10\n~~~~~~~~~~~~~~~~~~~~~~~\n\n* A pre-release of an older final"
    )
    # A pre-release's own notes are its own section only.
    assert stamped.notes(v("2.0.0rc2"), include_prereleases=True) == "* Fix the rc1 regression"
    # Nothing before the last final release.
    assert stamped.notes(v("1.9.0"), include_prereleases=True) == "* Last final"


def test_prerelease_notes_as_markdown() -> None:
    stamped = parse(changelog("prereleases.rst").stamp(v("2.0.0"), D(2025, 3, 20)), "p.rst")
    assert stamped.notes_markdown(v("2.0.0"), include_prereleases=True) == (
        "- Final polish\n\n### \\[2.0.0rc2\\] - 2025-03-10\n\n- Fix the rc1 regression\n\n"
        "### \\[2.0.0rc1\\] - 2025-03-01\n\n- Drop Python 3.8\n\n"
        "### \\[1.9.1rc1\\] - 2025-01-10\n\n- A pre-release of an older final\n"
    )


# --- the fast docutils parse finds what the full one finds ---------------------------------


@pytest.mark.parametrize("path", ALL_RST, ids=lambda p: p.name)
def test_fast_rst_parse_matches_docutils(path: Path) -> None:
    plain = plain_lines(split_lines(path.read_bytes().decode("utf-8")))
    assert rst_titles(plain) == rst_titles(plain, full=True)


rst_lines = st.sampled_from(
    [
        "\n",
        "Title\n",
        "=====\n",
        "-----\n",
        "~~~~~~~~~~~~~~~~~~~~\n",
        "~~~\n",
        "[1.2.0] - 2024-01-01\n",
        "Unreleased\n",
        "* item\n",
        "  continued\n",
        "- item\n",
        "#. numbered\n",
        "Text::\n",
        "    [9.9.9]\n",
        "    ~~~~~~~\n",
        ".. code-block:: rst\n",
        ".. note::\n",
        "..\n",
        "   comment\n",
        "| line\n",
        "term\n",
        "   definition\n",
        "+---+\n",
        "| a |\n",
        ":field: value\n",
        "-o  option\n",
        ">>> doctest\n",
        "> quoted\n",
        "**bold**\n",
        "1.0.0 - 2020-01-01\n",
        "------------------\n",
        "::\n",
        ".. [1] footnote\n",
        ".. _target: https://x\n",
        "   Sub\n",
        "   ---\n",
        "Text\n",
        "^^^^\n",
        "=====\n",
        "a   b\n",
        "* nested::\n",
        "\tTab\n",
        ".. |s| image:: x\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(rst_lines, max_size=30))
def test_fast_rst_parse_matches_docutils_on_any_mix(lines: list[str]) -> None:
    plain = plain_lines(lines)
    assert rst_titles(plain) == rst_titles(plain, full=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(rst_lines, max_size=30), st.booleans())
def test_any_mix_parses_and_stamps(lines: list[str], markdown: bool) -> None:
    text = "".join(lines)
    log = parse(text, "CHANGELOG.md" if markdown else "CHANGELOG.rst")
    for section in log.sections:
        assert section.heading.stop <= section.body.start <= section.body.stop <= len(lines)
    if log.unreleased is not None and log.section(v("9.0.0")) is None:
        stamped = stamp_or_refusal(lambda: log.stamp(v("9.0.0"), D(2030, 1, 1)))
        if isinstance(stamped, UsageError):  # only a file not read as written, naming the line
            assert re.match(
                r"CHANGELOG\.(rst|md) line \d+: cannot stamp 9\.0\.0: ", stamped.message
            )
            assert log.findings
            return
        assert parse(stamped, "CHANGELOG.md" if markdown else "CHANGELOG.rst").section(v("9.0.0"))


def test_other_line_breaks_do_not_shift_lines() -> None:
    text = (
        "Unreleased\n~~~~~~~~~~\n* a\x0cb \u2028 c\r\n\n"
        "[1.0.0] - 2024-01-01\n~~~~~~~~~~~~~~~~~~~~\n* d\n"
    )
    log = parse(text, "CHANGELOG.rst")
    assert [(s.title, s.line, s.level) for s in log.sections] == [
        ("Unreleased", 1, 1),
        ("1.0.0", 5, 1),
    ]
    assert log.notes(v("1.0.0")) == "* d"


def test_parse_is_cached_per_text() -> None:
    text = read("lti_consumer.rst")
    assert parse(text, "CHANGELOG.rst") is parse(text, "CHANGELOG.rst")
