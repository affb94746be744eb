"""Applying a release plan: every action in order, with the run state passed explicitly.

`run_release` applies a plan under the repository's release lock (its journal lets the next
run recover from a crash); `apply_plan` applies the actions, passing each the `RunState` the
earlier ones produced. Before the push, a failed action rolls back the local actions already
applied, and what the failed one did itself; after it, nothing is undone and the error says to
run the same command again. A failed or interrupted push is not taken at its word: the remote
is asked whether it landed first (the same question the `recover` step asks after a crash).
Ctrl-C and SIGTERM take the same path; a second one during a rollback waits for it, a third
aborts it and leaves the journal. An exception that is not a `ReleaseError` is a bug: it is
rolled back all the same and reported as an internal error, with its traceback kept as the
cause. Planning (`release_tool.pipeline`) never imports this module: a dry run does not load
what only a real run needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from release_tool.errors import (
    InternalError,
    Interrupted,
    ReleaseError,
    StepFailed,
    Unfinished,
    UsageError,
)
from release_tool.files.write import WriteFileAction
from release_tool.git_actions import TagAction
from release_tool.interrupts import (
    RollbackAborted,
    Terminated,
    held_interrupts,
    terminate_as_interrupt,
)
from release_tool.pipeline import check_applicable
from release_tool.plan import Action, Outcome, ReleasePlan, RunState, Uncertain, Undoable
from release_tool.project import Project
from release_tool.release_lock import PreImage, ReleaseLock
from release_tool.steps import POINT_OF_NO_RETURN


class Observer(Protocol):
    """How the CLI follows a run (progress lines); the pipeline itself never prints."""

    def action_started(self, action: Action) -> None: ...

    def action_done(self, action: Action, outcome: Outcome) -> None: ...

    def action_failed(self, action: Action, error: BaseException) -> None: ...


@dataclass
class RunResult:
    """What a run did: each applied action's step, description and outcome, and the state."""

    applied: list[tuple[str, str, Outcome]] = field(default_factory=list)
    state: RunState = field(default_factory=RunState)

    @property
    def outputs(self) -> dict[str, str]:
        return self.state.outputs()


def run_release(project: Project, plan: ReleasePlan, observer: Observer | None = None) -> RunResult:
    """Apply a release plan under the repository's release lock.

    The lock keeps a second release of this repository from starting while this one runs, and
    records the local state before it, so a run killed outright is recovered by the next. A
    plan that recovers an interrupted run takes over that run's lock (and journal). A run that
    ends `Unfinished` (its push's fate unknown, its rollback cut short) leaves the lock and its
    journal for the next run's `recover` step. SIGTERM is handled as Ctrl-C is.
    """
    from release_tool.git_recover import RecoverAction

    files = {a.relpath: a.old for a in plan.actions if isinstance(a, WriteFileAction)}
    tags = tuple(a.name for a in plan.actions if isinstance(a, TagAction))
    check_applicable(plan)
    lock = ReleaseLock(project.repo)
    working = project.repo.state()

    recovery = next((a for a in plan.actions if isinstance(a, RecoverAction)), None)
    stale = lock.journal() if recovery is not None else None
    if recovery is not None and recovery.kind == "rollback" and recovery.head:
        # Until the rollback is done, a crash must still be rolled back to the old pre-image.
        preimage = PreImage(
            recovery.head,
            {**files, **recovery.files},
            tuple(dict.fromkeys((*recovery.tags, *tags))),
            working.branch,
        )
    else:
        preimage = PreImage(working.head, files, tags, working.branch)
    lock.acquire(preimage, stale=stale)
    unsettled = False
    try:
        if plan.head is not None and working.head != plan.head:
            raise UsageError(
                "the repository changed after the plan was made",
                "run the same command again to plan on what is there now",
            )
        with terminate_as_interrupt():
            return apply_plan(plan, observer)
    except Unfinished:
        unsettled = True
        raise
    finally:
        if unsettled:
            lock.leave()
        else:
            lock.release()


def apply_plan(plan: ReleasePlan, observer: Observer | None = None) -> RunResult:
    """Apply every action in order; roll back local ones if anything fails before the push.

    A failed or interrupted action is undone too (whatever part of it git got to). A push
    that fails is not taken at its word: the remote is asked whether it landed (its answer may
    have been lost) before anything is rolled back; if it did, the run goes on from there (an
    interrupt stops it, the release commit and tag kept, for the same command to finish).
    """
    result = RunResult(state=plan.known)
    undo_stack: list[Undoable] = []
    pushed = False
    for action in plan.actions:
        if observer:
            observer.action_started(action)
        try:
            outcome = action.apply(result.state)
        except (Exception, KeyboardInterrupt) as exc:
            if observer:
                observer.action_failed(action, exc)
            if pushed:
                raise _failure(action, exc, pushed, "", plan.new) from exc
            if not _landed_anyway(action, exc):
                undo = [*undo_stack, action] if isinstance(action, Undoable) else undo_stack
                rolled_back = _roll_back(action, exc, undo)
                raise _failure(action, exc, pushed, rolled_back, plan.new) from exc
            if isinstance(exc, KeyboardInterrupt):
                raise Interrupted(
                    f"{_stopped(exc)} during {action.step}, after {_remote_of(action)} took "
                    "the push: the release commit and tag are kept",
                    f"run the same command again, with {plan.new} (or current) as BUMP, to "
                    "finish the release",
                ) from exc
            outcome = Outcome(f"{action.describe()}: the answer was lost, but the remote has it")
        result.applied.append((action.step, action.describe(), outcome))
        result.state = result.state.merge(outcome.produced)
        if isinstance(action, Undoable):
            undo_stack.append(action)
        if action.step == POINT_OF_NO_RETURN:
            pushed = True
        if observer:
            observer.action_done(action, outcome)
    return result


def _stopped(exc: BaseException) -> str:
    return "terminated" if isinstance(exc, Terminated) else "interrupted"


def _remote_of(action: Action) -> str:
    return str(getattr(action, "remote", "the remote"))


def _landed_anyway(action: Action, exc: BaseException) -> bool:
    """Whether a failed push landed all the same (see `Uncertain`); False for other actions.
    Raises `Unfinished` when the remote cannot tell: nothing is rolled back then, and the next
    run asks again (its `recover` step)."""
    if action.step != POINT_OF_NO_RETURN or not isinstance(action, Uncertain):
        return False
    said = _said(exc)
    with held_interrupts():
        try:
            return action.landed()
        except RollbackAborted:
            raise Unfinished(
                f"{_stopped(exc)} twice during {action.step}: whether the push landed is not "
                "known yet; local changes kept",
                "run the same command again: it asks the remote first, then finishes the "
                "release or rolls it back",
                exit_code=130,
            ) from exc
        except Exception as check:
            raise Unfinished(
                f"{action.step} failed ({said}), and whether {_remote_of(action)} took it cannot "
                f"be told ({_said(check)}): local changes kept",
                "run the same command again when the remote is reachable: it asks the remote "
                "first, then finishes the release or rolls it back",
                exit_code=130 if isinstance(exc, KeyboardInterrupt) else 1,
            ) from exc


def _said(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return _stopped(exc)
    return exc.message if isinstance(exc, ReleaseError) else f"{type(exc).__name__}: {exc}"


def _roll_back(action: Action, exc: BaseException, undo_stack: list[Undoable]) -> str:
    """Undo the stack, newest first, with interrupts held: one more is kept until the rollback
    is done; another aborts it (`Unfinished`: the journal stays for the next run). An undo that
    fails does not stop the others; the rollback is then incomplete, and also `Unfinished`."""
    failures = []
    try:
        with held_interrupts():
            for undoable in reversed(undo_stack):
                try:
                    undoable.undo()
                except Exception as failed:  # keep undoing the rest; report what could not be
                    failures.append(f"{type(failed).__name__}: {failed}")
    except RollbackAborted:
        raise Unfinished(
            f"{_said(exc)} during {action.step}, then interrupted twice during the rollback: "
            "it is not finished",
            "run the same command again: it finishes the rollback first",
            exit_code=130,
        ) from exc
    if failures:
        raise Unfinished(
            f"{action.step} failed: {_said(exc)}; rollback incomplete: " + "; ".join(failures),
            "run the same command again: it finishes the rollback first",
            exit_code=130 if isinstance(exc, KeyboardInterrupt) else 1,
        ) from exc
    return "; local changes rolled back" if undo_stack else ""


def _failure(
    action: Action, exc: BaseException, pushed: bool, rolled_back: str, version: object
) -> ReleaseError:
    # After the push, HEAD carries the release's tag: a bump word would release the next
    # version, so the hint says which BUMP finishes this one.
    bump = f"with {version} (or current) as BUMP"
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted(
            f"{_stopped(exc)} during {action.step}{rolled_back}",
            f"run the same command again, {bump}, to finish" if pushed else "",
        )
    if not isinstance(exc, ReleaseError):
        return InternalError(
            f"internal error during {action.step}: {type(exc).__name__}: {exc}{rolled_back}",
            "this is a bug in release-tool; rerun with RELEASE_TOOL_DEBUG=1 for the traceback "
            "and report it",
        )
    again = (
        f"run the same command again, {bump}, to finish the release"
        if pushed
        else "fix the cause and run the same command again"
    )
    if "same command again" in exc.hint:  # the step's own hint already says it
        again = f"run it {bump}" if pushed else ""
    message = exc.message.removeprefix(f"{action.step} failed: ")
    return StepFailed(
        f"{action.step} failed: {message}{rolled_back}",
        "; ".join(h for h in (exc.hint, again) if h),
        exc.details,
    )


__all__ = ["Observer", "RunResult", "apply_plan", "run_release"]
