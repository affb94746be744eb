"""Reading requirements files as pip does, for one package: the lines that require it and where
their version tokens are (`scan`), with nothing changed. `requirements` edits from this.

Lines are split on the universal newlines and kept with their endings; a logical line is a first
physical line plus its backslash continuations (a comment line always ends one, as pip joins
them); a `#` that starts the line or follows whitespace starts a comment (so a URL's `#egg=`
fragment is not one). Names compare by PEP 503 normalisation.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_tool.errors import FileEditError


@dataclass(frozen=True)
class GitUrl:
    """A git URL requirement of the package: where it points (line numbers from 1)."""

    line: int
    url: str  # without the `git+` prefix, the `@ref` and the fragment
    ref: str  # "" when the URL names no ref


# --- scanning ----------------------------------------------------------------------------------

# pip splits on the universal newlines; \n, \r\n and a lone \r are the ones seen in real files.
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n)?")
# pip's COMMENT_RE: a `#` that starts the line or follows whitespace starts a comment, so the
# `#egg=` fragment of a URL is not one.
_COMMENT = re.compile(r"(?:^|[ \t]+)#")
_COMMENT_LINE = re.compile(r"[ \t]*#")
_INDENT = re.compile(r"[ \t\ufeff]*")
NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_EXTRAS = re.compile(r"[ \t]*\[[^\]]*\]")
_DIRECT_URL = re.compile(r"[ \t]*@[ \t]*")
# `===` before `==`: alternation takes the first branch that matches.
_CLAUSE = re.compile(r"[ \t]*(?P<op>===|==|!=|~=|<=|>=|<|>)[ \t]*(?P<ver>[A-Za-z0-9.*+!_-]+)")
_COMMA = re.compile(r"[ \t]*,")
_EDITABLE = re.compile(r"(?:-e|--editable)(?:[ \t]+|=)")
_URL_TOKEN = re.compile(r"[^ \t]+")
_EGG = re.compile(r"(?:^|&)egg=(?P<value>[^&]*)")
_EGG_VALUE = re.compile(r"(?P<name>[A-Za-z0-9._-]+)(?:==(?P<ver>[A-Za-z0-9.+!_-]+))?")
TAG = re.compile(r"(?P<prefix>[vV]?)(?P<ver>[0-9][A-Za-z0-9.+!_-]*)")
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
# An all-digit full sha would otherwise parse as a (huge) version number.
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# The compiled files' header names the command that regenerates them (`make upgrade` in
# edx-platform); newer pip-tools say "by the following command:" instead.
_UPDATE_HEADER = re.compile(r"#[ \t]*(?:To update, run|by the following command):")
_HEADER_COMMAND = re.compile(r"#[ \t]+(?P<command>\S.*?)[ \t]*")


SlotRole = Literal["pin", "lower-bound", "tag", "egg", "ref"]


@dataclass(frozen=True)
class Line:
    number: int
    content: str
    ending: str


@dataclass(frozen=True)
class Slot:
    """A version token that may be rewritten: `content[start:end]` is the version itself."""

    start: int
    end: int
    version: str
    role: SlotRole
    insert: str = ""  # written before the new value: "@" for a URL with no ref, "==" for an egg


# (operator, version as written, its slot if release_tool may rewrite it)
Clause = tuple[str, str, Slot | None]


@dataclass(frozen=True)
class Requirement:
    """A requirement line of the released package (its first physical line)."""

    line: Line
    code: str  # the content before the inline comment, indentation included
    gap: str  # the whitespace between the code and the comment
    comment: str  # the inline comment from its `#`, or ""
    hashed: bool
    slots: tuple[Slot, ...]
    # For `name<spec>` lines, the clauses with their slots, to check the result still admits the
    # new version; None for URLs, whose only versions are the slots themselves.
    clauses: tuple[Clause, ...] | None
    problem: FileEditError | None  # why this line cannot be updated at all
    url: GitUrl | None = None  # for a git URL requirement
    hold: str = ""  # the comment on the line or right above it (a constraint's reason)


@dataclass(frozen=True)
class Scan:
    lines: tuple[Line, ...]
    requirements: tuple[Requirement, ...]
    mentioned: bool  # the package's name appears in some comment
    update_command: str | None  # what the compiled file's header says regenerates it


def _split_lines(text: str) -> tuple[Line, ...]:
    lines: list[Line] = []
    pos = 0
    while pos < len(text):
        match = _LINE.match(text, pos)
        assert match is not None  # the pattern matches the empty string
        lines.append(Line(len(lines) + 1, match.group(1), match.group(2) or ""))
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
    return any(canonicalize_name(token) == package for token in NAME.findall(comment))


def scan(path: str, text: str, package: str, tag: str | None = None) -> Scan:
    lines = _split_lines(text)
    requirements: list[Requirement] = []
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
            context = Context(path, package, first, code, gap, comment, hashed, tag)
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
    return Scan(lines, tuple(requirements), mentioned, update_command)


@dataclass(frozen=True)
class Context:
    """One logical line being parsed as a requirement of `package` (PEP 503-normalised)."""

    path: str
    package: str
    line: Line
    code: str
    gap: str
    comment: str
    hashed: bool
    tag: str | None = None  # the release's tag: a git URL's ref moves to it, whatever it is

    def ours(self, name: str) -> bool:
        return canonicalize_name(name) == self.package

    def requirement(
        self,
        slots: tuple[Slot, ...] = (),
        clauses: tuple[Clause, ...] | None = None,
        url: GitUrl | None = None,
    ) -> Requirement:
        return Requirement(
            self.line, self.code, self.gap, self.comment, self.hashed, slots, clauses, None, url
        )

    def refused(self, problem: str, hint: str) -> Requirement:
        error = FileEditError(f"{self.path} line {self.line.number}: {problem}", hint)
        return Requirement(
            self.line, self.code, self.gap, self.comment, self.hashed, (), None, error
        )

    def parse(self) -> Requirement | None:
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
        name = NAME.match(code, pos)
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

    def parse_specifiers(self, pos: int) -> Requirement:
        """`name[extras] <clauses> ; markers --options` from just after the extras."""
        code = self.code
        cannot_parse = (
            f"cannot parse this requirement of {self.package}: {self.line.content.strip()!r}"
        )
        by_hand = "edit this line by hand, then re-run"
        clauses: list[Clause] = []
        clause = _CLAUSE.match(code, pos)
        while clause is not None:
            op, version = clause.group("op"), clause.group("ver")
            role: SlotRole | None = None
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
                slot = Slot(clause.start("ver"), clause.end("ver"), version, role)
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

    def parse_url(self, pos: int, name: str | None) -> Requirement | None:
        """A `git+…@TAG#egg=name==X` requirement (plain, `-e`, or `name @ url`) if it is ours."""
        token = _URL_TOKEN.match(self.code, pos)
        if token is None:
            return None
        url = token.group().removesuffix("\\")
        main, _, fragment = url.partition("#")
        fragment_at = pos + len(main) + 1
        egg_slot: Slot | None = None
        egg = _EGG.search(fragment)
        if egg is not None:
            value = _EGG_VALUE.fullmatch(egg.group("value"))
            if value is None:
                egg_name = NAME.match(egg.group("value"))
                if name is None and (egg_name is None or not self.ours(egg_name.group())):
                    return None
                return self.refused(
                    f"cannot parse the egg fragment {egg.group('value')!r}",
                    "edit this line by hand, then re-run",
                )
            name = name or value.group("name")
            if value.group("ver") is not None:
                start = fragment_at + egg.start("value") + value.start("ver")
                egg_slot = Slot(start, start + len(value.group("ver")), value.group("ver"), "egg")
            elif self.tag is not None:  # `#egg=name`: the version is added
                end = fragment_at + egg.end("value")
                egg_slot = Slot(end, end, "", "egg", insert="==")
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
                ref_slot = Slot(pos + at + 1, pos + len(main), ref, "ref")
            else:
                ref_slot = Slot(pos + len(main), pos + len(main), "", "ref", insert="@")
            slots = (ref_slot,) if egg_slot is None else (ref_slot, egg_slot)
            return self.requirement(slots, url=where)
        tag = TAG.fullmatch(ref)
        if tag is None or _FULL_SHA.fullmatch(ref) or not is_version(tag.group("ver")):
            if not ref:
                what = "a git URL with no tag (it installs the default branch)"
            elif _SHA.fullmatch(ref):
                what = f"git commit {ref}, not a release tag"
            else:
                what = f"git ref {ref!r}, not a release tag"
            return self.refused(f"{package} is pinned to {what}: it cannot be updated", url_hint)
        start = pos + at + 1 + tag.start("ver")
        tag_slot = Slot(start, start + len(tag.group("ver")), tag.group("ver"), "tag")
        slots = (tag_slot,) if egg_slot is None else (tag_slot, egg_slot)
        return self.requirement(slots, url=where)


def is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True
