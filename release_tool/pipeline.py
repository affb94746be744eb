"""The orchestrator's planning half: plan every step of the registry with reads only.

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

Applying is `release_tool.apply`'s (`run_release`, `apply_plan`), which a dry run never
imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from release_tool.errors import ReleaseError, UsageError
from release_tool.plan import ReleasePlan, RunState, StepPlan
from release_tool.project import Project, ReleaseRequest, tag_name
from release_tool.steps import ALWAYS, NAMES, REGISTRY, Step
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


__all__ = [
    "NOT_SELECTED",
    "check_applicable",
    "check_request",
    "needs_token",
    "plan_bump",
    "plan_of",
    "plan_release",
    "selected",
]
