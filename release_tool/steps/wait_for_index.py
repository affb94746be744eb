"""The `wait-for-index` step: until the version is installable from the package index.

Planned with no request at all (see `release_tool.index_wait`); the poll interval is the
project's (tests make it short), and progress goes to the project's progress callback.
A downstream with `strategy = "relock"` turns it on whatever `wait_for_index` says (a resolver
cannot lock a version the index does not list; a relock detected at plan time waits in its
own action).
"""

from __future__ import annotations

from release_tool.plan import StepPlan
from release_tool.steps.base import Planning

NAME = "wait-for-index"
NOT_CONFIGURED = "not configured (wait_for_index = false)"


def plan(ctx: Planning) -> StepPlan:
    project = ctx.project
    config = project.config
    if not (config.wait_for_index or any(d.strategy == "relock" for d in config.downstream)):
        return StepPlan(NAME, skipped=NOT_CONFIGURED)  # and the index client stays unloaded
    from release_tool.index_wait import plan_wait_for_index

    return plan_wait_for_index(
        config.package,
        ctx.facts.new,
        index_url=config.index_url,
        timeout=config.index_timeout,
        interval=project.poll_interval,
        progress=project.progress,
        request_timeout=project.network_timeout,
    )
