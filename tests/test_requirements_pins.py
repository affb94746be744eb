"""Golden tests of the downstream requirements editor, in the shapes edx-platform really used.

Each fixture under tests/fixtures/requirements/<case>/ is a file as it looked in one era
(real-world.md, "edx-platform (the downstream)"), and `<file>.expected` is that file after the
upgrade, written by hand from pip-compile's own formatting rule — never produced by the code under
test. Outputs are compared as bytes, so CRLF endings and a missing final newline count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from release_tool.errors import FileEditError, UsageError, VersionError
from release_tool.files.requirements import PinChange, PinEdit, pins_of, update_pins

FIXTURES = Path(__file__).parent / "fixtures" / "requirements"
PACKAGE = "edx-proctoring"


def fixture(case: str, name: str) -> str:
    # Bytes, then UTF-8: no newline translation, exactly what the GitHub API would hand over.
    return (FIXTURES / case / name).read_bytes().decode("utf-8")


@dataclass(frozen=True)
class Golden:
    case: str
    name: str  # the fixture file
    path: str  # the path in edx-platform, as the caller passes it
    new_version: str
    changes: tuple[PinChange, ...]
    expected: str = ".expected"  # suffix of the golden output
    raise_lower_bound: bool = False
    is_constraints: bool = False
    package: str = PACKAGE


GOLDEN = [
    # 2015-2017: one git URL; the tag and the egg version change together.
    Golden(
        "github_2016",
        "github.txt",
        "requirements/edx/github.txt",
        "0.13.0",
        (PinChange(12, "0.12.19", "0.13.0", "git-url"),),
    ),
    # A v-prefixed tag keeps its prefix; a tag that disagreed with the egg is brought in line.
    Golden(
        "github_vtag_mismatch",
        "github.txt",
        "requirements/edx/github.txt",
        "0.13.0",
        (PinChange(12, "0.12.19", "0.13.0", "git-url"),),
    ),
    # pip-tools < 5: no comment, edx-proctoring-proctortrack sorted first.
    Golden(
        "piptools4",
        "base.txt",
        "requirements/edx/base.txt",
        "1.5.8",
        (PinChange(11, "1.5.7", "1.5.8", "pin"),),
    ),
    # pip-tools 5.0-5.4: the inline `# via` is re-padded as pip-compile would.
    Golden(
        "piptools50_grow",  # 2.4.0 -> 10.0.0: 21 -> 22 characters, 5 -> 4 spaces
        "base.txt",
        "requirements/edx/base.txt",
        "10.0.0",
        (PinChange(9, "2.4.0", "10.0.0", "pin"),),
    ),
    Golden(
        "piptools50_same",  # 4.9.10 -> 4.10.0: same length, same padding
        "development.txt",
        "requirements/edx/development.txt",
        "4.10.0",
        (PinChange(9, "4.9.10", "4.10.0", "pin"),),
    ),
    Golden(
        "piptools50_minor",  # 4.9.9 -> 4.10.0: one longer
        "testing.txt",
        "requirements/edx/testing.txt",
        "4.10.0",
        (PinChange(9, "4.9.9", "4.10.0", "pin"),),
    ),
    Golden(
        "piptools50_shrink",  # 4.18.10 -> 5.0.0: 23 -> 21 characters, 3 -> 5 spaces
        "testing.txt",
        "requirements/edx/testing.txt",
        "5.0.0",
        (PinChange(9, "4.18.10", "5.0.0", "pin"),),
    ),
    Golden(
        "piptools50_cross",  # 22 -> 26 characters: past the width, exactly two spaces
        "base.txt",
        "requirements/edx/base.txt",
        "4.18.10rc1",
        (PinChange(9, "4.18.1", "4.18.10rc1", "pin"),),
    ),
    Golden(
        "piptools50_marker",  # longer than the width before and after: two spaces
        "base.txt",
        "requirements/edx/base.txt",
        "10.0.0",
        (PinChange(9, "2.4.0", "10.0.0", "pin"),),
    ),
    # pip-tools >= 5.5: the `# via` blocks (ours and the ones naming edx-proctoring) stay.
    Golden(
        "piptools55",
        "base.txt",
        "requirements/edx/base.txt",
        "5.3.0",
        (PinChange(11, "4.15.1", "5.3.0", "pin"),),
    ),
    Golden(
        "piptools55_doc",  # 2023's doc.txt, compiled from kernel.in; a pre-release
        "doc.txt",
        "requirements/edx/doc.txt",
        "5.3.0rc1",
        (PinChange(11, "5.2.0", "5.3.0rc1", "pin"),),
    ),
    Golden(
        "crlf",  # CRLF endings and no final newline
        "base.txt",
        "requirements/edx/base.txt",
        "5.3.0",
        (PinChange(11, "4.15.1", "5.3.0", "pin"),),
    ),
    Golden(
        "normalised",
        "testing.txt",
        "requirements/edx/testing.txt",
        "5.3.0",
        (PinChange(2, "4.15.1", "5.3.0", "pin"), PinChange(6, "4.15.0", "5.3.0", "pin")),
    ),
    Golden(
        "normalised",  # the released package's name spelled another way
        "testing.txt",
        "requirements/edx/testing.txt",
        "5.3.0",
        (PinChange(2, "4.15.1", "5.3.0", "pin"), PinChange(6, "4.15.0", "5.3.0", "pin")),
        package="EDX_Proctoring",
    ),
    Golden(
        "base_in",
        "base.in",
        "requirements/edx/base.in",
        "5.3.0",
        (PinChange(16, "2.0.1", "5.3.0", "lower-bound"),),
        expected=".raised.expected",
        raise_lower_bound=True,
    ),
    Golden(
        "kernel_in",
        "kernel.in",
        "requirements/edx/kernel.in",
        "5.3.0",
        (PinChange(16, "2.0.1", "5.3.0", "lower-bound"),),
        expected=".raised.expected",
        raise_lower_bound=True,
    ),
    # The emergency pin: updated, its comments kept, reported as a constraint.
    Golden(
        "constraints",
        "constraints.txt",
        "requirements/constraints.txt",
        "3.9.0",
        (PinChange(14, "3.8.5", "3.9.0", "constraint"),),
        is_constraints=True,
    ),
]


def run(golden: Golden) -> PinEdit:
    return update_pins(
        golden.path,
        fixture(golden.case, golden.name),
        golden.package,
        golden.new_version,
        raise_lower_bound=golden.raise_lower_bound,
        is_constraints=golden.is_constraints,
    )


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: f"{g.case}-{g.package}")
def test_golden_output_byte_for_byte(golden: Golden) -> None:
    expected = (FIXTURES / golden.case / (golden.name + golden.expected)).read_bytes()
    edit = run(golden)
    assert edit.new_text.encode("utf-8") == expected
    assert edit.old_text == fixture(golden.case, golden.name)
    assert edit.path == golden.path
    assert edit.changes == golden.changes
    assert edit.changed
    assert not edit.already_current
    assert edit.presence == "requirement"


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: f"{g.case}-{g.package}")
def test_only_the_reported_lines_differ(golden: Golden) -> None:
    edit = run(golden)
    old_lines = edit.old_text.splitlines(keepends=True)
    new_lines = edit.new_text.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    differing = {n for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=True), 1) if a != b}
    assert differing == {change.line for change in golden.changes}


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: f"{g.case}-{g.package}")
def test_a_second_run_is_already_current(golden: Golden) -> None:
    first = run(golden)
    again = update_pins(
        golden.path,
        first.new_text,
        golden.package,
        golden.new_version,
        raise_lower_bound=golden.raise_lower_bound,
        is_constraints=golden.is_constraints,
    )
    assert again.already_current
    assert again.changes == ()
    assert again.new_text == first.new_text


# --- the pip-compile 5.0-5.4 padding rule -------------------------------------------------------


def test_padding_rule_as_pip_compile_wrote_it() -> None:
    # pip-tools 5.x: "{:24}{}{}".format(requirement, "  ", "# via …") — the `#` at column 27.
    line = fixture("piptools50_grow", "base.txt").splitlines()[8]
    assert line.index("#") + 1 == 27
    long_line = fixture("piptools50_grow", "base.txt").splitlines()[9]
    assert long_line.startswith("edx-proctoring-proctortrack==1.0.5  # via")


versions = st.builds(
    lambda major, minor, micro, pre: f"{major}.{minor}.{micro}{pre}",
    st.integers(0, 120),
    st.integers(0, 120),
    st.integers(0, 120),
    st.sampled_from(["", "rc1", "b2", "a10"]),
)


@given(old=versions, new=versions, marker=st.sampled_from(["", ' ; python_version >= "3.8"']))
def test_any_version_is_repadded_like_pip_compile(old: str, new: str, marker: str) -> None:
    if Version(old) >= Version(new):
        old, new = new, old
    if Version(old) == Version(new):
        return
    comment = "# via -r requirements/edx/base.in, edx-proctoring-proctortrack"
    before = f"{'edx-proctoring==' + old + marker:24}  {comment}\n"
    after = f"{'edx-proctoring==' + new + marker:24}  {comment}\n"
    text = "edx-rbac==1.3.1           # via edx-enterprise\n"
    edit = update_pins("base.txt", text + before + text, PACKAGE, new)
    assert edit.new_text == text + after + text
    assert edit.changes == (PinChange(2, old, new, "pin"),)


def test_a_hand_written_inline_comment_keeps_its_spacing() -> None:
    text = "edx-proctoring==3.8.5 # pinned by hand\nedx-proctoring==3.8.5\t# tab\n"
    edit = update_pins("requirements/constraints.txt", text, PACKAGE, "10.0.0")
    assert (
        edit.new_text == "edx-proctoring==10.0.0 # pinned by hand\nedx-proctoring==10.0.0\t# tab\n"
    )


# --- lower bounds, constraints ------------------------------------------------------------------


@pytest.mark.parametrize(("case", "name"), [("base_in", "base.in"), ("kernel_in", "kernel.in")])
def test_lower_bound_is_left_alone_by_default(case: str, name: str) -> None:
    text = fixture(case, name)
    edit = update_pins(f"requirements/edx/{name}", text, PACKAGE, "5.3.0")
    assert edit.new_text == text
    assert edit.changes == ()
    assert not edit.changed
    assert not edit.already_current  # a bound is not a pin: nothing to be current with
    assert edit.presence == "requirement"


def test_raised_lower_bound_already_at_the_version_is_current() -> None:
    text = fixture("base_in", "base.in.raised.expected")
    edit = update_pins("requirements/edx/base.in", text, PACKAGE, "5.3.0", raise_lower_bound=True)
    assert edit.already_current
    assert edit.new_text == text


def test_exact_pin_in_an_in_file_is_updated() -> None:
    text = "edx-proctoring==4.15.1  # kept until the exam flow is reviewed\n"
    edit = update_pins("requirements/edx/kernel.in", text, PACKAGE, "5.3.0")
    assert edit.new_text == "edx-proctoring==5.3.0  # kept until the exam flow is reviewed\n"
    assert edit.changes == (PinChange(1, "4.15.1", "5.3.0", "pin"),)


def test_constraints_pin_outside_a_constraints_file_is_a_plain_pin() -> None:
    edit = update_pins(
        "requirements/constraints.txt", fixture("constraints", "constraints.txt"), PACKAGE, "3.9.0"
    )
    assert edit.changes == (PinChange(14, "3.8.5", "3.9.0", "pin"),)
    assert edit.new_text == fixture("constraints", "constraints.txt.expected")


def test_a_cap_in_the_constraints_file_that_excludes_the_release_is_refused() -> None:
    text = "# Date: 2022-01-10\n# 4.x drops the old exam API\nedx-proctoring<4.0\n"
    with pytest.raises(FileEditError) as caught:
        update_pins("requirements/constraints.txt", text, PACKAGE, "4.1.0", is_constraints=True)
    assert str(caught.value) == (
        "requirements/constraints.txt line 3: 'edx-proctoring<4.0' excludes edx-proctoring 4.1.0"
    )
    assert "relax or remove" in caught.value.hint


def test_a_lower_bound_above_the_release_is_refused() -> None:
    with pytest.raises(FileEditError) as caught:
        update_pins("requirements/edx/base.in", "edx-proctoring>=6.0\n", PACKAGE, "5.3.0")
    assert "requirements/edx/base.in line 1" in str(caught.value)
    assert "'edx-proctoring>=6.0' excludes edx-proctoring 5.3.0" in str(caught.value)


def test_other_specifiers_are_kept_around_the_edited_one() -> None:
    text = "edx-proctoring >= 2.0.1, < 6 ; python_version >= '3.8'\n"
    edit = update_pins("base.in", text, PACKAGE, "5.3.0", raise_lower_bound=True)
    assert edit.new_text == "edx-proctoring >= 5.3.0, < 6 ; python_version >= '3.8'\n"


# --- files that do not pin it -------------------------------------------------------------------


def test_a_file_that_mentions_it_only_in_via_comments() -> None:
    text = fixture("via_only", "development.txt")
    edit = update_pins("requirements/edx/development.txt", text, PACKAGE, "5.3.0")
    assert edit.presence == "comment-only"
    assert edit.new_text == text
    assert edit.changes == ()
    assert not edit.already_current
    assert pins_of("requirements/edx/development.txt", text, PACKAGE) == []


def test_a_via_comment_after_hashes_counts_as_a_mention() -> None:
    # pip-tools 5.0-5.4 with --generate-hashes: the `# via` follows the last continuation.
    text = (
        "jsonfield2==3.0.3 \\\n"
        "    --hash=sha256:" + "b" * 64 + " \\\n"
        "    # via edx-celeryutils, edx-proctoring\n"
    )
    edit = update_pins("requirements/edx/base.txt", text, PACKAGE, "5.3.0")
    assert edit.presence == "comment-only"
    assert edit.new_text == text


def test_a_file_that_does_not_mention_it() -> None:
    text = fixture("absent", "pip-tools.txt")
    edit = update_pins("requirements/pip-tools.txt", text, PACKAGE, "5.3.0")
    assert edit.presence == "absent"
    assert edit.new_text == text
    assert edit.changes == ()
    assert not edit.already_current


def test_a_prefix_of_another_name_is_not_the_package() -> None:
    text = "edx-proctoring-proctortrack==1.0.5\n# edx-proctoring-proctortrack only\n"
    edit = update_pins("base.txt", text, PACKAGE, "5.3.0")
    assert edit.presence == "absent"
    assert edit.new_text == text


def test_the_proctortrack_release_does_not_touch_edx_proctoring() -> None:
    text = fixture("piptools55", "base.txt")
    edit = update_pins("requirements/edx/base.txt", text, "edx-proctoring-proctortrack", "1.1.0")
    assert edit.changes == (PinChange(15, "1.0.5", "1.1.0", "pin"),)
    assert edit.new_text == text.replace(
        "edx-proctoring-proctortrack==1.0.5", "edx-proctoring-proctortrack==1.1.0"
    )


def test_a_commented_out_pin_is_not_a_pin() -> None:
    text = fixture("constraints", "constraints.txt")
    assert "# edx-proctoring==3.8.4\n" in text
    assert pins_of("requirements/constraints.txt", text, PACKAGE) == [(14, "3.8.5")]


# --- already current, pinned newer --------------------------------------------------------------


def test_already_current() -> None:
    text = fixture("already_current", "base.txt")
    edit = update_pins("requirements/edx/base.txt", text, PACKAGE, "5.3.0")
    assert edit.already_current
    assert edit.changes == ()
    assert edit.new_text == text
    assert not edit.changed
    assert edit.presence == "requirement"


def test_an_equal_but_differently_spelled_pin_is_current() -> None:
    edit = update_pins("base.txt", "edx-proctoring==5.3\n", PACKAGE, "5.3.0")
    assert edit.already_current
    assert edit.new_text == "edx-proctoring==5.3\n"


def test_pinned_newer_is_refused() -> None:
    text = fixture("pinned_newer", "testing.txt")
    with pytest.raises(FileEditError) as caught:
        update_pins("requirements/edx/testing.txt", text, PACKAGE, "5.3.0")
    assert str(caught.value) == (
        "requirements/edx/testing.txt line 11 pins edx-proctoring 5.4.0, newer than 5.3.0"
    )
    assert "ahead" in caught.value.hint
    assert isinstance(caught.value, UsageError)


def test_a_newer_git_tag_is_refused() -> None:
    text = "git+https://github.com/edx/edx-proctoring.git@1.0.0#egg=edx-proctoring==0.12.19\n"
    with pytest.raises(
        FileEditError, match=r"github\.txt line 1 pins edx-proctoring 1\.0\.0, newer"
    ):
        update_pins("github.txt", text, PACKAGE, "0.13.0")


# --- refused shapes -----------------------------------------------------------------------------


def test_editable_sha_is_refused() -> None:
    text = fixture("github_sha", "github.txt")
    with pytest.raises(FileEditError) as caught:
        update_pins("requirements/edx/github.txt", text, PACKAGE, "0.13.0")
    assert str(caught.value) == (
        "requirements/edx/github.txt line 3: edx-proctoring is pinned to git commit "
        "2b6a8b3f2e8ea1d3d9cbc8f4a6c1fb1d2f0fd4f6, not a release tag: it cannot be updated"
    )
    assert "release tag" in caught.value.hint
    assert caught.value.exit_code == 2
    # `status` still reads the file: a commit is not a version.
    assert pins_of("requirements/edx/github.txt", text, PACKAGE) == []


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("git+https://github.com/edx/edx-proctoring.git@master#egg=edx-proctoring", "ref 'master'"),
        ("git+https://github.com/edx/edx-proctoring.git#egg=edx-proctoring", "no tag"),
        ("https://example.org/edx-proctoring-1.0.tar.gz#egg=edx-proctoring", "installed from"),
        ("edx-proctoring==5.2.0 what-is-this", "cannot parse"),
        ("edx-proctoring==5.2.0,", "cannot parse"),
    ],
)
def test_lines_that_cannot_be_updated_are_refused(line: str, what: str) -> None:
    with pytest.raises(FileEditError, match=what) as caught:
        update_pins("requirements/edx/github.txt", f"# header\n{line}\n", PACKAGE, "5.3.0")
    assert "requirements/edx/github.txt line 2" in str(caught.value)


def test_hashed_requirement_is_refused() -> None:
    text = fixture("hashed", "base.txt")
    with pytest.raises(FileEditError) as caught:
        update_pins("requirements/edx/base.txt", text, PACKAGE, "5.3.0")
    assert str(caught.value) == (
        "cannot update hashed requirements without the index: requirements/edx/base.txt line 11 "
        "pins edx-proctoring with --hash"
    )
    assert caught.value.hint == (
        "regenerate requirements/edx/base.txt with pip-compile --generate-hashes "
        "(its header says: make upgrade)"
    )


def test_hashed_requirement_in_pip_tools_5_0_shape_is_refused() -> None:
    text = fixture("hashed_piptools50", "base.txt")
    with pytest.raises(FileEditError, match=r"hashed requirements without the index: .* line 7 "):
        update_pins("requirements/edx/base.txt", text, PACKAGE, "5.3.0")


def test_hash_on_the_pin_line_itself_is_refused() -> None:
    text = "edx-proctoring==4.15.1 --hash=sha256:" + "0" * 64 + "\n"
    with pytest.raises(FileEditError, match="line 1 pins edx-proctoring with --hash"):
        update_pins("base.txt", text, PACKAGE, "5.3.0")


def test_hashed_requirement_already_current_needs_no_index() -> None:
    text = fixture("hashed", "base.txt")
    edit = update_pins("requirements/edx/base.txt", text, PACKAGE, "4.15.1")
    assert edit.already_current
    assert edit.new_text == text


def test_hashes_of_another_package_do_not_matter() -> None:
    text = (
        "edx-organizations==6.11.1 \\\n    --hash=sha256:" + "a" * 64 + "\n"
        "    # via -r requirements/edx/base.in\n"
        "edx-proctoring==4.15.1\n"
    )
    edit = update_pins("base.txt", text, PACKAGE, "5.3.0")
    assert edit.new_text == text.replace("==4.15.1", "==5.3.0")


# --- other URL spellings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "edx-proctoring @ git+https://github.com/openedx/edx-proctoring.git@v5.2.0",
            "edx-proctoring @ git+https://github.com/openedx/edx-proctoring.git@v5.3.0",
        ),
        (
            "git+ssh://git@github.com/edx/edx-proctoring.git@0.12.19#egg=edx-proctoring==0.12.19",
            "git+ssh://git@github.com/edx/edx-proctoring.git@5.3.0#egg=edx-proctoring==5.3.0",
        ),
        (
            "-e git+https://github.com/edx/edx-proctoring.git@1.5.7#egg=edx_proctoring",
            "-e git+https://github.com/edx/edx-proctoring.git@5.3.0#egg=edx_proctoring",
        ),
        (
            "git+https://github.com/edx/edx-proctoring.git@0.12.19#egg=edx-proctoring==0.12.19"
            "&subdirectory=.  # via -r github.in",
            "git+https://github.com/edx/edx-proctoring.git@5.3.0#egg=edx-proctoring==5.3.0"
            "&subdirectory=.  # via -r github.in",
        ),
    ],
)
def test_git_url_spellings(before: str, after: str) -> None:
    edit = update_pins("github.txt", before + "\n", PACKAGE, "5.3.0")
    assert edit.new_text == after + "\n"
    assert [change.kind for change in edit.changes] == ["git-url"]


def test_a_url_of_another_package_with_the_same_repository_prefix_is_not_ours() -> None:
    text = fixture("github_2016", "github.txt")
    edit = update_pins("github.txt", text, "edx-proctoring-proctortrack", "0.13.0")
    assert edit.changes == (PinChange(13, "0.12.19", "0.13.0", "git-url"),)
    assert "edx-proctoring.git@0.12.19#egg=edx-proctoring==0.12.19" in edit.new_text


# --- bytes kept ---------------------------------------------------------------------------------


def test_mixed_line_endings_and_no_final_newline_are_kept() -> None:
    text = "# one\r\nedx-proctoring==4.15.1\r\n# via\nedx-rbac==1.3.1\redx-proctoring==4.15.1"
    edit = update_pins("base.txt", text, PACKAGE, "5.3.0")
    assert edit.new_text == text.replace("4.15.1", "5.3.0")
    assert [change.line for change in edit.changes] == [2, 5]


def test_empty_file() -> None:
    edit = update_pins("base.txt", "", PACKAGE, "5.3.0")
    assert edit == PinEdit("base.txt", "", "", (), already_current=False, presence="absent")


# --- arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v5.3.0", "5.3.0-rc.1", "5.3.0.RC1", "five"])
def test_new_version_must_be_canonical_pep_440(version: str) -> None:
    with pytest.raises(VersionError):
        update_pins("base.txt", "edx-proctoring==5.2.0\n", PACKAGE, version)


# --- pins_of ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "name", "pins"),
    [
        ("github_2016", "github.txt", [(12, "0.12.19")]),
        ("github_vtag_mismatch", "github.txt", [(12, "0.12.19")]),
        ("piptools4", "base.txt", [(11, "1.5.7")]),
        ("piptools50_grow", "base.txt", [(9, "2.4.0")]),
        ("piptools55", "base.txt", [(11, "4.15.1")]),
        ("crlf", "base.txt", [(11, "4.15.1")]),
        ("hashed", "base.txt", [(11, "4.15.1")]),
        ("normalised", "testing.txt", [(2, "4.15.1"), (6, "4.15.0")]),
        ("base_in", "base.in", []),  # a lower bound is not a pin
        ("constraints", "constraints.txt", [(14, "3.8.5")]),
        ("pinned_newer", "testing.txt", [(11, "5.4.0")]),
        ("absent", "pip-tools.txt", []),
    ],
)
def test_pins_of(case: str, name: str, pins: list[tuple[int, str]]) -> None:
    assert pins_of(name, fixture(case, name), PACKAGE) == pins


def test_pins_of_after_an_update_names_the_new_version() -> None:
    edit = update_pins("base.txt", fixture("normalised", "testing.txt"), PACKAGE, "5.3.0")
    assert pins_of("base.txt", edit.new_text, "edx_proctoring") == [(2, "5.3.0"), (6, "5.3.0")]
