"""The command line: the only module that reads argv and the environment, prints, prompts and
chooses exit codes.

Commands are thin: each builds a `Project` and a request, calls one function of the pipeline, and
shows what came back. Every `ReleaseError` becomes its exit code in `_run`, and every line printed
goes through the `Redactor`, so no token reaches the terminal, whatever raised.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from release_tool import __version__
from release_tool.errors import InternalError, Interrupted, ReleaseError, UsageError
from release_tool.redact import Redactor, forms

if TYPE_CHECKING:
    from rich.console import Console

    from release_tool.gha import Actions
    from release_tool.pipeline import RunResult
    from release_tool.plan import Action, Outcome, ReleasePlan, StepPlan
    from release_tool.project import Project, ReleaseRequest, RetryPolicy

# Secrets the environment may hold: redacted everywhere, masked in an Actions log up front.
SECRET_ENV = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "RELEASE_TOOL_SMTP_PASSWORD",
    "RELEASE_TOOL_APP_PRIVATE_KEY",
)


# --- output --------------------------------------------------------------------------------


@dataclass
class Output:
    """Where and how this invocation prints: plain or JSON, quiet or not, always redacted."""

    redact: Redactor = field(default_factory=Redactor)
    json_mode: bool = False
    quiet: bool = False
    actions: Actions | None = None  # inside GitHub Actions: masks, groups, annotations
    _out: Console | None = None
    _err: Console | None = None
    _masks: list[str] = field(default_factory=list)  # `::add-mask::` lines not printed yet

    def _console(self, stderr: bool) -> Console:
        from rich.console import Console

        if stderr:
            self._err = self._err or Console(stderr=True, highlight=False, soft_wrap=True)
            return self._err
        self._out = self._out or Console(highlight=False, soft_wrap=True)
        return self._out

    def line(self, text: str = "", *, style: str | None = None, stderr: bool = False) -> None:
        """Print one redacted line; brackets in diffs are text, never rich markup."""
        self.flush_masks()
        if self.json_mode and not stderr:
            return
        stream = sys.stderr if stderr else sys.stdout
        if not (stream.isatty() or os.environ.get("FORCE_COLOR")):
            # A pipe or a file gets plain text anyway; rich would only cost start-up time.
            stream.write(self.redact(text) + "\n")
            return
        from rich.text import Text

        self._console(stderr).print(Text(self.redact(text), style=style or ""))

    def info(self, text: str, *, style: str | None = None) -> None:
        """Progress and summaries, on stderr; --quiet silences them."""
        if not self.quiet:
            self.line(text, style=style, stderr=True)

    def table(self, title: str, rows: list[tuple[str, str]], *, stderr: bool = False) -> None:
        """A two-column table (name, value); every cell redacted like every line."""
        self.flush_masks()
        if self.json_mode and not stderr:
            return
        from rich.table import Table

        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")  # a URL or a path must be shown whole, never cut
        for name, value in rows:
            table.add_row(self.redact(name), self.redact(value))
        self._console(stderr).print(table)

    def json(self, data: Any) -> None:
        self.flush_masks()
        click.echo(self.redact(json.dumps(data, indent=2, sort_keys=True)))

    def add_secret(self, secret: str | None) -> None:
        """Redact `secret` from now on; inside Actions, also mask it in the log, at once."""
        if not secret or secret in self.redact.secrets:
            return
        self.redact.add(secret)
        if self.actions and secret.strip():
            # Mask the derived spellings too (URL-encoded, Base64 as in a Basic header).
            for form in [secret, *sorted(forms(secret) - {secret})]:
                self._masks.append(self.actions.mask(form))

    def flush_masks(self) -> None:
        """Print the masks not printed yet: before any other line (every printing method
        calls this first), once the stream is known (`_run`, when --json is read)."""
        masks, self._masks = self._masks, []
        for mask in masks:
            self._command_line(mask)

    def command(self, line: str) -> None:
        """A workflow command line as `Actions` made it (already redacted): after the masks."""
        self.flush_masks()
        self._command_line(line)

    def _command_line(self, line: str) -> None:
        """On stdout, GitHub's documented channel for workflow commands; with --json on
        stderr, so stdout stays one JSON document (a `$(...)` capture would hide them).
        The other stream is flushed first, so the command lands where it belongs in the
        merged log."""
        (sys.stdout if self.json_mode else sys.stderr).flush()
        click.echo(line, err=self.json_mode)

    def group(self, title: str) -> None:
        if self.actions and not self.json_mode:
            self.command(self.actions.group(title))

    def endgroup(self) -> None:
        if self.actions and not self.json_mode:
            self.command(self.actions.endgroup())


OUTPUT = Output()


def _run(body: Callable[[], None]) -> NoReturn:
    """Run a command body; the one place where exceptions become exit codes."""
    try:
        OUTPUT.flush_masks()  # inside Actions: the masks before anything else
        body()
    except ReleaseError as exc:
        if isinstance(exc, InternalError) and os.environ.get("RELEASE_TOOL_DEBUG"):
            import traceback

            traceback.print_exception(exc.__cause__ or exc)  # the bug's own traceback
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
    if OUTPUT.actions:
        # An annotation: shown on the run's page and its summary, not only deep in the log.
        hint = f"hint: {exc.hint}" if exc.hint else ""
        text = "\n".join(t for t in (exc.message, exc.details, hint) if t)
        OUTPUT.command(OUTPUT.actions.error(text, title=f"release-tool (exit {exc.exit_code})"))
    if OUTPUT.json_mode:
        OUTPUT.json({"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code})
    OUTPUT.line(f"error: {exc.message}", style="bold red", stderr=True)
    if exc.details:
        for detail in exc.details.splitlines():
            OUTPUT.line(detail, stderr=True)
    if exc.hint:
        OUTPUT.line(f"hint: {exc.hint}", style="yellow", stderr=True)


# --- building the project -------------------------------------------------------------------


def github_token(environ: dict[str, str], *, ask_gh: bool = True) -> str | None:
    """GITHUB_TOKEN, GH_TOKEN, or (when `ask_gh`) what `gh auth token` says, in that order."""
    for key in ("GITHUB_TOKEN", "GH_TOKEN"):
        if environ.get(key):
            return environ[key]
    if not ask_gh:
        return None
    import shutil  # here, not at the top: it pulls in bz2 and lzma, and few runs get here

    if shutil.which("gh"):
        result = subprocess.run(
            ["gh", "auth", "token"], capture_output=True, text=True, check=False, timeout=10
        )
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    return None


def load_project(
    directory: Path, *, need_token: bool = False, progress: Progress | None = None
) -> Project:
    from release_tool.config import load_config
    from release_tool.git_repo import GitRepo
    from release_tool.project import Project, network_timeout

    environ = dict(os.environ)
    root = directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{directory} is not a directory", "pass an existing folder to -C")
    config = load_config(root)
    # The environment's token is always taken (a --local push over HTTPS needs it too); only
    # asking `gh`, a subprocess, waits until a step that talks to GitHub needs a token.
    token = github_token(environ, ask_gh=need_token)
    OUTPUT.add_secret(token)  # `gh auth token` may give one the environment did not hold
    for key in SECRET_ENV:
        OUTPUT.add_secret(environ.get(key))
    policy = retry_policy(environ)
    app = None
    if any(environ.get(f"RELEASE_TOOL_APP_{k}") for k in ("ID", "PRIVATE_KEY", "PRIVATE_KEY_FILE")):
        # A GitHub App: the library's installation token is the token (git pushes with it).
        from release_tool.github_api import api_url
        from release_tool.github_api.auth import app_login

        timeout = network_timeout(environ, config)
        api = api_url(config.github_api, environ)
        login = app_login(environ, api, config.repository, policy=policy, timeout=timeout)
        if login is not None:
            app, token = login
            OUTPUT.add_secret(app.private_key)
            OUTPUT.add_secret(token)
    return Project(
        root=root,
        config=config,
        repo=GitRepo(root, token),
        token=token,
        environ=environ,
        app=app,
        policy=policy,
        poll_interval=_seconds(environ, "RELEASE_TOOL_POLL_INTERVAL", 10.0),
        network_timeout=network_timeout(environ, config),
        progress=progress.update if progress else None,
    )


def _seconds(environ: dict[str, str], key: str, default: float) -> float:
    value = environ.get(key)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"{key}={value!r} is not a number of seconds", f"e.g. {key}=1") from None
    if seconds < 0:
        raise UsageError(f"{key}={value!r} is negative", f"e.g. {key}=1")
    return seconds


def retry_policy(environ: dict[str, str]) -> RetryPolicy:
    """GitHub retries: GitHub's pace by default; RELEASE_TOOL_RETRY_BACKOFF and
    RELEASE_TOOL_RETRY_MAX_WAIT (seconds) shorten them (tests, impatient maintainers)."""
    from release_tool.project import RetryPolicy

    default = RetryPolicy()
    return RetryPolicy(
        attempts=default.attempts,
        backoff=_seconds(environ, "RELEASE_TOOL_RETRY_BACKOFF", default.backoff),
        max_wait=_seconds(environ, "RELEASE_TOOL_RETRY_MAX_WAIT", default.max_wait),
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
        _show_step(step)


def _show_step(step: StepPlan) -> None:
    if step.skipped:
        OUTPUT.line(f"\n{step.name}: skipped ({step.skipped})", style="dim")
        for note in step.notes:  # a warning still matters when there is nothing to do
            OUTPUT.line(f"  ✓ {note}")
        return
    OUTPUT.group(step.name)  # in an Actions log, each step's diffs fold under its name
    OUTPUT.line(f"\n{step.name}", style="bold cyan")
    for note in step.notes:
        OUTPUT.line(f"  ✓ {note}")
    for action in step.actions:
        OUTPUT.line(f"  • {action.describe()}")
        for detail in action.details().splitlines():
            style = "green" if detail.startswith("+") else "red" if detail.startswith("-") else None
            OUTPUT.line(f"      {detail}", style=style)
    OUTPUT.endgroup()


class Progress:
    """Progress on stderr (stdout stays the plan or the JSON): a spinner while an action runs
    (on a terminal), then a ✓ line with what it did, or a ✗ line with why it failed."""

    def __init__(self) -> None:
        self._status: Any = None
        # What was applied, kept for the Actions step summary of a run that fails part-way.
        self.applied: list[dict[str, str]] = []
        self.outputs: dict[str, str] = {}
        self.failed_step: str | None = None

    def action_started(self, action: Action) -> None:
        if OUTPUT.quiet:
            return
        console = OUTPUT._console(stderr=True)
        if console.is_terminal:
            from rich.status import Status

            self._status = Status(
                OUTPUT.redact(f"{action.step}: {action.describe()}"), console=console
            )
            self._status.start()

    def update(self, message: str) -> None:
        """Long waits (the package index, a fork being created) say what they wait for."""
        if self._status is not None:
            self._status.update(OUTPUT.redact(message))

    def _stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def action_done(self, action: Action, outcome: Outcome) -> None:
        self._stop()
        self.applied.append(
            {"step": action.step, "action": action.describe(), "summary": outcome.summary}
        )
        self.outputs.update(outcome.produced.outputs())
        OUTPUT.info(f"{MARK['done']} {action.step}: {outcome.summary}", style="green")

    def action_failed(self, action: Action, error: BaseException) -> None:
        self._stop()
        self.failed_step = action.step
        OUTPUT.info(f"{MARK['failed']} {action.step}: {action.describe()}", style="red")

    def partial_result(self, exc: ReleaseError) -> dict[str, Any]:
        """The result JSON of a run that stopped: what it did, where, and why."""
        return {
            "applied": self.applied,
            "outputs": self.outputs,
            "failed_step": self.failed_step or "preflight",
            "error": exc.message,
        }


def show_result(plan: ReleasePlan, result: RunResult) -> None:
    """The final summary table: every step, done or skipped and why."""
    done: dict[str, list[str]] = {}
    for name, _, outcome in result.applied:
        done.setdefault(name, []).append(outcome.summary)
    rows: list[tuple[str, str]] = []
    for step in plan.steps:
        if step.name in done:
            rows.append((f"{MARK['done']} {step.name}", "\n".join(done[step.name])))
        elif step.skipped:
            rows.append((f"{MARK['skipped']} {step.name}", f"skipped: {step.skipped}"))
        elif not step.actions:
            rows.append((f"{MARK['done']} {step.name}", "; ".join(step.notes) or "nothing to do"))
    if not OUTPUT.quiet:
        OUTPUT.info("")
        OUTPUT.table(f"{plan.package} {plan.new}", rows, stderr=True)
    if not result.applied:
        OUTPUT.info(
            f"Nothing to do: {plan.package} {plan.new} ({plan.tag}) is already released.",
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
    metavar="DIR",
    help="Run on the repository in DIR instead of the current folder.",
)
@click.pass_context
def cli(ctx: click.Context, directory: Path) -> None:
    """Release a library end to end: bump, tag, push, GitHub release, downstream PR, email.

    Start with `release-tool plan patch` to see exactly what a release would do.
    """
    global OUTPUT  # noqa: PLW0603 - one Output per invocation (tests invoke many in a process)
    OUTPUT = Output()
    if os.environ.get("GITHUB_ACTIONS") == "true":  # gha is imported only where it is used
        from release_tool.gha import Actions

        OUTPUT.actions = Actions.from_environ(os.environ, redact=OUTPUT.redact)
    for key in SECRET_ENV:  # the masks first, before any line that could hold a secret
        OUTPUT.add_secret(os.environ.get(key))
    ctx.obj = directory


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _options(*decorators: Decorator) -> Decorator:
    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


_bump_options = _options(
    click.argument("bump", metavar="BUMP"),
    click.option(
        "--pre",
        type=click.Choice(["a", "alpha", "b", "beta", "rc"]),
        help="Start or advance a pre-release (e.g. `patch --pre rc`).",
    ),
    click.option(
        "--sync", is_flag=True, help="Bring disagreeing version files to the explicit VERSION."
    ),
    click.option(
        "--allow-downgrade",
        is_flag=True,
        help="Allow a version that is not greater than the current one.",
    ),
    click.option("--json", "json_mode", is_flag=True, help="Print the plan and result as JSON."),
)

_release_options = _options(
    _bump_options,
    click.option(
        "--allow-empty-notes",
        is_flag=True,
        help="Release even if the changelog has no notes for it.",
    ),
    click.option("--skip", multiple=True, metavar="STEP", help="Leave out a step (repeatable)."),
    click.option("--only", multiple=True, metavar="STEP", help="Run only this step (repeatable)."),
    click.option(
        "--local",
        is_flag=True,
        help="Only the local steps: bump, commit, tag, push (no GitHub, no email).",
    ),
    click.option(
        "--send-email",
        is_flag=True,
        help="Send the notification email through SMTP, not only the draft.",
    ),
    click.option(
        "--allow-unpushed",
        is_flag=True,
        help="Let the push publish local commits the remote's branch does not have yet.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="No progress lines, only errors."),
    click.option(
        "--no-verify", is_flag=True, help="Skip the repository's commit hooks (git --no-verify)."
    ),
)


def _request(options: dict[str, Any]) -> ReleaseRequest:
    """The pipeline's request from a command's options (absent ones take their defaults)."""
    from release_tool.project import Bump, ReleaseRequest

    pre = options.get("pre")
    return ReleaseRequest(
        bump=Bump.parse(options["bump"]),
        pre={"alpha": "a", "beta": "b"}.get(pre or "", pre),
        allow_downgrade=options.get("allow_downgrade", False),
        allow_empty_notes=options.get("allow_empty_notes", False),
        sync=options.get("sync", False),
        send_email=options.get("send_email", False),
        skip=frozenset(options.get("skip", ())),
        only=frozenset(options.get("only", ())),
        local=bool(options.get("local")),
        allow_unpushed=options.get("allow_unpushed", False),
        no_verify=bool(options.get("no_verify")),
        today=date.today(),
    )


def _needs_token(request: ReleaseRequest) -> bool:
    from release_tool.pipeline import needs_token

    return needs_token(request)


def _result_json(result: RunResult) -> dict[str, Any]:
    return {
        "applied": [{"step": s, "action": d, "summary": o.summary} for s, d, o in result.applied],
        "outputs": result.outputs,
        "state": dataclasses.asdict(result.state),
    }


def report_to_actions(plan: ReleasePlan, result: dict[str, Any] | None) -> None:
    """Inside Actions: the step outputs and the step summary (`result` None: a dry run)."""
    if OUTPUT.actions is None:
        return
    from release_tool.email import WriteDraftAction
    from release_tool.gha import release_outputs, summary_markdown

    plan_json = plan.to_json()
    email = next((a.details() for a in plan.actions if isinstance(a, WriteDraftAction)), None)
    OUTPUT.actions.set_outputs(release_outputs(plan_json, result))
    OUTPUT.actions.write_summary(summary_markdown(plan_json, result, email, redact=OUTPUT.redact))


@cli.command()
@_release_options
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before applying the plan.")
@click.pass_obj
def release(directory: Path, /, **options: Any) -> None:
    """Release BUMP: major, minor, patch, release, pre, current, or a version like 5.3.0."""
    OUTPUT.json_mode = options["json_mode"]
    OUTPUT.quiet = options["quiet"]

    def body() -> None:
        from release_tool.pipeline import check_applicable, plan_release, run_release

        request = _request(options)
        progress = Progress()
        project = load_project(directory, need_token=_needs_token(request), progress=progress)
        plan = plan_release(project, request)
        show_plan(plan)
        if options["dry_run"]:
            if OUTPUT.json_mode:
                OUTPUT.json({"plan": plan.to_json(), "dry_run": True})
            report_to_actions(plan, None)
            OUTPUT.info("\nDry run: nothing was changed.", style="bold")
            return
        check_applicable(plan)  # refused before asking: unpushed commits, no token
        confirm_or_refuse(options["yes"])
        try:
            result = run_release(project, plan, progress)
        except ReleaseError as exc:
            report_to_actions(plan, progress.partial_result(exc))  # then _run reports exc
            raise
        show_result(plan, result)
        report_to_actions(plan, _result_json(result))
        if OUTPUT.json_mode:
            OUTPUT.json({"plan": plan.to_json(), "result": _result_json(result)})

    _run(body)


@cli.command()
@_release_options
@click.pass_obj
def plan(directory: Path, /, **options: Any) -> None:
    """Show what `release BUMP` would do, and change nothing (same as `release --dry-run`)."""
    OUTPUT.json_mode = options["json_mode"]

    def body() -> None:
        from release_tool.pipeline import plan_release

        request = _request(options)
        project = load_project(directory, need_token=_needs_token(request))
        plan = plan_release(project, request)
        show_plan(plan)
        if OUTPUT.json_mode:
            OUTPUT.json({"plan": plan.to_json(), "dry_run": True})
        report_to_actions(plan, None)

    _run(body)


@cli.command(name="bump")
@_bump_options
@click.pass_obj
def bump_command(directory: Path, /, **options: Any) -> None:
    """Only edit the version files and the changelog to BUMP (no commit, no tag)."""
    OUTPUT.json_mode = options["json_mode"]

    def body() -> None:
        from release_tool.pipeline import apply_plan, plan_bump

        project = load_project(directory)
        plan = plan_bump(project, _request(options))
        show_plan(plan)
        result = apply_plan(plan, Progress())
        if OUTPUT.json_mode:
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


def _apply_steps(steps: list[StepPlan], yes: bool, progress: Progress) -> RunResult:
    """Show and apply a few steps planned outside a release (`email`, `downstream`)."""
    from release_tool.pipeline import apply_plan, plan_of

    plan = plan_of(*steps)
    for step in steps:
        _show_step(step)
    if not plan.actions:
        OUTPUT.info("Nothing to do.", style="bold")
        return apply_plan(plan)
    confirm_or_refuse(yes)
    return apply_plan(plan, progress)


@cli.command(name="email")
@click.argument("version")
@click.option("--send-email", "send", is_flag=True, help="Send it through SMTP too.")
@click.option("--dry-run", is_flag=True, help="Show the email and change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before writing or sending.")
@click.pass_obj
def email_command(directory: Path, /, version: str, send: bool, dry_run: bool, yes: bool) -> None:
    """Render the notification email of VERSION, released earlier, as a .eml draft."""

    def body() -> None:
        from release_tool.plan import RunState
        from release_tool.steps.email import plan_email, released_facts
        from release_tool.versions import parse_version

        progress = Progress()
        project = load_project(directory, progress=progress)
        facts = released_facts(project, parse_version(version), date.today())
        step = plan_email(project, facts, send=send, known=RunState())
        if dry_run:
            _show_step(step)
            return
        result = _apply_steps([step], yes or not send, progress)
        if result.state.email_draft:
            OUTPUT.line(result.state.email_draft)

    _run(body)


@cli.command()
@click.argument("version")
@click.option("--dry-run", is_flag=True, help="Show the PR and change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before opening the PR.")
@click.pass_obj
def downstream(directory: Path, /, version: str, dry_run: bool, yes: bool) -> None:
    """Open or update the downstream PRs for VERSION, released earlier."""

    def body() -> None:
        from release_tool.steps.downstream import plan_released
        from release_tool.versions import parse_version

        progress = Progress()
        project = load_project(directory, need_token=True, progress=progress)
        steps = [plan_released(project, parse_version(version))]
        if dry_run:
            for step in steps:
                _show_step(step)
            return
        result = _apply_steps(steps, yes, progress)
        for url in result.state.pr_urls:
            OUTPUT.line(url)

    _run(body)


@cli.group()
def sandbox() -> None:
    """The embedded GitHub: an API subset and git over HTTP on 127.0.0.1, for rehearsals."""


@sandbox.command()
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder of the sandbox's repositories (ROOT/OWNER/NAME.git) and state.",
)
@click.option("--port", type=int, default=0, help="Port to listen on (default: a free one).")
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN[:USER]",
    help="A token and its user (default user: maintainer). Repeatable.",
)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="USER:OWNER/NAME",
    help="Let USER write OWNER/NAME. Repeatable.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="'METHOD PATH_GLOB STATUS [COUNT]'",
    help="Make matching requests fail (STATUS: a code, reset, ratelimit). Repeatable.",
)
@click.option(
    "--seed", type=click.Choice(["example"]), help="Create the bundled example repositories first."
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also serve the wheels and sdists in DIR as a package index at /simple/.",
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="OWNER/OLD=OWNER/NEW",
    help="Rename a repository first; the old name redirects, as on GitHub. Repeatable.",
)
@click.option(
    "--app",
    "apps",
    multiple=True,
    metavar="ID:KEYFILE",
    help="A GitHub App (its private key in PEM), installed on every owner. Repeatable.",
)
def serve(
    root: Path,
    port: int,
    tokens: tuple[str, ...],
    grants: tuple[str, ...],
    faults: tuple[str, ...],
    seed: str | None,
    index_dir: Path | None,
    renames: tuple[str, ...],
    apps: tuple[str, ...],
) -> None:
    """Serve a sandbox until interrupted, printing its API URL."""

    def body() -> None:
        from release_tool import sandbox as sb

        token_map = dict(sb.parse_token(spec) for spec in tokens)
        for token in token_map:
            OUTPUT.add_secret(token)
        parsed_grants = [sb.parse_grant(spec) for spec in grants]
        parsed_faults = [sb.parse_fault(spec) for spec in faults]
        parsed_renames = [sb.parse_rename(spec) for spec in renames]
        parsed_apps = [sb.parse_app(spec) for spec in apps]
        if seed:
            sb.seed_example(root)
        server = sb.Sandbox(
            root,
            port=port,
            tokens=token_map,
            grants=parsed_grants,
            faults=parsed_faults,
            index=index_dir,
            renames=parsed_renames,
            apps=parsed_apps,
        )

        def ready(s: sb.Sandbox) -> None:
            OUTPUT.line(s.api_url)
            OUTPUT.info(
                f"git: {s.url}/OWNER/NAME.git   repositories: "
                f"{', '.join(s.repositories()) or 'none'}"
            )
            if s.index is not None:
                OUTPUT.info(f"package index: {s.index_url} (serving {s.index.directory})")
            OUTPUT.info("use it with RELEASE_TOOL_GITHUB_API=" + s.api_url + "; Ctrl-C stops it")

        try:
            server.serve_forever(ready)
        except KeyboardInterrupt:
            OUTPUT.info("sandbox stopped")

    _run(body)


@cli.command()
@click.argument("bump", metavar="[BUMP]", default="patch")
@click.option(
    "--example", is_flag=True, help="Rehearse the bundled example pair instead of this repository."
)
@click.option(
    "--downstream-from",
    type=click.Path(path_type=Path, exists=True),
    help="A local copy of the downstream repository to rehearse against.",
)
@click.option(
    "--pre",
    type=click.Choice(["a", "alpha", "b", "beta", "rc"]),
    help="Start or advance a pre-release.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Keep the sandbox serving afterwards, to browse the result (Ctrl-C stops).",
)
@click.option(
    "--workspace",
    type=click.Path(path_type=Path),
    help="Folder for the sandbox and the working copy (default: a new temp folder).",
)
@click.option("--json", "json_mode", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
@click.pass_obj
def rehearse(directory: Path, /, **options: Any) -> None:
    """Run the complete release against an embedded sandbox, on copies: nothing real changes.

    Shows the plan, applies it, and ends with the tag, the release, the downstream PR and the
    email draft it produced.
    """
    OUTPUT.json_mode = options["json_mode"]
    OUTPUT.quiet = options["quiet"]

    def body() -> None:
        import tempfile

        from release_tool.pipeline import plan_release, run_release
        from release_tool.rehearsal import prepare, summarize

        workspace = options["workspace"] or Path(tempfile.mkdtemp(prefix="release-tool-rehearsal-"))
        workspace.mkdir(parents=True, exist_ok=True)
        source = None if options["example"] else directory.resolve()
        rehearsal = prepare(
            source, workspace, downstream_from=options["downstream_from"], environ=os.environ
        )
        OUTPUT.add_secret(rehearsal.token)
        try:
            OUTPUT.info(
                f"Sandbox GitHub at {rehearsal.sandbox.api_url} "
                f"with {', '.join(rehearsal.repositories)}"
            )
            request = _request({"bump": options["bump"], "pre": options["pre"]})
            plan = plan_release(rehearsal.project, request)
            if not OUTPUT.quiet:
                show_plan(plan)
            result = run_release(rehearsal.project, plan, Progress())
            show_result(plan, result)
            summary = summarize(rehearsal, plan, result)
            if OUTPUT.json_mode:
                OUTPUT.json(summary)
            else:
                show_summary(summary)
            if options["keep"]:
                OUTPUT.line(  # even with --quiet: where to browse is the point of --keep
                    f"\nThe sandbox keeps serving at {rehearsal.sandbox.api_url} (reads need no "
                    f"token; git clone {rehearsal.sandbox.url}/OWNER/NAME.git). Ctrl-C stops it.",
                    stderr=True,
                )
                _wait_for_interrupt()
        finally:
            rehearsal.sandbox.stop()

    _run(body)


def _wait_for_interrupt() -> None:
    import time

    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        OUTPUT.info("sandbox stopped")


def show_summary(summary: dict[str, Any]) -> None:
    OUTPUT.line("")
    OUTPUT.table(
        "Rehearsal result",
        [
            ("version", summary["version"]),
            ("tag", f"{summary['tag']}  {summary['tag_url']}"),
            ("GitHub release", summary["release_url"] or "—"),
            ("downstream PR", "\n".join(summary["downstream_pr_urls"]) or "—"),
            ("email draft", summary["email_draft"] or "—"),
            ("workspace", summary["workspace"]),
        ],
    )
    if summary["release_body"]:
        OUTPUT.line("\nRelease notes (the GitHub release body):", style="bold")
        OUTPUT.line(summary["release_body"])
    if summary["downstream_diff"]:
        OUTPUT.line("\nDownstream PR:", style="bold")
        OUTPUT.line(summary["downstream_diff"])


def main() -> None:
    """The console script: `release-tool`."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
