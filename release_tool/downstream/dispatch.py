"""`strategy = "dispatch"`: run the downstream's own "upgrade one dependency" workflow, and follow
it to the pull request it opens.

openedx-platform's workflow (`upgrade-one-python-dependency.yml`) takes the inputs `branch` (the
*base* branch, default `master`), `package`, `version` and `change_desc`; it re-compiles the
requirements and opens a PR from `<triggering actor>/upgrade-<package>-<short sha>`. So:

* **planned** with reads only: the repository (under its canonical name: a renamed one's old
  name redirects), the workflow file at the base (`GET contents`), whose declared
  `workflow_dispatch` inputs the rendered inputs must satisfy (none unknown, every required one
  given, a choice among its options: GitHub would refuse the dispatch with a 422 otherwise);
  then what a re-run must not repeat: the open PR whose head matches `pr_head` (default
  `{actor}/upgrade-{package}*`) and whose title or body names the version (the `change_desc`
  input carries it), or a run of the workflow by the same actor that has not completed;
* **applied**: wait until the version is on the library's index (the workflow installs it),
  dispatch with `return_run_details` (the run's id and URL in the answer; where the API does
  not give them, the run is found among the workflow's runs by the token's user, created since
  the dispatch), wait for the run with progress, and find its PR. A run that does not succeed
  fails the step, with the run's URL.
"""

from __future__ import annotations

import calendar
import importlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from release_tool import rendering
from release_tool.config import DownstreamConfig
from release_tool.downstream.actions import STEP
from release_tool.downstream.metadata import PackageIndex
from release_tool.downstream.pins import read_pins
from release_tool.downstream.reads import canonical_repository
from release_tool.downstream.upgrade import Upgrade
from release_tool.errors import StepFailed, UsageError
from release_tool.github_api import GitHub, PullInfo, RunInfo
from release_tool.plan import Outcome, RunState

WORKFLOWS = ".github/workflows/"
# How long after a dispatch its run may take to be listed (the fallback without run details).
FIND_RUN_FOR = 60.0


def render_inputs(entry: DownstreamConfig, upgrade: Upgrade) -> tuple[tuple[str, str], ...]:
    """The workflow's inputs: the entry's templates, rendered."""
    context = {
        "package": upgrade.package,
        "version": upgrade.version.pep440,
        "previous_version": upgrade.previous.pep440 if upgrade.previous else None,
        "tag": upgrade.tag,
        "release_url": upgrade.release_url,
        "repository": upgrade.repository,
        "notes": upgrade.notes,
        "downstream": entry.repository,
    }
    return tuple(
        (key, rendering.render_string(value, context, what=entry.key(f"inputs.{key}")))
        for key, value in entry.inputs.items()
    )


# --- the workflow file ----------------------------------------------------------------------


def declared_inputs(text: str) -> dict[str, dict[str, Any]] | None:
    """The inputs `on.workflow_dispatch.inputs` declares (name → spec); None when the workflow
    has no `workflow_dispatch` trigger or is not YAML."""
    yaml: Any = importlib.import_module("yaml")  # PyYAML: a dependency, without type stubs
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(document, dict):
        return None
    trigger = document.get("on", document.get(True))  # YAML 1.1 reads a bare `on` as true
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


def input_problems(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, str]
) -> list[str]:
    """What GitHub would refuse in a dispatch of `given` inputs (its 422s), in words."""
    problems = []
    unknown = [name for name in given if name not in declared]
    if unknown:
        problems.append(f"unknown input{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    missing = [
        name
        for name, spec in declared.items()
        if spec.get("required") is True and spec.get("default") is None and name not in given
    ]
    if missing:
        problems.append(
            f"required input{'s' if len(missing) > 1 else ''} {', '.join(missing)} not given"
        )
    for name, value in given.items():
        spec = declared.get(name) or {}
        options = spec.get("options")
        choices = [str(o) for o in options] if isinstance(options, list) else None
        if spec.get("type") == "choice" and choices is not None and value not in choices:
            problems.append(f"{name} = {value!r} is not one of its options")
    return problems


# --- planning -------------------------------------------------------------------------------


def mentions_version(pull: PullInfo, version: str) -> bool:
    """Whether the PR names `version` (title, body or head branch), as a whole version."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(version)}(?![\w]|\.\d)")
    return any(pattern.search(text) for text in (pull.title, pull.body, pull.head_ref))


def find_pull(pulls: list[PullInfo], head: str, version: str) -> PullInfo | None:
    """The open PR the workflow opened for `version`: head branch matching `head` (a glob), and
    the version named."""
    return next(
        (p for p in pulls if fnmatchcase(p.head_ref, head) and mentions_version(p, version)),
        None,
    )


def plan_dispatch(
    gh: GitHub,
    entry: DownstreamConfig,
    upgrade: Upgrade,
    package_index: PackageIndex,
) -> tuple[DispatchWorkflowAction, str] | str:
    """The entry's dispatch action and a note, or why there is nothing to do."""
    key = entry.where
    if not entry.workflow:
        raise UsageError(
            f"{key}: strategy = 'dispatch' needs `workflow`",
            "name the workflow file, e.g. workflow = 'upgrade-one-python-dependency.yml'",
        )
    repo, moved = canonical_repository(gh, entry)
    name = repo.full_name
    notes = [f"{moved} is now {name} (every write goes to the new name)"] if moved else []
    if not repo.can_push:
        raise UsageError(
            f"dispatching a workflow on {name} needs write access, which the token's user does "
            "not have",
            "use a token with actions write access there, or strategy = 'edit'",
        )
    base = entry.base or repo.default_branch
    inputs = render_inputs(entry, upgrade)
    path = WORKFLOWS + entry.workflow
    found = gh.file_at(name, path, base)
    if found is None:
        raise UsageError(
            f"{key}.workflow: {entry.workflow} not found in {name}@{base}",
            "name a file under .github/workflows/ of that repository",
        )
    declared = declared_inputs(found[1].decode("utf-8", "replace"))
    if declared is None:
        raise UsageError(
            f"{key}.workflow: {name}'s {entry.workflow} has no workflow_dispatch trigger",
            "name the repository's 'upgrade one dependency' workflow, which can be run by hand",
        )
    problems = input_problems(declared, dict(inputs))
    if problems:
        raise UsageError(
            f"{key}.inputs: {'; '.join(problems)} (the inputs {entry.workflow} declares: "
            f"{', '.join(declared) or 'none'})",
            f"make {key}.inputs match the workflow's `on.workflow_dispatch.inputs`",
        )
    version = upgrade.version.pep440
    if entry.files:
        pins = read_pins(gh, entry, base, upgrade.package, upgrade.version)
        if pins.already_current:
            return f"{name}@{base} already pins {upgrade.package} {version}"
    actor = gh.login()
    head = entry.pr_head.format(actor=actor, package=upgrade.package)
    pull = find_pull(gh.open_pulls(name, base=base), head, version)
    if pull is not None:
        return f"{name}: the workflow's PR #{pull.number} for {version} is open ({pull.html_url})"
    running = [r for r in gh.workflow_runs(name, entry.workflow, actor=actor) if not r.completed]
    if running:
        return (
            f"{name}: a run of {entry.workflow} by {actor} is {running[0].status} "
            f"({running[0].html_url}): not dispatched again; run the same command once it ends"
        )
    action = DispatchWorkflowAction(
        gh,
        name,
        entry.workflow,
        base,
        inputs,
        package=upgrade.package,
        version=version,
        actor=actor,
        head=head,
        index=package_index,
        run_timeout=entry.run_timeout,
    )
    return action, "; ".join(notes)


# --- applying -------------------------------------------------------------------------------


def _epoch(stamp: str) -> float:
    """GitHub's `2026-08-01T12:00:00Z` as seconds since the epoch (0 when unreadable)."""
    try:
        return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class DispatchWorkflowAction:
    """Run the downstream's own upgrade workflow (workflow_dispatch), and follow it to its PR."""

    gh: GitHub = field(repr=False, compare=False)
    repository: str
    workflow: str
    ref: str  # the branch the workflow runs on (the PR's base, for openedx-platform's)
    inputs: tuple[tuple[str, str], ...]
    package: str = ""
    version: str = ""
    actor: str = ""  # the token's user: the run's actor, the `{actor}` of `head`
    head: str = ""  # the PR's head branch, a glob
    index: PackageIndex | None = None
    run_timeout: float = 3600.0
    step: str = STEP

    def describe(self) -> str:
        return f"run workflow {self.workflow} on {self.repository} (ref {self.ref})"

    def details(self) -> str:
        lines = [f"{key}: {value}" for key, value in self.inputs]
        if self.index is not None:
            lines.insert(
                0, f"first: wait until {self.package} {self.version} is on {self.index.url}"
            )
        if self.head:
            lines.append(f"then: wait for the run, and find its PR (head {self.head})")
        return "\n".join(lines)

    def data(self) -> dict[str, Any]:
        return {
            "action": "dispatch",
            "repository": self.repository,
            "workflow": self.workflow,
            "ref": self.ref,
            "inputs": dict(self.inputs),
        }

    def _say(self, message: str) -> None:
        if self.index is not None and self.index.progress is not None:
            self.index.progress(message)

    @property
    def _interval(self) -> float:
        return self.index.interval if self.index is not None else 10.0

    def apply(self, state: RunState) -> Outcome:
        gh = self.gh
        if self.index is not None:
            self.index.wait(self.package, self.version)
        started = time.time()
        run = gh.dispatch(self.repository, self.workflow, ref=self.ref, inputs=dict(self.inputs))
        if run is None:
            run = self._find_run(started)
        run = self._wait(run)
        if run.conclusion != "success":
            raise StepFailed(
                f"the {self.workflow} run on {self.repository} concluded "
                f"{run.conclusion or 'without a conclusion'}: {run.html_url}",
                "read the run's log there; once fixed, run the same command again (it "
                "dispatches the workflow again)",
            )
        found = RunState(run_urls=(run.html_url,))
        pull = find_pull(gh.open_pulls(self.repository, base=self.ref), self.head, self.version)
        if pull is None:
            return Outcome(
                f"{self.workflow} on {self.repository} succeeded ({run.html_url}); no open PR "
                f"from {self.head} names {self.version}",
                found,
            )
        return Outcome(
            f"{self.workflow} on {self.repository} ({run.html_url}) opened PR #{pull.number}: "
            f"{pull.html_url}",
            RunState(pr_urls=(pull.html_url,), run_urls=(run.html_url,)),
        )

    def _find_run(self, started: float) -> RunInfo:
        """The run the dispatch started, where the API did not say: the workflow's newest run
        by the token's user, created since the dispatch (GitHub's clock, to the second)."""
        deadline = time.monotonic() + FIND_RUN_FOR
        while True:
            for run in self.gh.workflow_runs(self.repository, self.workflow, actor=self.actor):
                if _epoch(run.created_at) >= int(started) - 1:
                    return run
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"{self.workflow} was dispatched on {self.repository}, but its run is not "
                    f"listed after {FIND_RUN_FOR:.0f}s",
                    f"look at the workflow's runs on {self.repository}; the next run of the "
                    "same command finds its PR, or the run still in progress",
                )
            time.sleep(self._interval)

    def _wait(self, run: RunInfo) -> RunInfo:
        start = time.monotonic()
        while True:
            run = self.gh.workflow_run(self.repository, run.id)
            if run.completed:
                return run
            waited = time.monotonic() - start
            if waited > self.run_timeout:
                raise StepFailed(
                    f"the {self.workflow} run on {self.repository} has not completed after "
                    f"{self.run_timeout:.0f}s: {run.html_url}",
                    "run the same command again once it has ended: it finds the run's PR "
                    "(or the run still in progress) and does not dispatch again",
                )
            self._say(f"{self.workflow} on {self.repository}: {run.status} ({run.html_url})")
            time.sleep(self._interval)
