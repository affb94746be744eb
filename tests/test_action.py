"""The composite action (action.yml): its inputs and outputs, the reusable workflow that uses it,
and its release step run as the runner runs it, against the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from actions_support import ROOT, Runner, load_yaml, steps_of
from conftest import IDENTITY
from sandbox_fixtures import LIBRARY, MAINTAINER_TOKEN

from release_tool.gha import OUTPUT_NAMES
from release_tool.git_repo import auth_environment, run_git
from release_tool.sandbox import Sandbox

ACTION = load_yaml(ROOT / "action.yml")


def release_step() -> dict[str, Any]:
    return next(s for s in ACTION["runs"]["steps"] if s.get("id") == "release")


def inputs(**given: str) -> dict[str, str]:
    """The `${{ inputs.* }}` values of a step: the action's defaults, then `given`."""
    values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in given.items()})
    return {f"inputs.{name}": value for name, value in values.items()}


def test_the_action_s_inputs_and_outputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"bump", "version", "dry-run", "token"}
    assert ACTION["inputs"]["dry-run"]["default"] == "true"  # a dry run unless asked
    assert ACTION["inputs"]["bump"]["default"] == "patch"
    assert set(ACTION["outputs"]) == set(OUTPUT_NAMES)  # those of the reusable workflow
    for name, spec in ACTION["outputs"].items():
        assert spec["value"] == f"${{{{ steps.release.outputs.{name} }}}}"
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", "")  # inputs reach scripts through env: only
        assert step.get("run") is None or step["shell"] == "bash"


def test_the_reusable_workflow_uses_the_action() -> None:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "release.yml")
    (step,) = (s for s in steps_of(workflow) if s.get("id") == "release")
    assert step["uses"] == "./"
    assert step["with"] == {
        "bump": "${{ inputs.bump }}",
        "version": "${{ inputs.version }}",
        "dry-run": "${{ inputs.dry_run }}",
        "token": "${{ secrets.release_token || secrets.RELEASE_TOKEN }}",
    }
    outputs = workflow["jobs"]["release"]["outputs"]
    assert outputs == {name: f"${{{{ steps.release.outputs.{name} }}}}" for name in OUTPUT_NAMES}


@pytest.fixture
def work(sandbox: Sandbox, tmp_path: Path) -> Path:
    url = sandbox.git_url(LIBRARY)
    dest = tmp_path / "edx-proctoring"
    run_git(
        "clone", "-q", url, str(dest), cwd=tmp_path, env=auth_environment(url, MAINTAINER_TOKEN)
    )
    return dest


def env_for(sandbox: Sandbox) -> dict[str, str]:
    return {"RELEASE_TOOL_GITHUB_API": sandbox.api_url, **IDENTITY}


def test_the_release_step_releases_and_sets_the_outputs(
    work: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    runner = Runner(tmp_path)
    step = release_step()
    given = inputs(bump="minor", token=MAINTAINER_TOKEN)
    dry = runner.run(step, given, cwd=work, env=env_for(sandbox))
    assert dry.code == 0, dry.stderr
    assert (dry.outputs["version"], dry.outputs["dry_run"]) == ("5.3.0", "true")
    assert sandbox.state.releases(LIBRARY) == []

    real = runner.run(step, {**given, "inputs.dry-run": "false"}, cwd=work, env=env_for(sandbox))
    assert real.code == 0, real.stderr
    # Workflow commands on standard output, the masks before any other line.
    assert real.stdout.splitlines()[0] == f"::add-mask::{MAINTAINER_TOKEN}"
    assert MAINTAINER_TOKEN not in real.stdout.replace(f"::add-mask::{MAINTAINER_TOKEN}", "")
    assert "::group::bump" in real.stdout
    assert set(real.outputs) == set(OUTPUT_NAMES)
    (release,) = sandbox.state.releases(LIBRARY)
    assert (real.outputs["version"], real.outputs["tag"], real.outputs["dry_run"]) == (
        "5.3.0",
        "v5.3.0",
        "false",
    )
    assert real.outputs["release_url"].endswith(f"/{LIBRARY}/releases/tag/v5.3.0")
    assert release.tag_name == "v5.3.0"
    assert real.outputs["downstream_pr_urls"].count("/pull/") == 1
    assert Path(real.outputs["email_draft"]).is_file()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"bump": "minor"}, "::error title=No release token::"),
        ({"bump": "--skip=push", "token": "t"}, "::error title=Bad bump::"),
        (
            {"bump": "version", "version": "--skip=push", "token": "t"},
            "::error title=Bad version::",
        ),
        ({"bump": "minor", "dry_run": "yes", "token": "t"}, "::error title=Bad dry-run::"),
    ],
)
def test_bad_inputs_stop_before_release_tool_runs(
    given: dict[str, str], message: str, work: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    before = len(sandbox.requests)
    run = Runner(tmp_path).run(release_step(), inputs(**given), cwd=work, env=env_for(sandbox))
    assert run.code == 2
    assert run.stdout.startswith(message)
    assert run.outputs == {}
    assert sandbox.requests[before:] == []  # nothing reached GitHub
