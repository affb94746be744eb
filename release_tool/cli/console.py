"""Where one invocation prints: plain text or JSON, quiet or not, always redacted.

`Output` is made once per invocation (in the group callback) and handed to every command. Its
mode says what reaches the streams:

- normal: the plan (or the command's product) on stdout, progress and summaries on stderr;
- `--json`: stdout carries only the JSON document; stderr is as in normal mode;
- `--quiet`: only errors and the command's final line (`final`), nothing else.

Every line goes through the `Redactor`, so no secret reaches a terminal, a pipe or a log. Rich
is imported only when a stream is a terminal (or FORCE_COLOR asks for colour) and for the
summary tables: a pipe gets plain text at no start-up cost. Inside GitHub Actions, secrets are
masked up front and each step's lines fold into a group.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import click

from release_tool.redact import Redactor, forms

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status

    from release_tool.gha import Actions

# Secrets the environment may hold: redacted everywhere, masked in an Actions log up front.
SECRET_ENV = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "RELEASE_TOOL_SMTP_PASSWORD",
    "RELEASE_TOOL_APP_PRIVATE_KEY",
)


def _rich_wanted(stream: TextIO) -> bool:
    return stream.isatty() or bool(os.environ.get("FORCE_COLOR"))


class Output:
    """The streams of one invocation; see the module docstring for what each mode prints."""

    def __init__(self, redact: Redactor | None = None, actions: Actions | None = None) -> None:
        self.redact = redact or Redactor()
        self.actions = actions  # inside GitHub Actions: masks, groups, annotations
        self.json_mode = False  # --json: stdout is one JSON document
        self.quiet = False  # --quiet: errors and the final line only
        self._out: Console | None = None
        self._err: Console | None = None
        self._masks: list[str] = []  # `::add-mask::` lines not printed yet

    @classmethod
    def for_environment(cls, environ: Mapping[str, str]) -> Output:
        """An Output for this environment: Actions support inside a workflow, and every
        secret the environment holds redacted (and masked) before any line is printed."""
        output = cls()
        if environ.get("GITHUB_ACTIONS") == "true":  # gha is imported only where it is used
            from release_tool.gha import Actions

            output.actions = Actions.from_environ(environ, redact=output.redact)
        for key in SECRET_ENV:
            output.add_secret(environ.get(key))
        return output

    def set_mode(self, *, json_mode: bool, quiet: bool) -> None:
        """What the command asked for (set once, before the command prints anything)."""
        self.json_mode, self.quiet = json_mode, quiet

    # --- lines -----------------------------------------------------------------------------

    def _console(self, stderr: bool) -> Console:
        from rich.console import Console

        if stderr:
            self._err = self._err or Console(stderr=True, highlight=False, soft_wrap=True)
            return self._err
        self._out = self._out or Console(highlight=False, soft_wrap=True)
        return self._out

    def _emit(self, text: str, style: str | None, stderr: bool) -> None:
        """Print one redacted line; brackets in diffs are text, never rich markup."""
        self.flush_masks()
        if self.json_mode and not stderr:
            return  # stdout is the JSON document
        stream = sys.stderr if stderr else sys.stdout
        if not _rich_wanted(stream):
            # A pipe or a file gets plain text anyway; rich would only cost start-up time.
            stream.write(self.redact(text) + "\n")
            return
        from rich.text import Text

        self._console(stderr).print(Text(self.redact(text), style=style or ""))

    def line(self, text: str = "", *, style: str | None = None, stderr: bool = False) -> None:
        """A line of the command's output (the plan, a report); --quiet silences it."""
        if not self.quiet:
            self._emit(text, style, stderr)

    def info(self, text: str, *, style: str | None = None) -> None:
        """Progress and summaries, on stderr; --quiet silences them."""
        self.line(text, style=style, stderr=True)

    def final(self, text: str, *, style: str | None = None, stderr: bool = True) -> None:
        """The command's final line: printed even with --quiet."""
        self._emit(text, style, stderr)

    def error(self, text: str, *, style: str | None = None) -> None:
        """A line of an error report, on stderr, whatever the mode."""
        self._emit(text, style, True)

    def table(self, title: str, rows: list[tuple[str, str]], *, stderr: bool = False) -> None:
        """A two-column table (name, value); every cell redacted like every line."""
        self.flush_masks()
        if self.quiet or (self.json_mode and not stderr):
            return
        from rich.table import Table

        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")  # a URL or a path must be shown whole, never cut
        for name, value in rows:
            table.add_row(self.redact(name), self.redact(value))
        self._console(stderr).print(table)

    def json(self, data: Any) -> None:
        """The JSON document, on stdout (the one thing stdout carries in JSON mode)."""
        import json  # only JSON mode needs it

        self.flush_masks()
        click.echo(self.redact(json.dumps(data, indent=2, sort_keys=True)))

    def spinner(self, text: str) -> Status | None:
        """A started spinner on stderr while something runs: on a terminal only, never with
        --quiet (None otherwise)."""
        if self.quiet or not _rich_wanted(sys.stderr):
            return None
        console = self._console(stderr=True)
        if not console.is_terminal:
            return None
        from rich.status import Status

        status = Status(self.redact(text), console=console)
        status.start()
        return status

    # --- secrets and GitHub Actions ----------------------------------------------------------

    def add_secret(self, secret: str | None) -> None:
        """Redact `secret` from now on; inside Actions, also mask it in the log, at once."""
        if not secret or secret in self.redact.secrets:
            return
        self.redact.add(secret)
        if self.actions and secret.strip():
            # Mask the derived spellings too (URL-encoded, Base64 as in a Basic header).
            for form in [secret, *sorted(forms(secret) - {secret})]:
                self._masks.append(self.actions.mask(form))

    def flush_masks(self) -> None:
        """Print the masks not printed yet: before any other line (every printing method
        calls this first), once the stream is known (`run`, when --json is read)."""
        masks, self._masks = self._masks, []
        for mask in masks:
            self._command_line(mask)

    def command(self, line: str) -> None:
        """A workflow command line as `Actions` made it (already redacted): after the masks."""
        self.flush_masks()
        self._command_line(line)

    def _command_line(self, line: str) -> None:
        """On stdout, GitHub's documented channel for workflow commands; with --json on
        stderr, so stdout stays one JSON document (a `$(...)` capture would hide them).
        The other stream is flushed first, so the command lands where it belongs in the
        merged log."""
        (sys.stdout if self.json_mode else sys.stderr).flush()
        click.echo(line, err=self.json_mode)

    def group(self, title: str) -> None:
        if self.actions and not self.json_mode and not self.quiet:
            self.command(self.actions.group(title))

    def endgroup(self) -> None:
        if self.actions and not self.json_mode and not self.quiet:
            self.command(self.actions.endgroup())
