"""`rehearse [BUMP]`: `release BUMP` (the same options) against an in-process sandbox, on copies.

Rehearses the working tree as it is (uncommitted changes included), shows the plan, applies it
to the copies, and ends with what the run produced (the tag, the release, the downstream PR,
the email draft, where each downstream's data came from), each at a URL that opens in a
browser. The workspace is deleted at the end unless `--keep` (which leaves the sandbox serving
until SIGINT or SIGTERM) or `--workspace`. The logic is `release_tool.rehearsal`'s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from release_tool.cli.console import Output
from release_tool.cli.options import ReleaseArgs, options, release_flags
from release_tool.cli.run import Invocation, command
from release_tool.cli.show import Progress, show_plan, show_rehearsal, show_result

if TYPE_CHECKING:
    from release_tool.rehearsal import Rehearsal


# --- arguments -------------------------------------------------------------------------------


class RehearseArgs(NamedTuple):
    """`rehearse [BUMP]`: every option of `release` but --dry-run and --yes, and its own."""

    bump: str = "patch"
    json_mode: bool = False
    quiet: bool = False
    pre: str | None = None
    sync: bool = False
    allow_downgrade: bool = False
    allow_empty_notes: bool = False
    skip: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    local: bool = False
    send_email: bool = False
    allow_unpushed: bool = False
    no_verify: bool = False
    example: bool = False
    downstream_from: Path | None = None
    keep: bool = False
    workspace: Path | None = None

    def release_args(self) -> ReleaseArgs:
        shared = {k: v for k, v in self._asdict().items() if k in ReleaseArgs._fields}
        return ReleaseArgs(**shared)


rehearse_options = options(
    click.argument("bump", metavar="[BUMP]", default="patch"),
    release_flags,
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
    click.option(
        "--keep",
        is_flag=True,
        help="Keep the sandbox serving afterwards, to browse the result (Ctrl-C stops).",
    ),
    click.option(
        "--workspace",
        type=click.Path(path_type=Path),
        help="Folder for the sandbox and the working copy, kept (default: a temp folder, deleted).",
    ),
)


@click.command()
@rehearse_options
@command(RehearseArgs)
def rehearse(invocation: Invocation, args: RehearseArgs) -> None:
    """Rehearse `release BUMP` (same options) against an embedded sandbox: nothing real changes.

    Rehearses the working tree as it is, uncommitted changes included. Shows the plan, applies
    it, and ends with the tag, the release, the downstream PR and the email draft it produced.
    """
    from release_tool.rehearsal import session

    source = None if args.example else invocation.directory.resolve()
    with session(
        source,
        workspace=args.workspace,
        keep=args.keep,
        downstream_from=args.downstream_from,
        environ=os.environ,
    ) as rehearsal:
        invocation.output.add_secret(rehearsal.token)
        _rehearse(invocation.output, rehearsal, args)
        if args.keep:
            _keep_serving(invocation.output, rehearsal)


def _rehearse(output: Output, rehearsal: Rehearsal, args: RehearseArgs) -> None:
    from release_tool.apply import run_release
    from release_tool.pipeline import plan_release
    from release_tool.rehearsal import rehearsal_request, summarize

    output.info(
        f"Sandbox GitHub at {rehearsal.sandbox.api_url} with {', '.join(rehearsal.repositories)}"
    )
    for repository, words in rehearsal.downstream:
        output.info(f"downstream {repository}: {words}")
    request, left_out = rehearsal_request(args.release_args().request())
    plan = plan_release(rehearsal.project, request)
    show_plan(output, plan)
    result = run_release(rehearsal.project, plan, Progress(output))
    show_result(output, plan, result, final=False)
    summary = summarize(rehearsal, plan, result)
    summary["notes"] += left_out
    summary["workspace_kept"] = bool(args.keep or args.workspace)
    if output.json_mode:
        output.json(summary)
    else:
        show_rehearsal(output, summary)
    where = (
        f"workspace {summary['workspace']}"
        if summary["workspace_kept"]
        else "the workspace is deleted at exit"
    )
    done = f"Rehearsed {plan.package} {plan.new} ({plan.tag}) against the sandbox; {where}"
    if args.keep:
        output.info(done)  # the final line says where to browse
    else:
        output.final(done, style="bold green")


def _keep_serving(output: Output, rehearsal: Rehearsal) -> None:
    import time

    output.info("")
    output.final(
        f"The sandbox keeps serving at {rehearsal.sandbox.api_url} (reads need no "
        f"token; git clone {rehearsal.sandbox.url}/OWNER/NAME.git); browse "
        f"{rehearsal.sandbox.html_url(rehearsal.project.config.repository)}. "
        "Ctrl-C (or SIGTERM) stops it."
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        output.info("sandbox stopped")
