"""The one place where exceptions become exit codes and error reports.

A command is a plain function `fn(invocation, args)`: `Invocation` is what the group callback
made (the repository folder and this invocation's `Output`), `args` the command's frozen
arguments object. `@command(ArgsType)` turns such a function into a click callback: click's
keyword arguments become one `ArgsType`, and `run` calls the function and maps what it raises:

- a `ReleaseError`: its one-line message, details and hint (or the JSON error document), and
  its exit code (1 a step failed, 2 bad usage, 130 interrupted); an `InternalError` (a bug
  caught while applying) prints its cause's traceback under RELEASE_TOOL_DEBUG=1;
- Ctrl-C: 130;
- any other exception is a bug: one line saying so, exit 1, or the traceback itself under
  RELEASE_TOOL_DEBUG=1.

Inside GitHub Actions an error is also an annotation on the run's page.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

import click

from release_tool.cli.console import Output
from release_tool.errors import InternalError, Interrupted, PreflightError, ReleaseError

if TYPE_CHECKING:
    from release_tool.cli.options import OutputArgs

Args = TypeVar("Args", bound="OutputArgs")


class Invocation(NamedTuple):
    """What every command receives from the group: where to run, and where to print."""

    directory: Path
    output: Output


Body = Callable[[Invocation, Args], None]  # a command: what it does with its arguments


def command(args_type: type[Args]) -> Callable[[Body[Args]], Callable[..., None]]:
    """Make `fn(invocation, args)` a click callback: kwargs → one `args_type`, run by `run`.

    Put it under the click decorators (it is applied first); `fn`'s docstring is the help.
    """

    def wrap(fn: Body[Args]) -> Callable[..., None]:
        @functools.wraps(fn)
        def callback(**kwargs: Any) -> None:
            invocation = click.get_current_context().find_object(Invocation)
            assert invocation is not None, "commands run under the `release-tool` group"
            run(invocation, fn, args_type(**kwargs))

        return callback

    return wrap


def run(invocation: Invocation, fn: Body[Args], args: Args) -> NoReturn:
    """Run a command with its output mode set; the one place exceptions become exit codes."""
    output = invocation.output
    output.set_mode(json_mode=args.json_mode, quiet=args.quiet)
    try:
        output.flush_masks()  # inside Actions: the masks before anything else
        fn(invocation, args)
    except ReleaseError as exc:
        if isinstance(exc, InternalError) and os.environ.get("RELEASE_TOOL_DEBUG"):
            import traceback

            traceback.print_exception(exc.__cause__ or exc)  # the bug's own traceback
        report(output, exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        report(output, Interrupted("interrupted", ""))
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException:
        raise
    except Exception as exc:  # a traceback is a bug: say so in one line and keep the details
        if os.environ.get("RELEASE_TOOL_DEBUG"):
            raise
        report(
            output,
            ReleaseError(
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in release-tool; rerun with RELEASE_TOOL_DEBUG=1 "
                "for the traceback and report it",
            ),
        )
        sys.exit(1)
    sys.exit(0)


def report(output: Output, exc: ReleaseError) -> None:
    """Show an error: as an Actions annotation, as JSON in JSON mode, and always as text."""
    if output.actions:
        # An annotation: shown on the run's page and its summary, not only deep in the log.
        hint = f"hint: {exc.hint}" if exc.hint else ""
        text = "\n".join(t for t in (exc.message, exc.details, hint) if t)
        output.command(output.actions.error(text, title=f"release-tool (exit {exc.exit_code})"))
    if output.json_mode:
        output.json(error_json(exc))
    output.error(f"error: {exc.message}", style="bold red")
    if exc.details:
        for detail in exc.details.splitlines():
            output.error(detail)
    if exc.hint:
        output.error(f"hint: {exc.hint}", style="yellow")


def _detail_lines(exc: ReleaseError) -> list[str]:
    import textwrap  # only an error in JSON mode needs it

    return textwrap.dedent(exc.details).strip("\n").splitlines() if exc.details else []


def error_json(exc: ReleaseError) -> dict[str, Any]:
    """The JSON error document: the message, the hint, the exit code, and `details`, the
    lines shown under the message (e.g. the version table); a preflight failure lists each
    of its problems (`problems`, each with its own details) and `details` names them."""
    data: dict[str, Any] = {
        "error": exc.message,
        "hint": exc.hint,
        "exit_code": exc.exit_code,
        "details": _detail_lines(exc),
    }
    if isinstance(exc, PreflightError):
        data["problems"] = [
            {"error": p.message, "hint": p.hint, "details": _detail_lines(p)} for p in exc.problems
        ]
        data["details"] = data["details"] or [p.message for p in exc.problems]
    return data
