"""Workflows: the inputs a workflow file declares, GitHub's checks of a dispatch against them,
and what a dispatched run *does* in the sandbox (a hook configured when the sandbox is built).

A hook is one of:

- `OpenPull(...)`: the run pushes a branch to the repository and opens a pull request from it,
  as an "upgrade one dependency" workflow does. Branch, title, body and commit message are
  templates over the run's values: its inputs, `actor`, `sha` / `sha7` (the dispatched commit),
  `run_id`, `run_number`. `files` maps a path to its new text, or to a function
  `(old_text, values) -> new_text`.
- `Fail(...)`: the run concludes `failure` (or the conclusion given) and does nothing.
- a callable `(RunContext) -> conclusion | None`: anything else; `context.open_pull(...)` is
  there to use; an exception makes the run fail.

Without a hook a run just succeeds. Either way the run completes after the sandbox's run delay,
so a client polling the run sees `queued`, then `completed`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from release_tool.sandbox.rest import ApiError

FileEdit = str | Callable[[str, Mapping[str, str]], str]


@dataclass(frozen=True)
class OpenPull:
    """A run that pushes `branch` (from the dispatched commit, with `files` changed) and opens
    a pull request from it into `base` (default: the dispatched branch)."""

    files: Mapping[str, FileEdit]
    branch: str = "{actor}/upgrade-{package}-{sha7}"
    title: str = "chore: upgrade {package}"
    body: str = "Opened by the sandbox's {workflow} run {run_id}."
    message: str = "chore: upgrade {package}"
    base: str | None = None
    author: str | None = None  # who opens the pull request; default: the run's actor


@dataclass(frozen=True)
class Fail:
    """A run that fails without doing anything."""

    conclusion: str = "failure"


@dataclass
class RunContext:
    """What a run hook sees, and what it may do."""

    full_name: str
    workflow: str
    ref: str | None  # the dispatched branch (None when a tag was dispatched)
    sha: str
    actor: str
    inputs: dict[str, str]
    run_id: int
    run_number: int
    open_pull_with: Callable[[RunContext, OpenPull], int] = field(repr=False)

    @property
    def values(self) -> dict[str, str]:
        """What templates may name."""
        return {
            **self.inputs,
            "actor": self.actor,
            "sha": self.sha,
            "sha7": self.sha[:7],
            "run_id": str(self.run_id),
            "run_number": str(self.run_number),
            "workflow": self.workflow,
            "repository": self.full_name,
        }

    def open_pull(self, spec: OpenPull) -> int:
        """Push the branch and open the pull request; returns its number."""
        return self.open_pull_with(self, spec)


Hook = OpenPull | Fail | Callable[[RunContext], str | None]


def render(template: str, values: Mapping[str, str]) -> str:
    """`template` with `{name}` replaced; a name the run has no value for is an error."""
    try:
        return template.format_map(dict(values))
    except KeyError as exc:
        raise ValueError(
            f"{template!r} names {exc.args[0]!r}, which the run has no value for"
        ) from None


# -- the workflow file ----------------------------------------------------------------------------


def dispatch_inputs(text: str) -> dict[str, dict[str, Any]] | None:
    """The inputs `on.workflow_dispatch.inputs` declares (name → its spec), or None when the
    workflow has no `workflow_dispatch` trigger (or cannot be read)."""
    try:
        yaml: Any = importlib.import_module("yaml")  # no type stubs installed
    except ImportError:  # pragma: no cover - PyYAML ships with the test extra
        raise ApiError(
            500, "the sandbox needs PyYAML to read workflow files (pip install PyYAML)"
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(document, dict):
        return None
    # YAML 1.1 reads a bare `on` key as the boolean true.
    trigger = document.get("on", document.get(True))
    if isinstance(trigger, str):
        trigger = [trigger]
    if isinstance(trigger, list):
        return {} if "workflow_dispatch" in trigger else None
    if not isinstance(trigger, dict) or "workflow_dispatch" not in trigger:
        return None
    dispatch = trigger["workflow_dispatch"] or {}
    inputs = dispatch.get("inputs") if isinstance(dispatch, dict) else None
    if not isinstance(inputs, dict):
        return {}
    return {str(name): spec if isinstance(spec, dict) else {} for name, spec in inputs.items()}


def check_inputs(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any]
) -> dict[str, str]:
    """GitHub's checks of a dispatch's inputs (422 with its words); returns every declared
    input's value (the given one, else its default) as the run will see it."""
    unexpected = [name for name in given if name not in declared]
    if unexpected:
        raise ApiError(422, f"Unexpected inputs provided: {json.dumps(unexpected)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in given:
            value = given[name]
            text = json.dumps(value) if isinstance(value, bool) else str(value)
        elif spec.get("default") is not None:
            default = spec["default"]
            text = json.dumps(default) if isinstance(default, bool) else str(default)
        elif spec.get("required") is True:
            raise ApiError(422, f"Required input '{name}' not provided")
        else:
            text = ""
        options = spec.get("options")
        choices = [str(option) for option in options] if isinstance(options, list) else None
        chosen = name in given or spec.get("default") is not None
        if spec.get("type") == "choice" and chosen and choices is not None and text not in choices:
            raise ApiError(
                422,
                f"Provided value '{text}' for input '{name}' not in the list of allowed values",
            )
        values[name] = text
    return values
