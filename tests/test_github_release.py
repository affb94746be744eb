"""The github-release step, end to end against the sandbox with real PyGithub.

A working clone of the sandbox's example library is released with `plan_release` and
`apply_plan` on a `Project` with fast retries, exactly as the CLI does; the results are read
back from the sandbox's state and its request log. Also the helpers the downstream tests share
(`library_project`, `release`, `api_calls`, `writes`).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_fixtures import GRANTS, LIBRARY, MAINTAINER_TOKEN

from release_tool.apply import RunResult, apply_plan, run_release
from release_tool.config import Config, load_config
from release_tool.errors import ReleaseError, UsageError
from release_tool.git_repo import GitRepo, clone, run_git
from release_tool.github_api import GitHub, api_url, release_web_url, web_url
from release_tool.pipeline import plan_release
from release_tool.plan import ReleasePlan
from release_tool.project import Bump, Project, ReleaseRequest, RetryPolicy
from release_tool.sandbox import Sandbox
from release_tool.status import remote_status
from release_tool.steps.github_release import actions_token_warning
from release_tool.versions import parse_version

# Retries that do not make a test wait: the policy is the client's, so tests can shrink it.
FAST = RetryPolicy(attempts=4, backoff=0.01, max_wait=0.05)
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
NOTES = (
    "* Send the proctoring review email in the learner's preferred language\n"
    "* Fix a crash when an exam's due date is removed while an attempt is open"
)
# The same notes as the GitHub release and the PR show them: RST bullets as Markdown.
NOTES_MD = NOTES.replace("* ", "- ")


# --- helpers shared with test_downstream.py ------------------------------------------------------


def library_project(
    sandbox: Sandbox,
    tmp_path: Path,
    *,
    token: str | None = MAINTAINER_TOKEN,
    environ: dict[str, str] | None = None,
    change: Any = None,
    progress: Any = None,
) -> Project:
    """A fresh clone of the sandbox's library, as a Project whose API is the sandbox."""
    work = tmp_path / "edx-proctoring"
    if not work.exists():
        clone(sandbox.git_url(LIBRARY), work, MAINTAINER_TOKEN)
    config = load_config(work)
    if change is not None:
        config = change(config)
    return Project(
        work,
        config,
        GitRepo(work, token),
        token=token,
        environ={"RELEASE_TOOL_GITHUB_API": sandbox.api_url, **(environ or {})},
        policy=FAST,
        poll_interval=0.02,
        progress=progress,
    )


def replace_downstream(config: Config, **changes: Any) -> Config:
    return dataclasses.replace(
        config, downstream=(dataclasses.replace(config.downstream[0], **changes),)
    )


def plan(project: Project, bump: str = "minor", **request: Any) -> ReleasePlan:
    request.setdefault("skip", frozenset({"email"}))  # the email step is not under test here
    return plan_release(project, ReleaseRequest(bump=Bump.parse(bump), **request))


def release(project: Project, bump: str = "minor", **request: Any) -> tuple[ReleasePlan, RunResult]:
    planned = plan(project, bump, **request)
    return planned, apply_plan(planned)


def api_calls(sandbox: Sandbox, since: int = 0) -> list[tuple[str, str, int]]:
    """The API requests served since index `since`, with GitHub's own paths."""
    return [
        (method, path.removeprefix("/api/v3"), status)
        for method, path, status in sandbox.requests[since:]
        if path.startswith("/api/v3/")
    ]


def writes(sandbox: Sandbox, since: int = 0) -> list[tuple[str, str, int]]:
    """Every write since `since`: API writes and git pushes (receive-pack is a POST too)."""
    return [
        (m, p, s)
        for m, p, s in sandbox.requests[since:]
        if m in WRITE_METHODS and not p.endswith("/git-upload-pack")
    ]


def release_twice_if_it_fails(project: Project, failing_step: str, **request: Any) -> bool:
    """Release; if that fails (in `failing_step`), run the same command again, with the BUMP
    the hint names when the push had landed (a bump word would name the next version).
    Whether it failed."""
    try:
        release(project, **request)
    except ReleaseError as exc:
        failure = exc
    else:
        return False
    assert f"{failing_step} failed" in failure.message
    named = re.search(r"with (\S+) \(or current\) as BUMP", failure.hint)
    if named:
        request["bump"] = named.group(1)
    release(project, **request)
    return True


def commit_changelog_entry(project: Project, entry: str) -> None:
    """Add an Unreleased entry to the library's changelog and commit it (for a next release)."""
    path = project.root / "CHANGELOG.rst"
    text = path.read_text()
    path.write_text(
        text.replace("Unreleased\n~~~~~~~~~~\n", f"Unreleased\n~~~~~~~~~~\n\n{entry}\n", 1)
    )
    run_git("commit", "-qam", "docs: changelog", cwd=project.root)


def step(planned: ReleasePlan, name: str) -> Any:
    return next(s for s in planned.steps if s.name == name)


# --- the release ----------------------------------------------------------------------------------


def test_release_has_the_changelog_section_as_body(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    planned, result = release(project)

    (rel,) = sandbox.state.releases(LIBRARY)
    assert (rel.tag_name, rel.name, rel.body) == ("v5.3.0", "v5.3.0", NOTES_MD)
    assert not rel.draft
    assert not rel.prerelease
    assert result.outputs["release_url"] == f"{sandbox.url}/{LIBRARY}/releases/tag/v5.3.0"
    # The dry-run plan shows the body, and the release URL it predicted is the real one.
    (action,) = step(planned, "github-release").actions
    assert action.details() == NOTES_MD
    assert action.describe() == "create GitHub release 'v5.3.0' for v5.3.0 on " + LIBRARY
    assert release_web_url(sandbox.api_url, LIBRARY, "v5.3.0") == result.outputs["release_url"]
    # The tag is on the remote, at the release commit.
    tag = sandbox.store.ref(LIBRARY, "refs/tags/v5.3.0")
    assert tag is not None


def test_planning_reads_only(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    before = len(sandbox.requests)
    planned = plan(project)
    assert writes(sandbox, before) == []
    assert [s.name for s in planned.steps if s.actions] == [
        "bump",
        "commit",
        "tag",
        "push",
        "github-release",
        "downstream",
    ]
    assert api_calls(sandbox, before)[0] == ("GET", f"/repos/{LIBRARY}/releases/tags/v5.3.0", 404)


def test_rerun_after_success_writes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    release(project)
    before = len(sandbox.requests)
    again, result = release(project, "current")
    assert writes(sandbox, before) == []
    assert result.applied == []
    assert step(again, "github-release").skipped.startswith("already done: release v5.3.0 exists")
    assert step(again, "downstream").skipped.startswith("already done")
    assert len(sandbox.state.releases(LIBRARY)) == 1


def test_prerelease_flag_for_pre_versions(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    _, result = release(project, "minor", pre="rc")
    (rel,) = sandbox.state.releases(LIBRARY)
    assert (rel.tag_name, rel.prerelease, rel.draft) == ("v5.3.0rc1", True, False)
    assert result.outputs["release_url"].endswith("/releases/tag/v5.3.0rc1")


def test_draft_release_is_found_again_not_duplicated(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(
        sandbox, tmp_path, change=lambda c: dataclasses.replace(c, draft_release=True)
    )
    planned, _ = release(project)
    assert "(draft)" in step(planned, "github-release").actions[0].describe()
    (rel,) = sandbox.state.releases(LIBRARY)
    assert rel.draft
    # GET releases/tags/{tag} never returns a draft: the re-run must still find it.
    before = len(sandbox.requests)
    again, _ = release(project, "current")
    assert step(again, "github-release").skipped.startswith("already done")
    assert writes(sandbox, before) == []
    assert len(sandbox.state.releases(LIBRARY)) == 1

    # Once the config stops asking for drafts, the same command publishes that draft (GitHub
    # would accept a second, published release beside it: the plan looks for drafts too).
    published = library_project(sandbox, tmp_path)
    _, result = release(published, "current")
    (rel,) = sandbox.state.releases(LIBRARY)
    assert not rel.draft
    assert result.outputs["release_url"].endswith("/releases/tag/v5.3.0")


def test_a_changed_release_is_updated_in_place(
    sandbox: Sandbox, tmp_path: Path, github_client: Any
) -> None:
    project = library_project(sandbox, tmp_path)
    release(project)
    github_client().get_repo(LIBRARY).get_release("v5.3.0").update_release(
        name="hand-edited", message="hand-edited body", prerelease=True
    )
    before = len(sandbox.requests)
    planned, _ = release(project, "current")
    (action,) = step(planned, "github-release").actions
    assert action.describe() == (
        "update GitHub release v5.3.0 on openedx/edx-proctoring: name, body, pre-release flag"
    )
    assert [w[:2] for w in writes(sandbox, before)] == [
        ("PATCH", f"/api/v3/repos/{LIBRARY}/releases/{sandbox.state.releases(LIBRARY)[0].id}")
    ]
    (rel,) = sandbox.state.releases(LIBRARY)
    assert (rel.name, rel.body, rel.prerelease) == ("v5.3.0", NOTES_MD, False)


@pytest.mark.parametrize("kind", ["500", "reset", "ratelimit"])
def test_a_failed_create_converges(sandbox: Sandbox, tmp_path: Path, kind: str) -> None:
    project = library_project(sandbox, tmp_path)
    sandbox.add_fault(f"POST /repos/*/releases {kind} 1")
    release_twice_if_it_fails(project, "github-release")
    (rel,) = sandbox.state.releases(LIBRARY)
    assert rel.body == NOTES_MD
    posts = [c for c in api_calls(sandbox) if c[:2] == ("POST", f"/repos/{LIBRARY}/releases")]
    assert [status for *_, status in posts][-1] == 201
    assert sum(1 for *_, status in posts if status == 201) == 1


def test_a_failed_update_converges(sandbox: Sandbox, tmp_path: Path, github_client: Any) -> None:
    project = library_project(sandbox, tmp_path)
    release(project)
    github_client().get_repo(LIBRARY).get_release("v5.3.0").update_release(
        name="v5.3.0", message="stale"
    )
    for kind in ("500", "reset", "ratelimit"):
        sandbox.add_fault(f"PATCH /repos/*/releases/* {kind} 1")
        release_twice_if_it_fails(project, "github-release", bump="current")
        (rel,) = sandbox.state.releases(LIBRARY)
        assert rel.body == NOTES_MD
        github_client().get_repo(LIBRARY).get_release("v5.3.0").update_release(
            name="v5.3.0", message="stale"
        )


# --- tokens -------------------------------------------------------------------------------------


def test_no_token_plans_on_anonymous_reads_and_a_run_refuses(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = library_project(sandbox, tmp_path, token=None)
    before = len(sandbox.requests)
    planned = plan(project)
    # The public release was read anonymously; the downstream needs a user to tell where
    # its branch goes (the token's, or its fork): not checked.
    assert api_calls(sandbox, before)[0] == ("GET", f"/repos/{LIBRARY}/releases/tags/v5.3.0", 404)
    assert all(method == "GET" for method, _, _ in api_calls(sandbox, before))
    release_step = step(planned, "github-release")
    assert release_step.actions[0].describe().startswith("create GitHub release 'v5.3.0'")
    assert "no token: read anonymously; a real run needs one to write" in release_step.notes
    assert step(planned, "downstream").skipped == "not checked (no token)"
    (blocker,) = planned.blockers
    assert blocker.exit_code == 2
    assert blocker.message == (
        "no GitHub token, which the GitHub release and the downstream PRs need"
    )
    assert "GITHUB_TOKEN" in blocker.hint
    head = run_git("rev-parse", "HEAD", cwd=project.root)
    with pytest.raises(UsageError) as caught:
        run_release(project, planned)
    assert caught.value is blocker
    assert run_git("rev-parse", "HEAD", cwd=project.root) == head
    assert writes(sandbox, before) == []
    # Without the steps that need it, no token is needed.
    planned = plan(project, skip=frozenset({"email", "github-release", "downstream"}))
    assert step(planned, "github-release").skipped == "not selected (--skip/--only)"
    assert planned.blockers == ()


def test_no_token_and_a_read_github_refuses_is_not_checked(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = library_project(sandbox, tmp_path, token=None)
    sandbox.add_fault("GET /repos/*/releases/tags/* 403 0")
    planned = plan(project, skip=frozenset({"email", "downstream"}))
    release_step = step(planned, "github-release")
    assert release_step.skipped == "not checked (no token)"
    assert release_step.notes[0].startswith("anonymous read failed: GitHub refused (403")
    assert [b.message for b in planned.blockers] == [
        "no GitHub token, which the GitHub release needs"
    ]


def test_a_rejected_token_is_a_usage_error(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    project = dataclasses.replace(project, token="not-a-sandbox-token")
    with pytest.raises(UsageError) as caught:
        plan(project)
    assert "rejected the token (401)" in caught.value.message
    assert "not-a-sandbox-token" not in caught.value.message + caught.value.hint


@pytest.fixture
def actions_sandbox(tmp_path: Path, _seeded_root: Path) -> Iterator[Sandbox]:
    """A sandbox that also knows a token shaped like Actions' default one."""
    import shutil

    root = tmp_path / "actions-sandbox"
    shutil.copytree(_seeded_root, root, symlinks=True)
    tokens = {MAINTAINER_TOKEN: "maintainer", "ghs_actionsDefaultToken": "maintainer"}
    with Sandbox(root, tokens=tokens, grants=GRANTS) as running:
        yield running


def test_actions_default_token_gets_a_warning(actions_sandbox: Sandbox, tmp_path: Path) -> None:
    token = "ghs_actionsDefaultToken"
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": token}
    project = library_project(actions_sandbox, tmp_path, token=token, environ=environ)
    notes = step(plan(project), "github-release").notes
    assert any("does not trigger the publish workflows" in n for n in notes)
    # A PAT in Actions, or the same token outside Actions: no warning.
    assert (
        actions_token_warning(
            dataclasses.replace(
                project, token="ghp_x", environ={**environ, "GITHUB_TOKEN": "ghp_x"}
            )
        )
        is None
    )
    assert (
        actions_token_warning(dataclasses.replace(project, environ={"GITHUB_TOKEN": token})) is None
    )


# --- status, addresses, imports ------------------------------------------------------------------


def test_remote_status(sandbox: Sandbox, tmp_path: Path) -> None:
    project = library_project(sandbox, tmp_path)
    version = parse_version("5.3.0")
    assert remote_status(project, version, "v5.3.0") == [
        ("github release", "absent"),
        ("PR openedx/edx-platform", "none (pins 5.2.0)"),
    ]
    release(project)
    rows = dict(remote_status(project, version, "v5.3.0"))
    assert rows["github release"] == f"published {sandbox.url}/{LIBRARY}/releases/tag/v5.3.0"
    assert rows["PR openedx/edx-platform"] == (f"open #1 {sandbox.url}/openedx/edx-platform/pull/1")


def test_api_url_and_web_url() -> None:
    assert api_url(None, {}) == "https://api.github.com"
    assert api_url(None, {"RELEASE_TOOL_GITHUB_API": "http://x/api/v3/"}) == "http://x/api/v3"
    assert (
        api_url("https://ghe.example/api/v3", {"RELEASE_TOOL_GITHUB_API": "x"})
        == "https://ghe.example/api/v3"
    )
    assert web_url("https://api.github.com") == "https://github.com"
    assert web_url("https://ghe.example/api/v3") == "https://ghe.example"
    assert (
        release_web_url("https://api.github.com", "o/r", "v1.0")
        == "https://github.com/o/r/releases/tag/v1.0"
    )
    assert "secret-token" not in repr(GitHub("https://api.github.com", "secret-token"))


def test_the_cli_modules_do_not_import_pygithub() -> None:
    code = (
        "import sys; import release_tool.cli, release_tool.steps.github_release, "
        "release_tool.downstream, release_tool.index_wait, release_tool.github_api; "
        "print(sorted(m for m in sys.modules if m == 'github' or m.startswith('github.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --- the retry policy, against a GitHub that is rate limiting ------------------------------------


@pytest.fixture
def limited_github() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A tiny API that answers each path's first request with a secondary rate limit (403 with
    Retry-After: 30, GitHub's wording), and the second one properly. Yields its base URL and
    the (method, path) log."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    log: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            key = (self.command, self.path)
            log.append(key)
            body: dict[str, Any]
            if key not in seen:
                seen.add(key)
                status, body = (
                    403,
                    {
                        "message": "You have exceeded a secondary rate limit. Please wait a few "
                        "minutes before you try again.",
                        "documentation_url": "https://docs.github.com/rest",
                    },
                )
                headers = {"Retry-After": "30"}
            elif self.command == "GET":
                status, headers = 200, {}
                body = {
                    "full_name": "o/r",
                    "default_branch": "main",
                    "html_url": "http://x/o/r",
                    "permissions": {"push": True, "triage": True},
                    "fork": False,
                }
            else:
                status, headers = 201, {}
                body = {
                    "id": 7,
                    "tag_name": "v1.0.0",
                    "name": "v1.0.0",
                    "body": "notes",
                    "draft": False,
                    "prerelease": False,
                    "html_url": "http://x/r/v1.0.0",
                }
            data = json.dumps(body).encode()
            self.send_response(status)
            for key_, value in {
                **headers,
                "Content-Type": "application/json",
                "Content-Length": str(len(data)),
            }.items():
                self.send_header(key_, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_secondary_rate_limits_are_waited_out_within_the_cap(
    limited_github: tuple[str, list[tuple[str, str]]],
) -> None:
    import time

    api, log = limited_github
    gh = GitHub(api, "token", policy=FAST)
    started = time.monotonic()
    repo = gh.repository("o/r")  # a GET: retried by urllib3 after Retry-After, capped
    made = gh.create_release(
        "o/r", tag="v1.0.0", name="v1.0.0", body="notes", draft=False, prerelease=False
    )  # a POST: repeated by create(), no look needed
    assert time.monotonic() - started < 5  # not the 2 x 30 s GitHub asked for
    assert repo is not None and repo.can_push
    assert made.html_url == "http://x/r/v1.0.0"
    assert log == [
        ("GET", "/api/v3/repos/o/r"),
        ("GET", "/api/v3/repos/o/r"),
        ("POST", "/api/v3/repos/o/r/releases"),
        ("POST", "/api/v3/repos/o/r/releases"),
    ]
