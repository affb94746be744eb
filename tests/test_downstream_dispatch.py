"""`strategy = "dispatch"` against the sandbox: the downstream's own upgrade workflow, checked at
plan time against the workflow file, run once the version is on the index, followed to its PR.

The sandbox behaves as GitHub here: it checks a dispatch's inputs against the workflow file,
answers `return_run_details`, lists runs with their status, and a run's hook opens the PR from
`{actor}/upgrade-{package}-{sha7}` as openedx-platform's workflow does (or fails).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import DOWNSTREAM, MAINTAINER, MAINTAINER_TOKEN
from test_downstream import apply_step, client, example_config, put_files, upgrade
from test_github_release import FAST, writes

from release_tool.config import Config
from release_tool.downstream import DispatchWorkflowAction, PackageIndex, plan_downstream
from release_tool.errors import ReleaseError, StepFailed, UsageError
from release_tool.github_api import GitHub
from release_tool.sandbox import Fail, OpenPull, RunContext, Sandbox
from release_tool.sandbox.wheels import publish

SANDBOX_INDEX = True  # the sandbox serves a package index (see sandbox_fixtures)
FILE = "upgrade-one-python-dependency.yml"
# openedx-platform's workflow, as far as its trigger goes: `branch` is the PR's *base*.
WORKFLOW = """\
name: Upgrade one Python dependency
on:
  workflow_dispatch:
    inputs:
      branch:
        description: "Target branch against which to create requirements PR"
        required: true
        default: "master"
      package:
        description: "Name of package to upgrade"
        required: true
      version:
        description: "Version number to upgrade to in constraints.txt (only needed if pinned)"
        default: ""
      change_desc:
        description: "Description of change, for commit message and PR"
        default: ""
jobs: {}
"""
RUNS = f"/actions/workflows/{FILE}/dispatches"


def pin(old: str, values: Mapping[str, str]) -> str:
    return old.replace("edx-proctoring==5.2.0", f"edx-proctoring=={values['version']}")


# What the workflow's run does: push `<actor>/upgrade-<package>-<sha7>` and open the PR, whose
# body is the change description (openedx-platform's puts it there too).
OPENS_THE_PR = OpenPull(
    files={"requirements/edx/base.txt": pin},
    title="feat: Upgrade Python dependency {package}",
    body="{change_desc}",
)


def dispatch_config(tmp_path: Path, **changes: Any) -> Config:
    inputs = {
        "branch": "master",
        "package": "{{ package }}",
        "version": "{{ version }}",
        "change_desc": "Upgrade {{ package }} to {{ version }}: {{ release_url }}",
    }
    changes.setdefault("inputs", inputs)
    return example_config(tmp_path, strategy="dispatch", workflow=FILE, files=(), **changes)


def index_dir(sandbox: Sandbox) -> Path:
    """Where the sandbox's index reads its files from (the publish workflow writes there)."""
    assert sandbox.index is not None
    return sandbox.index.directory


def index_of(sandbox: Sandbox, said: list[str] | None = None) -> PackageIndex:
    return PackageIndex(
        sandbox.index_url,
        timeout=10.0,
        interval=0.05,
        progress=None if said is None else said.append,
    )


def with_workflow(sandbox: Sandbox, github_client: Any, hook: Any = OPENS_THE_PR) -> None:
    put_files(github_client, {f".github/workflows/{FILE}": WORKFLOW.encode()})
    sandbox.on_dispatch(DOWNSTREAM, FILE, hook)


def plan(sandbox: Sandbox, config: Config, said: list[str] | None = None) -> Any:
    return plan_downstream(client(sandbox), config, upgrade(), index=index_of(sandbox, said))


def dispatches(sandbox: Sandbox) -> list[tuple[str, str, int]]:
    return [r for r in sandbox.requests if r[1].endswith(RUNS)]


def test_dispatch_waits_for_the_index_then_follows_the_run_to_its_pr(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    published_when_dispatched: list[bool] = []
    wheel = index_dir(sandbox) / "edx_proctoring-5.3.0-py3-none-any.whl"

    def run(context: RunContext) -> str:
        published_when_dispatched.append(wheel.exists())
        context.open_pull(OPENS_THE_PR)
        return "success"

    with_workflow(sandbox, github_client, run)
    said: list[str] = []
    planned = plan(sandbox, dispatch_config(tmp_path), said)
    (action,) = planned.actions
    assert isinstance(action, DispatchWorkflowAction)
    assert action.describe() == f"run workflow {FILE} on {DOWNSTREAM} (ref master)"
    assert f"first: wait until edx-proctoring 5.3.0 is on {sandbox.index_url}" in action.details()
    assert "then: wait for the run, and find its PR (head maintainer/upgrade-edx-proctoring*)" in (
        action.details()
    )
    # The publish workflow is slower than the release: the version appears while we wait.
    publishing = threading.Timer(0.3, publish, (index_dir(sandbox), "edx-proctoring", "5.3.0"))
    publishing.start()
    (outcome,) = apply_step(planned)
    publishing.join()

    assert published_when_dispatched == [True]
    assert any(s.startswith("waiting for edx-proctoring 5.3.0 on") for s in said)
    [dispatch] = sandbox.state.dispatches(DOWNSTREAM)
    assert dispatch.inputs == {
        "branch": "master",
        "package": "edx-proctoring",
        "version": "5.3.0",
        "change_desc": "Upgrade edx-proctoring to 5.3.0: https://example.test/releases/tag/v5.3.0",
    }
    assert [s for _, _, s in dispatches(sandbox)] == [200]  # with the run's details
    [run_state] = sandbox.state.runs(DOWNSTREAM)
    [pull] = sandbox.state.pulls(DOWNSTREAM)
    run_url = f"{sandbox.url}/{DOWNSTREAM}/actions/runs/{run_state.id}"
    pull_url = f"{sandbox.url}/{DOWNSTREAM}/pull/{pull.number}"
    assert pull.head_ref.startswith(f"{MAINTAINER}/upgrade-edx-proctoring-")
    assert outcome.produced.pr_urls == (pull_url,)
    assert outcome.produced.run_urls == (run_url,)
    assert outcome.produced.outputs()["downstream_run_urls"] == run_url
    assert outcome.summary == f"{FILE} on {DOWNSTREAM} ({run_url}) opened PR #1: {pull_url}"

    # The re-run finds the PR the workflow opened: nothing is dispatched again.
    before = len(sandbox.requests)
    again = plan(sandbox, dispatch_config(tmp_path))
    assert again.actions == ()
    assert again.skipped == (
        f"already done: {DOWNSTREAM}: the workflow's PR #1 for 5.3.0 is open ({pull_url})"
    )
    assert again.known.pr_urls == ()  # the edit strategy's own PRs only
    assert writes(sandbox, before) == []
    assert len(sandbox.state.dispatches(DOWNSTREAM)) == 1


def test_a_run_still_going_is_not_dispatched_again(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    publish(index_dir(sandbox), "edx-proctoring", "5.3.0")
    go = threading.Event()

    def slow(context: RunContext) -> str:
        go.wait(10)
        context.open_pull(OPENS_THE_PR)
        return "success"

    with_workflow(sandbox, github_client, slow)
    config = dispatch_config(tmp_path, run_timeout=0.3)
    with pytest.raises(StepFailed) as timed_out:
        apply_step(plan(sandbox, config))
    [run] = sandbox.state.runs(DOWNSTREAM)
    run_url = f"{sandbox.url}/{DOWNSTREAM}/actions/runs/{run.id}"
    assert timed_out.value.message == (
        f"the {FILE} run on {DOWNSTREAM} has not completed after 0s: {run_url}"
    )
    assert "does not dispatch again" in timed_out.value.hint

    again = plan(sandbox, config)
    assert again.actions == ()
    assert again.skipped is not None and f"a run of {FILE} by {MAINTAINER} is" in again.skipped
    assert run_url in again.skipped
    go.set()
    sandbox.wait_for_runs(DOWNSTREAM)
    finally_ = plan(sandbox, config)
    assert (
        finally_.skipped is not None
        and "the workflow's PR #1 for 5.3.0 is open" in finally_.skipped
    )
    assert len(sandbox.state.dispatches(DOWNSTREAM)) == 1


def test_a_failed_run_is_a_failed_step_with_its_url(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    publish(index_dir(sandbox), "edx-proctoring", "5.3.0")
    with_workflow(sandbox, github_client, Fail())
    with pytest.raises(StepFailed) as failed:
        apply_step(plan(sandbox, dispatch_config(tmp_path)))
    [run] = sandbox.state.runs(DOWNSTREAM)
    assert failed.value.exit_code == 1
    assert failed.value.message == (
        f"the {FILE} run on {DOWNSTREAM} concluded failure: "
        f"{sandbox.url}/{DOWNSTREAM}/actions/runs/{run.id}"
    )
    # Nothing was opened: the next run of the command dispatches again.
    sandbox.on_dispatch(DOWNSTREAM, FILE, OPENS_THE_PR)
    (outcome,) = apply_step(plan(sandbox, dispatch_config(tmp_path)))
    assert outcome.produced.pr_urls == (f"{sandbox.url}/{DOWNSTREAM}/pull/1",)
    assert len(sandbox.state.dispatches(DOWNSTREAM)) == 2


class WithoutRunDetails(GitHub):
    """A client of a GitHub that predates `return_run_details` (an older Enterprise Server
    ignores the field and answers 204): the field is left out of the dispatch."""

    def _json(
        self, verb: str, path: str, body: Any = None, parameters: dict[str, Any] | None = None
    ) -> Any:
        if path.endswith("/dispatches") and isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "return_run_details"}
        return super()._json(verb, path, body, parameters)


def test_without_run_details_the_run_is_found_by_workflow_actor_and_time(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    publish(index_dir(sandbox), "edx-proctoring", "5.3.0")
    with_workflow(sandbox, github_client)
    gh = WithoutRunDetails(sandbox.api_url, MAINTAINER_TOKEN, policy=FAST)
    planned = plan_downstream(gh, dispatch_config(tmp_path), upgrade(), index=index_of(sandbox))
    (outcome,) = apply_step(planned)
    assert [s for _, _, s in dispatches(sandbox)] == [204]
    [run] = sandbox.state.runs(DOWNSTREAM)
    assert outcome.produced.run_urls == (f"{sandbox.url}/{DOWNSTREAM}/actions/runs/{run.id}",)
    assert outcome.produced.pr_urls == (f"{sandbox.url}/{DOWNSTREAM}/pull/1",)
    listed = [p for m, p, _ in sandbox.requests if p.endswith(f"/workflows/{FILE}/runs")]
    assert listed  # found among the workflow's runs


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        (
            {"branch": "master", "version": "{{ version }}"},
            "required input package not given",
        ),
        (
            {"package": "{{ package }}", "python": "3.12", "os": "linux"},
            "unknown inputs python, os",
        ),
    ],
)
def test_inputs_are_checked_against_the_workflow_file_at_plan_time(
    sandbox: Sandbox,
    tmp_path: Path,
    github_client: Any,
    inputs: dict[str, str],
    problem: str,
) -> None:
    with_workflow(sandbox, github_client)
    before = len(sandbox.requests)
    with pytest.raises(UsageError) as refused:
        plan(sandbox, dispatch_config(tmp_path, inputs=inputs))
    assert refused.value.exit_code == 2
    assert refused.value.message == (
        f"tool.release_tool.downstream[0].inputs: {problem} (the inputs {FILE} declares: "
        "branch, package, version, change_desc)"
    )
    assert "\n" not in refused.value.message
    assert "on.workflow_dispatch.inputs" in refused.value.hint
    assert writes(sandbox, before) == []
    assert sandbox.state.dispatches(DOWNSTREAM) == []


def test_a_workflow_that_cannot_be_dispatched_is_refused(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    with pytest.raises(UsageError) as missing:
        plan(sandbox, dispatch_config(tmp_path))
    assert missing.value.message == (
        f"tool.release_tool.downstream[0].workflow: {FILE} not found in {DOWNSTREAM}@master"
    )
    put_files(github_client, {f".github/workflows/{FILE}": b"on: [push]\njobs: {}\n"})
    with pytest.raises(UsageError) as no_trigger:
        plan(sandbox, dispatch_config(tmp_path))
    assert "has no workflow_dispatch trigger" in no_trigger.value.message
    assert sandbox.state.dispatches(DOWNSTREAM) == []


def test_a_failed_dispatch_is_not_repeated_blindly(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    publish(index_dir(sandbox), "edx-proctoring", "5.3.0")
    with_workflow(sandbox, github_client)
    sandbox.add_fault("POST /repos/*/actions/workflows/*/dispatches 500 1")
    with pytest.raises(ReleaseError, match="500"):
        apply_step(plan(sandbox, dispatch_config(tmp_path)))
    assert sandbox.state.dispatches(DOWNSTREAM) == []
    apply_step(plan(sandbox, dispatch_config(tmp_path)))
    assert len(sandbox.state.dispatches(DOWNSTREAM)) == 1
    # And converged: the third run finds the PR.
    assert plan(sandbox, dispatch_config(tmp_path)).actions == ()
    assert len(sandbox.state.dispatches(DOWNSTREAM)) == 1


def test_a_renamed_downstream_is_dispatched_under_its_new_name(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    publish(index_dir(sandbox), "edx-proctoring", "5.3.0")
    put_files(github_client, {f".github/workflows/{FILE}": WORKFLOW.encode()})
    renamed = "openedx/openedx-platform"
    sandbox.rename(DOWNSTREAM, renamed)
    sandbox.on_dispatch(renamed, FILE, OPENS_THE_PR)
    planned = plan(sandbox, dispatch_config(tmp_path))  # configured: openedx/edx-platform
    assert planned.notes == (f"{DOWNSTREAM} is now {renamed} (every write goes to the new name)",)
    before = len(sandbox.requests)
    (outcome,) = apply_step(planned)
    assert outcome.produced.pr_urls == (f"{sandbox.url}/{renamed}/pull/1",)
    assert all(status not in (301, 307) for _, _, status in sandbox.requests[before:])
    assert [p for m, p, _ in writes(sandbox, before)] == [f"/api/v3/repos/{renamed}{RUNS}"]
