"""The JSON shapes of GitHub Actions objects: workflows, workflow runs, and the answer of a
dispatch with `return_run_details` (REST API version 2022-11-28).

Split from `shapes` (same conventions). These operations are not in the OpenAPI subset the tests
carry; the shapes follow GitHub's `workflow` and `workflow-run` schemas field for field.
"""

from __future__ import annotations

from urllib.parse import quote

from release_tool.sandbox import state as st
from release_tool.sandbox import store as gs
from release_tool.sandbox.shapes import Json, Urls, iso


def workflow(
    urls: Urls, full_name: str, workflow_id: int, path: str, name: str, created_at: str
) -> Json:
    api, html = urls.repo(full_name), urls.html(full_name)
    return {
        "id": workflow_id,
        "node_id": f"W_sandbox{workflow_id}",
        "name": name,
        "path": path,
        "state": "active",
        "created_at": created_at,
        "updated_at": created_at,
        "url": f"{api}/actions/workflows/{workflow_id}",
        "html_url": f"{html}/blob/HEAD/{path}",
        "badge_url": f"{html}/workflows/{quote(name)}/badge.svg",
    }


def run_details(urls: Urls, full_name: str, run_id: int) -> Json:
    """What a dispatch with `return_run_details: true` answers (200)."""
    return {
        "workflow_run_id": run_id,
        "run_url": f"{urls.repo(full_name)}/actions/runs/{run_id}",
        "html_url": f"{urls.html(full_name)}/actions/runs/{run_id}",
    }


def workflow_run(
    urls: Urls,
    run: st.Run,
    *,
    actor: Json,
    repository: Json,
    head_commit: gs.Commit | None,
) -> Json:
    """`workflow-run`."""
    api, html = urls.repo(run.repo), urls.html(run.repo)
    run_url = f"{api}/actions/runs/{run.id}"
    commit = None
    if head_commit is not None:
        commit = {
            "id": head_commit.sha,
            "tree_id": head_commit.tree,
            "message": head_commit.message,
            "timestamp": iso(head_commit.committer.date),
            "author": {"name": head_commit.author.name, "email": head_commit.author.email},
            "committer": {
                "name": head_commit.committer.name,
                "email": head_commit.committer.email,
            },
        }
    return {
        "id": run.id,
        "name": run.name,
        "node_id": f"WFR_sandbox{run.id}",
        "check_suite_id": run.id + 1,
        "check_suite_node_id": f"CS_sandbox{run.id + 1}",
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": f".github/workflows/{run.workflow}",
        "display_title": run.name,
        "run_number": run.run_number,
        "run_attempt": 1,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "url": run_url,
        "html_url": f"{html}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "run_started_at": run.created_at,
        "actor": actor,
        "triggering_actor": actor,
        "referenced_workflows": [],
        "jobs_url": f"{run_url}/jobs",
        "logs_url": f"{run_url}/logs",
        "check_suite_url": f"{api}/check-suites/{run.id + 1}",
        "artifacts_url": f"{run_url}/artifacts",
        "cancel_url": f"{run_url}/cancel",
        "rerun_url": f"{run_url}/rerun",
        "previous_attempt_url": None,
        "workflow_url": f"{api}/actions/workflows/{run.workflow_id}",
        "head_commit": commit,
        "repository": repository,
        "head_repository": repository,
        "head_repository_id": repository["id"],
    }
