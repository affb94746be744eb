"""Workflow dispatch as GitHub does it: inputs checked against the workflow file, run details on
request, runs listed with their status, and what a run does (a hook: open a PR, or fail)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests
from github import GithubException
from sandbox_fixtures import DOWNSTREAM, MAINTAINER, MAINTAINER_TOKEN

from release_tool.sandbox import Fail, OpenPull, RunContext, Sandbox

Client = Callable[..., Any]
FILE = "upgrade-one-python-dependency.yml"
WORKFLOW = """\
name: Upgrade one Python dependency
on:
  workflow_dispatch:
    inputs:
      package:
        description: the package
        required: true
      version:
        required: true
      branch:
        required: false
        default: master
      kind:
        type: choice
        options: [pin, bump]
jobs: {}
"""


@pytest.fixture
def workflow(sandbox: Sandbox, github_client: Client) -> Any:
    repo = github_client().get_repo(DOWNSTREAM)
    repo.create_file(f".github/workflows/{FILE}", "ci: add the upgrade workflow", WORKFLOW)
    return repo.get_workflow(FILE)


def dispatch(sandbox: Sandbox, body: dict[str, Any], workflow: str = FILE) -> requests.Response:
    return requests.post(
        f"{sandbox.api_url}/repos/{DOWNSTREAM}/actions/workflows/{workflow}/dispatches",
        json=body,
        headers={"Authorization": f"token {MAINTAINER_TOKEN}"},
        timeout=10,
    )


def test_inputs_are_checked_against_the_workflow_file(sandbox: Sandbox, workflow: Any) -> None:
    missing = dispatch(sandbox, {"ref": "master", "inputs": {"package": "edx-proctoring"}})
    assert (missing.status_code, missing.json()["message"]) == (
        422,
        "Required input 'version' not provided",
    )
    extra = {"package": "p", "version": "1", "python": "3.12", "os": "linux"}
    unexpected = dispatch(sandbox, {"ref": "master", "inputs": extra})
    assert (unexpected.status_code, unexpected.json()["message"]) == (
        422,
        'Unexpected inputs provided: ["python", "os"]',
    )
    bad_choice = dispatch(
        sandbox, {"ref": "master", "inputs": {"package": "p", "version": "1", "kind": "x"}}
    )
    assert bad_choice.json()["message"] == (
        "Provided value 'x' for input 'kind' not in the list of allowed values"
    )
    assert sandbox.state.dispatches(DOWNSTREAM) == []  # nothing refused was recorded

    ok = dispatch(sandbox, {"ref": "master", "inputs": {"package": "p", "version": "1"}})
    assert (ok.status_code, ok.content) == (204, b"")
    # The run sees every declared input: the given ones, then the defaults.
    [run] = sandbox.wait_for_runs(DOWNSTREAM)
    assert run.inputs == {"package": "p", "version": "1", "branch": "master", "kind": ""}


def test_a_workflow_without_the_trigger_is_refused(sandbox: Sandbox, github_client: Client) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    repo.create_file(".github/workflows/ci.yml", "ci", "on: [push, pull_request]\njobs: {}\n")
    refused = dispatch(sandbox, {"ref": "master"}, "ci.yml")
    assert (refused.status_code, refused.json()["message"]) == (
        422,
        "Workflow does not have 'workflow_dispatch' trigger",
    )


def test_run_details_and_runs_listed_with_status(
    sandbox: Sandbox, workflow: Any, github_client: Client
) -> None:
    repo = github_client().get_repo(DOWNSTREAM)
    run = workflow.create_dispatch(
        "master", {"package": "edx-proctoring", "version": "5.3.0"}, return_run_details=True
    )
    assert run.url == f"{sandbox.api_url}/repos/{DOWNSTREAM}/actions/runs/{run.id}"
    assert run.html_url == f"{sandbox.url}/{DOWNSTREAM}/actions/runs/{run.id}"
    assert [r for r in sandbox.requests if r[1].endswith("/dispatches")][-1][2] == 200

    fetched = repo.get_workflow_run(run.id)
    assert (fetched.event, fetched.head_branch, fetched.actor.login) == (
        "workflow_dispatch",
        "master",
        MAINTAINER,
    )
    assert fetched.head_sha == repo.get_branch("master").commit.sha
    assert fetched.workflow_id == workflow.id
    sandbox.wait_for_runs(DOWNSTREAM)
    done = repo.get_workflow_run(run.id)
    assert (done.status, done.conclusion) == ("completed", "success")

    # A run in progress is seen so: the hook holds it until the test lets it go.
    started, release = threading.Event(), threading.Event()

    def hold(context: RunContext) -> str:
        started.set()
        release.wait(10)
        return "success"

    sandbox.on_dispatch(DOWNSTREAM, FILE, hold)
    assert workflow.create_dispatch("master", {"package": "edx-when", "version": "1.0"})
    assert started.wait(10)
    runs = list(repo.get_workflow_runs())
    assert [r.run_number for r in runs] == [2, 1]  # newest first
    assert (runs[0].status, runs[0].conclusion) == ("in_progress", None)
    assert [r.id for r in workflow.get_runs()] == [r.id for r in runs]
    assert [r.id for r in repo.get_workflow_runs(status="in_progress")] == [runs[0].id]
    assert [r.id for r in repo.get_workflow_runs(status="success")] == [run.id]
    assert repo.get_workflow_runs(branch="other").totalCount == 0
    release.set()
    sandbox.wait_for_runs(DOWNSTREAM)
    assert repo.get_workflow_run(runs[0].id).conclusion == "success"


def test_a_run_opens_a_pull_request_after_a_delay(
    sandbox: Sandbox, workflow: Any, github_client: Client
) -> None:
    def pin(old: str, values: Mapping[str, str]) -> str:
        return old.replace("edx-proctoring==5.2.0", f"edx-proctoring=={values['version']}")

    sandbox.on_dispatch(
        DOWNSTREAM,
        FILE,
        OpenPull(
            files={"requirements/edx/base.txt": pin, "NOTES.txt": "upgraded\n"},
            title="chore: upgrade {package} to {version}",
        ),
    )
    repo = github_client().get_repo(DOWNSTREAM)
    sha7 = repo.get_branch("master").commit.sha[:7]
    assert workflow.create_dispatch("master", {"package": "edx-proctoring", "version": "5.3.0"})
    [run] = sandbox.wait_for_runs(DOWNSTREAM)
    assert (run.status, run.conclusion) == ("completed", "success")

    [pr] = list(repo.get_pulls())
    assert pr.number == run.pull_number
    assert pr.head.ref == f"{MAINTAINER}/upgrade-edx-proctoring-{sha7}"
    assert (pr.base.ref, pr.title, pr.user.login) == (
        "master",
        "chore: upgrade edx-proctoring to 5.3.0",
        MAINTAINER,
    )
    base_txt = repo.get_contents("requirements/edx/base.txt", ref=pr.head.ref)
    assert b"edx-proctoring==5.3.0" in base_txt.decoded_content
    assert (pr.commits, pr.changed_files) == (1, 2)


def test_a_run_can_fail(sandbox: Sandbox, workflow: Any, github_client: Client) -> None:
    sandbox.on_dispatch(DOWNSTREAM, FILE, Fail())
    assert workflow.create_dispatch("master", {"package": "p", "version": "1"})
    [run] = sandbox.wait_for_runs(DOWNSTREAM)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert list(github_client().get_repo(DOWNSTREAM).get_pulls()) == []


def test_a_callback_hook_sees_the_run_and_its_exception_fails_it(
    sandbox: Sandbox, workflow: Any
) -> None:
    seen: list[RunContext] = []

    def hook(context: RunContext) -> str | None:
        seen.append(context)
        if context.inputs["package"] == "boom":
            raise RuntimeError("the workflow's step failed")
        return "cancelled"

    sandbox.on_dispatch(DOWNSTREAM, FILE, hook)
    assert workflow.create_dispatch("master", {"package": "p", "version": "1"})
    assert workflow.create_dispatch("master", {"package": "boom", "version": "1"})
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    runs = sorted(sandbox.wait_for_runs(DOWNSTREAM), key=lambda r: r.id)
    assert [r.conclusion for r in runs] == ["cancelled", "failure"]
    assert [c.actor for c in seen] == [MAINTAINER, MAINTAINER]
    assert seen[0].values["sha7"] == seen[0].sha[:7]


def test_dispatch_is_refused_before_anything_runs_without_write(
    sandbox: Sandbox, workflow: Any, github_client: Client
) -> None:
    with pytest.raises(GithubException) as refused:
        github_client("sandbox-token-outsider").get_repo(DOWNSTREAM).get_workflow(
            FILE
        ).create_dispatch("master", {"package": "p", "version": "1"}, throw=True)
    assert refused.value.status == 403
    assert sandbox.state.runs(DOWNSTREAM) == []
