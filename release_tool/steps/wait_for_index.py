"""The `wait-for-index` step: until the version is installable from the package index.

Planned with no request at all (see `release_tool.index_wait`); the poll interval is the
project's (tests make it short), and progress goes to the project's progress callback.
A downstream with `strategy = "relock"` turns it on whatever `wait_for_index` says (a resolver
cannot lock a version the index does not list; a relock detected at plan time waits in its
own action).
"""

from __future__ import annotations

from release_tool.index_wait import plan_wait_for_index
from release_tool.plan import StepPlan
from release_tool.steps.base import Planning

NAME = "wait-for-index"


def plan(ctx: Planning) -> StepPlan:
    project = ctx.project
    config = project.config
    return plan_wait_for_index(
        config.package,
        ctx.facts.new,
        enabled=config.wait_for_index or any(d.strategy == "relock" for d in config.downstream),
        index_url=config.index_url,
        timeout=config.index_timeout,
        interval=project.poll_interval,
        progress=project.progress,
        request_timeout=project.network_timeout,
    )
