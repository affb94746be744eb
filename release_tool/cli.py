"""The command line: the only module that reads argv and the environment, prints, prompts and
chooses exit codes.

Commands are thin: each builds a `Project` and a request, calls one function of the pipeline, and
shows what came back. Every `ReleaseError` becomes its exit code in `_run`, and every line printed
goes through the `Redactor`, so no token reaches the terminal, whatever raised.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from release_tool import __version__
from release_tool.errors import Interrupted, ReleaseError, UsageError
from release_tool.redact import Redactor

if TYPE_CHECKING:
    from rich.console import Console

    from release_tool.pipeline import Project, ReleaseRequest, RunResult
    from release_tool.plan import Action, Outcome, ReleasePlan


# --- output --------------------------------------------------------------------------------


@dataclass
class Output:
    """Where and how this invocation prints: plain or JSON, quiet or not, always redacted."""

    redact: Redactor = field(default_factory=Redactor)
    json_mode: bool = False
    quiet: bool = False
    _out: Console | None = None
    _err: Console | None = None

    def _console(self, stderr: bool) -> Console:
        from rich.console import Console

        if stderr:
            self._err = self._err or Console(stderr=True, highlight=False, soft_wrap=True)
            return self._err
        self._out = self._out or Console(highlight=False, soft_wrap=True)
        return self._out

    def line(self, text: str = "", *, style: str | None = None, stderr: bool = False) -> None:
        """Print one redacted line; brackets in diffs are text, never rich markup."""
        if self.json_mode and not stderr:
            return
        from rich.text import Text

        self._console(stderr).print(Text(self.redact(text), style=style or ""))

    def info(self, text: str, *, style: str | None = None) -> None:
        if not self.quiet:
            self.line(text, style=style, stderr=True)

    def json(self, data: Any) -> None:
        click.echo(self.redact(json.dumps(data, indent=2, sort_keys=True)))


OUTPUT = Output()


def _run(body: Callable[[], None]) -> NoReturn:
    """Run a command body; the one place where exceptions become exit codes."""
    try:
        body()
    except ReleaseError as exc:
        _report(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _report(Interrupted("interrupted", ""))
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException:
        raise
    except Exception as exc:  # a traceback is a bug: say so in one line and keep the details
        if os.environ.get("RELEASE_TOOL_DEBUG"):
            raise
        _report(
            ReleaseError(
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in release-tool; rerun with RELEASE_TOOL_DEBUG=1 "
                "for the traceback and report it",
            )
        )
        sys.exit(1)
    sys.exit(0)


def _report(exc: ReleaseError) -> None:
    if OUTPUT.json_mode:
        OUTPUT.json({"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code})
    OUTPUT.line(f"error: {exc.message}", style="bold red", stderr=True)
    if exc.details:
        for detail in exc.details.splitlines():
            OUTPUT.line(detail, stderr=True)
    if exc.hint:
        OUTPUT.line(f"hint: {exc.hint}", style="yellow", stderr=True)


# --- building the project -------------------------------------------------------------------


def github_token(environ: dict[str, str]) -> str | None:
    """GITHUB_TOKEN, GH_TOKEN, or what `gh auth token` says, in that order."""
    for key in ("GITHUB_TOKEN", "GH_TOKEN"):
        if environ.get(key):
            return environ[key]
    if shutil.which("gh"):
        result = subprocess.run(
            ["gh", "auth", "token"], capture_output=True, text=True, check=False, timeout=10
        )
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    return None


def load_project(directory: Path, *, need_token: bool = False) -> Project:
    from release_tool.config import load_config
    from release_tool.git_repo import GitRepo
    from release_tool.pipeline import Project

    environ = dict(os.environ)
    root = directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{directory} is not a directory", "pass an existing folder to -C")
    config = load_config(root)
    token = github_token(environ) if need_token else None
    OUTPUT.redact.add(token)
    for key in ("GITHUB_TOKEN", "GH_TOKEN", "RELEASE_TOOL_SMTP_PASSWORD"):
        OUTPUT.redact.add(environ.get(key))
    return Project(
        root=root, config=config, repo=GitRepo(root, token), token=token, environ=environ
    )


# --- showing plans and results --------------------------------------------------------------

MARK = {"done": "✓", "skipped": "–", "failed": "✗"}


def show_plan(plan: ReleasePlan) -> None:
    resumed = " (finishing the release HEAD already carries)" if plan.resumed else ""
    OUTPUT.line(
        f"Release plan: {plan.package} {plan.current} → {plan.new}, tag {plan.tag}{resumed}",
        style="bold",
    )
    for step in plan.steps:
        if step.skipped:
            OUTPUT.line(f"\n{step.name}: skipped ({step.skipped})", style="dim")
            continue
        OUTPUT.line(f"\n{step.name}", style="bold cyan")
        for note in step.notes:
            OUTPUT.line(f"  ✓ {note}")
        for action in step.actions:
            OUTPUT.line(f"  • {action.describe()}")
            details = action.details()
            for detail in details.splitlines():
                style = (
                    "green"
                    if detail.startswith("+")
                    else ("red" if detail.startswith("-") else None)
                )
                OUTPUT.line(f"      {detail}", style=style)


class Progress:
    """A line per completed action, on stderr (stdout stays the plan or the JSON)."""

    def action_started(self, action: Action) -> None:
        pass

    def action_done(self, action: Action, outcome: Outcome) -> None:
        OUTPUT.info(f"{MARK['done']} {action.step}: {outcome.summary}", style="green")


def show_result(plan: ReleasePlan, result: RunResult) -> None:
    done_steps = {step for step, _, _ in result.applied}
    OUTPUT.info("")
    for step in plan.steps:
        if step.name in done_steps or (step.notes and not step.skipped):
            OUTPUT.info(f"{MARK['done']} {step.name}")
        elif step.skipped or not step.actions:
            reason = step.skipped or "nothing to do"
            OUTPUT.info(f"{MARK['skipped']} {step.name}: skipped ({reason})", style="dim")
    if not result.applied:
        OUTPUT.info(
            f"Nothing to do: {plan.package} {plan.new} is already released as far as "
            "this run goes.",
            style="bold",
        )
    else:
        OUTPUT.info(f"Released {plan.package} {plan.new} ({plan.tag}).", style="bold green")


def confirm_or_refuse(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "no terminal to confirm the release on",
            "pass --yes to release without asking, or --dry-run to see the plan",
        )
    if not click.confirm("Apply this plan?", default=False, err=True):
        raise Interrupted("release declined: nothing was changed", "")


# --- commands ------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="release-tool")
@click.option(
    "-C",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("."),
    help="Run on the repository in DIR instead of the current folder.",
)
@click.pass_context
def cli(ctx: click.Context, directory: Path) -> None:
    """Release a library end to end: bump, tag, push, GitHub release, downstream PR, email.

    Start with `release-tool plan patch` to see exactly what a release would do.
    """
    global OUTPUT  # noqa: PLW0603 - one Output per invocation (tests invoke many in a process)
    OUTPUT = Output()
    ctx.obj = directory


def _bump_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--sync", is_flag=True, help="Bring disagreeing version files to the explicit VERSION."
    )(func)
    func = click.option(
        "--allow-downgrade",
        is_flag=True,
        help="Allow a version that is not greater than the current one.",
    )(func)
    func = click.option(
        "--pre",
        type=click.Choice(["a", "alpha", "b", "beta", "rc"]),
        help="Start or advance a pre-release (e.g. `patch --pre rc`).",
    )(func)
    func = click.option(
        "--json", "json_mode", is_flag=True, help="Print the plan and result as JSON."
    )(func)
    return click.argument("bump", metavar="BUMP")(func)


def _release_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--allow-empty-notes",
        is_flag=True,
        help="Release even if the changelog has no notes for it.",
    )(func)
    func = click.option(
        "--skip", multiple=True, metavar="STEP", help="Leave out a step (repeatable)."
    )(func)
    func = click.option(
        "--only", multiple=True, metavar="STEP", help="Run only this step (repeatable)."
    )(func)
    return _bump_options(func)


def _request(
    bump: str,
    pre: str | None,
    allow_downgrade: bool,
    sync: bool,
    allow_empty_notes: bool = False,
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
) -> ReleaseRequest:
    from release_tool.pipeline import ReleaseRequest

    phase = {"alpha": "a", "beta": "b"}.get(pre or "", pre)
    return ReleaseRequest(
        bump=bump,
        pre=phase,
        allow_downgrade=allow_downgrade,
        sync=sync,
        allow_empty_notes=allow_empty_notes,
        skip=frozenset(skip),
        only=frozenset(only),
        today=date.today(),
    )


@cli.command()
@_release_options
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before applying the plan.")
@click.pass_obj
def release(
    directory: Path,
    bump: str,
    pre: str | None,
    json_mode: bool,
    allow_downgrade: bool,
    sync: bool,
    allow_empty_notes: bool,
    skip: tuple[str, ...],
    only: tuple[str, ...],
    dry_run: bool,
    yes: bool,
) -> None:
    """Release BUMP: major, minor, patch, release, pre, current, or a version like 5.3.0."""
    OUTPUT.json_mode = json_mode

    def body() -> None:
        from release_tool.pipeline import apply_plan, plan_release

        project = load_project(directory, need_token=True)
        request = _request(bump, pre, allow_downgrade, sync, allow_empty_notes, skip, only)
        plan = plan_release(project, request)
        show_plan(plan)
        if dry_run:
            if json_mode:
                OUTPUT.json({"plan": plan.to_json(), "dry_run": True})
            OUTPUT.info("\nDry run: nothing was changed.", style="bold")
            return
        confirm_or_refuse(yes)
        result = apply_plan(plan, Progress())
        show_result(plan, result)
        if json_mode:
            OUTPUT.json({"plan": plan.to_json(), "result": _result_json(result)})

    _run(body)


def _result_json(result: RunResult) -> dict[str, Any]:
    return {
        "applied": [{"step": s, "action": d, "summary": o.summary} for s, d, o in result.applied],
        "outputs": result.outputs,
    }


@cli.command()
@_release_options
@click.pass_obj
def plan(
    directory: Path,
    bump: str,
    pre: str | None,
    json_mode: bool,
    allow_downgrade: bool,
    sync: bool,
    allow_empty_notes: bool,
    skip: tuple[str, ...],
    only: tuple[str, ...],
) -> None:
    """Show what `release BUMP` would do, and change nothing (same as `release --dry-run`)."""
    OUTPUT.json_mode = json_mode

    def body() -> None:
        from release_tool.pipeline import plan_release

        project = load_project(directory, need_token=True)
        plan = plan_release(
            project, _request(bump, pre, allow_downgrade, sync, allow_empty_notes, skip, only)
        )
        show_plan(plan)
        if json_mode:
            OUTPUT.json({"plan": plan.to_json(), "dry_run": True})

    _run(body)


@cli.command(name="bump")
@_bump_options
@click.pass_obj
def bump_command(
    directory: Path, bump: str, pre: str | None, json_mode: bool, allow_downgrade: bool, sync: bool
) -> None:
    """Only edit the version files and the changelog to BUMP (no commit, no tag)."""
    OUTPUT.json_mode = json_mode

    def body() -> None:
        from release_tool.pipeline import apply_plan, plan_bump

        project = load_project(directory)
        plan = plan_bump(project, _request(bump, pre, allow_downgrade, sync))
        show_plan(plan)
        result = apply_plan(plan, Progress())
        if json_mode:
            OUTPUT.json({"plan": plan.to_json(), "result": _result_json(result)})

    _run(body)


@cli.command()
@click.option("--json", "json_mode", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(directory: Path, json_mode: bool) -> None:
    """Show the version in every file, the last release, and what is done for this version."""
    OUTPUT.json_mode = json_mode

    def body() -> None:
        from release_tool.status import collect_status

        project = load_project(directory, need_token=True)
        report = collect_status(project)
        if json_mode:
            OUTPUT.json(report.to_json())
            return
        for line in report.lines():
            OUTPUT.line(line)

    _run(body)


def main() -> None:
    """The console script: `release-tool`."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
