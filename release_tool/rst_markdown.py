"""reStructuredText release notes as GitHub-flavoured Markdown, for the GitHub release body and
the downstream PR body.

docutils reads the RST (the same safe settings as the email: no config files, no `raw`, no file
insertion) and a small docutils writer, `GFMTranslator` (a `NodeVisitor`), writes Markdown:
bullets and numbered lists (nested), links (`text <url>`_ and named targets), inline literals,
emphasis, strong, code blocks, block quotes, headings, admonitions as GitHub alerts, simple
tables. Single backticks (RST's default role) become inline code, which is what changelog authors
mean by them. Text is escaped so that it stays text in Markdown.

Anything else degrades to its text and never raises: an unknown role (`:pr:`123``) becomes
inline code of its content, an unknown directive its content, a construct with no Markdown form
its plain text; if docutils itself fails, the notes are returned as written.
"""

from __future__ import annotations

import io
import re
import textwrap
from typing import Any

from docutils import nodes

_SETTINGS: dict[str, Any] = {
    "_disable_config": True,  # never read docutils.conf from the repository or $HOME
    "raw_enabled": False,
    "file_insertion_enabled": False,
    "report_level": 1,  # keep every message in the tree: an unknown directive's text is in one
    "halt_level": 5,
    "exit_status_level": 5,
    "doctitle_xform": False,  # a heading in the notes stays a heading
    "docinfo_xform": False,  # a field list at the top stays a field list
    "sectsubtitle_xform": False,
    "syntax_highlight": "none",
    "line_length_limit": 10**9,
}
_ALERTS = {"note": "NOTE", "tip": "TIP", "important": "IMPORTANT", "warning": "WARNING"}
_ALERTS |= {"caution": "CAUTION", "danger": "CAUTION", "attention": "IMPORTANT"}
_LINE_START = re.compile(r"^(?:[-+*]|#{1,6}|>|\d{1,9}[.)]|=+|-+|`{3,}|~{3,})(?=\s|$)")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def rst_to_markdown(text: str) -> str:
    """`text` (RST) as GitHub-flavoured Markdown; `text` itself if docutils cannot read it."""
    if not text.strip():
        return ""
    from docutils.core import publish_doctree

    try:
        document = publish_doctree(
            text, settings_overrides={**_SETTINGS, "warning_stream": io.StringIO()}
        )
        return GFMTranslator.render(document)
    except Exception:  # a docutils bug on odd input must not stop a release: show the text
        return text.strip()


class GFMTranslator(nodes.NodeVisitor):
    """Walks a docutils document and collects Markdown blocks (`render` is the entry point)."""

    def __init__(self, document: nodes.document, depth: int = 0) -> None:
        super().__init__(document)
        self.blocks: list[str] = []
        self.depth = depth  # section depth: depth 1 is `###`, as the email's HTML has it

    @classmethod
    def render(cls, document: nodes.document) -> str:
        translator = cls(document)
        for child in document.children:
            child.walkabout(translator)
        return "\n\n".join(b for b in translator.blocks if b.strip()).strip() + "\n"

    def blocks_of(self, node: nodes.Node, depth: int | None = None) -> list[str]:
        """The Markdown blocks of `node`'s children."""
        inner = type(self)(self.document, self.depth if depth is None else depth)
        for child in node.children:
            child.walkabout(inner)
        return [b for b in inner.blocks if b.strip()]

    def add(self, block: str) -> None:
        self.blocks.append(block)
        raise nodes.SkipNode

    # --- blocks ---

    def visit_paragraph(self, node: nodes.Element) -> None:
        self.add(_paragraph(inline(node)))

    def visit_section(self, node: nodes.Element) -> None:
        self.blocks.extend(self.blocks_of(node, self.depth + 1))
        raise nodes.SkipNode

    def visit_title(self, node: nodes.Element) -> None:
        if isinstance(node.parent, nodes.section):
            self.add("#" * min(6, 2 + max(self.depth, 1)) + " " + inline(node).replace("\n", " "))
        else:  # a topic's or sidebar's title
            self.add(f"**{inline(node)}**")

    def visit_rubric(self, node: nodes.Element) -> None:
        self.add(f"**{inline(node)}**")

    def visit_bullet_list(self, node: nodes.Element) -> None:
        self.add("\n".join(self._item(item, "-") for item in node.children))

    def visit_enumerated_list(self, node: nodes.Element) -> None:
        start = int(node.get("start", 1))
        items = [self._item(item, f"{start + n}.") for n, item in enumerate(node.children)]
        self.add("\n".join(items))

    def _item(self, item: nodes.Node, marker: str) -> str:
        body = "\n\n".join(self.blocks_of(item)) or ""
        pad = " " * (len(marker) + 1)
        lines = body.split("\n")
        rest = [(pad + line) if line.strip() else "" for line in lines[1:]]
        return "\n".join([f"{marker} {lines[0]}".rstrip(), *rest])

    def visit_literal_block(self, node: nodes.Element) -> None:
        names: list[str] = node.get("classes", [])
        classes = [name for name in names if name != "code"]
        self.add(_fence(node.astext(), classes[0] if classes else ""))

    visit_doctest_block = visit_literal_block

    def visit_math_block(self, node: nodes.Element) -> None:
        self.add(_fence(node.astext(), "math"))

    def visit_block_quote(self, node: nodes.Element) -> None:
        self.add(_quote("\n\n".join(self.blocks_of(node))))

    def visit_attribution(self, node: nodes.Element) -> None:
        self.add(f"— {inline(node)}")

    def visit_line_block(self, node: nodes.Element) -> None:
        lines = [inline(line) for line in node.findall(nodes.line)]
        self.add("\\\n".join(lines))

    def visit_transition(self, node: nodes.Element) -> None:
        self.add("---")

    def visit_definition_list(self, node: nodes.Element) -> None:
        for item in node.children:
            for part in item.children:
                if isinstance(part, nodes.term):
                    self.blocks.append(f"**{inline(part)}**")
                elif isinstance(part, nodes.definition):
                    self.blocks.extend(self.blocks_of(part))
        raise nodes.SkipNode

    def visit_field_list(self, node: nodes.Element) -> None:
        lines = []
        for field in node.findall(nodes.field, include_self=False, descend=False):
            name = inline(field[0]) if len(field) else ""
            body = " ".join(self.blocks_of(field[1])) if len(field) > 1 else ""
            lines.append(f"- **{name}:** {body}".rstrip())
        self.blocks.append("\n".join(lines))
        raise nodes.SkipNode

    def visit_admonition(self, node: nodes.Element) -> None:
        name = node.tagname
        title = ""
        children = list(node.children)
        if children and isinstance(children[0], nodes.title):
            title = inline(children[0])
        body = "\n\n".join(self.blocks_of(node))
        if name in _ALERTS:
            self.add(_quote(f"[!{_ALERTS[name]}]\n{body}"))
        else:
            self.add(_quote(f"**{title or name.capitalize()}**\n\n{body}"))

    visit_note = visit_tip = visit_important = visit_warning = visit_caution = visit_admonition
    visit_danger = visit_attention = visit_hint = visit_error = visit_admonition

    def visit_image(self, node: nodes.Element) -> None:
        self.add(_image(node))

    def visit_table(self, node: nodes.Element) -> None:
        self.add(_table(node) or _paragraph(_escape(node.astext())))

    def visit_footnote(self, node: nodes.Element) -> None:
        label = node[0].astext() if len(node) and isinstance(node[0], nodes.label) else ""
        body = " ".join(b for child in node.children[1:] for b in self._child_blocks(child))
        self.add(f"[{_escape(label)}] {body}".strip())

    visit_citation = visit_footnote

    def _child_blocks(self, child: nodes.Node) -> list[str]:
        inner = type(self)(self.document, self.depth)
        child.walkabout(inner)
        return inner.blocks

    def visit_system_message(self, node: nodes.Element) -> None:
        # An unknown directive: docutils keeps its text in a literal block inside the message.
        message = node.children[0].astext() if node.children else ""
        if "Unknown directive type" in message:
            for block in node.findall(nodes.literal_block):
                self.blocks.extend(_unknown_directive(block.astext()))
        raise nodes.SkipNode

    def visit_comment(self, node: nodes.Element) -> None:
        raise nodes.SkipNode

    visit_target = visit_substitution_definition = visit_pending = visit_raw = visit_comment
    visit_meta = visit_decoration = visit_comment

    def unknown_visit(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Element) and any(
            isinstance(c, (nodes.Body, nodes.Structural)) for c in node.children
        ):
            self.blocks.extend(self.blocks_of(node))  # a container: its blocks
        elif isinstance(node, nodes.Text | nodes.Element) and node.astext().strip():
            self.blocks.append(_paragraph(inline(node)))
        raise nodes.SkipNode

    def unknown_departure(self, node: nodes.Node) -> None:
        pass


# --- inline --------------------------------------------------------------------------------------


def inline(node: nodes.Node) -> str:
    """The Markdown of `node`'s inline content."""
    return "".join(_inline(child) for child in node.children)


def _inline(node: nodes.Node) -> str:
    if isinstance(node, nodes.Text):
        return _escape(str(node))
    if isinstance(node, nodes.emphasis):
        return _wrap("*", inline(node))
    if isinstance(node, nodes.strong):
        return _wrap("**", inline(node))
    if isinstance(node, nodes.literal | nodes.title_reference):
        return _code(node.astext())
    if isinstance(node, nodes.reference):
        return _link(node)
    if isinstance(node, nodes.problematic):
        return _problematic(node.astext())
    if isinstance(node, nodes.footnote_reference | nodes.citation_reference):
        return f"\\[{_escape(node.astext())}\\]"
    if isinstance(node, nodes.image):
        return _image(node)
    if isinstance(node, nodes.math):
        return f"${node.astext()}$"
    if isinstance(node, nodes.system_message | nodes.comment | nodes.raw):
        return ""
    if isinstance(node, nodes.Element):
        return inline(node)  # inline, subscript, abbreviation, target ...: their text
    return _escape(node.astext())


def _link(node: nodes.Element) -> str:
    text = inline(node)
    uri = node.get("refuri")
    if not uri:
        return text  # an internal reference: its text
    if node.astext() in (uri, uri.removeprefix("mailto:")):
        return f"<{node.astext()}>"  # a standalone URL or address: an autolink
    if re.search(r"[\s()<>]", uri):
        uri = "<" + uri.replace("<", "%3C").replace(">", "%3E") + ">"
    return f"[{text}]({uri})"


def _problematic(raw: str) -> str:
    """What docutils could not resolve, as its text: `name`_ → name, :role:`x` → `x`."""
    if (found := re.fullmatch(r"`([^`<]*?)\s*(?:<[^>]*>)?`__?", raw)) is not None:
        return _escape(found[1])
    if (found := re.fullmatch(r"(?::[\w.+-]+:)?`(.*)`(?::[\w.+-]+:)?", raw, re.S)) is not None:
        return _code(found[1])
    return _escape(raw.rstrip("_") if re.fullmatch(r"\w+_", raw) else raw)


def _escape(text: str) -> str:
    """Text that stays text in Markdown."""
    text = re.sub(r"([\\`*\[\]<>~|])", r"\\\1", text)
    text = re.sub(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])", r"\\_", text)  # intraword _ is text
    return _ENTITY.sub("&amp;", text)


def _wrap(marker: str, text: str) -> str:
    if not text.strip():
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}{marker}{text.strip()}{marker}{trail}"


def _code(text: str) -> str:
    text = " ".join(text.split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fence(text: str, language: str) -> str:
    longest = max((len(run) for run in re.findall(r"^`{3,}", text, re.M)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.split("\n"))


def _paragraph(text: str) -> str:
    """A paragraph's lines, each kept from starting a list, heading, quote or fence."""
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join("\\" + line if _LINE_START.match(line) else line for line in lines)


def _image(node: nodes.Element) -> str:
    alt = _escape(node.get("alt", ""))
    uri = node.get("uri", "")
    if re.search(r"[\s()<>]", uri):
        uri = f"<{uri}>"
    return f"![{alt}]({uri})"


def _table(node: nodes.Element) -> str | None:
    """A GFM table when every cell is one paragraph (or empty); None otherwise."""
    rows: list[list[str]] = []
    header_rows = 0
    for group in node.findall(nodes.tgroup):
        for part in group.children:
            if not isinstance(part, nodes.thead | nodes.tbody):
                continue
            for row in part.children:
                cells = []
                for entry in row.children:
                    if len(entry.children) > 1 or any(
                        not isinstance(c, nodes.paragraph) for c in entry.children
                    ):
                        return None
                    cells.append(inline(entry).replace("\n", " "))
                rows.append(cells)
                if isinstance(part, nodes.thead):
                    header_rows += 1
        break
    if not rows or header_rows > 1 or len({len(r) for r in rows}) != 1:
        return None
    width = len(rows[0])
    head = rows[0] if header_rows else [""] * width
    body = rows[1:] if header_rows else rows
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _unknown_directive(source: str) -> list[str]:
    """An unknown directive (`.. versionadded:: 2.0` plus content): its content, as text."""
    lines = source.split("\n")
    content = lines[1:]
    while content and re.match(r"\s+:[\w-]+:", content[0]):
        content.pop(0)  # its options
    body = textwrap.dedent("\n".join(content)).strip()
    return [_paragraph(_escape(part)) for part in re.split(r"\n\s*\n", body) if part.strip()]
