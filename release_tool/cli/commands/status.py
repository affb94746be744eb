"""`status`: every file's version, the last release, and what is done for this version.

It reads only, and never fails on what it is there to report (disagreeing files, an
unreachable remote). Its final line sums the report up in one line (all `--quiet` prints).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import click

from release_tool.cli.loading import open_project
from release_tool.cli.options import output_options
from release_tool.cli.run import Invocation, command

if TYPE_CHECKING:
    from release_tool.status import StatusReport


# --- arguments -------------------------------------------------------------------------------


class StatusArgs(NamedTuple):
    """`status`: only the output options."""

    json_mode: bool = False
    quiet: bool = False


@click.command()
@output_options("Print the status as JSON.")
@command(StatusArgs)
def status(invocation: Invocation, args: StatusArgs) -> None:
    """Show the version in every file, the last release, and what is done for this version."""
    from release_tool.status import collect_status

    output = invocation.output
    report = collect_status(open_project(invocation, need_token=True))
    if output.json_mode:
        output.json(report.to_json())
        return
    for line in report.lines():
        output.line(line)
    output.line("")
    output.final(summary_line(report), stderr=False)


def summary_line(report: StatusReport) -> str:
    """`edx-proctoring 5.2.0: files agree, last release v5.2.0` (or what disagrees, or where
    the version comes from)."""
    last = f"last release {report.last_tag or 'none'}"
    if report.source == "tag":
        return f"{report.package} {report.current or '(no release tag)'}: from tags, {last}"
    if report.agree:
        return f"{report.package} {report.current}: files agree, {last}"
    versions = sorted({str(f.version) for f in report.files})
    return f"{report.package}: files DISAGREE ({', '.join(versions)}), {last}"
