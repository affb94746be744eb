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

Lines of other packages never change, even when their name starts the same way
(`edx-proctoring-proctortrack`) or their `# via` annotation mentions the package. Names compare
by PEP 503 normalisation, versions by `packaging.version.Version`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_tool.errors import FileEditError, UsageError, VersionError

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
class GitUrl:
    """A git URL requirement of the package: where it points (line numbers from 1)."""

    line: int
    url: str  # without the `git+` prefix, the `@ref` and the fragment
    ref: str  # "" when the URL names no ref


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


# --- scanning ----------------------------------------------------------------------------------

# pip splits on the universal newlines; \n, \r\n and a lone \r are the ones seen in real files.
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n)?")
# pip's COMMENT_RE: a `#` that starts the line or follows whitespace starts a comment, so the
# `#egg=` fragment of a URL is not one.
_COMMENT = re.compile(r"(?:^|[ \t]+)#")
_COMMENT_LINE = re.compile(r"[ \t]*#")
_INDENT = re.compile(r"[ \t\ufeff]*")
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_EXTRAS = re.compile(r"[ \t]*\[[^\]]*\]")
_DIRECT_URL = re.compile(r"[ \t]*@[ \t]*")
# `===` before `==`: alternation takes the first branch that matches.
_CLAUSE = re.compile(r"[ \t]*(?P<op>===|==|!=|~=|<=|>=|<|>)[ \t]*(?P<ver>[A-Za-z0-9.*+!_-]+)")
_COMMA = re.compile(r"[ \t]*,")
_EDITABLE = re.compile(r"(?:-e|--editable)(?:[ \t]+|=)")
_URL_TOKEN = re.compile(r"[^ \t]+")
_EGG = re.compile(r"(?:^|&)egg=(?P<value>[^&]*)")
_EGG_VALUE = re.compile(r"(?P<name>[A-Za-z0-9._-]+)(?:==(?P<ver>[A-Za-z0-9.+!_-]+))?")
_TAG = re.compile(r"(?P<prefix>[vV]?)(?P<ver>[0-9][A-Za-z0-9.+!_-]*)")
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
# An all-digit full sha would otherwise parse as a (huge) version number.
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# The compiled files' header names the command that regenerates them (`make upgrade` in
# edx-platform); newer pip-tools say "by the following command:" instead.
_UPDATE_HEADER = re.compile(r"#[ \t]*(?:To update, run|by the following command):")
_HEADER_COMMAND = re.compile(r"#[ \t]+(?P<command>\S.*?)[ \t]*")

# pip-compile 5.0-5.4 wrote `"{:24}{}{}".format(requirement, "  ", "# via …")`: the requirement
# padded to 24 characters, then two spaces, so the `#` sits at column 27 (26 from zero) — or
# exactly two spaces after a requirement longer than 24.
_PIP_COMPILE_WIDTH = 24
_PIP_COMPILE_SEPARATOR = 2

_SlotRole = Literal["pin", "lower-bound", "tag", "egg", "ref"]


@dataclass(frozen=True)
class _Line:
    number: int
    content: str
    ending: str


@dataclass(frozen=True)
class _Slot:
    """A version token that may be rewritten: `content[start:end]` is the version itself."""

    start: int
    end: int
    version: str
    role: _SlotRole
    insert: str = ""  # written before the new value: "@" for a URL with no ref, "==" for an egg


# (operator, version as written, its slot if release_tool may rewrite it)
_Clause = tuple[str, str, _Slot | None]


@dataclass(frozen=True)
class _Requirement:
    """A requirement line of the released package (its first physical line)."""

    line: _Line
    code: str  # the content before the inline comment, indentation included
    gap: str  # the whitespace between the code and the comment
    comment: str  # the inline comment from its `#`, or ""
    hashed: bool
    slots: tuple[_Slot, ...]
    # For `name<spec>` lines, the clauses with their slots, to check the result still admits the
    # new version; None for URLs, whose only versions are the slots themselves.
    clauses: tuple[_Clause, ...] | None
    problem: FileEditError | None  # why this line cannot be updated at all
    url: GitUrl | None = None  # for a git URL requirement
    hold: str = ""  # the comment on the line or right above it (a constraint's reason)


@dataclass(frozen=True)
class _Scan:
    lines: tuple[_Line, ...]
    requirements: tuple[_Requirement, ...]
    mentioned: bool  # the package's name appears in some comment
    update_command: str | None  # what the compiled file's header says regenerates it


def _split_lines(text: str) -> tuple[_Line, ...]:
    lines: list[_Line] = []
    pos = 0
    while pos < len(text):
        match = _LINE.match(text, pos)
        assert match is not None  # the pattern matches the empty string
        lines.append(_Line(len(lines) + 1, match.group(1), match.group(2) or ""))
        pos = match.end()
    return tuple(lines)


def _split_comment(content: str) -> tuple[str, str, str]:
    """(code, gap, comment) of one physical line."""
    match = _COMMENT.search(content)
    if match is None:
        return content, "", ""
    hash_at = match.end() - 1
    return content[: match.start()], content[match.start() : hash_at], content[hash_at:]


def _continues(content: str) -> bool:
    # pip's join_lines: a trailing backslash continues the line, except on a comment line.
    return content.endswith("\\") and _COMMENT_LINE.match(content) is None


def _mentions(comment: str, package: str) -> bool:
    # Whole names only, so `edx-proctoring-proctortrack` does not count as `edx-proctoring`.
    return any(canonicalize_name(token) == package for token in _NAME.findall(comment))


def _scan(path: str, text: str, package: str, tag: str | None = None) -> _Scan:
    lines = _split_lines(text)
    requirements: list[_Requirement] = []
    mentioned = False
    update_command: str | None = None
    in_update_header = False
    above: list[str] = []  # the comment lines right above this one
    index = 0
    while index < len(lines):
        first = lines[index]
        # A logical line is the first physical line plus its backslash continuations; a comment
        # line always ends it (pip joins the same way), so `# via` blocks are never part of it.
        last = index
        while (
            _continues(lines[last].content)
            and last + 1 < len(lines)
            and _COMMENT_LINE.match(lines[last + 1].content) is None
        ):
            last += 1
        code, gap, comment = _split_comment(first.content)
        mentioned = mentioned or any(
            _mentions(_split_comment(lines[i].content)[2], package) for i in range(index, last + 1)
        )
        if code.strip():
            in_update_header = False
            hashed = any(
                "--hash" in _split_comment(lines[i].content)[0] for i in range(index, last + 1)
            )
            context = _Context(path, package, first, code, gap, comment, hashed, tag)
            requirement = context.parse()
            if requirement is not None:
                # A hold's reason: the comment on its line, else the comments right above it.
                hold = comment.lstrip("#").strip() or " ".join(above)
                requirements.append(dataclasses.replace(requirement, hold=hold))
        elif _UPDATE_HEADER.fullmatch(comment.rstrip()):
            in_update_header = True
        elif in_update_header and (command := _HEADER_COMMAND.fullmatch(comment)):
            update_command = command.group("command")
            in_update_header = False
        words = comment.lstrip("#").strip()
        above = [*above, words] if not code.strip() and words else []
        index = last + 1
    return _Scan(lines, tuple(requirements), mentioned, update_command)


@dataclass(frozen=True)
class _Context:
    """One logical line being parsed as a requirement of `package` (PEP 503-normalised)."""

    path: str
    package: str
    line: _Line
    code: str
    gap: str
    comment: str
    hashed: bool
    tag: str | None = None  # the release's tag: a git URL's ref moves to it, whatever it is

    def ours(self, name: str) -> bool:
        return canonicalize_name(name) == self.package

    def requirement(
        self,
        slots: tuple[_Slot, ...] = (),
        clauses: tuple[_Clause, ...] | None = None,
        url: GitUrl | None = None,
    ) -> _Requirement:
        return _Requirement(
            self.line, self.code, self.gap, self.comment, self.hashed, slots, clauses, None, url
        )

    def refused(self, problem: str, hint: str) -> _Requirement:
        error = FileEditError(f"{self.path} line {self.line.number}: {problem}", hint)
        return _Requirement(
            self.line, self.code, self.gap, self.comment, self.hashed, (), None, error
        )

    def parse(self) -> _Requirement | None:
        """The requirement on this line if it is one of the package's, else None."""
        code = self.code
        indent = _INDENT.match(code)
        assert indent is not None  # the pattern matches the empty string
        pos = indent.end()
        editable = _EDITABLE.match(code, pos)
        if editable is not None:
            return self.parse_url(editable.end(), None)
        if code.startswith("-", pos):
            return None  # an option line: -r, -c, --index-url, …
        if _URL_START.match(code, pos):
            return self.parse_url(pos, None)
        name = _NAME.match(code, pos)
        if name is None or not self.ours(name.group()):
            return None
        pos = name.end()
        if code.startswith("/", pos):
            return None  # a local directory such as `edx-proctoring/`, not a name
        extras = _EXTRAS.match(code, pos)
        if extras is not None:
            pos = extras.end()
        direct = _DIRECT_URL.match(code, pos)
        if direct is not None:
            return self.parse_url(direct.end(), name.group())
        return self.parse_specifiers(pos)

    def parse_specifiers(self, pos: int) -> _Requirement:
        """`name[extras] <clauses> ; markers --options` from just after the extras."""
        code = self.code
        cannot_parse = (
            f"cannot parse this requirement of {self.package}: {self.line.content.strip()!r}"
        )
        by_hand = "edit this line by hand, then re-run"
        clauses: list[_Clause] = []
        clause = _CLAUSE.match(code, pos)
        while clause is not None:
            op, version = clause.group("op"), clause.group("ver")
            role: _SlotRole | None = None
            if op == "==" and "*" not in version:
                role = "pin"
            elif op == ">=":
                role = "lower-bound"
            slot = None
            if role is not None:
                try:
                    Version(version)
                except InvalidVersion:
                    return self.refused(f"{version!r} is not a PEP 440 version", by_hand)
                slot = _Slot(clause.start("ver"), clause.end("ver"), version, role)
            clauses.append((op, version, slot))
            pos = clause.end()
            comma = _COMMA.match(code, pos)
            if comma is None:
                break
            clause = _CLAUSE.match(code, comma.end())
            if clause is None:
                return self.refused(cannot_parse, by_hand)
        # What may follow the specifiers: environment markers, per-requirement options
        # (`--hash`) and the continuation backslash. Anything else is refused rather than
        # guessed at, so a pin is never silently left behind.
        rest = code[pos:].rstrip()
        if rest.endswith("\\"):
            rest = rest[:-1].rstrip()
        tail = rest.lstrip()
        if tail and not tail.startswith(";") and not (tail.startswith("--") and rest[:1].isspace()):
            return self.refused(cannot_parse, by_hand)
        slots = tuple(slot for _, _, slot in clauses if slot is not None)
        return self.requirement(slots, tuple(clauses))

    def parse_url(self, pos: int, name: str | None) -> _Requirement | None:
        """A `git+…@TAG#egg=name==X` requirement (plain, `-e`, or `name @ url`) if it is ours."""
        token = _URL_TOKEN.match(self.code, pos)
        if token is None:
            return None
        url = token.group().removesuffix("\\")
        main, _, fragment = url.partition("#")
        fragment_at = pos + len(main) + 1
        egg_slot: _Slot | None = None
        egg = _EGG.search(fragment)
        if egg is not None:
            value = _EGG_VALUE.fullmatch(egg.group("value"))
            if value is None:
                egg_name = _NAME.match(egg.group("value"))
                if name is None and (egg_name is None or not self.ours(egg_name.group())):
                    return None
                return self.refused(
                    f"cannot parse the egg fragment {egg.group('value')!r}",
                    "edit this line by hand, then re-run",
                )
            name = name or value.group("name")
            if value.group("ver") is not None:
                start = fragment_at + egg.start("value") + value.start("ver")
                egg_slot = _Slot(start, start + len(value.group("ver")), value.group("ver"), "egg")
            elif self.tag is not None:  # `#egg=name`: the version is added
                end = fragment_at + egg.end("value")
                egg_slot = _Slot(end, end, "", "egg", insert="==")
        if name is None or not self.ours(name):
            return None

        package = self.package
        url_hint = (
            f"pin a release tag by hand (git+https://…@<tag>#egg={package}==<version>), or "
            f"replace the URL with {package}==<version>"
        )
        if not main.lower().startswith(("git+", "git://")) or "://" not in main:
            return self.refused(
                f"{package} is installed from {main!r}, which release_tool cannot update",
                url_hint,
            )
        # pip takes the revision after the last `@` of the URL's path, so `git@github.com`
        # in the host part is not one.
        path_at = main.find("/", main.find("://") + 3)
        at = main.rfind("@")
        ref = main[at + 1 :] if path_at != -1 and at > path_at else ""
        where = GitUrl(
            self.line.number,
            (main[: at if ref else len(main)]).removeprefix("git+"),
            ref,
        )
        if self.tag is not None:
            # Any ref of the released repository moves to the release's tag.
            if ref:
                ref_slot = _Slot(pos + at + 1, pos + len(main), ref, "ref")
            else:
                ref_slot = _Slot(pos + len(main), pos + len(main), "", "ref", insert="@")
            slots = (ref_slot,) if egg_slot is None else (ref_slot, egg_slot)
            return self.requirement(slots, url=where)
        tag = _TAG.fullmatch(ref)
        if tag is None or _FULL_SHA.fullmatch(ref) or not _is_version(tag.group("ver")):
            if not ref:
                what = "a git URL with no tag (it installs the default branch)"
            elif _SHA.fullmatch(ref):
                what = f"git commit {ref}, not a release tag"
            else:
                what = f"git ref {ref!r}, not a release tag"
            return self.refused(f"{package} is pinned to {what}: it cannot be updated", url_hint)
        start = pos + at + 1 + tag.start("ver")
        tag_slot = _Slot(start, start + len(tag.group("ver")), tag.group("ver"), "tag")
        slots = (tag_slot,) if egg_slot is None else (tag_slot, egg_slot)
        return self.requirement(slots, url=where)


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


# --- editing -----------------------------------------------------------------------------------


def _pip_compile_gap(code: str) -> str:
    return " " * (max(_PIP_COMPILE_WIDTH - len(code), 0) + _PIP_COMPILE_SEPARATOR)


def _check_arguments(package: str, new_version: str) -> tuple[str, Version]:
    if _NAME.fullmatch(package) is None:
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
    scan = _scan(path, text, canonical, tag)
    new_contents = {line.number: line.content for line in scan.lines}
    changes: list[PinChange] = []
    held: list[HeldPin] = []
    targets = 0  # version tokens this call is responsible for (current or not)

    for requirement in scan.requirements:
        if requirement.problem is not None:
            raise requirement.problem
        number = requirement.line.number
        where = f"{path} line {number}"
        pinned = next((x.version for x in requirement.slots if x.role == "pin"), None)
        holds = is_constraints and requirement.hold and not move_held
        if holds and pinned is not None and Version(pinned) != new:
            held.append(HeldPin(number, pinned, requirement.hold))
            continue
        stale: list[_Slot] = []
        for slot in requirement.slots:
            if slot.role == "lower-bound" and not raise_lower_bound:
                continue
            targets += 1
            if slot.role == "ref" or (slot.role == "egg" and not slot.version):
                ahead = _TAG.fullmatch(slot.version) if slot.role == "ref" else None
                if ahead and _is_version(ahead.group("ver")) and Version(ahead.group("ver")) > new:
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
            command = f" (its header says: {scan.update_command})" if scan.update_command else ""
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

    new_text = "".join(new_contents[line.number] + line.ending for line in scan.lines)
    if scan.requirements:
        presence: Presence = "requirement"
    else:
        presence = "comment-only" if scan.mentioned else "absent"
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
    requirement: _Requirement, stale: list[_Slot], where: str, package: str, new: Version
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
    requirement: _Requirement, stale: list[_Slot], new_version: str, is_constraints: bool
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
        versioned = _TAG.fullmatch(ref)
        if not old and versioned and _is_version(versioned.group("ver")):
            ref = versioned.group("ver")  # `@v5.2.0`: version 5.2.0
        old = old or ref or "(no ref)"
    elif "pin" in roles:
        kind = "constraint" if is_constraints else "pin"
        old = roles["pin"].version
    else:
        kind = "lower-bound"
        old = roles["lower-bound"].version
    return PinChange(requirement.line.number, old, new_version, kind)


_NO_REF = _Slot(0, 0, "", "ref")


def git_urls(path: str, text: str, package: str) -> list[GitUrl]:
    """The git URL requirements of `package` in `text`: where each points, for the caller to
    check that it is the released repository before the ref is moved."""
    canonical = canonicalize_name(package)
    return [r.url for r in _scan(path, text, canonical, "").requirements if r.url is not None]


def pins_of(path: str, text: str, package: str) -> list[tuple[int, str]]:
    """(line, version as written) of every exact pin of `package`: `==X` and git URL versions.

    For `status`: it never raises on a line `update_pins` would refuse; a git URL pinned to a
    commit has no version and is left out, and lower bounds are not pins.
    """
    canonical = canonicalize_name(package)
    pins: list[tuple[int, str]] = []
    for requirement in _scan(path, text, canonical).requirements:
        by_role = {slot.role: slot for slot in requirement.slots}
        slot = by_role.get("pin") or by_role.get("egg") or by_role.get("tag")
        if slot is not None:
            pins.append((requirement.line.number, slot.version))
    return pins
