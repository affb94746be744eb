"""`email VERSION` and `downstream VERSION`: one step alone, for a version released earlier.

Each plans its step with what exists now (the tag, the release, an open PR), shows it, asks
(unless --yes, or for a draft that is only written), applies it, and ends with what it
produced: the draft's path, the PR URLs.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from release_tool.cli.commands.release import confirm_or_refuse
from release_tool.cli.loading import open_project
from release_tool.cli.options import Decorator, options, output_options, yes_option
from release_tool.cli.run import Invocation, command
from release_tool.cli.show import Progress, result_json, show_step

if TYPE_CHECKING:
    from release_tool.apply import RunResult
    from release_tool.plan import StepPlan

DRY_RUN_LINE = "Dry run: nothing was changed."


# --- arguments -------------------------------------------------------------------------------


class ReleasedArgs(NamedTuple):
    """`email VERSION` and `downstream VERSION`."""

    version: str
    json_mode: bool = False
    quiet: bool = False
    send: bool = False  # email: send it through SMTP too
    dry_run: bool = False
    yes: bool = False


def released_options(what: str) -> Decorator:
    return options(
        click.argument("version"),
        click.option("--dry-run", is_flag=True, help=f"Show the {what} and change nothing."),
        output_options(f"Print the {what} and the result as JSON."),
    )


@click.command(name="email")
@released_options("email")
@click.option("--send-email", "send", is_flag=True, help="Send it through SMTP too.")
@yes_option("writing or sending")
@command(ReleasedArgs)
def email(invocation: Invocation, args: ReleasedArgs) -> None:
    """Render the notification email of VERSION, released earlier, as a .eml draft."""
    from release_tool.plan import RunState
    from release_tool.steps.email import plan_email, released_facts
    from release_tool.versions import parse_version

    progress = Progress(invocation.output)
    project = open_project(invocation, progress=progress.update)
    facts = released_facts(project, parse_version(args.version), date.today())
    step = plan_email(project, facts, send=args.send, known=RunState())
    result = _show_and_apply(invocation, step, args, progress, yes=args.yes or not args.send)
    if result is None:
        return
    if result.state.email_draft:
        invocation.output.final(result.state.email_draft, stderr=False)
    else:
        invocation.output.final(f"Nothing to do: {step.skipped or 'no email'}.", style="bold")


@click.command()
@released_options("PR")
@yes_option("opening the PR")
@command(ReleasedArgs)
def downstream(invocation: Invocation, args: ReleasedArgs) -> None:
    """Open or update the downstream PRs for VERSION, released earlier."""
    from release_tool.steps.downstream import plan_released
    from release_tool.versions import parse_version

    progress = Progress(invocation.output)
    project = open_project(invocation, need_token=True, progress=progress.update)
    step = plan_released(project, parse_version(args.version))
    result = _show_and_apply(invocation, step, args, progress, yes=args.yes)
    if result is None:
        return
    for url in result.state.pr_urls:
        invocation.output.final(url, stderr=False)
    if not result.state.pr_urls:
        done = f"{len(result.applied)} action(s) applied" if result.applied else "nothing to do"
        invocation.output.final(f"Downstream: {step.skipped or done}.", style="bold")


def _show_and_apply(
    invocation: Invocation, step: StepPlan, args: ReleasedArgs, progress: Progress, *, yes: bool
) -> RunResult | None:
    """Show `step`; unless a dry run, apply it (asking first unless `yes`). None: a dry run."""
    from release_tool.apply import apply_plan
    from release_tool.pipeline import plan_of

    output = invocation.output
    show_step(output, step)
    document: dict[str, Any] = {"steps": [step.to_json()], "dry_run": args.dry_run}
    if args.dry_run:
        if output.json_mode:
            output.json(document)
        output.info("")
        output.final(DRY_RUN_LINE, style="bold")
        return None
    planned = plan_of(step)
    if planned.actions:
        confirm_or_refuse(yes)
        result = apply_plan(planned, progress)
    else:
        result = apply_plan(planned)
    if output.json_mode:
        output.json({**document, "result": result_json(result)})
    return result
