"""GitHub Actions: workflows, dispatches checked against the workflow file's declared inputs,
and the runs a dispatch starts (listed, fetched, and completed by a background timer after the
sandbox's run delay, doing what the workflow's hook says: see `workflows`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

from release_tool.sandbox import shapes_actions
from release_tool.sandbox import state as st
from release_tool.sandbox import store as gs
from release_tool.sandbox.ops_pulls import PullOps
from release_tool.sandbox.rest import (
    ApiError,
    Request,
    Response,
    field,
    flag,
    not_found,
    page,
    required,
    route,
)
from release_tool.sandbox.shapes import Json
from release_tool.sandbox.workflows import (
    Fail,
    Hook,
    OpenPull,
    RunContext,
    check_inputs,
    dispatch_inputs,
    render,
)

log = logging.getLogger("release_tool.sandbox")

WORKFLOWS = ".github/workflows/"
_NAME = re.compile(r"^name:\s*['\"]?(.*?)['\"]?\s*$", re.M)


class ActionOps(PullOps):
    """The workflow and workflow run operations, and the runs' execution (a run may open a
    pull request, hence the base)."""

    # Set by the Sandbox: the hooks by (OWNER/NAME, workflow file), and how long a run takes.
    hooks: Mapping[tuple[str, str], Hook] = {}
    run_delay: float = 0.2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._run_timers: list[threading.Timer] = []

    def cancel_runs(self) -> None:
        """Stop the timers of runs not started yet (the sandbox is stopping): they stay
        queued."""
        for timer in self._run_timers:
            timer.cancel()

    def _workflow_file(self, full_name: str, workflow_id: str) -> str:
        if workflow_id.isdigit():
            found = self.state.workflow_file(full_name, int(workflow_id))
            if found is None:
                raise not_found()
            return found
        return workflow_id

    def _workflow_text(self, full_name: str, commit: str, file_name: str) -> str:
        entry = self.store.entry_at(full_name, commit, WORKFLOWS + file_name)
        if entry is None or entry.type != "blob":
            raise not_found()
        return (self.store.blob(full_name, entry.sha) or b"").decode(errors="replace")

    @staticmethod
    def _workflow_name(content: str, file_name: str) -> str:
        found = _NAME.search(content)
        return found.group(1) if found else WORKFLOWS + file_name

    @route(
        "GET",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}",
        "read",
        "actions/workflows#get-a-workflow",
    )
    def get_workflow(self, req: Request, owner: str, repo: str, workflow_id: str) -> Response:
        full_name = f"{owner}/{repo}"
        file_name = self._workflow_file(full_name, workflow_id)
        default = self.store.default_branch(full_name)
        content = self._workflow_text(full_name, default, file_name)
        return Response(
            200,
            shapes_actions.workflow(
                self.urls,
                full_name,
                self.state.workflow_id(full_name, file_name),
                WORKFLOWS + file_name,
                self._workflow_name(content, file_name),
                self.state.repo(full_name).created_at,
            ),
        )

    @route(
        "POST",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
        "write",
        "actions/workflows#create-a-workflow-dispatch-event",
    )
    def dispatch_workflow(self, req: Request, owner: str, repo: str, workflow_id: str) -> Response:
        full_name, body = f"{owner}/{repo}", req.obj()
        ref = required(body, "ref")
        given = field(body, "inputs", dict) or {}
        details = flag(body, "return_run_details", False)
        file_name = self._workflow_file(full_name, workflow_id)
        # `ref` is a branch or tag name, or a full ref; never a bare sha (GitHub refuses those).
        commit, branch = None, None
        for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
            if candidate.startswith("refs/") and commit is None:
                commit = self.store.resolve_commit(full_name, candidate)
                if commit and candidate.startswith("refs/heads/"):
                    branch = candidate.removeprefix("refs/heads/")
        if commit is None:
            raise ApiError(422, f"No ref found for: {ref}")
        content = self._workflow_text(full_name, commit, file_name)
        declared = dispatch_inputs(content)
        if declared is None:
            raise ApiError(422, "Workflow does not have 'workflow_dispatch' trigger")
        values = check_inputs(declared, given)
        actor = req.user or "ghost"
        with self.state.transaction():
            workflow_number = self.state.workflow_id(full_name, file_name)
            self.state.add_dispatch(
                st.Dispatch(full_name, file_name, ref, dict(given), actor, st.now())
            )
            stamp = st.now()
            run = st.Run(
                self.state.new_id(),
                full_name,
                file_name,
                workflow_number,
                1 + sum(r.workflow == file_name for r in self.state.runs(full_name)),
                self._workflow_name(content, file_name),
                branch,
                commit,
                actor,
                values,
                stamp,
                stamp,
            )
            self.state.add_run(run)
        timer = threading.Timer(self.run_delay, self._execute, args=(run.id,))
        timer.daemon = True
        self._run_timers.append(timer)
        timer.start()
        if details:
            return Response(200, shapes_actions.run_details(self.urls, full_name, run.id))
        return Response(204)

    # -- runs ---------------------------------------------------------------------------------

    def _run_json(self, req: Request, run: st.Run) -> Json:
        return shapes_actions.workflow_run(
            self.urls,
            run,
            actor=self.user_json(run.actor),
            repository=self.repo_json(req, run.repo, nested=True),
            head_commit=self.store.commit(run.repo, run.head_sha),
        )

    def _runs_page(self, req: Request, runs: list[st.Run]) -> Response:
        for name in ("actor", "branch", "event", "head_sha"):
            wanted = req.arg(name)
            if wanted:
                key = "head_branch" if name == "branch" else name
                runs = [r for r in runs if getattr(r, key) == wanted]
        status = req.arg("status")
        if status:
            runs = [r for r in runs if status in (r.status, r.conclusion)]
        runs = sorted(runs, key=lambda r: r.id, reverse=True)  # newest first
        return page(req, [self._run_json(req, r) for r in runs], self.urls, "workflow_runs")

    @route(
        "GET",
        "/repos/{owner}/{repo}/actions/runs",
        "read",
        "actions/workflow-runs#list-workflow-runs-for-a-repository",
    )
    def list_runs(self, req: Request, owner: str, repo: str) -> Response:
        return self._runs_page(req, self.state.runs(f"{owner}/{repo}"))

    @route(
        "GET",
        "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
        "read",
        "actions/workflow-runs#list-workflow-runs-for-a-workflow",
    )
    def list_workflow_runs(self, req: Request, owner: str, repo: str, workflow_id: str) -> Response:
        full_name = f"{owner}/{repo}"
        file_name = self._workflow_file(full_name, workflow_id)
        runs = [r for r in self.state.runs(full_name) if r.workflow == file_name]
        return self._runs_page(req, runs)

    @route(
        "GET",
        "/repos/{owner}/{repo}/actions/runs/{run_id}",
        "read",
        "actions/workflow-runs#get-a-workflow-run",
    )
    def get_run(self, req: Request, owner: str, repo: str, run_id: str) -> Response:
        run = self.state.run(int(run_id)) if run_id.isdigit() else None
        if run is None or run.repo != f"{owner}/{repo}":
            raise not_found()
        return Response(200, self._run_json(req, run))

    # -- execution ------------------------------------------------------------------------------

    def _execute(self, run_id: int) -> None:
        """Run the hook of a queued run, then complete it (on the timer's thread). The hook
        runs without the state lock, so the API keeps answering meanwhile."""
        with self.state.transaction():
            run = self.state.run(run_id)
            if run is None or run.status != "queued":
                return
            run.status, run.updated_at = "in_progress", st.now()
        hook = self.hooks.get((run.repo, run.workflow))
        context = RunContext(
            run.repo,
            run.workflow,
            run.head_branch,
            run.head_sha,
            run.actor,
            dict(run.inputs),
            run.id,
            run.run_number,
            self._open_pull_for_run,
        )
        conclusion, pull = "success", None
        try:
            if isinstance(hook, Fail):
                conclusion = hook.conclusion
            elif isinstance(hook, OpenPull):
                pull = context.open_pull(hook)
            elif hook is not None:
                conclusion = hook(context) or "success"
        except Exception:
            log.exception("the sandbox's hook for %s %s failed", run.repo, run.workflow)
            conclusion = "failure"
        with self.state.transaction():
            run.status, run.conclusion, run.updated_at = "completed", conclusion, st.now()
            run.pull_number = pull

    def _open_pull_for_run(self, context: RunContext, spec: OpenPull) -> int:
        """Push `spec.branch` (the dispatched commit with `spec.files` changed) and open the
        pull request, through the same operation a client's POST /pulls goes through."""
        with self.state.locked():  # as every API write
            return self._open_pull_locked(context, spec)

    def _open_pull_locked(self, context: RunContext, spec: OpenPull) -> int:
        values = context.values
        full_name = context.full_name
        branch = render(spec.branch, values)
        parent = self.commit_or_404(full_name, context.sha)
        entries = []
        for path, edit in spec.files.items():
            if isinstance(edit, str):
                new_text = edit
            else:
                entry = self.store.entry_at(full_name, parent.sha, path)
                old = self.store.blob(full_name, entry.sha) if entry else None
                new_text = edit((old or b"").decode(), values)
            entries.append(gs.NewEntry(path, "100644", "blob", content=new_text.encode()))
        tree = self.store.write_tree(full_name, entries, parent.tree)
        author = self.default_person(Request("POST", "", {}, None, spec.author or context.actor))
        sha = self.store.write_commit(
            full_name, tree, [parent.sha], render(spec.message, values) + "\n", author, author
        )
        ref = f"refs/heads/{branch}"
        existing = self.store.ref(full_name, ref)
        self.store.update_ref(full_name, ref, sha, existing[0] if existing else None)
        owner, repo = full_name.split("/", 1)
        body = {
            "title": render(spec.title, values),
            "body": render(spec.body, values),
            "head": branch,
            "base": spec.base or context.ref or self.store.default_branch(full_name),
        }
        request = Request("POST", f"/api/v3/repos/{full_name}/pulls", {}, body, author.name)
        created = self.create_pull(request, owner, repo)
        return int(created.body["number"])
