"""Edit the pins of one released package in a downstream's requirements files, as text.

The downstream step reads each file through the GitHub API and hands its text here; this module
does no I/O. It changes only the version tokens of the lines that require the released package
itself, and keeps every other byte: line endings (CRLF too), a missing final newline, comments,
markers, extras, and the `# via` annotations of every pip-tools era.

The shapes it understands are the ones edx-platform used over ten years (see real-world.md):

* `git+https://github.com/edx/edx-proctoring.git@0.12.19#egg=edx-proctoring==0.12.19` — the tag
  and the egg version change together (they once disagreed in a real upgrade PR). Given the
  release's tag as it exists (`tag="v5.3.0"`), any ref moves to it — a branch, a commit, a
  dated or non-version tag, or none — and the egg gets the version (added when it had none):
  `@v5.3.0#egg=edx-proctoring==5.3.0`. Which repository the URL names is the caller's to check
  (`git_urls`). Without a tag, a version tag keeps its `v` prefix and any other ref is refused.
* `edx-proctoring==2.4.0` in compiled `.txt` files: with no comment (pip-tools < 5), with the
  inline `# via` comment pip-tools 5.0-5.4 padded to a fixed column (re-padded the way
  pip-compile would), or followed by a `# via` block (pip-tools >= 5.5, left alone).
* `edx-proctoring>=2.0.1` in `.in` files: a lower bound, raised only on request.
* a pin in a constraints file: updated, and reported as kind `constraint` so the PR can call it
  out; unless it is a deliberate hold (a comment on its line or right above it) and
  `move_held` is false: then it is left as it is and reported in `PinEdit.held`.

The lines are read by `requirement_scan` (as pip reads them); this module decides and writes.

Lines of other packages never change, even when their name starts the same way
(`edx-proctoring-proctortrack`) or their `# via` annotation mentions the package. Names compare
by PEP 503 normalisation, versions by `packaging.version.Version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_tool.errors import FileEditError, UsageError, VersionError
from release_tool.files.requirement_scan import (
    NAME,
    TAG,
    GitUrl,
    Requirement,
    Slot,
    is_version,
    scan,
)

__all__ = [
    "ChangeKind",
    "GitUrl",
    "HeldPin",
    "PinChange",
    "PinEdit",
    "Presence",
    "git_urls",
    "pins_of",
    "update_pins",
]

ChangeKind = Literal["pin", "git-url", "lower-bound", "constraint"]
"""What a change edited: an `==` pin, a git URL's tag and egg, a `>=` bound, a constraint pin."""

Presence = Literal["requirement", "comment-only", "absent"]
"""How a file refers to the package: a requirement line, only comments (`# via`), or not at all."""


@dataclass(frozen=True)
class PinChange:
    """One requirement line whose version changed (line numbers start at 1)."""

    line: int
    old: str
    new: str
    kind: ChangeKind


@dataclass(frozen=True)
class HeldPin:
    """A constraint pin left alone: a hold someone wrote a reason for (line numbers from 1)."""

    line: int
    version: str
    reason: str  # the comment: on the pin's line, or the comment lines right above it


@dataclass(frozen=True)
class PinEdit:
    """The result of `update_pins` for one file.

    `already_current` is true when the file pins the package and every pin already names the new
    version (nothing to do). `presence` lets the caller tell a file that does not require the
    package at all from one that only mentions it in `# via` comments.
    """

    path: str
    old_text: str
    new_text: str
    changes: tuple[PinChange, ...]
    already_current: bool
    presence: Presence
    held: tuple[HeldPin, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the new text differs from the old one."""
        return self.new_text != self.old_text


# --- editing -----------------------------------------------------------------------------------

# pip-compile 5.0-5.4 wrote `"{:24}{}{}".format(requirement, "  ", "# via …")`: the requirement
# padded to 24 characters, then two spaces, so the `#` sits at column 27 (26 from zero) — or
# exactly two spaces after a requirement longer than 24.
_PIP_COMPILE_WIDTH = 24
_PIP_COMPILE_SEPARATOR = 2


def _pip_compile_gap(code: str) -> str:
    return " " * (max(_PIP_COMPILE_WIDTH - len(code), 0) + _PIP_COMPILE_SEPARATOR)


def _check_arguments(package: str, new_version: str) -> tuple[str, Version]:
    if NAME.fullmatch(package) is None:
        raise UsageError(f"{package!r} is not a valid package name", "use the name on the index")
    try:
        version = Version(new_version)
    except InvalidVersion:
        raise VersionError(
            f"{new_version!r} is not a PEP 440 version", "use a version such as 5.3.0 or 5.3.0rc1"
        ) from None
    if str(version) != new_version:
        raise VersionError(
            f"{new_version!r} is not in PEP 440 canonical form", f"use {str(version)!r}"
        )
    return canonicalize_name(package), version


def update_pins(
    path: str,
    text: str,
    package: str,
    new_version: str,
    *,
    raise_lower_bound: bool = False,
    is_constraints: bool = False,
    tag: str | None = None,
    move_held: bool = True,
) -> PinEdit:
    """Point every pin of `package` in `text` (the file at `path`) at `new_version`.

    `tag` is the release's tag as it exists: a git URL's ref (whatever it is) moves to it and
    its egg gets the version. In a constraints file, a pin with a comment (on its line or
    right above it) is a hold: without `move_held` it stays and is reported in `held`.

    Raises FileEditError, naming the file and line, for a pin that cannot be updated (hashed, a
    git commit or branch without `tag`, unparseable), a pin newer than `new_version`, or a
    requirement that would still exclude it (`<5`, `!=`, a lower bound above it). The raised
    error means nothing should be written: the edit is all or nothing.
    """
    canonical, new = _check_arguments(package, new_version)
    scanned = scan(path, text, canonical, tag)
    new_contents = {line.number: line.content for line in scanned.lines}
    changes: list[PinChange] = []
    held: list[HeldPin] = []
    targets = 0  # version tokens this call is responsible for (current or not)

    for requirement in scanned.requirements:
        if requirement.problem is not None:
            raise requirement.problem
        number = requirement.line.number
        where = f"{path} line {number}"
        pinned = next((x.version for x in requirement.slots if x.role == "pin"), None)
        holds = is_constraints and requirement.hold and not move_held
        if holds and pinned is not None and Version(pinned) != new:
            held.append(HeldPin(number, pinned, requirement.hold))
            continue
        stale: list[Slot] = []
        for slot in requirement.slots:
            if slot.role == "lower-bound" and not raise_lower_bound:
                continue
            targets += 1
            if slot.role == "ref" or (slot.role == "egg" and not slot.version):
                ahead = TAG.fullmatch(slot.version) if slot.role == "ref" else None
                if ahead and is_version(ahead.group("ver")) and Version(ahead.group("ver")) > new:
                    raise FileEditError(
                        f"{where} pins {package} at {slot.version}, newer than {new_version}",
                        "the downstream is already ahead of this release: there is nothing to "
                        "upgrade (check the version being released)",
                    )
                if slot.version != (tag if slot.role == "ref" else new_version):
                    stale.append(slot)
                continue
            old = Version(slot.version)
            if old > new:
                raise FileEditError(
                    f"{where} pins {package} {slot.version}, newer than {new_version}",
                    "the downstream is already ahead of this release: there is nothing to "
                    "upgrade (check the version being released)",
                )
            if old != new:
                stale.append(slot)
        if requirement.clauses is not None:
            _check_admits(requirement, stale, where, package, new)
        if not stale:
            continue
        if requirement.hashed:
            command = (
                f" (its header says: {scanned.update_command})" if scanned.update_command else ""
            )
            raise FileEditError(
                f"cannot update hashed requirements without the index: {where} pins {package} "
                "with --hash",
                f"regenerate {path} with pip-compile --generate-hashes{command}",
            )
        code = requirement.code
        for slot in sorted(stale, key=lambda s: s.start, reverse=True):
            value = tag if slot.role == "ref" and tag is not None else new_version
            code = code[: slot.start] + slot.insert + value + code[slot.end :]
        gap = requirement.gap
        # Re-pad only a comment pip-compile placed (its requirement starts the line and the gap
        # is exactly its padding); a hand-written comment keeps its spacing.
        if (
            requirement.comment
            and not requirement.code[:1].isspace()
            and gap == _pip_compile_gap(requirement.code)
        ):
            gap = _pip_compile_gap(code)
        new_contents[number] = code + gap + requirement.comment
        changes.append(_change(requirement, stale, new_version, is_constraints))

    new_text = "".join(new_contents[line.number] + line.ending for line in scanned.lines)
    if scanned.requirements:
        presence: Presence = "requirement"
    else:
        presence = "comment-only" if scanned.mentioned else "absent"
    return PinEdit(
        path=path,
        old_text=text,
        new_text=new_text,
        changes=tuple(changes),
        already_current=targets > 0 and not changes,
        presence=presence,
        held=tuple(held),
    )


def _check_admits(
    requirement: Requirement, stale: list[Slot], where: str, package: str, new: Version
) -> None:
    """Refuse a requirement that, once edited, would still exclude the new version."""
    new_version = str(new)  # canonical: _check_arguments made sure
    assert requirement.clauses is not None
    edited = [
        f"{op}{new_version if slot is not None and slot in stale else version}"
        for op, version, slot in requirement.clauses
    ]
    if not edited:
        return
    try:
        admits = SpecifierSet(",".join(edited)).contains(new, prereleases=True)
    except InvalidSpecifier:
        raise FileEditError(
            f"{where}: cannot parse the version specifier {','.join(edited)!r} of {package}",
            "edit this line by hand",
        ) from None
    if not admits:
        requirement_text = requirement.code.strip().rstrip("\\").rstrip()
        raise FileEditError(
            f"{where}: {requirement_text!r} excludes {package} {new_version}",
            "relax or remove that bound in the downstream first (a lower bound above the "
            "release means the downstream is ahead), then re-run",
        )


def _change(
    requirement: Requirement, stale: list[Slot], new_version: str, is_constraints: bool
) -> PinChange:
    roles = {slot.role: slot for slot in stale}
    kind: ChangeKind
    if "tag" in roles or "egg" in roles or "ref" in roles:
        kind = "git-url"
        # The egg's `==X` is the version pip records; the ref is reported when the egg has none
        # or is current.
        egg = roles.get("egg")
        old = egg.version if egg is not None and egg.version else ""
        ref = (roles.get("ref") or roles.get("tag") or _NO_REF).version
        versioned = TAG.fullmatch(ref)
        if not old and versioned and is_version(versioned.group("ver")):
            ref = versioned.group("ver")  # `@v5.2.0`: version 5.2.0
        old = old or ref or "(no ref)"
    elif "pin" in roles:
        kind = "constraint" if is_constraints else "pin"
        old = roles["pin"].version
    else:
        kind = "lower-bound"
        old = roles["lower-bound"].version
    return PinChange(requirement.line.number, old, new_version, kind)


_NO_REF = Slot(0, 0, "", "ref")


def git_urls(path: str, text: str, package: str) -> list[GitUrl]:
    """The git URL requirements of `package` in `text`: where each points, for the caller to
    check that it is the released repository before the ref is moved."""
    canonical = canonicalize_name(package)
    return [r.url for r in scan(path, text, canonical, "").requirements if r.url is not None]


def pins_of(path: str, text: str, package: str) -> list[tuple[int, str]]:
    """(line, version as written) of every exact pin of `package`: `==X` and git URL versions.

    For `status`: it never raises on a line `update_pins` would refuse; a git URL pinned to a
    commit has no version and is left out, and lower bounds are not pins.
    """
    canonical = canonicalize_name(package)
    pins: list[tuple[int, str]] = []
    for requirement in scan(path, text, canonical).requirements:
        by_role = {slot.role: slot for slot in requirement.slots}
        slot = by_role.get("pin") or by_role.get("egg") or by_role.get("tag")
        if slot is not None:
            pins.append((requirement.line.number, slot.version))
    return pins
