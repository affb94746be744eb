"""The `push` step: `git push --atomic` of the branch and the tag — the point of no return.

Only what the remote lacks is pushed: the branch when the run commits or HEAD is ahead of the
remote's branch, the tag when the remote does not have it. Nothing missing: already done. The
action lists the other commits the branch push publishes (preflight found them); a real run
refuses them without --allow-unpushed (see `pipeline.plan_release`).
"""

from __future__ import annotations

from release_tool.git_actions import PushAction
from release_tool.plan import StepPlan
from release_tool.steps.base import Planning

NAME = "push"


def plan(ctx: Planning) -> StepPlan:
    facts, config = ctx.facts, ctx.project.config
    commit = ctx.planned("commit")
    refspecs = []
    if (commit is not None and commit.actions) or facts.remote.heads.get(
        config.branch
    ) != facts.head:
        refspecs.append(f"HEAD:refs/heads/{config.branch}")
    if facts.remote.tags.get(facts.tag) is None:
        refspecs.append(f"refs/tags/{facts.tag}")
    if not refspecs:
        return StepPlan(NAME, skipped=f"already done: {facts.tag} is on {config.remote}")
    publishes = tuple(str(c) for c in facts.unpushed) if refspecs[0].startswith("HEAD:") else ()
    action = PushAction(
        ctx.project.repo,
        config.remote,
        tuple(refspecs),
        config.branch,
        publishes=publishes,
        timeout=ctx.project.network_timeout,
    )
    return StepPlan(NAME, (action,))
