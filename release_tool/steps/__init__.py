"""The pipeline's steps, in order: one module per step, each with `plan(ctx) -> StepPlan`.

    recover → preflight → bump → commit → tag → push ──► github-release → wait-for-index
    → downstream → email

`REGISTRY` is the only list of steps. The pipeline walks it, decides once which steps the
request selects, and imports a step's module only when it plans that step, so a local run
never imports the remote steps (PyGithub, the email machinery). A step module reads the world,
and returns actions; it never applies anything and never checks --skip/--only itself.
"""

from __future__ import annotations

from typing import NamedTuple


class Step(NamedTuple):
    """A registry entry: the step's name, its module, and whether it is a local step."""

    name: str
    module: str  # imported when the step is planned
    local: bool  # kept by --local (the steps up to and including the push)
    remote: bool = False  # talks to GitHub: needs a token


REGISTRY: tuple[Step, ...] = (
    Step("recover", "release_tool.steps.recover", local=True),
    Step("preflight", "release_tool.steps.preflight", local=True),
    Step("bump", "release_tool.steps.bump", local=True),
    Step("commit", "release_tool.steps.commit", local=True),
    Step("tag", "release_tool.steps.tag", local=True),
    Step("push", "release_tool.steps.push", local=True),
    Step("github-release", "release_tool.steps.github_release", local=False, remote=True),
    Step("wait-for-index", "release_tool.steps.wait_for_index", local=False),
    Step("downstream", "release_tool.steps.downstream", local=False, remote=True),
    Step("email", "release_tool.steps.email", local=False),
)

#: Step names in pipeline order.
NAMES: tuple[str, ...] = tuple(step.name for step in REGISTRY)
#: Steps that always run: they protect the release.
ALWAYS = frozenset({"recover", "preflight"})
#: Where the local, reversible part ends.
POINT_OF_NO_RETURN = "push"
