"""`rehearse [BUMP]`: the complete release against an in-process sandbox, on copies.

Shows the plan, applies it to the copies, and ends with what the run produced (the tag, the
release, the downstream PR, the email draft); `--keep` leaves the sandbox serving to browse it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from release_tool.cli.console import Output
from release_tool.cli.options import PRE_CHOICES, ReleaseArgs, options, output_options
from release_tool.cli.run import Invocation, command
from release_tool.cli.show import Progress, show_plan, show_rehearsal, show_result

if TYPE_CHECKING:
    from release_tool.rehearsal import Rehearsal


# --- arguments -------------------------------------------------------------------------------


class RehearseArgs(NamedTuple):
    """`rehearse [BUMP]`."""

    bump: str = "patch"
    json_mode: bool = False
    quiet: bool = False
    example: bool = False
    downstream_from: Path | None = None
    pre: str | None = None
    keep: bool = False
    workspace: Path | None = None


rehearse_options = options(
    click.argument("bump", metavar="[BUMP]", default="patch"),
    click.option(
        "--example",
        is_flag=True,
        help="Rehearse the bundled example pair instead of this repository.",
    ),
    click.option(
        "--downstream-from",
        type=click.Path(path_type=Path, exists=True),
        help="A local copy of the downstream repository to rehearse against.",
    ),
    click.option("--pre", type=PRE_CHOICES, help="Start or advance a pre-release."),
    click.option(
        "--keep",
        is_flag=True,
        help="Keep the sandbox serving afterwards, to browse the result (Ctrl-C stops).",
    ),
    click.option(
        "--workspace",
        type=click.Path(path_type=Path),
        help="Folder for the sandbox and the working copy (default: a new temp folder).",
    ),
    output_options("Print the summary as JSON."),
)


@click.command()
@rehearse_options
@command(RehearseArgs)
def rehearse(invocation: Invocation, args: RehearseArgs) -> None:
    """Run the complete release against an embedded sandbox, on copies: nothing real changes.

    Shows the plan, applies it, and ends with the tag, the release, the downstream PR and the
    email draft it produced.
    """
    from release_tool.rehearsal import prepare

    output = invocation.output
    workspace = _workspace(args.workspace)
    source = None if args.example else invocation.directory.resolve()
    rehearsal = prepare(source, workspace, downstream_from=args.downstream_from, environ=os.environ)
    output.add_secret(rehearsal.token)
    try:
        _rehearse(output, rehearsal, args)
        if args.keep:
            _keep_serving(output, rehearsal)
    finally:
        rehearsal.sandbox.stop()


def _workspace(asked: Path | None) -> Path:
    import tempfile

    workspace = asked or Path(tempfile.mkdtemp(prefix="release-tool-rehearsal-"))
    workspace.mkdir(parents=True, exist_ok=True)
    return workspace


def _rehearse(output: Output, rehearsal: Rehearsal, args: RehearseArgs) -> None:
    from release_tool.pipeline import plan_release, run_release
    from release_tool.rehearsal import summarize

    output.info(
        f"Sandbox GitHub at {rehearsal.sandbox.api_url} with {', '.join(rehearsal.repositories)}"
    )
    request = ReleaseArgs(bump=args.bump, pre=args.pre).request()
    plan = plan_release(rehearsal.project, request)
    show_plan(output, plan)
    result = run_release(rehearsal.project, plan, Progress(output))
    show_result(output, plan, result, final=False)
    summary = summarize(rehearsal, plan, result)
    if output.json_mode:
        output.json(summary)
    else:
        show_rehearsal(output, summary)
    done = (
        f"Rehearsed {plan.package} {plan.new} ({plan.tag}) against the sandbox; "
        f"workspace {summary['workspace']}"
    )
    if args.keep:
        output.info(done)  # the final line says where to browse
    else:
        output.final(done, style="bold green")


def _keep_serving(output: Output, rehearsal: Rehearsal) -> None:
    import time

    output.info("")
    output.final(
        f"The sandbox keeps serving at {rehearsal.sandbox.api_url} (reads need no "
        f"token; git clone {rehearsal.sandbox.url}/OWNER/NAME.git). Ctrl-C stops it."
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        output.info("sandbox stopped")
