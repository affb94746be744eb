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
applied; after it, nothing is undone and the error says to run the same command again. An
exception that is not a `ReleaseError` is a bug: it is rolled back all the same and reported as
an internal error, with its traceback kept as the cause.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

from release_tool.errors import InternalError, Interrupted, ReleaseError, StepFailed, UsageError
from release_tool.files.write import WriteFileAction
from release_tool.git_repo import PreImage, ReleaseLock, TagAction
from release_tool.plan import Action, Outcome, ReleasePlan, RunState, StepPlan, Undoable
from release_tool.project import Project, ReleaseRequest, tag_name
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

    survey = preflight.survey(project, request)
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
    plan that recovers an interrupted run takes over that run's lock (and journal).
    """
    files = {a.relpath: a.old for a in plan.actions if isinstance(a, WriteFileAction)}
    tags = tuple(a.name for a in plan.actions if isinstance(a, TagAction))
    check_applicable(plan)
    lock = ReleaseLock(project.repo)
    working = project.repo.state()
    recovery = None
    if any(step.name == "recover" and step.actions for step in plan.steps):
        from release_tool.steps.recover import RecoverAction

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
    try:
        if plan.head is not None and working.head != plan.head:
            raise UsageError(
                "the repository changed after the plan was made",
                "run the same command again to plan on what is there now",
            )
        return apply_plan(plan, observer)
    finally:
        lock.release()


def apply_plan(plan: ReleasePlan, observer: Observer | None = None) -> RunResult:
    """Apply every action in order; roll back local ones if anything fails before the push."""
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
            rolled_back = "" if pushed else _roll_back(undo_stack)
            raise _failure(action, exc, pushed, rolled_back, plan.new) from exc
        result.applied.append((action.step, action.describe(), outcome))
        result.state = result.state.merge(outcome.produced)
        if isinstance(action, Undoable):
            undo_stack.append(action)
        if action.step == POINT_OF_NO_RETURN:
            pushed = True
        if observer:
            observer.action_done(action, outcome)
    return result


def _roll_back(undo_stack: list[Undoable]) -> str:
    failures = []
    for action in reversed(undo_stack):
        try:
            action.undo()
        except Exception as exc:  # keep undoing the rest; report what could not be undone
            failures.append(f"{type(exc).__name__}: {exc}")
    if failures:
        return "; rollback incomplete: " + "; ".join(failures)
    return "; local changes rolled back" if undo_stack else ""


def _failure(
    action: Action, exc: BaseException, pushed: bool, rolled_back: str, version: object
) -> ReleaseError:
    # After the push, HEAD carries the release's tag: a bump word would release the next
    # version, so the hint says which BUMP finishes this one.
    bump = f"with {version} (or current) as BUMP"
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted(
            f"interrupted during {action.step}{rolled_back}",
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
    return StepFailed(
        f"{action.step} failed: {exc.message}{rolled_back}",
        "; ".join(h for h in (exc.hint, again) if h),
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
