"""The `python` editor: `__version__ = '5.2.0'` in a package's `__init__.py`.

The version is the one module-level assignment to `__version__` whose value is a plain string
literal, in either quote style, optionally annotated (`__version__: str = "5.2.0"`) and followed
by a comment. Module level means not indented: the lines `setup.py`'s
`^__version__ = ['"]([^'"]*)['"]` sees, which is how these libraries read their own version.

The file is tokenized rather than matched line by line, so that text inside a docstring or a
multi-line string never counts as an assignment, and rather than parsed with `ast`, so that a
file using syntax newer than the Python running the tool still works (`ast` serves only as a
fast path for the plain case; see `_plain_case`). Everything around the
version token - `from __future__` imports, a `default_app_config = ...  # pylint: ...` line,
`__version_info__`, comments, line endings - is left byte for byte.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator

from release_tool.errors import FileEditError
from release_tool.files.spans import FoundVersion, Span, exactly_one, found_at, replace_spans
from release_tool.versions import Version

# A string literal we can edit in place: one token, no escapes, no f/b prefix.
_PLAIN_STRING = re.compile(r"""[uUrR]?(['"])([^'"\\\n]*)\1""")
_SKIPPED = (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING)


class PythonEditor:
    """Reads and writes `__version__ = '…'`; writes the PEP 440 spelling."""

    def read(self, text: str, path: str) -> list[FoundVersion]:
        return found_at(text, [_version_span(text, path)])

    def write(self, text: str, path: str, new: Version) -> str:
        return replace_spans(text, [_version_span(text, path)], new.pep440)


def _version_span(text: str, path: str) -> Span:
    # A UTF-8 BOM is no Python token: tokenize what follows it, and shift the span back.
    bom = 1 if text.startswith("\ufeff") else 0
    source = text[bom:]
    span = _plain_case(source) or _tokenized_span(source, path)
    return Span(span.where, span.start + bom, span.end + bom)


def _tokenized_span(source: str, path: str) -> Span:
    assignments = [t for t in _module_statements(source, path) if _assigns_version(t)]
    exactly_one(
        path,
        [tokens[0].start[0] for tokens in assignments],
        repeated="__version__ is assigned",
        missing="no module-level `__version__ = '…'` assignment",
    )
    return _literal_span(source, path, assignments[0])


# After the literal: nothing but spaces and a comment (anything else goes to the tokenizer).
_LINE_REST = re.compile(r"[ \t]*(#[^\n]*)?\r?(\n|$)")


def _plain_case(text: str) -> Span | None:
    """The span for the common, unambiguous file, found with `ast` instead of `tokenize`.

    On Python 3.11 `tokenize` compiles a large regular expression on first use, a tenth of a
    dry run's time; `ast` is already loaded and parses an `__init__.py` in well under a
    millisecond. Only the plain case is taken here: exactly one single-line, column-0
    `__version__ = '…'` whose value is a plain literal followed by nothing but a comment.
    Anything else — no such line, two of them, a syntax newer than this Python, a value that
    is not a plain literal — returns None, and the tokenizer decides (and words the error).
    """
    if "\r" in text.replace("\r\n", ""):
        return None  # a lone CR ends a line for `ast` but not for `_line_starts`
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # nested too deeply for ast
        return None
    found: list[tuple[ast.stmt, ast.expr | None]] = []
    for statement in module.body:
        if isinstance(statement, ast.Assign) and any(map(_is_version, statement.targets)):
            # `__version__ = x = '…'` counts as an assignment, but is left to the tokenizer.
            found.append((statement, statement.value if len(statement.targets) == 1 else None))
        elif isinstance(statement, ast.AnnAssign) and _is_version(statement.target):
            found.append((statement, statement.value))
    if len(found) != 1:
        return None
    node, value = found[0]
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        return None
    if node.col_offset != 0 or value.lineno != node.lineno or value.end_lineno != node.lineno:
        return None
    line_start = _line_starts(text)[node.lineno - 1]
    line = text[line_start:].split("\n", 1)[0]
    encoded = line.encode("utf-8")  # ast's column offsets count UTF-8 bytes
    start = len(encoded[: value.col_offset].decode("utf-8"))
    end = len(encoded[: value.end_col_offset].decode("utf-8"))
    literal = _PLAIN_STRING.fullmatch(line[start:end])
    if literal is None or not _LINE_REST.match(line + "\n", end):
        return None
    return Span(
        "__version__", line_start + start + literal.start(2), line_start + start + literal.end(2)
    )


def _is_version(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id == "__version__"


def _module_statements(text: str, path: str) -> Iterator[list[tokenize.TokenInfo]]:
    """The significant tokens of each unindented logical line (comments and blank lines dropped)."""
    depth = 0
    statement: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.INDENT:
                depth += 1
            elif token.type == tokenize.DEDENT:
                depth -= 1
            elif token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                # INDENT/DEDENT come before a line's first token, so `depth` is this line's.
                if statement and depth == 0:
                    yield statement
                statement = []
            elif token.type not in _SKIPPED:
                statement.append(token)
    except tokenize.TokenError as exc:
        line = exc.args[1][0] if len(exc.args) > 1 else "?"
        raise FileEditError(
            f"{path}: cannot read the file as Python: {exc.args[0]} (line {line})",
            "fix the syntax error it names",
        ) from None
    except SyntaxError as exc:  # IndentationError from an inconsistent dedent
        raise FileEditError(
            f"{path}: cannot read the file as Python: {exc.msg} (line {exc.lineno})",
            "fix the syntax error it names",
        ) from None


def _assigns_version(tokens: list[tokenize.TokenInfo]) -> bool:
    """`__version__ = …` or `__version__: T = …` (a bare annotation assigns nothing)."""
    if tokens[0].string != "__version__" or len(tokens) < 2:
        return False
    if tokens[1].string == "=":
        return True
    return tokens[1].string == ":" and any(t.string == "=" for t in tokens[2:])


def _literal_span(text: str, path: str, tokens: list[tokenize.TokenInfo]) -> Span:
    """The span of the version inside the assigned string literal."""
    equals = next(i for i, t in enumerate(tokens) if t.string == "=")
    value = tokens[equals + 1 :]
    match = None
    if len(value) == 1 and value[0].type == tokenize.STRING:
        match = _PLAIN_STRING.fullmatch(value[0].string)
    if match is None:
        raise FileEditError(
            f"{path}: __version__ on line {tokens[0].start[0]} is not a plain string literal",
            "write it as __version__ = 'X.Y.Z', or list the file the version really lives in",
        )
    row, col = value[0].start
    start = _line_starts(text)[row - 1] + col
    if text[start : start + len(value[0].string)] != value[0].string:
        # Cheap insurance against a tokenizer reporting columns differently (bytes, tabs):
        # refuse rather than edit the wrong characters.
        raise FileEditError(
            f"{path}: could not locate the __version__ literal on line {row}",
            "write it as __version__ = 'X.Y.Z' on a line of its own",
        )
    return Span("__version__", start + match.start(2), start + match.end(2))


def _line_starts(text: str) -> list[int]:
    """Offset of the first character of each line, lines ending at '\\n' as tokenize sees them."""
    return [0] + [match.end() for match in re.finditer("\n", text)]
