"""`release BUMP`, `plan BUMP` and `bump BUMP`: the release pipeline from the command line.

Each builds the request and the project, asks the pipeline for the plan, shows it, and (for
`release` and `bump`) applies it. The plan printed is the plan applied: there is no dry-run
flag below this module.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from release_tool.cli.loading import open_project
from release_tool.cli.options import DRY_RUN, ReleaseArgs, bump_options, release_options, yes_option
from release_tool.cli.run import Invocation, command
from release_tool.cli.show import (
    Progress,
    dry_run_line,
    report_to_actions,
    result_json,
    show_plan,
    show_result,
)
from release_tool.errors import Interrupted, ReleaseError, UsageError

if TYPE_CHECKING:
    from release_tool.plan import ReleasePlan
    from release_tool.project import Project, ReleaseRequest


@click.command()
@release_options
@DRY_RUN
@yes_option("applying the plan")
@command(ReleaseArgs)
def release(invocation: Invocation, args: ReleaseArgs) -> None:
    """Release BUMP: major, minor, patch, release, pre, current, or a version like 5.3.0."""
    from release_tool.pipeline import check_applicable

    request = args.request()
    progress = Progress(invocation.output)
    project = _project(invocation, request, progress)
    planned = _planned(invocation, project, request)
    if args.dry_run:
        _end_dry_run(invocation, planned)
        return
    check_applicable(planned)  # refused before asking: unpushed commits, no token
    confirm_or_refuse(args.yes)
    _apply_release(invocation, project, planned, progress)


@click.command()
@release_options
@command(ReleaseArgs)
def plan(invocation: Invocation, args: ReleaseArgs) -> None:
    """Show what `release BUMP` would do, and change nothing (same as `release --dry-run`)."""
    request = args.request()
    project = _project(invocation, request)
    _end_dry_run(invocation, _planned(invocation, project, request))


@click.command(name="bump")
@bump_options
@command(ReleaseArgs)
def bump(invocation: Invocation, args: ReleaseArgs) -> None:
    """Only edit the version files and the changelog to BUMP (no commit, no tag)."""
    from release_tool.apply import apply_plan
    from release_tool.files.write import WriteFileAction
    from release_tool.pipeline import plan_bump

    output = invocation.output
    project = open_project(invocation)
    planned = plan_bump(project, args.request())
    show_plan(output, planned)
    result = apply_plan(planned, Progress(output))
    if output.json_mode:
        output.json({"plan": planned.to_json(), "result": result_json(result)})
    edited = [a.relpath for a in planned.actions if isinstance(a, WriteFileAction)]
    if edited:
        output.final(
            f"Bumped {planned.package} {planned.current} → {planned.new}: "
            f"edited {', '.join(edited)}.",
            style="bold green",
        )
    else:
        output.final(f"Nothing to do: the files already say {planned.new}.", style="bold")


# --- the steps of `release` and `plan` ---------------------------------------------------------


def _project(
    invocation: Invocation, request: ReleaseRequest, progress: Progress | None = None
) -> Project:
    from release_tool.pipeline import needs_token

    return open_project(
        invocation,
        need_token=needs_token(request),
        progress=progress.update if progress else None,
    )


def _planned(invocation: Invocation, project: Project, request: ReleaseRequest) -> ReleasePlan:
    from release_tool.pipeline import plan_release

    planned = plan_release(project, request)
    show_plan(invocation.output, planned)
    return planned


def _end_dry_run(invocation: Invocation, planned: ReleasePlan) -> None:
    output = invocation.output
    if output.json_mode:
        output.json({"plan": planned.to_json(), "dry_run": True})
    report_to_actions(output, planned, None)
    output.info("")
    output.final(dry_run_line(planned), style="bold")


def _apply_release(
    invocation: Invocation, project: Project, planned: ReleasePlan, progress: Progress
) -> None:
    from release_tool.apply import run_release

    output = invocation.output
    try:
        result = run_release(project, planned, progress)
    except ReleaseError as exc:
        report_to_actions(output, planned, progress.partial_result(exc))  # then run() reports
        raise
    show_result(output, planned, result)
    report_to_actions(output, planned, result_json(result))
    if output.json_mode:
        output.json({"plan": planned.to_json(), "result": result_json(result)})


def confirm_or_refuse(yes: bool) -> None:
    """Ask before the first change; without a terminal, only --yes goes ahead."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "no terminal to confirm the release on",
            "pass --yes to release without asking, or --dry-run to see the plan",
        )
    if not click.confirm("Apply this plan?", default=False, err=True):
        raise Interrupted("release declined: nothing was changed", "")
