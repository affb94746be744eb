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
from release_tool.cli.commands.rehearse import rehearse
from release_tool.cli.commands.release import bump, plan, release
from release_tool.cli.commands.released import downstream, email
from release_tool.cli.commands.sandbox import sandbox
from release_tool.cli.commands.status import status
from release_tool.cli.console import Output
from release_tool.cli.run import Invocation


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


for _command in (release, plan, bump, status, email, downstream, sandbox, rehearse):
    cli.add_command(_command)


def main() -> None:
    """The console script: `release-tool`."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
