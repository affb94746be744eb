"""The downstream PR through the GitHub API vs the clone-based way, as the downstream grows.

The downstream is `bigrepo`'s generated edx-platform at each size (1× = 1,250 files and 312
commits … 16× = 20,000 files and 4,992 commits, about edx-platform's size). Every run gets a
fresh sandbox: a new root whose repositories are `git clone --bare --shared` of the cached
downstream and of the example library (refs copied, objects shared, so setting up costs a
few milliseconds and no run sees another run's branch or PR). The library's GitHub release of
v5.2.1 exists, as it does when the downstream step runs. None of the set-up is timed.

Contenders at each size, all interleaved in one loop:

* **API** (in-process): `steps.downstream.plan_released(project, 5.2.1)` and `apply_plan`
  of its step, which is what `release-tool downstream 5.2.1` does: read the tree, the four
  pinned files, look for an open PR; then one tree, one commit, one branch, the PR, its labels
  and reviewers. Requests are counted from `Sandbox.requests`.
* **API, CLI**: the same as `release-tool downstream 5.2.1 --yes` in a subprocess (start-up
  included), for its wall time and peak memory.
* **clone**: `git clone --depth 1` of the downstream over the sandbox's smart HTTP, edit the
  four requirements files (the same pin editor), commit, push a branch. It opens no PR, so it
  does less than the API way.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from bigrepo import cached_repository
from context import Context
from harness import Sample, interleave, median, paired_ratio, peak_mb, run_process, summary
from report import Check, Section, mib, ms, ratio

from release_tool import changelog, example
from release_tool.apply import apply_plan
from release_tool.config import load_config
from release_tool.files.requirements import update_pins
from release_tool.git_repo import GitRepo, auth_environment, build_repository
from release_tool.pipeline import plan_of
from release_tool.project import Project
from release_tool.sandbox import Sandbox
from release_tool.steps.downstream import plan_released
from release_tool.versions import parse_version

VERSION = "5.2.1"
TOKEN = "bench-token-maintainer"
USER = "maintainer"
PINNED = tuple(
    path
    for path in example.downstream_files()
    if path.startswith("requirements/edx/") and path.endswith(".txt")
)
BRANCH = "release-tool/edx-proctoring"
MAX_PR_REQUESTS = 14


@dataclasses.dataclass(frozen=True)
class Fixture:
    """What every run starts from: the library (bare, and a working copy), the downstreams."""

    base: Path
    library_bare: Path
    library_work: Path
    downstreams: dict[float, Path]
    listings: dict[float, tuple[int, int]] = dataclasses.field(default_factory=dict)


def prepare(ctx: Context) -> Fixture:
    base = ctx.folder("downstream")
    library_bare = base / "edx-proctoring.git"
    build_repository(library_bare, example.library_repo())
    subprocess.run(["git", "remote", "remove", "origin"], cwd=library_bare, check=True)
    work = base / "edx-proctoring"
    run_process(["git", "clone", "-q", str(library_bare), str(work)], cwd=base, env=ctx.env)
    # The release is done: the changelog has its 5.2.1 section, which the PR body quotes.
    path = work / "CHANGELOG.rst"
    fmt = changelog.changelog_format(path.name)
    stamped = changelog.stamp(
        path.read_text(encoding="utf-8"), parse_version(VERSION), date.today(), fmt
    )
    path.write_text(stamped, encoding="utf-8")
    run_process(["git", "commit", "-q", "-am", f"Release {VERSION}"], cwd=work, env=ctx.env)
    downstreams = {}
    for size in ctx.sizes:
        started = time.perf_counter()
        downstreams[size.scale] = cached_repository(size, ctx.cache)
        ctx.log(
            f"downstream {size.label}: {size.files:,} files, {size.commits:,} commits "
            f"({time.perf_counter() - started:.1f} s to generate or find in the cache)"
        )
    fixture = Fixture(base, library_bare, work, downstreams)
    for size in ctx.sizes:
        with fresh_sandbox(fixture, downstreams[size.scale]) as sandbox:
            body = _get(sandbox, f"/repos/{example.DOWNSTREAM}/git/trees/master?recursive=1")
        fixture.listings[size.scale] = (len(body), len(json.loads(body)["tree"]))
    return fixture


def _clone_shared(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--shared", str(source), str(dest)],
        check=True,
        capture_output=True,
    )
    subprocess.run(["git", "remote", "remove", "origin"], cwd=dest, check=True, capture_output=True)


@contextmanager
def fresh_sandbox(fixture: Fixture, downstream: Path) -> Iterator[Sandbox]:
    """A new sandbox with the library (released) and `downstream`; removed afterwards."""
    runs = fixture.base / "runs"
    runs.mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="sandbox-", dir=runs))
    _clone_shared(fixture.library_bare, root / f"{example.LIBRARY}.git")
    _clone_shared(downstream, root / f"{example.DOWNSTREAM}.git")
    # The example's reviewer must be a collaborator, as on GitHub, to be asked for a review.
    grants = [(USER, example.LIBRARY), (USER, example.DOWNSTREAM)]
    grants.append(("edx-platform-reviewer", example.DOWNSTREAM))
    sandbox = Sandbox(root, tokens={TOKEN: USER}, grants=grants).start()
    try:
        _post(
            sandbox,
            f"/repos/{example.LIBRARY}/releases",
            {
                "tag_name": f"v{VERSION}",
                "target_commitish": example.LIBRARY_BRANCH,
                "name": f"v{VERSION}",
                "body": "released",
            },
        )
        yield sandbox
    finally:
        sandbox.stop()
        shutil.rmtree(root, ignore_errors=True)


def _post(sandbox: Sandbox, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        sandbox.api_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 201:
            raise RuntimeError(f"sandbox: POST {path} answered {response.status}")


def _get(sandbox: Sandbox, path: str) -> bytes:
    request = urllib.request.Request(
        sandbox.api_url + path, headers={"Authorization": f"token {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body: bytes = response.read()
    return body


def _api_requests(sandbox: Sandbox, seen: int) -> list[str]:
    return [f"{m} {p} {s}" for m, p, s in sandbox.requests[seen:]]


def api_way(fixture: Fixture, downstream: Path) -> Sample:
    with fresh_sandbox(fixture, downstream) as sandbox:
        work = fixture.library_work
        config = dataclasses.replace(load_config(work), github_api=sandbox.api_url)
        project = Project(root=work, config=config, repo=GitRepo(work, TOKEN), token=TOKEN)
        seen = len(sandbox.requests)
        t0 = time.perf_counter()
        step = plan_released(project, parse_version(VERSION))
        t1 = time.perf_counter()
        result = apply_plan(plan_of(step))
        t2 = time.perf_counter()
        made = _api_requests(sandbox, seen)
    if not result.state.pr_urls:
        raise RuntimeError("the API way opened no PR")
    prefix = f"/api/v3/repos/{example.DOWNSTREAM}"
    downstream_requests = sum(
        path == prefix or path.startswith(prefix + "/")
        for path in (line.split(" ")[1] for line in made)
    )
    return Sample(
        t2 - t0,
        requests=len(made),
        extra={
            "plan_s": t1 - t0,
            "apply_s": t2 - t1,
            "downstream_requests": downstream_requests,
            "paths": made,
        },
    )


def cli_way(ctx: Context, fixture: Fixture, downstream: Path) -> Sample:
    with fresh_sandbox(fixture, downstream) as sandbox:
        env = {**ctx.env, "GITHUB_TOKEN": TOKEN, "RELEASE_TOOL_GITHUB_API": sandbox.api_url}
        seen = len(sandbox.requests)
        done = run_process(
            [
                ctx.tool("release-tool"),
                "-C",
                str(fixture.library_work),
                "downstream",
                VERSION,
                "--yes",
            ],
            cwd=fixture.base,
            env=env,
        )
        made = _api_requests(sandbox, seen)
    if "/pull/" not in done.stdout:
        raise RuntimeError(f"release-tool downstream opened no PR:\n{done.stdout}{done.stderr}")
    return Sample(done.wall, done.maxrss_kb, requests=len(made))


def clone_way(ctx: Context, fixture: Fixture, downstream: Path) -> Sample:
    with fresh_sandbox(fixture, downstream) as sandbox:
        url = sandbox.git_url(example.DOWNSTREAM)
        env = {**ctx.env, **auth_environment(url, TOKEN)}
        scratch = Path(tempfile.mkdtemp(prefix="clone-", dir=fixture.base / "runs"))
        dest = scratch / "edx-platform"
        seen = len(sandbox.requests)
        rss = []
        t0 = time.perf_counter()

        def git(*args: str, cwd: Path = dest) -> None:
            rss.append(run_process(["git", *args], cwd=cwd, env=env).maxrss_kb)

        git("clone", "-q", "--depth", "1", url, str(dest), cwd=scratch)
        for path in PINNED:
            file = dest / path
            edit = update_pins(path, file.read_text(encoding="utf-8"), "edx-proctoring", VERSION)
            file.write_text(edit.new_text, encoding="utf-8")
        git("checkout", "-q", "-b", BRANCH)
        git("commit", "-q", "-a", "-m", f"chore: upgrade edx-proctoring to {VERSION}")
        git("push", "-q", "origin", BRANCH)
        wall = time.perf_counter() - t0
        made = _api_requests(sandbox, seen)
        shutil.rmtree(scratch, ignore_errors=True)
    return Sample(wall, max(rss), requests=len(made), extra={"paths": made})


def _contenders(ctx: Context, fixture: Fixture) -> dict[str, Callable[[], Sample]]:
    contenders: dict[str, Callable[[], Sample]] = {}
    for size in ctx.sizes:
        repo = fixture.downstreams[size.scale]
        contenders[f"api@{size.label}"] = partial(api_way, fixture, repo)
        contenders[f"cli@{size.label}"] = partial(cli_way, ctx, fixture, repo)
        contenders[f"clone@{size.label}"] = partial(clone_way, ctx, fixture, repo)
    return contenders


def _checks(ctx: Context, sizes: dict[str, dict[str, Any]]) -> list[Check]:
    requests = max(d["api"]["downstream_requests"] for d in sizes.values())
    library = max(d["api"]["requests"] - d["api"]["downstream_requests"] for d in sizes.values())
    checks = [
        Check(
            f"downstream PR (4 files) ≤ {MAX_PR_REQUESTS} HTTP requests",
            f"{requests:g} to the downstream (+ {library:g} to read the library's release)",
            requests <= MAX_PR_REQUESTS,
        )
    ]
    labels = {s.scale: s.label for s in ctx.sizes}
    if 1 not in labels or 16 not in labels:
        return [
            *checks,
            Check("downstream PR wall at 16× ≤ 1.5× its wall at 1×", "16× or 1× not run", None),
            Check("downstream PR ≥ 10× faster than clone at 16×", "16× not run", None),
        ]
    small, big = sizes[labels[1]], sizes[labels[16]]
    if ctx.sizes[0].scale == 1:  # the paired ratio, measured against 1× in every round
        growth = big["api_growth_vs_smallest"]
    else:
        growth = big["api"]["median_s"] / small["api"]["median_s"]
    speedup, speedup_cli = big["clone_over_api"], big["clone_over_cli"]
    return [
        *checks,
        Check("downstream PR wall at 16× ≤ 1.5× its wall at 1×", ratio(growth), growth <= 1.5),
        Check(
            "downstream PR ≥ 10× faster than clone at edx-platform's size (16×)",
            f"{ratio(speedup)} (whole CLI process: {ratio(speedup_cli)})",
            speedup >= 10,
        ),
    ]


def downstream_pr(ctx: Context) -> Section:
    fixture = prepare(ctx)
    ctx.log("downstream PR: API vs clone at " + ", ".join(s.label for s in ctx.sizes))
    samples = interleave(
        _contenders(ctx, fixture), runs=ctx.runs, warmup=ctx.warmup, progress=ctx.log
    )
    smallest = ctx.sizes[0]
    api_small = samples[f"api@{smallest.label}"]
    rows: list[list[str]] = []
    sizes_data: dict[str, dict[str, Any]] = {}
    for size in ctx.sizes:
        api, cli, clone = (samples[f"{way}@{size.label}"] for way in ("api", "cli", "clone"))
        growth = paired_ratio(api, api_small)
        speedup = paired_ratio(clone, api)
        speedup_cli = paired_ratio(clone, cli)
        total = median([s.requests or 0 for s in api])
        downstream = median([s.extra["downstream_requests"] for s in api])
        listing = fixture.listings[size.scale]
        rows.append(
            [
                f"{size.label} ({size.files:,} files, {size.commits:,} commits)",
                f"{listing[0] / 1e6:.1f} MB",
                ms(median([s.wall for s in api])),
                f"{downstream:g} + {total - downstream:g}",
                ratio(growth),
                ms(median([s.wall for s in cli])),
                mib(peak_mb(cli)),
                ms(median([s.wall for s in clone])),
                mib(peak_mb(clone)),
                f"{median([s.requests or 0 for s in clone]):g}",
                ratio(speedup),
                ratio(speedup_cli),
            ]
        )
        sizes_data[size.label] = {
            "files": size.files,
            "commits": size.commits,
            "tree_listing_bytes": listing[0],
            "tree_listing_entries": listing[1],
            "api": {
                **summary(api),
                "plan_s": median([s.extra["plan_s"] for s in api]),
                "apply_s": median([s.extra["apply_s"] for s in api]),
                "downstream_requests": downstream,
                "last_run_requests": api[-1].extra["paths"],
            },
            "cli": summary(cli),
            "clone": {**summary(clone), "last_run_requests": clone[-1].extra["paths"]},
            "api_growth_vs_smallest": growth,
            "clone_over_api": speedup,
            "clone_over_cli": speedup_cli,
        }
    checks = _checks(ctx, sizes_data)
    phase = {
        label: (ms(d["api"]["plan_s"]), ms(d["api"]["apply_s"])) for label, d in sizes_data.items()
    }
    return Section(
        name="downstream",
        title="Downstream PR: GitHub API vs clone, as edx-platform grows",
        intro=(
            "The PR that upgrades edx-proctoring to 5.2.1 in the four compiled requirements "
            "files of an edx-platform-shaped downstream, on a fresh sandbox each run. "
            "1× is 1/16 of edx-platform (1,250 files, 312 commits); 16× is its size."
        ),
        columns=[
            "downstream size",
            "recursive tree listing",
            "API wall",
            "API requests (downstream + library)",
            f"API ÷ API at {smallest.label}",
            "API via CLI (whole process)",
            "CLI peak RSS",
            "clone wall",
            "clone git peak RSS",
            "clone requests",
            "clone ÷ API",
            "clone ÷ CLI",
        ],
        rows=rows,
        notes=[
            "API: `plan_released` + `apply_plan` in-process (plan / apply: "
            + "; ".join(f"{k} {p} / {a}" for k, (p, a) in phase.items())
            + ").",
            "clone: `git clone --depth 1` over smart HTTP, edit 4 files, commit, push a "
            "branch; it opens no PR, labels nothing and requests no review.",
            "Generated files are small (400–900 bytes; edx-platform's are larger), so the "
            "clone's transfer and checkout here understate the real clone's.",
            "Requests are every HTTP request the sandbox served during the timed part: "
            "those to the downstream, plus the library's release lookup (for its URL).",
            "The recursive tree listing is the size of `GET git/trees/master?recursive=1`, "
            "shown for scale: the tool no longer asks for it (it lists only the globs' "
            "directories), so it neither grows with it nor hits GitHub's 7 MB truncation.",
        ],
        checks=checks,
        data={"sizes": sizes_data},
    )
