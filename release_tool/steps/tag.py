"""The `tag` step: an annotated tag (signed with `sign = true`) whose message is the notes."""

from __future__ import annotations

from release_tool.git_actions import TagAction
from release_tool.plan import RunState, StepPlan
from release_tool.steps.base import Planning

NAME = "tag"


def plan(ctx: Planning) -> StepPlan:
    facts, config = ctx.facts, ctx.project.config
    if facts.resumed:
        return StepPlan(
            NAME, skipped=f"already done: HEAD is {facts.tag}", known=RunState(tag=facts.tag)
        )
    message = f"{config.package} {facts.new}\n\n{facts.notes}".strip() + "\n"
    return StepPlan(NAME, (TagAction(ctx.project.repo, facts.tag, message, config.sign),))
