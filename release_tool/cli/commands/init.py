"""`init`: a starting configuration from what the repository shows (see `release_tool.init`).

It writes the configuration into pyproject.toml if the project has one, else into
release-tool.toml, prints what it wrote, and refuses (exit 2) when a configuration exists;
`--dry-run` only prints. Its final line says where it wrote (all `--quiet` prints).
"""

from __future__ import annotations

from typing import NamedTuple

import click

from release_tool.cli.options import output_options
from release_tool.cli.run import Invocation, command
from release_tool.errors import UsageError


class InitArgs(NamedTuple):
    """`init`: the output options and --dry-run."""

    json_mode: bool = False
    quiet: bool = False
    dry_run: bool = False


@click.command()
@click.option("--dry-run", is_flag=True, help="Print what init would write; write nothing.")
@output_options("Print the file, the text and the notes as JSON.")
@command(InitArgs)
def init(invocation: Invocation, args: InitArgs) -> None:
    """Write a starting configuration from what the repository shows."""
    from release_tool.init import discover, starting_config, summary, write_config

    root = invocation.directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{invocation.directory} is not a directory", "pass a folder to -C")
    found = discover(root)
    start = starting_config(root, found) if args.dry_run else write_config(root, found)
    output = invocation.output
    if output.json_mode:
        output.json(
            {
                "path": start.path,
                "written": not args.dry_run,
                "text": start.section,
                "notes": list(found.notes),
            }
        )
        return
    output.line(start.section.rstrip("\r\n"))
    output.final(summary(root, start, args.dry_run), style="bold")
