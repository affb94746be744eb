"""The changelog section of the email as safe HTML: RST or Markdown in, `Markup` out.

The notes are *data*: they reach the templates as a variable and are never compiled as a
template. Their HTML form comes from docutils (RST) or markdown-it-py (Markdown) with raw HTML
off, file inclusion off, and every link scheme except http, https and mailto turned into plain
text; only then is it wrapped in `Markup` for the autoescaping HTML template. Both renderers are
imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup

if TYPE_CHECKING:
    from docutils.readers import Reader
    from markdown_it import MarkdownIt


NotesFormat = Literal["rst", "markdown", "text"]

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def notes_format_for(changelog: str | None) -> NotesFormat:
    """The notes format of a changelog file name: CHANGELOG.rst → rst, .md → markdown."""
    suffix = Path(changelog).suffix.lower() if changelog else ""
    if suffix in (".md", ".markdown"):
        return "markdown"
    return "rst" if suffix in (".rst", ".rest") else "text"


def is_safe_url(url: str) -> bool:
    """Whether a link may stay a link in the HTML part: http, https, mailto, or a #fragment.

    Anything else (javascript:, data:, vbscript:, file:, and relative links, which mean nothing
    in an email) is refused. Browsers drop ASCII whitespace and control characters inside a
    scheme, so "java\\tscript:" is compared as "javascript:".
    """
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", url)
    if cleaned.startswith("#"):
        return True
    match = _SCHEME_RE.match(cleaned)
    return match is not None and match.group(1).lower() in _SAFE_SCHEMES


def notes_to_html(text: str, notes_format: NotesFormat) -> Markup:
    """The changelog section as safe HTML: raw HTML escaped, unsafe links neutralised.

    RST that docutils reports any problem with (an unknown Sphinx role, a disabled `raw` or
    `include` directive, broken markup) is shown as written in a <pre> block instead: the reader
    then sees exactly what the author wrote rather than a half-rendered section with docutils'
    error boxes in it.
    """
    if not text.strip():
        return Markup("")
    html: str | None = None
    if notes_format == "rst":
        html = _rst_to_html(text)
    elif notes_format == "markdown":
        html = _markdown().render(text)
    if html is None:
        return Markup('<pre style="white-space: pre-wrap;">{}</pre>').format(text)
    # Safe by construction: both renderers escape all text and raw HTML is disabled in both.
    return Markup(html.strip())  # noqa: S704


_DOCUTILS_SETTINGS: dict[str, Any] = {
    # Never read docutils.conf from the released repository, $HOME or DOCUTILSCONFIG: one of
    # them could switch raw HTML back on.
    "_disable_config": True,
    "raw_enabled": False,  # `.. raw:: html` and the raw role
    "file_insertion_enabled": False,  # `.. include:: /etc/passwd`, csv-table :file:/:url:
    "report_level": 2,
    "halt_level": 5,  # never raise on bad markup: report, then fall back to <pre>
    "exit_status_level": 5,
    "doctitle_xform": False,  # a heading inside the notes stays a heading, not the page title
    "initial_header_level": 3,
    "syntax_highlight": "none",  # no Pygments: same output everywhere
    "embed_stylesheet": False,
    "footnote_backlinks": False,
}


def _rst_to_html(text: str) -> str | None:
    from docutils.core import publish_parts
    from docutils.writers.html5_polyglot import Writer

    warnings = io.StringIO()
    settings = {**_DOCUTILS_SETTINGS, "warning_stream": warnings}
    reader = _safe_rst_reader()  # outside the `try`: a mistake of ours must not be swallowed
    try:
        parts = publish_parts(
            source=text, reader=reader, writer=Writer(), settings_overrides=settings
        )
    except Exception:  # a docutils bug on odd input must not stop a release: show the text
        return None
    if warnings.getvalue():
        return None
    fragment = parts["fragment"]
    return fragment if isinstance(fragment, str) else None


def _safe_rst_reader() -> Reader[Any]:
    """The standalone reader plus a transform that unlinks unsafe URIs (docutils keeps them)."""
    from docutils import nodes
    from docutils.readers.standalone import Reader as StandaloneReader
    from docutils.transforms import Transform

    class NeutraliseUnsafeLinks(Transform):
        default_priority = 900  # after targets are resolved into `refuri`s (640-850)

        def apply(self, **kwargs: Any) -> None:
            for ref in list(self.document.findall(nodes.reference)):
                uri = ref.get("refuri")
                if uri is not None and not is_safe_url(uri):
                    ref.replace_self(nodes.inline("", "", *ref.children))
            for image in list(self.document.findall(nodes.image)):
                if not is_safe_url(image.get("uri", "")):
                    image.replace_self(nodes.inline("", image.get("alt", "")))

    class SafeReader(StandaloneReader):  # type: ignore[type-arg]  # generic in stubs only
        def get_transforms(self) -> list[type[Transform]]:
            return [*super().get_transforms(), NeutraliseUnsafeLinks]

    return SafeReader()


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    class SafeMarkdownIt(MarkdownIt):
        def validateLink(self, url: str) -> bool:  # markdown-it's spelling
            # A link that fails this is rendered as its text, not as a link.
            return is_safe_url(url)

    # "html": False turns raw HTML, inline and block, into escaped text.
    return SafeMarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
