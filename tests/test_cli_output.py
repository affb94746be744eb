"""Output modes that keep their word, through the CLI against the sandbox.

- `-q` on every command prints errors and the command's final line, nothing else (and that
  line is the last line a normal run prints);
- `--json` gives every planned action as structured data (a file edit: path, versions, diff;
  a PR: repository, branch, title, body, per-file diffs; a release: tag, name, body, flags; …),
  and an error as `{error, hint, exit_code, details}` with the lines the text shows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sandbox_fixtures import DOWNSTREAM, LIBRARY, MAINTAINER_TOKEN

from release_tool.cli import cli
from release_tool.git_repo import auth_environment, run_git
from release_tool.sandbox import Sandbox

SMTP_PASSWORD = "smtp-password-never-shown"


@pytest.fixture
def work(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A maintainer's clone of the example library, the token and the API in the environment."""
    url = sandbox.git_url(LIBRARY)
    dest = tmp_path / "edx-proctoring"
    run_git(
        "clone", "-q", url, str(dest), cwd=tmp_path, env=auth_environment(url, MAINTAINER_TOKEN)
    )
    monkeypatch.setenv("GITHUB_TOKEN", MAINTAINER_TOKEN)
    monkeypatch.setenv("RELEASE_TOOL_GITHUB_API", sandbox.api_url)
    return dest


def invoke(work: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-C", str(work), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- --quiet --------------------------------------------------------------------------------


def test_quiet_prints_only_the_final_line_of_every_command(work: Path, sandbox: Sandbox) -> None:
    # plan: the final line of a normal plan, and nothing else (not the plan itself).
    code, out, err = invoke(work, "plan", "minor")
    assert code == 0, err
    assert "Release plan: edx-proctoring 5.2.0 → 5.3.0" in out
    final = lines(err)[-1]
    assert final.startswith("Dry run: edx-proctoring 5.2.0 → 5.3.0 (v5.3.0), ")
    assert final.endswith(" planned: nothing was changed.")
    assert invoke(work, "plan", "minor", "-q") == (0, "", final + "\n")
    assert invoke(work, "release", "minor", "--dry-run", "--quiet") == (0, "", final + "\n")

    # status: its summary line, which ends the normal report.
    code, out, err = invoke(work, "status")
    assert code == 0, err
    summary = "edx-proctoring 5.2.0: files agree, last release v5.2.0"
    assert lines(out)[-1] == summary
    assert invoke(work, "status", "-q") == (0, summary + "\n", "")

    # release: no plan, no progress, no table: what was released.
    code, out, err = invoke(
        work, "release", "minor", "--yes", "-q", "--skip", "downstream", "--skip", "email"
    )
    assert (code, out, err) == (0, "", "Released edx-proctoring 5.3.0 (v5.3.0).\n")
    assert [r.tag_name for r in sandbox.state.releases(LIBRARY)] == ["v5.3.0"]

    # downstream, email: the dry run's last line; then the PR's URL, the draft's path.
    code, out, err = invoke(work, "downstream", "5.3.0", "--dry-run", "-q")
    assert (code, out, err) == (0, "", "Dry run: nothing was changed.\n")
    code, out, err = invoke(work, "downstream", "5.3.0", "--yes", "-q")
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    assert (code, err) == (0, "")
    (url,) = lines(out)
    assert url.startswith("http://127.0.0.1:") and url.endswith(f"/{DOWNSTREAM}/pull/{pull.number}")
    code, out, err = invoke(work, "email", "5.3.0", "-q")
    draft = work / "dist" / "release" / "5.3.0" / "notification.eml"
    assert (code, out, err) == (0, f"{draft}\n", "")
    assert draft.is_file()

    # bump: what it edited.
    code, out, err = invoke(work, "bump", "5.4.0", "-q")
    assert (code, out) == (0, "")
    assert lines(err) == [
        "Bumped edx-proctoring 5.3.0 → 5.4.0: edited edx_proctoring/__init__.py, package.json, "
        "package-lock.json, CHANGELOG.rst."
    ]

    # An error is still shown whole: its message, details and hint.
    code, out, err = invoke(work, "release", "5.4.0", "--yes", "-q")
    assert code == 2 and out == ""
    assert err.startswith("error: ")
    assert "hint: " in err
    assert all(line.startswith(("error: ", "hint: ", "  ")) for line in lines(err)), err


def test_quiet_rehearsal_prints_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["rehearse", "--example", "-q", "--workspace", str(tmp_path / "ws")]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert lines(result.stderr) == [
        f"Rehearsed edx-proctoring 5.2.1 (v5.2.1) against the sandbox; workspace {tmp_path / 'ws'}"
    ]


def test_quiet_sandbox_serve_prints_only_the_api_url(tmp_path: Path) -> None:
    interruptible = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from release_tool.cli import main; sys.argv[0] = 'release-tool'; main()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", interruptible, "sandbox", "serve", "--root", str(tmp_path), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert proc.stdout is not None
        api = proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert api.startswith("http://127.0.0.1:") and api.endswith("/api/v3")
    assert (proc.returncode, out, err) == (0, "", "")


# --- --json ---------------------------------------------------------------------------------


def actions_by_kind(plan: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for step in plan["steps"]:
        for action in step["actions"]:
            assert action["description"]  # the line and the details stay beside the data
            assert "details" in action
            found.setdefault(action["data"]["action"], []).append(action["data"])
    return found


def test_json_plan_gives_every_action_as_structured_data(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEASE_TOOL_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("RELEASE_TOOL_SMTP_PORT", "2525")
    monkeypatch.setenv("RELEASE_TOOL_SMTP_USER", "release-bot")
    monkeypatch.setenv("RELEASE_TOOL_SMTP_PASSWORD", SMTP_PASSWORD)
    code, out, err = invoke(work, "plan", "minor", "--send-email", "--json")
    assert code == 0, err
    assert MAINTAINER_TOKEN not in out and SMTP_PASSWORD not in out
    document = json.loads(out)
    assert document["dry_run"] is True
    kinds = actions_by_kind(document["plan"])
    assert set(kinds) == {
        "edit",
        "commit",
        "tag",
        "push",
        "create-release",
        "pull-request",
        "email-draft",
        "email-send",
    }

    edits = {e["path"]: e for e in kinds["edit"]}
    init = edits["edx_proctoring/__init__.py"]
    assert (init["old_version"], init["new_version"]) == ("5.2.0", "5.3.0")
    assert "-__version__ = '5.2.0'\n+__version__ = '5.3.0'\n" in init["diff"]
    assert edits["package.json"]["new_version"] == "5.3.0"
    changelog = edits["CHANGELOG.rst"]
    assert (changelog["old_version"], changelog["new_version"]) == (None, "5.3.0")
    assert changelog["diff"].startswith("--- a/CHANGELOG.rst\n+++ b/CHANGELOG.rst\n")

    (commit,) = kinds["commit"]
    assert sorted(commit["paths"]) == sorted(edits)
    assert commit["message"].startswith("chore: release edx-proctoring 5.3.0")
    (tag,) = kinds["tag"]
    assert (tag["name"], tag["signed"]) == ("v5.3.0", False)
    assert "Send the proctoring review email" in tag["message"]
    (push,) = kinds["push"]
    assert push["remote"] == "origin"
    assert "refs/tags/v5.3.0" in push["refspecs"]

    (release,) = kinds["create-release"]
    assert release["repository"] == LIBRARY
    assert (release["tag"], release["name"]) == ("v5.3.0", "v5.3.0")
    assert (release["draft"], release["prerelease"]) == (False, False)
    assert "Send the proctoring review email" in release["body"]

    (pull,) = kinds["pull-request"]
    assert (pull["repository"], pull["base"]) == (DOWNSTREAM, "master")
    assert pull["branch"].startswith("release-tool/")
    assert pull["title"] == "chore: upgrade edx-proctoring to 5.3.0"
    assert "5.3.0" in pull["body"]
    assert (pull["labels"], pull["reviewers"]) == (["dependencies"], ["edx-platform-reviewer"])
    assert pull["pull_request"] is None  # to be opened
    diffs = {f["path"]: f["diff"] for f in pull["files"]}
    assert len(diffs) == 4
    for path, diff in diffs.items():
        assert path.startswith("requirements/edx/")
        assert "-edx-proctoring==5.2.0\n+edx-proctoring==5.3.0\n" in diff

    (draft,) = kinds["email-draft"]
    assert draft["path"].endswith("dist/release/5.3.0/notification.eml")
    assert draft["headers"]["To"] == "release-notifications@edx.org"
    assert draft["headers"]["Subject"] == "edx-proctoring 5.3.0 released"
    assert "Send the proctoring review email" in draft["text"]
    (send,) = kinds["email-send"]
    assert send["recipients"] == ["release-notifications@edx.org"]
    assert send["smtp"] == {
        "host": "smtp.example.org",
        "port": 2525,
        "security": "starttls",
        "user": "release-bot",
    }


def test_json_of_a_released_step_and_its_result(work: Path, sandbox: Sandbox) -> None:
    code, _, err = invoke(work, "release", "minor", "--yes", "--skip", "downstream")
    assert code == 0, err
    code, out, err = invoke(work, "downstream", "5.3.0", "--dry-run", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["dry_run"] is True
    ((step,),) = [document["steps"]]
    assert step["name"] == "downstream"
    assert [a["data"]["action"] for a in step["actions"]] == ["pull-request"]
    code, out, err = invoke(work, "downstream", "5.3.0", "--yes", "--json")
    assert code == 0, err
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    (url,) = json.loads(out)["result"]["state"]["pr_urls"]
    assert url.endswith(f"/{DOWNSTREAM}/pull/{pull.number}")


def test_error_json_carries_the_details_the_text_shows(work: Path) -> None:
    lock = work / "package-lock.json"
    lock.write_text(lock.read_text().replace('"version": "5.2.0"', '"version": "5.1.0"'))
    code, _, text_err = invoke(work, "bump", "5.3.0")
    assert code == 2
    code, out, err = invoke(work, "bump", "5.3.0", "--json")
    assert code == 2
    error = json.loads(out)
    assert error["error"] == "version files disagree: 5.1.0, 5.2.0"
    assert error["exit_code"] == 2
    assert error["hint"].startswith("bring them to one version explicitly")
    assert len(error["details"]) == 4  # the version table: one row per version location
    assert error["details"][0].startswith("edx_proctoring/__init__.py (__version__, line ")
    for row in error["details"]:
        assert f"  {row}" in text_err  # the same rows as the text shows
    assert err == text_err  # stderr is the same in both modes
    summary = "edx-proctoring: files DISAGREE (5.1.0, 5.2.0), last release v5.2.0\n"
    assert invoke(work, "status", "-q") == (0, summary, "")


def test_error_json_lists_every_preflight_problem(work: Path) -> None:
    run_git("switch", "-q", "-c", "feature", cwd=work)
    (work / "README.rst").write_text("uncommitted\n")
    code, out, _ = invoke(work, "plan", "minor", "--local", "--json")
    assert code == 2
    error = json.loads(out)
    problems = error["problems"]
    assert len(problems) >= 2
    assert error["details"] == [p["error"] for p in problems]
    assert all(set(p) == {"error", "hint", "details"} for p in problems)


def test_the_other_actions_data_names_its_fields(tmp_path: Path) -> None:
    """The actions the example's plan has no room for: a dispatch, a wait for the index, a
    release update, a recovery. Each names its kind, and its data is JSON as it is."""
    from release_tool.downstream.dispatch import DispatchWorkflowAction
    from release_tool.git_recover import RecoverAction
    from release_tool.git_repo import GitRepo
    from release_tool.github_api import GitHub, ReleaseInfo
    from release_tool.index_wait import WaitForIndexAction
    from release_tool.plan import Action
    from release_tool.steps.github_release import DesiredRelease, UpdateReleaseAction
    from release_tool.versions import parse_version

    run_git("init", "-q", str(tmp_path), cwd=tmp_path)
    gh = GitHub("http://127.0.0.1:9/api/v3", None)
    wanted = DesiredRelease(LIBRARY, "v5.3.0", "v5.3.0", "notes", draft=False, prerelease=True)
    existing = ReleaseInfo(7, "v5.3.0", "v5.3.0", "old", True, False, "https://r/7")
    actions: list[Action] = [
        DispatchWorkflowAction(
            gh, DOWNSTREAM, "upgrade.yml", "master", (("package", "edx-proctoring"),)
        ),
        WaitForIndexAction("edx-proctoring", parse_version("5.3.0"), "https://pypi.org/simple", 60),
        UpdateReleaseAction(gh, wanted, existing, ("pre-release flag", "publish the draft")),
        RecoverAction(
            GitRepo(tmp_path),
            "rollback",
            "roll back",
            "origin",
            "a" * 40,
            {"package.json": "{}"},
            ("v5.3.0",),
            "master",
        ),
    ]
    data = [json.loads(json.dumps(a.data())) for a in actions]
    assert data[0] == {
        "action": "dispatch",
        "repository": DOWNSTREAM,
        "workflow": "upgrade.yml",
        "ref": "master",
        "inputs": {"package": "edx-proctoring"},
    }
    assert data[1]["action"] == "wait-for-index"
    assert data[1]["url"] == "https://pypi.org/simple/edx-proctoring/"
    assert (data[1]["version"], data[1]["timeout"]) == ("5.3.0", 60)
    assert data[2]["action"] == "update-release"
    assert (data[2]["tag"], data[2]["body"], data[2]["draft"], data[2]["prerelease"]) == (
        "v5.3.0",
        "notes",
        False,
        True,
    )
    assert data[2]["changes"] == ["pre-release flag", "publish the draft"]
    assert data[3]["action"] == "recover"
    assert (data[3]["kind"], data[3]["tags"], data[3]["files"]) == (
        "rollback",
        ["v5.3.0"],
        ["package.json"],
    )
    assert "delete local tag v5.3.0" in data[3]["details"]
