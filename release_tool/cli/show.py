"""Showing plans, progress and results: the plan on stdout, the rest on stderr.

`show_plan` prints every step with its notes, actions and details (diffs, bodies); `Progress`
follows a run (a spinner on a terminal, then a ✓ or ✗ line per action); `show_result` ends a
run with a table of every step and the final line. The JSON documents (`result_json`) and the
GitHub Actions outputs and step summary (`report_to_actions`) are built here too, so a run
says the same thing in every form.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from release_tool.cli.console import Output

if TYPE_CHECKING:
    from rich.status import Status

    from release_tool.apply import RunResult
    from release_tool.errors import ReleaseError
    from release_tool.plan import Action, Outcome, ReleasePlan, StepPlan

MARK = {"done": "✓", "skipped": "–", "failed": "✗"}


# --- plans ------------------------------------------------------------------------------------


def show_plan(output: Output, plan: ReleasePlan) -> None:
    resumed = " (finishing the release HEAD already carries)" if plan.resumed else ""
    output.line(
        f"Release plan: {plan.package} {plan.current} → {plan.new}, tag {plan.tag}{resumed}",
        style="bold",
    )
    for step in plan.steps:
        show_step(output, step)


def show_step(output: Output, step: StepPlan) -> None:
    if step.skipped:
        output.line(f"\n{step.name}: skipped ({step.skipped})", style="dim")
        for note in step.notes:  # a warning still matters when there is nothing to do
            output.line(f"  ✓ {note}")
        return
    output.group(step.name)  # in an Actions log, each step's diffs fold under its name
    output.line(f"\n{step.name}", style="bold cyan")
    for note in step.notes:
        output.line(f"  ✓ {note}")
    for action in step.actions:
        output.line(f"  • {action.describe()}")
        for detail in action.details().splitlines():
            style = "green" if detail.startswith("+") else "red" if detail.startswith("-") else None
            output.line(f"      {detail}", style=style)
    output.endgroup()


def dry_run_line(plan: ReleasePlan) -> str:
    """The final line of a dry run (`plan`, `release --dry-run`)."""
    count = len(plan.actions)
    return (
        f"Dry run: {plan.package} {plan.current} → {plan.new} ({plan.tag}), "
        f"{count} action{'s' if count != 1 else ''} planned: nothing was changed."
    )


# --- following a run --------------------------------------------------------------------------


class Progress:
    """Progress on stderr (stdout stays the plan or the JSON): a spinner while an action runs
    (on a terminal), then a ✓ line with what it did, or a ✗ line with why it failed."""

    def __init__(self, output: Output) -> None:
        self.output = output
        self._status: Status | None = None
        # What was applied, kept for the Actions step summary of a run that fails part-way.
        self.applied: list[dict[str, str]] = []
        self.outputs: dict[str, str] = {}
        self.failed_step: str | None = None

    def action_started(self, action: Action) -> None:
        self._status = self.output.spinner(f"{action.step}: {action.describe()}")

    def update(self, message: str) -> None:
        """Long waits (the package index, a fork being created) say what they wait for."""
        if self._status is not None:
            self._status.update(self.output.redact(message))

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
        self.output.info(f"{MARK['done']} {action.step}: {outcome.summary}", style="green")

    def action_failed(self, action: Action, error: BaseException) -> None:
        self._stop()
        self.failed_step = action.step
        self.output.info(f"{MARK['failed']} {action.step}: {action.describe()}", style="red")

    def partial_result(self, exc: ReleaseError) -> dict[str, Any]:
        """The result JSON of a run that stopped: what it did, where, and why."""
        return {
            "applied": self.applied,
            "outputs": self.outputs,
            "failed_step": self.failed_step or "preflight",
            "error": exc.message,
        }


# --- results ----------------------------------------------------------------------------------


def show_result(
    output: Output, plan: ReleasePlan, result: RunResult, *, final: bool = True
) -> None:
    """The summary table (every step, done or skipped and why), and what was released: the
    final line (`final`), or a line before the caller's own final line."""
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
    output.info("")
    output.table(f"{plan.package} {plan.new}", rows, stderr=True)
    say = output.final if final else output.info
    if not result.applied:
        say(
            f"Nothing to do: {plan.package} {plan.new} ({plan.tag}) is already released.",
            style="bold",
        )
    else:
        say(f"Released {plan.package} {plan.new} ({plan.tag}).", style="bold green")


def result_json(result: RunResult) -> dict[str, Any]:
    return {
        "applied": [{"step": s, "action": d, "summary": o.summary} for s, d, o in result.applied],
        "outputs": result.outputs,
        "state": dataclasses.asdict(result.state),
    }


def report_to_actions(output: Output, plan: ReleasePlan, result: dict[str, Any] | None) -> None:
    """Inside Actions: the step outputs and the step summary (`result` None: a dry run)."""
    if output.actions is None:
        return
    from release_tool.email import WriteDraftAction
    from release_tool.gha import release_outputs, summary_markdown

    plan_json = plan.to_json()
    email = next((a.details() for a in plan.actions if isinstance(a, WriteDraftAction)), None)
    output.actions.set_outputs(release_outputs(plan_json, result))
    output.actions.write_summary(summary_markdown(plan_json, result, email, redact=output.redact))


def show_rehearsal(output: Output, summary: dict[str, Any]) -> None:
    """What a rehearsal produced: a table (with where each downstream's data came from, and
    what the rehearsal did differently), the release notes, the downstream PR and the email."""
    output.line("")
    output.table(
        "Rehearsal result",
        [
            ("version", summary["version"]),
            ("tag", f"{summary['tag']}  {summary['tag_url']}"),
            ("GitHub release", summary["release_url"] or "—"),
            ("downstream PR", "\n".join(summary["downstream_pr_urls"]) or "—"),
            ("email draft", summary["email_url"] or summary["email_draft"] or "—"),
            ("repository", summary["repository_url"]),
            *((f"downstream data: {k}", v) for k, v in summary["downstream_data"].items()),
            *(("note", note) for note in summary["notes"]),
            (
                "workspace",
                summary["workspace"]
                if summary["workspace_kept"]
                else "deleted at exit (--keep or --workspace DIR keeps it)",
            ),
        ],
    )
    if summary["release_body"]:
        output.line("\nRelease notes (the GitHub release body):", style="bold")
        output.line(summary["release_body"])
    if summary["downstream_diff"]:
        output.line("\nDownstream PR:", style="bold")
        output.line(summary["downstream_diff"])
    if summary["email"]:
        output.line("\nEmail draft:", style="bold")
        output.line(summary["email"])
