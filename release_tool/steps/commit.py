"""The `commit` step: one commit of exactly the files the `bump` step edits.

The message comes from the `commit_message` config template, or the bundled
`commit_message.txt.j2` (overridable in the project's templates folder).
"""

from __future__ import annotations

from release_tool import rendering
from release_tool.files.write import WriteFileAction
from release_tool.git_actions import CommitAction
from release_tool.plan import StepPlan
from release_tool.project import Project
from release_tool.steps.base import Planning

NAME = "commit"


def commit_message(project: Project, context: dict[str, str]) -> str:
    config = project.config
    if config.commit_message:
        message = rendering.render_string(
            config.commit_message, context, what=config.key("commit_message")
        )
    else:
        message = rendering.render("commit_message.txt.j2", context, override_dir=project.templates)
    return message.strip() + "\n"


def plan(ctx: Planning) -> StepPlan:
    facts, config = ctx.facts, ctx.project.config
    if facts.resumed:
        return StepPlan(NAME, skipped=f"already done: HEAD is {facts.tag}")
    bump = ctx.planned("bump")
    edits = [a for a in (bump.actions if bump else ()) if isinstance(a, WriteFileAction)]
    if not edits:
        return StepPlan(NAME, skipped="nothing to commit")
    context = {
        "package": config.package,
        "version": facts.new.pep440,
        "previous_version": facts.current.pep440,
        "tag": facts.tag,
    }
    message = commit_message(ctx.project, context)
    paths = tuple(a.relpath for a in edits)
    action = CommitAction(
        ctx.project.repo, paths, message, parent=facts.head, verify=not ctx.request.no_verify
    )
    return StepPlan(NAME, (action,))
