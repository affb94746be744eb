"""The `push` step: `git push --atomic` of the branch and the tag — the point of no return.

Only what the remote lacks is pushed: the branch when the run commits or HEAD is ahead of the
remote's branch, the tag when the remote does not have it. Nothing missing: already done.
"""

from __future__ import annotations

from release_tool.git_repo import PushAction
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
    push = PushAction(
        ctx.project.repo, config.remote, tuple(refspecs), timeout=ctx.project.network_timeout
    )
    return StepPlan(NAME, (push,))
