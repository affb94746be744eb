"""The full example release against the sandbox: total wall time, and where it goes.

Two contenders, interleaved:

* the CLI, `release-tool rehearse --example --workspace DIR --json` in a subprocess (a fresh
  workspace each run): start-up, seeding the sandbox with the example pair, cloning, planning,
  applying every step, the summary;
* the same in-process, step by step: `rehearsal.prepare` (seed and clone), `plan_release`
  (every step's reads), then `apply_plan` with an observer that timestamps each action and
  counts the sandbox's requests between `action_started` and `action_done`.

Requests made while planning are attributed by what they read: git smart HTTP (`ls-remote`),
the library's API (the release), the downstream's API (the PR).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from context import Context
from harness import Sample, interleave, median, paired_ratio, peak_mb, run_process, summary
from report import Section, mib, ms, ratio

from release_tool import example
from release_tool.apply import apply_plan
from release_tool.pipeline import plan_release
from release_tool.plan import Action, Outcome
from release_tool.project import Bump, ReleaseRequest
from release_tool.rehearsal import prepare

STEPS = ("bump", "commit", "tag", "push", "github-release", "wait-for-index", "downstream", "email")


class StepClock:
    """An `Observer` of `apply_plan`: wall time and sandbox requests of each step's actions."""

    def __init__(self, requests: list[tuple[str, str, int]]) -> None:
        self._requests = requests
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.actions: dict[str, int] = defaultdict(int)
        self.paths: dict[str, list[str]] = defaultdict(list)
        self._start = 0.0
        self._seen = 0

    def action_started(self, action: Action) -> None:
        self._seen = len(self._requests)
        self._start = time.perf_counter()

    def action_done(self, action: Action, outcome: Outcome) -> None:
        self.seconds[action.step] += time.perf_counter() - self._start
        made = self._requests[self._seen :]
        self.count[action.step] += len(made)
        self.actions[action.step] += 1
        self.paths[action.step] += [f"{m} {p} {s}" for m, p, s in made]

    def action_failed(self, action: Action, error: BaseException) -> None:
        raise RuntimeError(f"{action.step} failed in the rehearsal: {error}") from error


def classify(path: str) -> str:
    if ".git/" in path:
        return "git smart HTTP"
    if path.startswith(f"/api/v3/repos/{example.DOWNSTREAM}"):
        return "downstream API"
    if path.startswith(f"/api/v3/repos/{example.LIBRARY}"):
        return "library API"
    return "other API"


def in_process(ctx: Context, base: Path) -> Sample:
    workspace = Path(tempfile.mkdtemp(prefix="inproc-", dir=base))
    t0 = time.perf_counter()
    rehearsal = prepare(None, workspace)
    try:
        requests = rehearsal.sandbox.requests
        t1 = time.perf_counter()
        seen = len(requests)
        plan = plan_release(rehearsal.project, ReleaseRequest(bump=Bump.parse("patch")))
        t2 = time.perf_counter()
        planned = requests[seen:]
        clock = StepClock(requests)
        result = apply_plan(plan, clock)
        t3 = time.perf_counter()
    finally:
        rehearsal.sandbox.stop()
    if not result.state.release_url or not result.state.pr_urls:
        raise RuntimeError("the in-process rehearsal made no release or no PR")
    shutil.rmtree(workspace, ignore_errors=True)
    return Sample(
        t3 - t1,
        requests=len(planned) + sum(clock.count.values()),
        extra={
            "prepare_s": t1 - t0,
            "plan_s": t2 - t1,
            "plan_requests": dict(Counter(classify(p) for _, p, _ in planned)),
            "plan_paths": [f"{m} {p} {s}" for m, p, s in planned],
            "step_s": dict(clock.seconds),
            "step_requests": dict(clock.count),
            "step_actions": dict(clock.actions),
            "step_paths": dict(clock.paths),
        },
    )


def cli(ctx: Context, base: Path) -> Sample:
    workspace = Path(tempfile.mkdtemp(prefix="cli-", dir=base))
    cmd = [ctx.tool("release-tool"), "rehearse", "--example", "--workspace", str(workspace)]
    done = run_process([*cmd, "--json", "--quiet"], cwd=base, env=ctx.env)
    summary_json = json.loads(done.stdout)
    if not summary_json.get("release_url") or not summary_json.get("downstream_pr_urls"):
        raise RuntimeError("release-tool rehearse --example made no release or no PR")
    shutil.rmtree(workspace, ignore_errors=True)
    return done.sample()


def _median_of(samples: list[Sample], key: str, step: str) -> float:
    return median([s.extra[key].get(step, 0) for s in samples])


def full_release(ctx: Context) -> Section:
    base = ctx.folder("release")
    ctx.log("full example release: rehearse --example (CLI) and step by step (in-process)")
    samples = interleave(
        {"cli": lambda: cli(ctx, base), "in-process": lambda: in_process(ctx, base)},
        runs=ctx.runs,
        warmup=ctx.warmup,
        progress=ctx.log,
    )
    inproc, whole = samples["in-process"], samples["cli"]
    plan_s = median([s.extra["plan_s"] for s in inproc])
    total_s = median([s.wall for s in inproc])
    rows: list[list[str]] = [
        [
            "`release-tool rehearse --example --json` (CLI, whole process)",
            ms(median([s.wall for s in whole])),
            "—",
            "—",
            mib(peak_mb(whole)),
        ],
        [
            "in-process: prepare (seed the sandbox, clone; rehearsal only)",
            ms(median([s.extra["prepare_s"] for s in inproc])),
            "—",
            "—",
            "—",
        ],
    ]
    plan_requests: Counter[str] = Counter()
    for sample in inproc:
        plan_requests.update(sample.extra["plan_requests"])
    by_kind = ", ".join(
        f"{kind} {count // len(inproc)}" for kind, count in sorted(plan_requests.items())
    )
    rows.append(
        [
            "in-process: plan (every step's reads)",
            ms(plan_s),
            f"{plan_s / total_s:.0%}",
            f"{median([sum(s.extra['plan_requests'].values()) for s in inproc]):g} ({by_kind})",
            "—",
        ]
    )
    steps: dict[str, Any] = {}
    for step in STEPS:
        if not any(step in s.extra["step_s"] for s in inproc):
            rows.append([f"in-process: {step}", "—", "—", "0", "skipped (nothing to apply)"])
            continue
        seconds = _median_of(inproc, "step_s", step)
        count = _median_of(inproc, "step_requests", step)
        actions = _median_of(inproc, "step_actions", step)
        steps[step] = {"median_s": seconds, "requests": count, "actions": actions}
        rows.append(
            [
                f"in-process: {step} ({actions:g} action{'s' if actions != 1 else ''})",
                ms(seconds),
                f"{seconds / total_s:.0%}",
                f"{count:g}",
                "—",
            ]
        )
    rows.append(
        [
            "in-process: plan + apply (a release, without start-up)",
            ms(total_s),
            "100%",
            f"{median([s.requests or 0 for s in inproc]):g}",
            "—",
        ]
    )
    last = inproc[-1].extra
    return Section(
        name="release",
        title="Full example release against the sandbox",
        intro=(
            "The bundled example pair (edx-proctoring → edx-platform), released end to end "
            "against the embedded GitHub: bump, commit, tag, push, GitHub release, downstream "
            "PR, email draft. The sandbox runs in the same process as the tool (its server "
            "time is part of every figure, as GitHub's latency would be)."
        ),
        columns=["phase", "median wall", "share of plan + apply", "HTTP requests", "peak RSS"],
        rows=rows,
        notes=[
            "The CLI row includes interpreter start-up, imports, the sandbox's seeding and the "
            "summary; the in-process rows are medians of runs in one warm process.",
            f"In-process total vs the CLI: {ratio(paired_ratio(inproc, whole))} "
            "(the rest is start-up, seeding and cloning).",
            "HTTP requests include git's smart-HTTP requests (ls-remote, push) to the sandbox.",
        ],
        data={
            "cli": summary(whole),
            "in_process_total": summary(inproc),
            "prepare_s": [s.extra["prepare_s"] for s in inproc],
            "plan_s": [s.extra["plan_s"] for s in inproc],
            "steps": steps,
            "last_run_requests": {"plan": last["plan_paths"], **last["step_paths"]},
        },
    )
