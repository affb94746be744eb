"""The `release-tool` group: the one `Output` of an invocation, and the commands under it.

The group callback runs before any command: it makes the invocation's `Output` (secrets from
the environment redacted, and masked inside GitHub Actions, before any line is printed) and
hands it to the command, with the repository folder, as click's context object.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from release_tool import __version__
from release_tool.cli.console import Output
from release_tool.cli.run import Invocation

# Every command, and the module that defines it (imported only when the command is named, or
# for `--help`): `release-tool plan` loads none of the other commands.
COMMANDS = {
    "release": "release",
    "plan": "release",
    "bump": "release",
    "status": "status",
    "init": "init",
    "email": "released",
    "downstream": "released",
    "sandbox": "sandbox",
    "rehearse": "rehearse",
}


class LazyGroup(click.Group):
    """A group that imports a command's module when the command is used (click's documented
    pattern for lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        from importlib import import_module

        command = getattr(import_module(f"release_tool.cli.commands.{module}"), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="release-tool")
@click.option(
    "-C",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("."),
    metavar="DIR",
    help="Run on the repository in DIR instead of the current folder.",
)
@click.pass_context
def cli(ctx: click.Context, directory: Path) -> None:
    """Release a library end to end: bump, tag, push, GitHub release, downstream PR, email.

    Start with `release-tool plan patch` to see exactly what a release would do.
    """
    ctx.obj = Invocation(directory, Output.for_environment(os.environ))


def main() -> None:
    """The console script: `release-tool`."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
