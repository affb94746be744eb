"""RST release notes as GitHub-flavoured Markdown: the Markdown is checked by rendering it with
markdown-it-py (CommonMark + GFM tables), so the test asserts what a reader of the GitHub
release sees, not a string layout."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from release_tool.changelog import parse, rst_to_markdown
from release_tool.versions import parse_version


def html(markdown: str) -> str:
    rendered: str = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return rendered


def test_edx_proctoring_section() -> None:
    notes = (
        "**BREAKING CHANGES:**\n\n"
        "* Upgrade `pyjwt <https://pypi.org/project/PyJWT/>`_ to 2.10, see *the* ``jwt`` docs\n"
        "  and `lti_id`.\n\n"
        "  * nested detail with snake_case_names\n"
    )
    markdown = rst_to_markdown(notes)
    assert markdown == (
        "**BREAKING CHANGES:**\n\n"
        "- Upgrade [pyjwt](https://pypi.org/project/PyJWT/) to 2.10, see *the* `jwt` docs\n"
        "  and `lti_id`.\n\n"
        "  - nested detail with snake_case_names\n"
    )
    rendered = html(markdown)
    assert "<strong>BREAKING CHANGES:</strong>" in rendered
    assert '<a href="https://pypi.org/project/PyJWT/">pyjwt</a>' in rendered
    assert "<em>the</em> <code>jwt</code>" in rendered
    assert re.search(r"<li>.*<ul>\s*<li>nested detail with snake_case_names</li>", rendered, re.S)


def test_lists_links_and_blocks() -> None:
    markdown = rst_to_markdown(
        "#. first\n#. second\n\n"
        "See `GitHub commit history`_ and https://github.com/o/r/pull/1 or me@example.com.\n\n"
        ".. _GitHub commit history: https://github.com/o/r/commits/master\n\n"
        ".. code-block:: python\n\n   print('hi')\n\n"
        "Literal::\n\n    $ release-tool plan\n\n"
        "Added\n^^^^^\n\n- a\n"
    )
    rendered = html(markdown)
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in rendered
    assert '<a href="https://github.com/o/r/commits/master">GitHub commit history</a>' in rendered
    assert '<a href="https://github.com/o/r/pull/1">https://github.com/o/r/pull/1</a>' in rendered
    assert '<a href="mailto:me@example.com">me@example.com</a>' in rendered
    assert "<pre><code class=\"language-python\">print('hi')\n</code></pre>" in rendered
    assert "<p>Literal:</p>\n<pre><code>$ release-tool plan\n</code></pre>" in rendered
    assert "<h3>Added</h3>" in rendered


def test_text_that_looks_like_markdown_stays_text() -> None:
    rendered = html(
        rst_to_markdown(
            "5 * 3 * 2 and [x](https://evil.example) and <script>alert(1)</script> & &amp;\n"
            "# not a heading\n"
            "1. not a list, _not emphasis_, ~~not struck~~ | pipe\n"
        )
    )
    assert "<em>" not in rendered
    assert ">x</a>" not in rendered  # the URL itself is a link, as docutils makes it one
    assert "<h1>" not in rendered
    assert "<ol>" not in rendered
    assert "<del>" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &amp;amp;" in rendered
    assert '[x](<a href="https://evil.example">' in rendered


def test_unknown_constructs_degrade_to_their_text() -> None:
    markdown = rst_to_markdown(
        "* :pr:`123` fixed :class:`Foo`, see `missing target`_\n\n"
        ".. versionadded:: 2.0\n   The *new* thing.\n\n"
        ".. unknown-directive::\n\n"
        ".. note:: Read this.\n\n"
        ".. raw:: html\n\n   <b>no</b>\n"
    )
    assert markdown == (
        "- `123` fixed `Foo`, see missing target\n\n"
        "The \\*new\\* thing.\n\n"
        "> [!NOTE]\n> Read this.\n"
    )


def test_tables_and_definitions() -> None:
    rendered = html(
        rst_to_markdown(
            "+------+-----+\n| name | a|b |\n+======+=====+\n| x    | 1   |\n+------+-----+\n\n"
            "term\n   Its definition.\n"
        )
    )
    assert "<th>name</th>\n<th>a|b</th>" in rendered
    assert "<td>x</td>\n<td>1</td>" in rendered
    assert "<p><strong>term</strong></p>\n<p>Its definition.</p>" in rendered


def test_empty_and_broken_rst() -> None:
    assert rst_to_markdown("") == ""
    assert rst_to_markdown("  \n") == ""
    # Broken markup is reported by docutils, not raised: the text survives.
    assert "unclosed" in rst_to_markdown("*unclosed emphasis and ``literal\n")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "* item\n",
                "  * nested\n",
                "text *em* **strong** ``lit``\n",
                "`ref`_\n",
                ".. note::\n",
                "   body\n",
                "\n",
                "Title\n",
                "=====\n",
                "::\n",
                "    code\n",
                ":role:`x`\n",
                "| line\n",
                "+--+\n",
                ".. _t: http://x\n",
                "`t`_\n",
                "[1]_\n",
                ".. [1] foot\n",
                "<html>\n",
                ".. |s| replace:: S\n",
                "|s|\n",
                "#. n\n",
            ]
        ),
        max_size=25,
    )
)
def test_never_raises(lines: list[str]) -> None:
    assert isinstance(rst_to_markdown("".join(lines)), str)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "CHANGELOG.rst",
            "Unreleased\n~~~~~~~~~~\n\n[1.0.0] - 2024-01-01\n~~~~~~~~~~~~~~~~~~~~\n* Fix ``x``\n",
            "- Fix `x`\n",
        ),
        (
            "CHANGELOG.md",
            "## [1.0.0] - 2024-01-01\n\n- Fix `x`\n",
            "- Fix `x`",  # Markdown notes are given as written
        ),
    ],
)
def test_notes_markdown(name: str, text: str, expected: str) -> None:
    assert parse(text, name).notes_markdown(parse_version("1.0.0")) == expected
    assert parse(text, name).notes_markdown(parse_version("2.0.0")) is None
