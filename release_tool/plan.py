"""The plan: immutable actions that describe themselves and do themselves (tbump's model).

Every step of the pipeline first *plans*: it reads the world and returns a `StepPlan` of
actions (a file edit with its full new text, a git command, an API write with its payload, the
rendered email). A dry run prints the plan; a real run prints the same plan and then calls
`apply()` on the same objects. There is no dry-run flag anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from release_tool.versions import Version


@dataclass(frozen=True)
class Outcome:
    """What an applied action produced that the summary, later steps or Actions want to know."""

    summary: str
    outputs: dict[str, str] = field(default_factory=dict)


class Action(Protocol):
    """One side effect. `describe` is one line; `details` the full content (a diff, a body)."""

    @property
    def step(self) -> str: ...

    def describe(self) -> str: ...

    def details(self) -> str: ...

    def apply(self) -> Outcome: ...


@runtime_checkable
class Undoable(Protocol):
    """A local action that can be rolled back if a later step fails before the push."""

    def undo(self) -> None: ...


@dataclass(frozen=True)
class StepPlan:
    """A pipeline step: its actions, or the reason it has nothing to do."""

    name: str
    actions: tuple[Action, ...] = ()
    skipped: str | None = None  # "already done: …", "not configured", "--skip"
    notes: tuple[str, ...] = ()  # facts worth showing (checks passed, warnings)
    # Outputs already true when planned (an existing release's or PR's URL): a re-run that
    # has nothing left to do still reports them, and the email still links them.
    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReleasePlan:
    """Everything a run would do, computed with reads only."""

    package: str
    current: Version
    new: Version
    tag: str
    steps: tuple[StepPlan, ...]
    resumed: bool = False  # HEAD already carries this release: finishing it, not bumping again
    head: str | None = None  # HEAD when planned: a run refuses to apply a plan made before a change
    # Told every applied action's outputs (release URL, PR URLs), e.g. the email's link board,
    # so an action planned before them can use what they produced.
    listeners: tuple[Callable[[Mapping[str, str]], None], ...] = ()

    @property
    def known_outputs(self) -> dict[str, str]:
        """What the steps' results already are, before anything is applied."""
        return {key: value for step in self.steps for key, value in step.outputs.items()}

    @property
    def actions(self) -> list[Action]:
        return [action for step in self.steps for action in step.actions]

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "current_version": str(self.current),
            "version": str(self.new),
            "tag": self.tag,
            "resumed": self.resumed,
            "steps": [
                {
                    "name": step.name,
                    "skipped": step.skipped,
                    "notes": list(step.notes),
                    "actions": [
                        {"description": a.describe(), "details": a.details()} for a in step.actions
                    ],
                }
                for step in self.steps
            ],
        }
