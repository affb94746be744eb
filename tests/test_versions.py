"""Tests for release_tool.versions: parsing, the two spellings, ordering, bumping."""

from __future__ import annotations

import itertools
import random
from typing import cast

import packaging.version
import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from release_tool.errors import VersionError
from release_tool.versions import (
    Version,
    bump,
    check_newer,
    parse_file_version,
    parse_semver,
    parse_version,
)

V = Version


# --- the model --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "pep440", "semver_text"),
    [
        (V(5, 3, 0), "5.3.0", "5.3.0"),
        (V(5, 3, 0, ("rc", 1)), "5.3.0rc1", "5.3.0-rc.1"),
        (V(5, 3, 0, ("a", 1)), "5.3.0a1", "5.3.0-alpha.1"),
        (V(5, 3, 0, ("b", 2)), "5.3.0b2", "5.3.0-beta.2"),
        (V(10, 0, 12, ("rc", 0)), "10.0.12rc0", "10.0.12-rc.0"),
    ],
)
def test_spellings(version: Version, pep440: str, semver_text: str) -> None:
    assert version.pep440 == pep440
    assert str(version) == pep440
    assert version.semver == semver_text
    assert parse_version(pep440) == version
    assert parse_semver(semver_text) == version


def test_properties() -> None:
    rc = V(5, 3, 0, ("rc", 2))
    assert rc.is_prerelease
    assert rc.base == V(5, 3, 0)
    assert not rc.base.is_prerelease
    assert V(5, 3, 0).base == V(5, 3, 0)


def test_ordering_matches_pep440() -> None:
    ordered = [
        "5.2.9",
        "5.3.0a1",
        "5.3.0a2",
        "5.3.0b1",
        "5.3.0rc1",
        "5.3.0rc10",
        "5.3.0",
        "5.3.1a1",
    ]
    versions = [parse_version(t) for t in ordered]
    assert all(a < b for a, b in itertools.pairwise(versions))
    assert sorted(random.Random(440).sample(versions, len(versions))) == versions
    assert V(5, 3, 0, ("rc", 1)) < V(5, 3, 0) < V(5, 3, 1, ("a", 1))
    assert V(5, 3, 0) >= V(5, 3, 0)
    assert max(versions) == V(5, 3, 1, ("a", 1))


def test_invalid_construction_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="pre-release"):
        V(1, 0, 0, ("dev", 1))
    with pytest.raises(ValueError, match="negative"):
        V(1, -1, 0)


def test_version_is_frozen_and_hashable() -> None:
    assert len({V(1, 2, 3), parse_version("1.2.3")}) == 1
    with pytest.raises(AttributeError):
        V(1, 2, 3).major = 2  # type: ignore[misc]


# --- parse_version ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0.0", V(0, 0, 0)),
        ("5.2.0", V(5, 2, 0)),
        ("5.3.0rc1", V(5, 3, 0, ("rc", 1))),
        # non-canonical spellings packaging normalises and which map faithfully
        ("5.3.0-rc1", V(5, 3, 0, ("rc", 1))),
        ("5.3.0.rc1", V(5, 3, 0, ("rc", 1))),
        ("5.3.0_rc1", V(5, 3, 0, ("rc", 1))),
        ("5.3.0-rc.1", V(5, 3, 0, ("rc", 1))),
        ("5.3.0-alpha.1", V(5, 3, 0, ("a", 1))),
        ("5.3.0alpha3", V(5, 3, 0, ("a", 3))),
        ("5.3.0-beta.2", V(5, 3, 0, ("b", 2))),
        ("1.5.0b1", V(1, 5, 0, ("b", 1))),
        # PEP 440 post and dev releases (a Python-only package may release them)
        ("1.2.3.post1", V(1, 2, 3, post=1)),
        ("1.2.3.dev4", V(1, 2, 3, dev=4)),
        ("1.2.3rc1.dev1", V(1, 2, 3, ("rc", 1), dev=1)),
        ("1.2.3.post2.dev0", V(1, 2, 3, post=2, dev=0)),
    ],
)
def test_parse_version_accepts(text: str, expected: Version) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("", "empty", "X.Y.Z"),
        ("   ", "empty", "X.Y.Z"),
        ("1.2", "has 2 part(s)", "three parts X.Y.Z, e.g. 1.2.0"),
        ("1", "has 1 part(s)", "three parts"),
        ("1.2.3.4", "has 4 part(s)", "three parts"),
        ("v1.2.3", "starts with 'v'", "without the 'v' (1.2.3): the tag format adds it"),
        ("V1.2.3", "starts with 'V'", "without the 'v'"),
        ("1.2.3-1", "not spelt", "1.2.3.post1"),
        ("1!1.0.0", "epoch", "plain X.Y.Z"),
        ("1.2.3+local", "local version", "plain X.Y.Z"),
        ("1.2.3; rm -rf /", "not a valid version", "X.Y.Z"),
        ("banana", "not a valid version", "X.Y.Z"),
        ("1.2.3\n", "whitespace", "1.2.3"),
        (" 1.2.3", "whitespace", "1.2.3"),
        ("5.3.0rc", "not spelt", "5.3.0rc0"),
        ("5.3.0c1", "not spelt", "5.3.0rc1"),
        ("5.3.0pre1", "not spelt", "5.3.0rc1"),
        ("5.3.0RC1", "not spelt", "5.3.0rc1"),
        ("05.3.0", "not spelt", "5.3.0"),
        ("5.3.0rc01", "not spelt", "5.3.0rc1"),
    ],
)
def test_parse_version_refuses(text: str, message: str, hint: str) -> None:
    with pytest.raises(VersionError) as info:
        parse_version(text)
    assert message in info.value.message
    assert hint in info.value.hint
    # One line, naming the input.
    assert "\n" not in info.value.message.replace(repr(text), "")
    if text.strip():
        assert repr(text) in info.value.message


def test_version_error_is_a_usage_error() -> None:
    with pytest.raises(VersionError) as info:
        parse_version("1.2")
    assert info.value.exit_code == 2


# --- parse_semver -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.2.3+build.5", "build metadata '+build.5'"),
        ("1.2.3-rc.1+build", "build metadata"),
        ("1.2.3-foo.1", "pre-release 'foo.1'"),
        ("1.2.3-rc1", "pre-release 'rc1'"),
        ("1.2.3-a.1", "pre-release 'a.1'"),
        ("1.2.3-rc.1.2", "pre-release 'rc.1.2'"),
        ("1.2.3-rc", "pre-release 'rc'"),
        ("1.2", "not a valid SemVer"),
        ("01.2.3", "not a valid SemVer"),
        ("1.2.3rc1", "not a valid SemVer"),
        ("v1.2.3", "starts with 'v'"),
        ("", "empty"),
        ("1.2.3\n", "whitespace"),
    ],
)
def test_parse_semver_refuses(text: str, message: str) -> None:
    with pytest.raises(VersionError, match=message.replace("+", r"\+").replace(".", r"\.")):
        parse_semver(text)


# --- parse_file_version -----------------------------------------------------------------------


def test_file_versions_by_kind() -> None:
    assert parse_file_version("5.3.0rc1", "python") == V(5, 3, 0, ("rc", 1))
    assert parse_file_version("5.3.0rc1", "pyproject") == V(5, 3, 0, ("rc", 1))
    assert parse_file_version("5.3.0-rc.1", "package_json") == V(5, 3, 0, ("rc", 1))
    assert parse_file_version("5.3.0-rc.1", "npm_lockfile") == V(5, 3, 0, ("rc", 1))


def test_two_part_python_version_is_read_leniently() -> None:
    # openedx/completion once had __version__ = '4.9'
    assert parse_file_version("4.9", "python") == V(4, 9, 0)
    assert parse_file_version("4.9rc1", "python") == V(4, 9, 0, ("rc", 1))
    # ... but a *requested* version stays strict.
    with pytest.raises(VersionError):
        parse_version("4.9")


def test_file_version_spelling_must_match_the_kind() -> None:
    # The edx-proctoring CI check compared these two strings: each file has its own spelling.
    with pytest.raises(VersionError):
        parse_file_version("1.5.0rc1", "package_json")
    with pytest.raises(VersionError):
        parse_file_version("5.3.0+build", "package_json")


@pytest.mark.parametrize("text", ["", "4", "1.2.3.4", "1!2.0.0", "4.9+local", "x"])
def test_file_version_refusals(text: str) -> None:
    with pytest.raises(VersionError):
        parse_file_version(text, "python")


def test_unknown_file_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown version file kind"):
        parse_file_version("1.2.3", "setup_cfg")


# --- bump -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "kind", "pre", "expected"),
    [
        # final versions
        ("5.2.3", "major", None, "6.0.0"),
        ("5.2.3", "minor", None, "5.3.0"),
        ("5.2.3", "patch", None, "5.2.4"),
        # pre-releases: the smallest version of that level above current
        ("5.3.0rc2", "patch", None, "5.3.0"),
        ("5.3.0rc2", "minor", None, "5.3.0"),
        ("5.3.0rc2", "major", None, "6.0.0"),
        ("5.3.1rc1", "patch", None, "5.3.1"),
        ("5.3.1rc1", "minor", None, "5.4.0"),
        ("6.0.0b1", "major", None, "6.0.0"),
        ("6.0.0b1", "minor", None, "6.0.0"),
        # with --pre: the bumped base gets pre 1 ...
        ("5.2.0", "minor", "rc", "5.3.0rc1"),
        ("5.2.0", "major", "alpha", "6.0.0a1"),
        ("5.2.0", "patch", "beta", "5.2.1b1"),
        ("5.3.1rc1", "minor", "rc", "5.4.0rc1"),
        ("5.3.1rc1", "minor", "a", "5.4.0a1"),
        # ... unless current is already a pre-release of that base: then it advances
        ("5.3.0rc1", "minor", "rc", "5.3.0rc2"),
        ("5.3.0rc1", "patch", "rc", "5.3.0rc2"),
        ("5.3.0a2", "minor", "b", "5.3.0b1"),
        ("5.3.0a2", "minor", "beta", "5.3.0b1"),
        ("5.3.0b7", "patch", "rc", "5.3.0rc1"),
        # kind 'pre'
        ("5.3.0rc1", "pre", "rc", "5.3.0rc2"),
        ("5.3.0a1", "pre", "rc", "5.3.0rc1"),
        ("5.3.0a1", "pre", None, "5.3.0a2"),
        ("5.2.0", "pre", "rc", "5.2.1rc1"),
        ("5.2.0", "pre", "a", "5.2.1a1"),
        # kind 'release'
        ("5.3.0rc2", "release", None, "5.3.0"),
        ("1.5.0b1", "release", None, "1.5.0"),
    ],
)
def test_bump(current: str, kind: str, pre: str | None, expected: str) -> None:
    assert bump(parse_version(current), kind, pre) == parse_version(expected)


@pytest.mark.parametrize(
    ("current", "kind", "pre", "message"),
    [
        ("5.3.0rc1", "minor", "a", "cannot go back"),
        ("5.3.0rc1", "pre", "b", "cannot go back"),
        ("5.3.0", "release", None, "already a final version"),
        ("5.3.0rc1", "release", "rc", "cannot take a pre-release phase"),
        ("5.3.0", "pre", None, "not a pre-release"),
        ("5.3.0", "minor", "dev", "unknown pre-release phase"),
        ("5.3.0", "micro", None, "unknown bump"),
    ],
)
def test_bump_refuses(current: str, kind: str, pre: str | None, message: str) -> None:
    with pytest.raises(VersionError, match=message) as info:
        bump(parse_version(current), kind, pre)
    assert info.value.hint


# --- check_newer ------------------------------------------------------------------------------


def test_check_newer() -> None:
    check_newer(V(5, 2, 0), V(5, 3, 0, ("rc", 1)), allow_downgrade=False)
    with pytest.raises(VersionError, match="lower than") as info:
        check_newer(V(1, 5, 5), V(1, 5, 0, ("b", 1)), allow_downgrade=False)
    assert "--allow-downgrade" in info.value.hint
    # The real 1.5.5 -> 1.5.0b1 went backwards on purpose.
    check_newer(V(1, 5, 5), V(1, 5, 0, ("b", 1)), allow_downgrade=True)


@pytest.mark.parametrize("allow_downgrade", [False, True])
def test_check_newer_refuses_equal(allow_downgrade: bool) -> None:
    with pytest.raises(VersionError, match="already the version") as info:
        check_newer(V(5, 2, 0), V(5, 2, 0), allow_downgrade=allow_downgrade)
    assert "current" in info.value.hint


# --- properties -------------------------------------------------------------------------------

numbers = st.integers(min_value=0, max_value=10_000)
versions = st.builds(
    Version,
    numbers,
    numbers,
    numbers,
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), numbers),
)


@given(versions)
def test_spelling_round_trips(version: Version) -> None:
    assert parse_semver(version.semver) == version
    assert parse_version(version.pep440) == version
    assert parse_version(version.semver) == version  # the SemVer spelling is accepted too
    assert parse_semver(parse_version(version.pep440).semver) == version
    # packaging agrees that our PEP 440 spelling is canonical.
    assert str(packaging.version.Version(version.pep440)) == version.pep440


@given(versions, versions)
def test_ordering_agrees_with_packaging_and_semver(a: Version, b: Version) -> None:
    ours = (a > b) - (a < b)
    pep440 = packaging.version.Version(a.pep440), packaging.version.Version(b.pep440)
    assert ours == (pep440[0] > pep440[1]) - (pep440[0] < pep440[1])
    assert ours == semver.Version.parse(a.semver).compare(b.semver)
    assert (a == b) == (ours == 0)


@given(
    versions,
    st.sampled_from(["major", "minor", "patch", "pre", "release"]),
    st.sampled_from([None, "a", "alpha", "b", "beta", "rc"]),
)
def test_bump_always_increases(current: Version, kind: str, pre: str | None) -> None:
    try:
        new = bump(current, kind, pre)
    except VersionError:
        return  # refused combinations (going back a phase, ...) are tested above
    assert new > current
    check_newer(current, new, allow_downgrade=False)


@given(versions, st.sampled_from(["major", "minor", "patch"]))
def test_bump_without_pre_is_the_smallest_final_of_that_level(current: Version, kind: str) -> None:
    # An independent oracle: the two finals of that level around current, smallest one above.
    major, minor, patch = current.release
    around = {
        "major": [V(major, 0, 0), V(major + 1, 0, 0)],
        "minor": [V(major, minor, 0), V(major, minor + 1, 0)],
        "patch": [V(major, minor, patch), V(major, minor, patch + 1)],
    }[kind]
    assert bump(current, kind) == min(v for v in around if v > current)


@given(versions)
def test_canonical_fast_path_agrees_with_the_libraries(version: Version) -> None:
    """Canonical spellings skip packaging/semver for speed; they must read the same."""
    from release_tool.versions import _CANONICAL_PEP440, _CANONICAL_SEMVER, _canonical

    pep = packaging.version.Version(version.pep440)
    # what the library path builds
    slow_pep = Version(*cast("tuple[int, int, int]", pep.release), pre=pep.pre)
    assert _canonical(_CANONICAL_PEP440, version.pep440) == slow_pep == version
    sem = semver.Version.parse(version.semver)
    assert _canonical(_CANONICAL_SEMVER, version.semver) is not None
    assert (sem.major, sem.minor, sem.patch) == version.release
    assert parse_semver(version.semver) == version == parse_version(version.pep440)


@pytest.mark.parametrize("text", ["05.1.0", "1.2.3rc", "1.2.3.rc1", "1.2.3-rc1", "1.2.3RC1"])
def test_non_canonical_spellings_still_go_to_the_library(text: str) -> None:
    from release_tool.versions import _CANONICAL_PEP440, _canonical

    assert _canonical(_CANONICAL_PEP440, text) is None
