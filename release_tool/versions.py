"""The version model: one `Version`, spelt PEP 440 for Python and tags, SemVer for npm.

PEP 440 is canonical. npm files get the SemVer spelling of the same version:

    5.3.0      <->  5.3.0
    5.3.0a1    <->  5.3.0-alpha.1
    5.3.0b2    <->  5.3.0-beta.2
    5.3.0rc1   <->  5.3.0-rc.1

The model is `X.Y.Z` with an optional `aN`, `bN` or `rcN`, and the PEP 440 `.postN` and
`.devN` suffixes. Only the first part maps both ways *and keeps its order*; post-releases and
dev releases have no faithful SemVer spelling, so `Version.semver` refuses them with a
`VersionError` (a package with an npm version file cannot release them; a Python-only package
can). Epochs and local versions are refused everywhere (and SemVer build metadata has no PEP
440 twin), rather than squeezed into a lookalike.

There are three parsers, because versions come from three places:

* `parse_version` - a version the user asks for. Strict: exactly three parts, with the
  spellings listed in its docstring.
* `parse_semver` - a version read from an npm file (package.json, lockfiles).
* `parse_file_version` - a version read from any version file. Lenient where real files were:
  a two-part `'4.9'` in `__init__.py` (openedx/completion once had one) reads as 4.9.0 so that
  status and bumping work; we never *write* two parts, and never accept them as a request.

`packaging` and `semver` are imported inside the functions that need them: `semver` alone costs
about 30 ms, and `release-tool --help` should not pay for it.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release_tool.errors import VersionError

if TYPE_CHECKING:
    from packaging.version import Version as PackagingVersion

#: Pre-release phases in PEP 440 order (which is also SemVer's order of their long names).
PHASES: tuple[str, ...] = ("a", "b", "rc")
#: The `kind` values `bump` accepts.
BUMP_KINDS: tuple[str, ...] = ("major", "minor", "patch", "release", "pre")

_SEMVER_NAME = {"a": "alpha", "b": "beta", "rc": "rc"}
_PHASE_ALIASES = {"a": "a", "alpha": "a", "b": "b", "beta": "b", "rc": "rc"}

# The spellings `parse_version` accepts: canonical PEP 440 plus the separators and long phase
# names packaging normalises, which covers the SemVer spelling (5.3.0-rc.1) too. No leading
# zeros, and the pre-release number is explicit: `5.3.0rc` means rc0 to packaging, which is
# rarely what someone typing it meant. Both patterns are only needed off the canonical fast
# path (see `_canonical`), so they stay strings until `re` compiles them on first use.
_REQUEST_SPELLING = (
    r"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:[-._]?(?:a|alpha|b|beta|rc)[-._]?(?:0|[1-9]\d*))?"
    r"(?:\.post(?:0|[1-9]\d*))?(?:\.dev(?:0|[1-9]\d*))?"
)
_SEMVER_PRERELEASE = r"(alpha|beta|rc)\.(0|[1-9]\d*)"
_VALID_HINT = "use X.Y.Z, optionally with a pre-release aN, bN or rcN (e.g. 5.3.0 or 5.3.0rc1)"


@functools.total_ordering
@dataclass(frozen=True)
class Version:
    """A release version: `major.minor.patch`, an optional pre-release `(phase, number)`, and
    the optional PEP 440 post-release and dev-release numbers.

    Ordering follows PEP 440 (5.3.0.dev1 < 5.3.0a1 < 5.3.0b1 < 5.3.0rc1.dev1 < 5.3.0rc1 <
    5.3.0 < 5.3.0.post1.dev1 < 5.3.0.post1 < 5.3.1a1), which for the versions SemVer can spell
    is also SemVer's order.
    """

    major: int
    minor: int
    patch: int
    pre: tuple[str, int] | None = None
    post: int | None = None
    dev: int | None = None

    def __post_init__(self) -> None:
        # Constructing a bad Version is a programming error, not user input: ValueError.
        if min(self.major, self.minor, self.patch) < 0:
            raise ValueError(f"negative version part in {self.release}")
        if self.pre is not None:
            phase, number = self.pre
            if phase not in PHASES or number < 0:
                raise ValueError(f"bad pre-release {self.pre!r}: expected (a|b|rc, N >= 0)")
        if (
            min(self.post if self.post is not None else 0, self.dev if self.dev is not None else 0)
            < 0
        ):
            raise ValueError(f"negative post or dev number in {self.post!r}, {self.dev!r}")

    @property
    def release(self) -> tuple[int, int, int]:
        """(major, minor, patch)."""
        return (self.major, self.minor, self.patch)

    @property
    def pep440(self) -> str:
        """The PEP 440 spelling, e.g. `5.3.0rc1` or `5.3.0.post1`: Python files and tags."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre is not None:
            text += f"{self.pre[0]}{self.pre[1]}"
        if self.post is not None:
            text += f".post{self.post}"
        if self.dev is not None:
            text += f".dev{self.dev}"
        return text

    @property
    def semver(self) -> str:
        """The SemVer spelling, e.g. `5.3.0-rc.1`: npm files. A VersionError for a post or dev
        release, which SemVer cannot spell faithfully."""
        if self.unspellable_in_semver:
            raise VersionError(
                f"{self.pep440} is {self.unspellable_in_semver}, which has no faithful SemVer "
                "(npm) spelling",
                "release a plain X.Y.Z or a pre-release X.Y.ZaN / bN / rcN instead",
            )
        text = f"{self.major}.{self.minor}.{self.patch}"
        return text if self.pre is None else f"{text}-{_SEMVER_NAME[self.pre[0]]}.{self.pre[1]}"

    @property
    def unspellable_in_semver(self) -> str:
        """'a post-release (.postN)' / 'a dev release (.devN)', or '' when SemVer can spell it."""
        if self.dev is not None:
            return f"a dev release (.dev{self.dev})"
        if self.post is not None:
            return f"a post-release (.post{self.post})"
        return ""

    @property
    def is_prerelease(self) -> bool:
        """A pre-release or a dev release (PEP 440: both are pre-releases)."""
        return self.pre is not None or self.dev is not None

    @property
    def base(self) -> Version:
        """The final version this is a pre-release (or post-release) of (itself when final)."""
        return Version(self.major, self.minor, self.patch)

    def _sort_key(self) -> tuple[int, ...]:
        # PEP 440: a dev release of X.Y.Z sorts before its pre-releases; a final after every
        # pre-release of the same X.Y.Z; a post-release after its release; `.devN` before
        # the same version without it.
        if self.pre is not None:
            pre = (PHASES.index(self.pre[0]), self.pre[1])
        elif self.post is None and self.dev is not None:
            pre = (-1, 0)
        else:
            pre = (len(PHASES), 0)
        post = -1 if self.post is None else self.post
        dev = (1, 0) if self.dev is None else (0, self.dev)
        return (*self.release, *pre, post, *dev)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    def __str__(self) -> str:
        return self.pep440


# --- parsing ----------------------------------------------------------------------------------

# Canonical spellings, which need neither `packaging` nor `semver` to be understood: a dry run
# reads a handful of versions, and importing the two libraries (compiling their big regular
# expressions) would cost it about 20 ms. Anything else goes through the libraries.
_CANONICAL_PEP440 = re.compile(
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:(?P<phase>a|b|rc)(?P<number>0|[1-9]\d*))?"
    r"(?:\.post(?P<post>0|[1-9]\d*))?(?:\.dev(?P<dev>0|[1-9]\d*))?"
)
_CANONICAL_SEMVER = re.compile(
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<phase>alpha|beta|rc)\.(?P<number>0|[1-9]\d*))?"
)


def _canonical(pattern: re.Pattern[str], text: str) -> Version | None:
    match = pattern.fullmatch(text)
    if match is None:
        return None
    part = match.groupdict()
    phase, post, dev = part["phase"], part.get("post"), part.get("dev")
    pre = (_PHASE_ALIASES[phase], int(part["number"])) if phase else None
    return Version(
        int(part["major"]),
        int(part["minor"]),
        int(part["patch"]),
        pre,
        None if post is None else int(post),
        None if dev is None else int(dev),
    )


def parse_version(text: str) -> Version:
    """Parse a version the user asked for, or a tag's version: strictly.

    Accepted: `X.Y.Z` (no leading zeros) with an optional pre-release `aN`, `bN` or `rcN`,
    also spelt with a `-`, `.` or `_` separator and/or the long names `alpha`/`beta`, so
    `5.3.0rc1`, `5.3.0-rc1`, `5.3.0.rc1` and the SemVer `5.3.0-rc.1` all mean 5.3.0rc1; then
    an optional `.postN` and an optional `.devN` (a package with an npm version file cannot
    release those: see `Version.semver`).
    Refused, each with its own hint: empty text, surrounding whitespace, a leading `v`, fewer
    or more than three parts, epochs, local versions, an implicit pre-release number
    (`5.3.0rc`), the rarer aliases (`c1`, `pre1`, `1.2.3-1` for a post-release), and anything
    that is not a version at all.
    """
    fast = _canonical(_CANONICAL_PEP440, text)
    if fast is not None:
        return fast
    _refuse_decorations(text)
    parsed = _parse_pep440(text)
    _refuse_unmappable(text, parsed)
    if len(parsed.release) != 3:
        raise VersionError(
            f"{text!r} has {len(parsed.release)} part(s); a release version has three",
            "write it with three parts X.Y.Z, e.g. " + _padded(parsed),
        )
    if not re.fullmatch(_REQUEST_SPELLING, text):
        raise VersionError(
            f"{text!r} is not spelt as release_tool accepts it",
            f"write it as {parsed}",
        )
    return _from_packaging(parsed)


def tag_version(text: str) -> Version | None:
    """The release version a tag's text names, or None: never raises.

    A tag names a release only in the canonical PEP 440 spelling `X.Y.Z[aN|bN|rcN][.postN]
    [.devN]`; anything else (`2019.01.15`, a date, `npmv1.0.0`) is some other tag and is ignored.
    """
    return _canonical(_CANONICAL_PEP440, text)


def parse_semver(text: str) -> Version:
    """Parse a version read from an npm file: SemVer with `-alpha.N`, `-beta.N` or `-rc.N`.

    Build metadata (`+build.5`) and any other pre-release (`-foo.1`, `-rc1`, `-a.1`) are
    refused: they have no PEP 440 twin that sorts the same way (SemVer compares `rc10` < `rc2`
    as text), so accepting them would make the two spellings disagree.
    """
    fast = _canonical(_CANONICAL_SEMVER, text)
    if fast is not None:
        return fast
    import semver

    _refuse_decorations(text)
    try:
        parsed = semver.Version.parse(text)
    except ValueError:
        raise VersionError(f"{text!r} is not a valid SemVer version", _VALID_HINT) from None
    if parsed.build is not None:
        raise VersionError(
            f"{text!r} has build metadata '+{parsed.build}', which PEP 440 cannot express",
            f"remove '+{parsed.build}'",
        )
    pre = None
    if parsed.prerelease is not None:
        match = re.fullmatch(_SEMVER_PRERELEASE, parsed.prerelease)
        if match is None:
            raise VersionError(
                f"{text!r} has pre-release '{parsed.prerelease}', which has no PEP 440 equivalent",
                "use -alpha.N, -beta.N or -rc.N (e.g. 5.3.0-rc.1)",
            )
        pre = (_PHASE_ALIASES[match.group(1)], int(match.group(2)))
    return Version(parsed.major, parsed.minor, parsed.patch, pre)


def parse_file_version(text: str, kind: str) -> Version:
    """Parse a version read from a version file of `kind` (see `release_tool.files`).

    'python' and 'pyproject' hold PEP 440; 'package_json' and 'npm_lockfile' hold SemVer.
    PEP 440 file versions are read leniently: any spelling packaging accepts, and two parts
    (`'4.9'` reads as 4.9.0), because real libraries shipped such files and we still need to
    report and bump them. Post and dev releases are read; epochs and local versions refused.
    """
    if kind in ("package_json", "npm_lockfile"):
        return parse_semver(text)
    if kind not in ("python", "pyproject"):
        raise ValueError(f"unknown version file kind {kind!r}")
    fast = _canonical(_CANONICAL_PEP440, text)
    if fast is not None:
        return fast
    if not text:
        raise VersionError("the version is empty", _VALID_HINT)
    parsed = _parse_pep440(text)
    _refuse_unmappable(text, parsed)
    if len(parsed.release) not in (2, 3):
        raise VersionError(
            f"{text!r} has {len(parsed.release)} part(s); expected X.Y.Z",
            "write it with three parts X.Y.Z, e.g. " + _padded(parsed),
        )
    return _from_packaging(parsed)


def _refuse_decorations(text: str) -> None:
    """Refuse what packaging would silently strip: emptiness, whitespace, a leading 'v'."""
    if not text.strip():
        raise VersionError("the version is empty", _VALID_HINT)
    if text != text.strip():
        raise VersionError(f"{text!r} has whitespace around it", f"write it as {text.strip()}")
    if text[0] in "vV" and text[1:2].isdigit():
        raise VersionError(
            f"{text!r} starts with '{text[0]}'",
            f"give the version without the 'v' ({text[1:]}): the tag format adds it",
        )


def _parse_pep440(text: str) -> PackagingVersion:
    from packaging.version import InvalidVersion
    from packaging.version import Version as PackagingVersion

    try:
        return PackagingVersion(text)
    except InvalidVersion:
        raise VersionError(f"{text!r} is not a valid version", _VALID_HINT) from None


def _refuse_unmappable(text: str, parsed: PackagingVersion) -> None:
    """Refuse the PEP 440 features release_tool does not release: epochs and local versions
    (neither has a SemVer spelling, and neither belongs on a package index's release)."""
    problem = None
    if parsed.epoch:
        problem = f"an epoch ({parsed.epoch}!)"
    elif parsed.local is not None:
        problem = f"a local version (+{parsed.local})"
    if problem:
        raise VersionError(
            f"{text!r} has {problem}, which release_tool does not release",
            "release a plain X.Y.Z or a pre-release X.Y.ZaN / bN / rcN instead",
        )


def _padded(parsed: PackagingVersion) -> str:
    """The three-part spelling of a version with too few or too many parts, for hints."""
    release = (*parsed.release, 0, 0)[:3]
    pre = "".join(str(p) for p in parsed.pre) if parsed.pre else ""
    post = f".post{parsed.post}" if parsed.post is not None else ""
    dev = f".dev{parsed.dev}" if parsed.dev is not None else ""
    return ".".join(str(n) for n in release) + pre + post + dev


def _from_packaging(parsed: PackagingVersion) -> Version:
    major, minor, patch = (*parsed.release, 0)[:3]
    pre = None if parsed.pre is None else (parsed.pre[0], parsed.pre[1])
    return Version(major, minor, patch, pre, parsed.post, parsed.dev)


# --- bumping ----------------------------------------------------------------------------------


def bump(current: Version, kind: str, pre: str | None = None) -> Version:
    """The version after `current` for a bump of `kind`, optionally as a pre-release `pre`.

    kind 'major' / 'minor' / 'patch':
        On a final version, increment that part and zero the ones after it
        (5.2.3 -> 6.0.0 / 5.3.0 / 5.2.4). On a pre-release, give the *smallest* version of that
        level greater than current, as semver 3's `next_version` does: the pre-release's own
        base if it already is of that level (5.3.0rc2 + patch or minor -> 5.3.0; 6.0.0b1 +
        major -> 6.0.0), else the usual increment (5.3.1rc1 + minor -> 5.4.0).
    `pre` ('a'/'alpha', 'b'/'beta', 'rc'):
        The version computed above becomes pre-release 1 of that phase (5.2.0 + minor, rc ->
        5.3.0rc1) - unless current is already a pre-release of that same base, in which case
        the pre-release advances: same phase -> next number (5.3.0rc1 -> 5.3.0rc2), a later
        phase -> number 1 (5.3.0a2 -> 5.3.0b1). Going back a phase (rc -> a) is a VersionError.
    kind 'pre' (only `--pre PHASE` given):
        On a pre-release, advance it as above (`pre` defaults to its current phase); on a
        final version, patch + pre-release 1 (5.2.0 + pre rc -> 5.2.1rc1).
    kind 'release':
        Finalise a pre-release (5.3.0rc2 -> 5.3.0). A VersionError on a final version, or
        together with `pre`.

    The result is always greater than `current`.
    """
    phase = _phase(pre)
    if kind == "release":
        return _finalise(current, phase)
    if kind == "pre":
        return _next_prerelease(current, phase)
    if kind not in ("major", "minor", "patch"):
        raise VersionError(f"unknown bump {kind!r}", f"use one of: {', '.join(BUMP_KINDS)}")
    target = _next_final(current, kind)
    if phase is None:
        return target
    if current.pre is not None and current.base == target:
        return _advance(current, phase)
    return dataclasses.replace(target, pre=(phase, 1))


def _phase(pre: str | None) -> str | None:
    if pre is None:
        return None
    if pre not in _PHASE_ALIASES:
        raise VersionError(
            f"unknown pre-release phase {pre!r}", "use one of: a (alpha), b (beta), rc"
        )
    return _PHASE_ALIASES[pre]


def _next_final(current: Version, level: str) -> Version:
    """The smallest final version of `level` above `current` (see `bump`)."""
    major, minor, patch = current.release
    if current.is_prerelease:
        # A pre-release of X.Y.0 is already below the minor release X.Y.0, and so on.
        zeros_below = {"patch": True, "minor": patch == 0, "major": minor == patch == 0}
        if zeros_below[level]:
            return current.base
    if level == "major":
        return Version(major + 1, 0, 0)
    if level == "minor":
        return Version(major, minor + 1, 0)
    return Version(major, minor, patch + 1)


def _advance(current: Version, phase: str) -> Version:
    """The next pre-release of current's base in `phase`; current must have a pre-release
    phase. A dev release of a pre-release comes before it: 5.3.0rc1.dev2 -> 5.3.0rc1."""
    assert current.pre is not None
    current_phase, number = current.pre
    if phase == current_phase:
        if current.dev is not None and current.post is None:
            return Version(*current.release, current.pre)
        return Version(*current.release, (phase, number + 1))
    if PHASES.index(phase) > PHASES.index(current_phase):
        return Version(*current.release, (phase, 1))
    raise VersionError(
        f"cannot go back from {current} to an earlier pre-release phase ({phase})",
        f"use --pre {current_phase} or a later phase, or give the version explicitly",
    )


def _next_prerelease(current: Version, phase: str | None) -> Version:
    if current.pre is not None:
        return _advance(current, phase or current.pre[0])
    if phase is None:
        raise VersionError(
            f"{current} is not a pre-release aN, bN or rcN, so there is none to advance",
            "say which phase to start: --pre a, --pre b or --pre rc",
        )
    return dataclasses.replace(_next_final(current, "patch"), pre=(phase, 1))


def _finalise(current: Version, phase: str | None) -> Version:
    if phase is not None:
        raise VersionError(
            "'release' makes a final version, so it cannot take a pre-release phase",
            "drop --pre, or bump with major/minor/patch --pre instead",
        )
    if not current.is_prerelease:
        raise VersionError(
            f"{current} is already a final version: there is no pre-release to finalise",
            "bump with major, minor or patch instead",
        )
    return current.base


def check_newer(current: Version, new: Version, allow_downgrade: bool = False) -> None:
    """Refuse to release `new` unless it is greater than `current` (or a downgrade is allowed).

    Equal is always refused: releasing the files' own version is the `current` bump.
    """
    if new == current:
        raise VersionError(
            f"{new} is already the version in the files",
            "use `current` to release what the files say",
        )
    if new < current and not allow_downgrade:
        raise VersionError(
            f"{new} is lower than the current version {current}",
            "pass --allow-downgrade if that is really intended",
        )
