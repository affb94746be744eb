"""The `bump` step: the new version into every version file, and the changelog stamped.

Each edit carries the file's full old and new text (`WriteFileAction`), computed from the
texts preflight read: a dry run shows the diff, a real run writes exactly that.
"""

from __future__ import annotations

from release_tool.plan import StepPlan
from release_tool.steps.base import Planning
from release_tool.steps.files import file_edits

NAME = "bump"


def plan(ctx: Planning) -> StepPlan:
    facts = ctx.facts
    if facts.resumed:
        return StepPlan(NAME, skipped=f"already done: HEAD is {facts.tag}")
    recovery = facts.recovery
    overlay = recovery.files if recovery and recovery.kind == "rollback" else {}
    edits = file_edits(ctx.project, facts.found, facts.new, facts.changelog, overlay)
    if not edits:
        if not ctx.project.config.version_files and not ctx.project.config.changelog:
            return StepPlan(NAME, skipped="no file holds the version: the tag alone says it")
        return StepPlan(NAME, skipped=f"the files already say {facts.new}")
    return StepPlan(NAME, tuple(edits))
