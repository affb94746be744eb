"""How a changelog writes its release headings, learnt from its own headings, and the new
heading written that way.

Every trait is decided by the majority of the file's release headings, each on its own (an odd
`[4.0.4]- 2021-…` or a `[1.0.2]` underlined with the title's character is outvoted); a tie keeps
today's default, `[X.Y.Z] - YYYY-MM-DD` underlined with `~` of the title's length (RST) or under
`## ` (Markdown). A file with no release heading yet gets that default, except that the new
heading takes `Unreleased`'s own adornment, so that it sits beside `Unreleased`, never inside it.

Markdown files that define their version links at the end (keep-a-changelog:
`[1.1.0]: https://github.com/o/r/compare/v1.0.0...v1.1.0`) get a link for the new version and an
`[unreleased]` link that starts from it (`link_reference_edits`).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple, TypeVar

from release_tool.changelog_headings import DateFormat, Format, HeadingText

T = TypeVar("T")


class Style(NamedTuple):
    """How the file writes a release heading; `learnt` is False for today's default style."""

    fmt: Format
    brackets: bool = True
    lead: str = ""  # "Version " before the version (outside any brackets)
    v: str = ""  # "v" right before the version (inside any brackets)
    dated: bool = True
    separator: str = " - "
    closer: str = ""
    date_format: DateFormat = DateFormat()
    adornment: str = ""  # RST: "~", or "==" for over- and underline; Markdown: "##", "=" or "-"
    underline_length: int | None = None  # None: as long as the title; else this, at the least
    level: int = 0  # the release headings' RST section depth or Markdown level (0: none seen)
    linked: bool = False  # Markdown: `## [1.2.0](https://…/compare/v1.1.0...v1.2.0) (date)`
    learnt: bool = False

    def title(self, version: str, date: datetime.date, url: str | None = None) -> str:
        """The heading's text, e.g. `[5.2.0] - 2025-04-22` or `Version 1.2.0 (2024-01-01)`;
        `url` links the version (Markdown, when the file links its headings)."""
        name = f"{self.v}{version}"
        text = self.lead + (f"[{name}]" if self.brackets else name)
        if url and self.brackets and self.linked:
            text += f"({url})"
        if self.dated:
            text += f"{self.separator}{self.date_format.format(date)}{self.closer}"
        return text

    def heading(
        self, version: str, date: datetime.date, newline: str, url: str | None = None
    ) -> list[str]:
        """The heading's lines, each ending with `newline`."""
        title = self.title(version, date, url)
        if self.adornment.startswith("#"):
            return [f"{self.adornment} {title}{newline}"]
        return [title + newline for title in self.adorn(title)]

    def adorn(self, title: str) -> list[str]:
        """`title` with its overline and underline, as lines without endings."""
        length = len(title)
        if self.underline_length is not None:
            length = max(self.underline_length, length)
        underline = self.adornment[-1] * length
        if len(self.adornment) == 2:
            return [self.adornment[0] * length, title, underline]
        return [title, underline]

    def describe(self) -> str:
        """The heading's shape, for messages: `[X.Y.Z] - YYYY-MM-DD` underlined with `~`."""
        shape = self.title("X.Y.Z", datetime.date(2025, 1, 2))
        shape = shape.replace(self.date_format.format(datetime.date(2025, 1, 2)), "<date>")
        if self.adornment.startswith("#"):
            return f"{self.adornment} {shape}"
        return f"{shape} underlined with {self.adornment[-1]!r}"


class WrittenHeading(NamedTuple):
    """A release heading as written in the file: its text read, and its adornment."""

    text: HeadingText
    title_length: int
    adornment: str  # "" when the line has no underline
    underline: int
    level: int  # 0 when the renderer does not take it as a heading


def learn_style(
    fmt: Format, releases: list[WrittenHeading], unreleased: WrittenHeading | None
) -> Style:
    """The majority style of `releases` (today's default for each trait they do not show)."""
    default = Style(fmt, adornment="##" if fmt == "md" else "~")
    if not releases:
        if unreleased is not None and unreleased.adornment:
            return default._replace(adornment=unreleased.adornment, level=unreleased.level)
        return default
    texts = [r.text for r in releases]
    dated = [t for t in texts if t.date_text and not t.placeholder_date]
    shapes = [t.date_format for t in dated if t.date_format is not None]
    date_format = _majority([_shape(s) for s in shapes], DateFormat())
    padding = [s.padded for s in shapes if _shape(s) == date_format]
    adorned = [r for r in releases if r.adornment]
    adornment = _majority(
        [r.adornment for r in adorned],
        unreleased.adornment if unreleased and unreleased.adornment else default.adornment,
    )
    separator, closer = _majority([(t.separator, t.closer) for t in dated], (" - ", ""))
    lead_v = [_lead_and_v(t.prefix) for t in texts]
    return Style(
        fmt,
        brackets=_majority([t.brackets for t in texts], True),
        lead=_majority([lead for lead, _ in lead_v], ""),
        v=_majority([v for _, v in lead_v], ""),
        dated=_majority([bool(t.date_text) for t in texts], True),
        separator=separator,
        closer=closer,
        date_format=date_format._replace(padded=_majority(padding, True)),
        adornment=adornment,
        underline_length=_underline_rule([r for r in adorned if r.adornment == adornment]),
        level=_level(adornment, releases, unreleased),
        linked=_majority([bool(t.url) for t in texts], False),
        learnt=True,
    )


def _level(
    adornment: str, releases: list[WrittenHeading], unreleased: WrittenHeading | None
) -> int:
    """The level of the new heading's adornment, as the file's headings have it (a tie between
    `##` and `###` releases must not give `##` at level 3); else the releases' majority level."""
    same = [r.level for r in releases if r.level and r.adornment == adornment]
    if not same and unreleased is not None and unreleased.adornment == adornment:
        same = [unreleased.level] if unreleased.level else []
    return _majority(same or [r.level for r in releases if r.level], 0)


def _shape(date_format: DateFormat) -> DateFormat:
    """The date format with padding set aside (it is voted on separately)."""
    if date_format.padded:
        return date_format
    return DateFormat(date_format.order, date_format.sep, True, date_format.abbreviated)


def _lead_and_v(prefix: str) -> tuple[str, str]:
    if prefix[-1:] in ("v", "V"):
        return prefix[:-1], prefix[-1]
    return prefix, ""


def _underline_rule(adorned: list[WrittenHeading]) -> int | None:
    """None (as long as the title) unless one other length is used by most of the headings,
    under titles of different lengths (completion's 48 tildes): one odd underline, or several
    under titles of one length, are no rule."""
    lengths = Counter(r.underline for r in adorned if r.underline and r.underline != r.title_length)
    if not lengths:
        return None
    length, count = lengths.most_common(1)[0]
    matching = sum(1 for r in adorned if r.underline == r.title_length)
    titles = {r.title_length for r in adorned if r.underline == length}
    return length if count > matching and 2 * count > len(adorned) and len(titles) > 1 else None


def _majority(values: Iterable[T], default: T) -> T:
    """The most common value; a tie keeps `default` if it is among the leaders, else the first
    of the leaders in file order; no values at all give `default`."""
    counts = Counter(values)
    if not counts:
        return default
    top = max(counts.values())
    if counts.get(default) == top:
        return default
    return next(value for value, count in counts.items() if count == top)


# --- Markdown link references -------------------------------------------------------------------

# Markdown only: compiled (and cached by `re`) on first use.
_DEFINITION = r"\[(?P<label>[^\]]+)\]:[ \t]*<?(?P<url>[^\s>]+)>?.*"


def link_reference_edits(
    plain: list[str],
    defined: dict[str, str],
    label: str,
    new: str,
    previous: str | None,
) -> tuple[dict[int, str], tuple[int, str] | None]:
    """Line replacements and one line to insert (before index, text) for the new version's link.

    `plain` are the file's lines without endings, `defined` its link reference definitions (by
    lower-cased label), `label` the new heading's bracket text, `new` and `previous` the new and
    the previous release's versions as written. Nothing changes unless the file links its
    versions and the previous release's link says how (a compare URL or `[unreleased]`).
    """
    if previous is None or label.lower() in defined:
        return {}, None
    lines = {
        m["label"].lower(): (index, m)
        for index, line in enumerate(plain)
        if (m := re.fullmatch(_DEFINITION, line)) is not None and m["label"].lower() in defined
    }
    before = _previous_label(lines, previous)
    replacements: dict[int, str] = {}
    url: str | None = None
    unreleased = lines.get("unreleased")
    if unreleased is not None:
        index, match = unreleased
        found = re.fullmatch(
            r"(?P<base>.*/compare/)(?P<tag>[^/]+?)(?P<dots>\.\.\.?)HEAD", match["url"]
        )
        if found is not None and previous in found["tag"]:
            tag = _retag(found["tag"], previous, new)
            url = f"{found['base']}{found['tag']}{found['dots']}{tag}"
            start, end = match.span("url")
            text = plain[index]
            replacements[index] = (
                text[:start] + f"{found['base']}{tag}{found['dots']}HEAD" + text[end:]
            )
    if url is None and before is not None:
        found = re.fullmatch(
            r"(?P<base>.*/)(?:compare/[^/]+?(?P<dots>\.\.\.?)|releases/tag/)(?P<tag>[^/]+)",
            before[1]["url"],
        )
        if found is not None and previous in found["tag"]:
            dots = found["dots"] or "..."
            url = (
                f"{found['base']}compare/{found['tag']}{dots}{_retag(found['tag'], previous, new)}"
            )
    if url is None:
        return {}, None
    if before is not None:
        at = before[0]
    elif unreleased is not None:
        at = unreleased[0] + 1
    else:
        at = max(index for index, _ in lines.values()) + 1
    return replacements, (at, f"[{label}]: {url}")


def _previous_label(
    lines: dict[str, tuple[int, re.Match[str]]], previous: str
) -> tuple[int, re.Match[str]] | None:
    for key in (previous.lower(), f"v{previous}".lower()):
        if key in lines:
            return lines[key]
    return None


def _retag(tag: str, previous: str, new: str) -> str:
    """`v1.1.0` with 1.1.0 → 1.2.0: `v1.2.0` (the tag spelled as the file spells it)."""
    index = tag.rfind(previous)
    return tag[:index] + new + tag[index + len(previous) :]


def next_compare_url(url: str | None, previous: str, new: str) -> str | None:
    """The previous release's compare link moved on to `new`:
    `…/compare/v1.0.0...v1.1.0` (previous 1.1.0) → `…/compare/v1.1.0...v1.2.0`."""
    if not url:
        return None
    found = re.fullmatch(r"(?P<base>.*/compare/)[^/]+?(?P<dots>\.\.\.?)(?P<tag>[^/]+)", url)
    if found is None or previous not in found["tag"]:
        return None
    return f"{found['base']}{found['tag']}{found['dots']}{_retag(found['tag'], previous, new)}"
