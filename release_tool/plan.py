"""The plan: immutable actions that describe themselves and do themselves (tbump's model).

Every step of the pipeline first *plans*: it reads the world and returns a `StepPlan` of
actions (a file edit with its full new text, a git command, an API write with its payload, the
rendered email). A dry run prints the plan; a real run prints the same plan and then calls
`apply(state)` on the same objects. There is no dry-run flag anywhere else.

Late results travel explicitly. `RunState` is the small typed record of what the run has
produced so far (the release commit, the tag, the release URL, the PR URLs, the email draft):
each action receives the state before it and reports what it produced in its `Outcome`; the
orchestrator merges. What is already true when planning (an existing release's URL, an open
PR) is a step's `known` state, so a dry run shows it and a re-run with nothing left to do
still reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple, Protocol, runtime_checkable

from release_tool.errors import ReleaseError
from release_tool.versions import Version


@dataclass(frozen=True)
class RunState:
    """What the run has produced (or found already done): read by later actions and outputs.

    `pending_prs` names the downstream repositories whose PR the run will open: their URLs are
    only known once opened, so a plan-time rendering (the dry run's email) shows a placeholder.
    """

    commit: str | None = None
    tag: str | None = None
    release_url: str | None = None
    pr_urls: tuple[str, ...] = ()
    pending_prs: tuple[str, ...] = ()
    run_urls: tuple[str, ...] = ()  # downstream workflow runs dispatched (strategy "dispatch")
    email_draft: str | None = None
    email_message_id: str | None = None

    def merge(self, other: RunState) -> RunState:
        """`other`'s values win where set; PR URLs accumulate without repeats."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, tuple):
                changes[f.name] = tuple(dict.fromkeys((*mine, *theirs)))
            elif theirs is not None:
                changes[f.name] = theirs
        return replace(self, **changes)

    def outputs(self) -> dict[str, str]:
        """The run's outputs as strings (JSON, GitHub Actions outputs)."""
        values = {
            "commit": self.commit,
            "tag": self.tag,
            "release_url": self.release_url,
            "downstream_pr_urls": "\n".join(self.pr_urls) or None,
            "downstream_run_urls": "\n".join(self.run_urls) or None,
            "email_draft": self.email_draft,
            "email_message_id": self.email_message_id,
        }
        return {key: value for key, value in values.items() if value}


class Outcome(NamedTuple):
    """What an applied action did (one line) and what it produced for later actions."""

    summary: str
    produced: RunState = RunState()


class Action(Protocol):
    """One side effect. `describe` is one line; `details` the full content (a diff, a body);
    `data` the same as structured fields (`--json`)."""

    @property
    def step(self) -> str: ...

    def describe(self) -> str: ...

    def details(self) -> str: ...

    def data(self) -> dict[str, Any]:
        """The action as structured data for `--json` (`action` names its kind); JSON-ready."""
        ...

    def apply(self, state: RunState) -> Outcome: ...


@runtime_checkable
class Undoable(Protocol):
    """A local action that can be rolled back if a later step fails before the push."""

    def undo(self) -> None: ...


@runtime_checkable
class Uncertain(Protocol):
    """An action whose failure does not prove it did nothing (the push: the remote may have
    taken it and the answer been lost). `landed()` asks the world; it raises when it cannot."""

    def landed(self) -> bool: ...


@dataclass(frozen=True)
class StepPlan:
    """A pipeline step: its actions, or the reason it has nothing to do."""

    name: str
    actions: tuple[Action, ...] = ()
    skipped: str | None = None  # "already done: …", "not configured", "not selected"
    notes: tuple[str, ...] = ()  # facts worth showing (checks passed, warnings)
    known: RunState = field(default_factory=RunState)  # already true when planned

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "skipped": self.skipped,
            "notes": list(self.notes),
            "actions": [action_json(a) for a in self.actions],
        }


def action_json(action: Action) -> dict[str, Any]:
    """One action in `--json`: its line, its details as shown, and its structured data."""
    return {"description": action.describe(), "details": action.details(), "data": action.data()}


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
    # What stops a real run from applying this plan (a dry run shows it): unpushed commits
    # without --allow-unpushed, no token for a remote step.
    blockers: tuple[ReleaseError, ...] = field(default=(), compare=False)

    @property
    def known(self) -> RunState:
        """What the steps' results already are, before anything is applied."""
        state = RunState()
        for step in self.steps:
            state = state.merge(step.known)
        return state

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
            "blockers": [{"error": b.message, "hint": b.hint} for b in self.blockers],
            "steps": [step.to_json() for step in self.steps],
        }
