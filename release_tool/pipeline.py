"""The orchestrator: plan every step of the registry with reads only, then apply in order.

    recover → preflight → bump → commit → tag → push ──► github-release → wait-for-index
    → downstream → email

`plan_release` lets `preflight.survey` read the world once, then walks `steps.REGISTRY`:
each selected step's module plans on the facts and on what the steps before it already know
(`Planning.known`); a step left out by --skip/--only/--local is recorded as not selected —
this module is the only place that decides which steps run. Every problem is reported at
once: preflight's, and those of the steps planned after it (a downstream file that does not
pin the package, a template that does not render). A dry run prints the plan; a real run
prints the same plan and hands it to `run_release`.

What only stops a *real* run is the plan's `blockers`: commits the push would publish besides
the release commit (unless --allow-unpushed), and a missing GitHub token for a remote step
that has something to do (a plan reads public repositories anonymously). `run_release`
refuses a blocked plan before it changes anything.

Applying passes an explicit `RunState` from action to action (the commit, the tag, the release
URL, the PR URLs). Before the push, a failed action rolls back the local actions already
applied, and what the failed one did itself; after it, nothing is undone and the error says to
run the same command again. A failed or interrupted push is not taken at its word: the remote
is asked whether it landed first (the same question the `recover` step asks after a crash).
Ctrl-C and SIGTERM take the same path; a second one during a rollback waits for it, a third
aborts it and leaves the journal. An exception that is not a `ReleaseError` is a bug: it is
rolled back all the same and reported as an internal error, with its traceback kept as the
cause.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

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
from release_tool.plan import Action, Outcome, ReleasePlan, RunState, StepPlan, Uncertain, Undoable
from release_tool.project import Project, ReleaseRequest, tag_name
from release_tool.release_lock import PreImage, ReleaseLock
from release_tool.steps import ALWAYS, NAMES, POINT_OF_NO_RETURN, REGISTRY, Step
from release_tool.steps.base import Planning, Remote

NOT_SELECTED = "not selected (--skip/--only)"

StepPlanner = Callable[[Planning], StepPlan]


# --- selecting and planning ------------------------------------------------------------------


def selected(request: ReleaseRequest, step: Step) -> bool:
    """Whether the request keeps `step`: the one place --skip, --only and --local are read."""
    if step.name in ALWAYS:
        return True
    if request.local and not step.local:
        return False
    return (not request.only or step.name in request.only) and step.name not in request.skip


def needs_token(request: ReleaseRequest) -> bool:
    """Whether a selected step talks to GitHub."""
    return any(step.remote and selected(request, step) for step in REGISTRY)


def check_request(request: ReleaseRequest) -> None:
    """--skip/--only name real steps, and never the ones that protect the release."""
    for name in sorted(request.skip | request.only):
        if name not in NAMES:
            raise UsageError(f"unknown step {name!r}", f"steps: {', '.join(NAMES)}")
    for name in sorted(ALWAYS & request.skip):
        raise UsageError(f"{name} cannot be skipped", "its checks protect the release")


def plan_release(project: Project, request: ReleaseRequest) -> ReleasePlan:
    """Plan the whole release with reads only. Raises, with every problem found, if the
    release cannot go ahead; what only stops a real run becomes the plan's `blockers`."""
    check_request(request)
    from release_tool.steps import preflight

    chosen = frozenset(step.name for step in REGISTRY if selected(request, step))
    survey = preflight.survey(project, request, chosen)
    problems = list(survey.problems)
    facts = survey.facts
    if facts is None:  # no version to plan the steps on: what was found, and the token
        missing = _token_needed(project, request, None)
        raise preflight.combined(problems + ([missing] if missing else []))
    remote = Remote(project)
    steps: list[StepPlan] = []
    known = RunState()
    for step in REGISTRY:
        if step.name == "recover" and facts.recovery is None:
            continue  # shown (and imported) only when there is an interrupted run to recover
        if selected(request, step):
            planner = cast(StepPlanner, importlib.import_module(step.module).plan)
            try:
                planned = planner(Planning(project, request, facts, known, remote, tuple(steps)))
            except ReleaseError as exc:  # reported with the others, once every step planned
                problems.append(exc)
                planned = StepPlan(step.name, skipped=f"cannot be planned: {exc.message}")
        else:
            planned = StepPlan(step.name, skipped=NOT_SELECTED)
        known = known.merge(planned.known)
        steps.append(planned)
    blockers: list[ReleaseError] = []
    push = next((s for s in steps if s.name == "push"), None)
    if facts.unpushed and not request.allow_unpushed and push is not None and push.actions:
        blockers.append(preflight.unpushed_problem(project, facts))
    missing = _token_needed(project, request, steps)
    if missing:
        blockers.append(missing)
    if problems:
        raise preflight.combined(problems + blockers)
    return ReleasePlan(
        project.config.package,
        facts.current,
        facts.new,
        facts.tag,
        tuple(steps),
        resumed=facts.resumed,
        head=facts.observed_head or facts.head,
        blockers=tuple(blockers),
    )


def _token_needed(
    project: Project, request: ReleaseRequest, steps: list[StepPlan] | None
) -> UsageError | None:
    """The missing token, when a remote step has something to do (or could not be checked
    without one); `steps` None: when any remote step is selected."""
    if project.token:
        return None
    from release_tool.steps.base import AUTH_HINT, NOT_CHECKED

    remote = {step.name for step in REGISTRY if step.remote and selected(request, step)}
    if steps is not None:
        remote = {
            s.name
            for s in steps
            if s.name in remote and (s.actions or (s.skipped or "").startswith(NOT_CHECKED))
        }
    if not remote:
        return None
    what = {"github-release": "the GitHub release", "downstream": "the downstream PRs"}
    needers = [what.get(name, name) for name in NAMES if name in remote]
    verb = "needs" if len(needers) == 1 else "need"
    return UsageError(f"no GitHub token, which {' and '.join(needers)} {verb}", AUTH_HINT)


def check_applicable(plan: ReleasePlan) -> None:
    """Refuse a plan that a real run must not apply (its `blockers`), before any change."""
    if plan.blockers:
        from release_tool.steps.preflight import combined

        raise combined(plan.blockers)


def plan_bump(project: Project, request: ReleaseRequest) -> ReleasePlan:
    """Only the file edits (`release-tool bump`): no git checks, no commit."""
    from release_tool.steps.files import (
        check_order,
        current_version,
        file_edits,
        read_file_versions,
        resolve_version,
        stamp_changelog,
    )

    found = read_file_versions(project)
    current = current_version(project, found, request)
    new = resolve_version(current, request)
    check_order(current, new, request)
    stamped = stamp_changelog(project, new, request.today)
    actions = file_edits(project, found, new, stamped)
    step = StepPlan(
        "bump", tuple(actions), skipped=None if actions else f"the files already say {new}"
    )
    return ReleasePlan(project.config.package, current, new, tag_name(project.config, new), (step,))


def plan_of(*steps: StepPlan) -> ReleasePlan:
    """A plan of a few steps planned outside a release (`email VERSION`, `downstream VERSION`)."""
    from release_tool.versions import Version

    return ReleasePlan("", Version(0, 0, 0), Version(0, 0, 0), "", steps)


# --- applying --------------------------------------------------------------------------------


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
    from release_tool.git_actions import RecoverAction

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


__all__ = [
    "NOT_SELECTED",
    "Observer",
    "RunResult",
    "apply_plan",
    "check_applicable",
    "check_request",
    "needs_token",
    "plan_bump",
    "plan_of",
    "plan_release",
    "run_release",
    "selected",
]
