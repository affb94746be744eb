"""The dry-run promise, end to end: what `plan` prints is what `release` then applies.

The bundled example pair (an edx-proctoring-shaped library, an edx-platform-shaped downstream)
is released against the sandbox with every step enabled — bump, commit, tag, push, the GitHub
release, the wait for the package index, the downstream PR and the email — through the CLI.
The dry run's JSON plan must equal the plan the real run prints and applies, action for action
(descriptions and details), and the email draft the run writes must be the one the dry run
showed, with each placeholder for a not-yet-opened PR replaced by that PR's URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from release_tool import example
from release_tool.cli import cli
from release_tool.email import preview
from release_tool.email.message import pending_pr_placeholder
from release_tool.git_repo import auth_environment, clone, run_git
from release_tool.sandbox import Sandbox, seed_example
from release_tool.sandbox.wheels import publish

TOKEN = "promise-token"
USER = "maintainer"


@dataclass(frozen=True)
class World:
    sandbox: Sandbox
    work: Path
    env: Mapping[str, str]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    root, index = tmp_path / "sandbox", tmp_path / "index"
    seed_example(root)
    index.mkdir()
    grants = [(USER, example.LIBRARY), (USER, example.DOWNSTREAM)]
    with Sandbox(root, tokens={TOKEN: USER}, grants=grants, index=index) as sandbox:
        assert sandbox.index_url is not None
        work = tmp_path / "edx-proctoring"
        clone(sandbox.git_url(example.LIBRARY), work, TOKEN)
        run_git("config", "user.name", "Release Maintainer", cwd=work)
        run_git("config", "user.email", "maintainer@example.org", cwd=work)
        # Every step enabled: the index wait too, on the sandbox's index.
        pyproject = work / "pyproject.toml"
        text = pyproject.read_text()
        extra = f'wait_for_index = true\nindex_url = "{sandbox.index_url}"\n'
        pyproject.write_text(
            text.replace("[tool.release_tool.email]", extra + "\n[tool.release_tool.email]")
        )
        run_git("commit", "-qam", "chore: wait for the index", cwd=work)
        push_env = auth_environment(sandbox.git_url(example.LIBRARY), TOKEN)
        run_git("push", "-q", "origin", "HEAD", cwd=work, env=push_env)
        # The publish workflow, already done: the new version is on the index.
        publish(index, "edx-proctoring", "5.2.1")
        env = {
            "GITHUB_TOKEN": TOKEN,
            "RELEASE_TOOL_GITHUB_API": sandbox.api_url,
            "RELEASE_TOOL_RETRY_BACKOFF": "0.01",
            "RELEASE_TOOL_RETRY_MAX_WAIT": "0.05",
            "RELEASE_TOOL_POLL_INTERVAL": "0.05",
            "NO_COLOR": "1",
        }
        yield World(sandbox, work, env)


def _cli(world: World, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["-C", str(world.work), *args], env=dict(world.env))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _actions(plan: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (step["name"], action["description"], action["details"])
        for step in plan["steps"]
        for action in step["actions"]
    ]


def test_the_dry_run_shows_exactly_what_the_run_applies(world: World) -> None:
    dry = _cli(world, "plan", "patch", "--json")["plan"]
    steps = [step["name"] for step in dry["steps"]]
    assert steps == [
        "preflight",
        "bump",
        "commit",
        "tag",
        "push",
        "github-release",
        "wait-for-index",
        "downstream",
        "email",
    ]
    assert all(step["skipped"] is None for step in dry["steps"]), dry["steps"]

    real = _cli(world, "release", "patch", "--yes", "--json")
    assert real["plan"] == dry  # planned again on the same world: the same plan, byte for byte
    planned = _actions(dry)
    applied = [(entry["step"], entry["action"]) for entry in real["result"]["applied"]]
    assert applied == [(step, description) for step, description, _ in planned]

    # The email: the draft on disk is what the dry run showed, placeholders filled in.
    (shown,) = [details for step, _, details in planned if step == "email"]
    pr_urls = real["result"]["state"]["pr_urls"]
    assert pr_urls == [f"{world.sandbox.url}/{example.DOWNSTREAM}/pull/1"]
    placeholder = pending_pr_placeholder(example.DOWNSTREAM)
    assert placeholder in shown
    draft = Path(real["result"]["state"]["email_draft"])
    message = message_from_bytes(draft.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert preview(message) == shown.replace(placeholder, pr_urls[0])
    assert real["result"]["state"]["release_url"] in shown  # known at plan time: no placeholder
