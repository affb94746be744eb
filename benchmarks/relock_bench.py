"""The relock of an openedx-platform-sized uv.lock through the API vs a clone, as the repo grows.

The downstream is `bigrepo`'s generated edx-platform at each size with, on top, the uv era:
a `pyproject.toml` requiring `edx-proctoring>=2.0.1` and 100 other packages, its `uv.lock`
(about 400 packages, each with an sdist and several platform wheels, as a real lock has; its
size in bytes is in the results) and the export `requirements/edx/base.txt`. The packages are
generated with `sandbox.wheels` into a local directory served by one `IndexServer` for the
whole benchmark (the lock records the index's URL, so the index keeps its port); edx-proctoring
5.2.1, released with a new dependency, is on it. Every run gets a fresh sandbox GitHub (shared
clones of the cached repositories), as in the downstream benchmark. uv shares one warm cache
across every run of both ways, so the comparison is of the ways, not of downloads.

Contenders at each size, interleaved:

* **API** (in-process): `plan_released(project, 5.2.1)` + `apply_plan`, which is `release-tool
  downstream 5.2.1`: the version is on the index, so the plan reads the lock inputs through the
  API, runs `uv lock --upgrade-package` and the export in a temporary directory, and the apply
  writes one commit and opens the PR. Requests: GitHub's (the sandbox's count) and the index's.
* **clone**: `git clone --depth 1` over smart HTTP, the same `uv lock --upgrade-package` and
  `uv export` in the clone, commit, push a branch (no PR).
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from bigrepo import cached_repository
from context import Context
from downstream_bench import TOKEN, Fixture, _api_requests, fresh_sandbox
from harness import Sample, interleave, median, paired_ratio, run_process, summary
from report import Check, Section, ms, ratio

from release_tool import changelog, example
from release_tool.apply import apply_plan
from release_tool.config import load_config
from release_tool.git_repo import GitRepo, auth_environment, build_repository
from release_tool.pipeline import plan_of
from release_tool.project import Project
from release_tool.resolvers.common import resolver_env
from release_tool.resolvers.uv import shipped_uv
from release_tool.sandbox import wheels
from release_tool.sandbox.index import IndexServer
from release_tool.steps.downstream import plan_released
from release_tool.versions import parse_version

VERSION = "5.2.1"
PACKAGES = 400  # openedx-platform's uv.lock holds about 400
DIRECT = 100
NEW_DEPENDENCY = "openedx-newdep"
EXPORT = "requirements/edx/base.txt"
BRANCH = "release-tool/edx-proctoring"
# A real lock lists every wheel of a version; these copies of each tiny wheel give the
# generated lock that shape (uv reads the metadata of one, through PEP 658).
PLATFORM_TAGS = (
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64",
    "cp311-cp311-macosx_11_0_arm64",
    "cp311-cp311-win_amd64",
    "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp312-cp312-macosx_11_0_arm64",
)


@dataclasses.dataclass(frozen=True)
class RelockFixture:
    base: Fixture  # the library, and the uv-era downstream per size (`downstreams`)
    index: IndexServer
    env: Mapping[str, str]
    lock_bytes: int
    lock_packages: int


def package_count(ctx: Context) -> int:
    """400 packages; tiny (25) when every size is below 1× (the harness's smoke test)."""
    return PACKAGES if max(s.scale for s in ctx.sizes) >= 1 else 25


def build_index(directory: Path, count: int) -> list[str]:
    """`count` generated packages (a connected dependency graph, deterministic), the library's
    5.2.0 and the dependency 5.2.1 adds; returns the downstream's direct ones."""
    rng = random.Random(8)
    names = [f"openedx-dep-{i:03d}" for i in range(count)]
    direct = min(DIRECT, max(1, count // 4))
    requires: dict[str, set[str]] = {name: set() for name in names}
    for j in range(direct, count):  # every package is reachable from a direct one
        requires[names[rng.randrange(0, j)]].add(names[j])
    for i in range(count - 1):  # and a few more edges, always towards later names
        for _ in range(rng.randrange(0, 3)):
            requires[names[i]].add(names[rng.randrange(i + 1, count)])
    for name in names:
        _publish(directory, name, "1.0.0", sorted(requires[name]))
        if rng.random() < 0.2:
            _publish(directory, name, "1.1.0", sorted(requires[name]))
    _publish(directory, NEW_DEPENDENCY, "1.0.0", [])
    _publish(directory, "edx-proctoring", "5.2.0", LIBRARY_REQUIRES)
    return names[:direct]


LIBRARY_REQUIRES = ["openedx-dep-001", "openedx-dep-002"]


def publish_release(directory: Path) -> None:
    """The release's publish workflow: 5.2.1, which adds a dependency, on the index."""
    _publish(directory, "edx-proctoring", VERSION, [*LIBRARY_REQUIRES, NEW_DEPENDENCY])


def _publish(directory: Path, name: str, version: str, requires: list[str]) -> None:
    wheel, _ = wheels.publish(directory, name, version, requires)
    for tag in PLATFORM_TAGS:
        target = wheel.with_name(wheel.name.replace(wheels.TAG, tag))
        if not target.exists():
            shutil.copyfile(wheel, target)


def uv_files(direct: list[str], index_url: str, env: Mapping[str, str]) -> dict[str, str]:
    """The downstream's uv files, locked by uv against the index."""
    deps = "".join(f'    "{name}",\n' for name in ["edx-proctoring>=2.0.1", *direct])
    pyproject = (
        '[project]\nname = "openedx-platform"\nversion = "0.1.0"\n'
        f'requires-python = ">=3.11"\ndependencies = [\n{deps}]\n\n[tool.uv]\npackage = false\n'
    )
    uv = shipped_uv()[0]
    with tempfile.TemporaryDirectory(prefix="relock-bench-") as tmp:
        work = Path(tmp)
        (work / "pyproject.toml").write_text(pyproject)
        run_env = resolver_env(env, work)
        _uv([uv, "lock", "--default-index", index_url], work, run_env)
        out = _uv([uv, "export", "--frozen", "--no-hashes", "--no-dev"], work, run_env)
        return {
            "pyproject.toml": pyproject,
            "uv.lock": (work / "uv.lock").read_text(),
            EXPORT: example.EXPORT_HEADER + out,
        }


def _uv(cmd: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed: {done.stderr}")
    return done.stdout


def with_uv_era(source: Path, dest: Path, files: Mapping[str, str], env: Mapping[str, str]) -> Path:
    """A shared bare clone of `source` whose master gains one commit writing `files`
    (git plumbing through a temporary index: no checkout of the big tree)."""
    subprocess.run(
        ["git", "clone", "-q", "--bare", "--shared", str(source), str(dest)],
        check=True,
        capture_output=True,
    )
    subprocess.run(["git", "remote", "remove", "origin"], cwd=dest, check=True)
    git_env = {**env, "GIT_INDEX_FILE": str(dest / "uv-era.index")}

    def git(*args: str, data: str | None = None) -> str:
        return subprocess.run(
            ["git", *args], cwd=dest, env=git_env, input=data, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip

    git("read-tree", "master")
    for path, text in files.items():
        sha = git("hash-object", "-w", "--stdin", data=text)
        git("update-index", "--add", "--cacheinfo", f"100644,{sha},{path}")
    tree = git("write-tree")
    commit = git("commit-tree", tree, "-p", "master", "-m", "build: move from pip-tools to uv")
    git("update-ref", "refs/heads/master", commit)
    (dest / "uv-era.index").unlink()
    return dest


def prepare(ctx: Context) -> RelockFixture:
    base = ctx.folder("relock")
    count = package_count(ctx)
    started = time.perf_counter()
    index_dir = base / "index"
    direct = build_index(index_dir, count)
    index = IndexServer(index_dir).start()
    env = {**ctx.env, "UV_CACHE_DIR": str(base / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never"}
    files = uv_files(direct, index.url, env)
    publish_release(index_dir)  # after the lock: the downstream is on 5.2.0
    ctx.log(
        f"relock: {count} generated packages, uv.lock of {len(files['uv.lock']):,} bytes "
        f"({time.perf_counter() - started:.1f} s)"
    )
    library_bare = base / "edx-proctoring.git"
    build_repository(library_bare, example.library_repo(example.RELOCK_LIBRARY_PYPROJECT))
    subprocess.run(["git", "remote", "remove", "origin"], cwd=library_bare, check=True)
    work = base / "edx-proctoring"
    run_process(["git", "clone", "-q", str(library_bare), str(work)], cwd=base, env=ctx.env)
    path = work / "CHANGELOG.rst"
    stamped = changelog.stamp(
        path.read_text(encoding="utf-8"),
        parse_version(VERSION),
        date.today(),
        changelog.changelog_format(path.name),
    )
    path.write_text(stamped, encoding="utf-8")
    run_process(["git", "commit", "-q", "-am", f"Release {VERSION}"], cwd=work, env=ctx.env)
    downstreams = {
        size.scale: with_uv_era(
            cached_repository(size, ctx.cache), base / f"downstream-{size.key}.git", files, env
        )
        for size in ctx.sizes
    }
    packages = len(tomllib.loads(files["uv.lock"])["package"])
    fixture = Fixture(base, library_bare, work, downstreams)
    return RelockFixture(fixture, index, env, len(files["uv.lock"].encode()), packages)


def api_way(fixture: RelockFixture, downstream: Path) -> Sample:
    with fresh_sandbox(fixture.base, downstream) as sandbox:
        work = fixture.base.library_work
        config = dataclasses.replace(
            load_config(work), github_api=sandbox.api_url, index_url=fixture.index.url
        )
        project = Project(
            root=work, config=config, repo=GitRepo(work, TOKEN), token=TOKEN, environ=fixture.env
        )
        seen, index_seen = len(sandbox.requests), len(fixture.index.requests)
        t0 = time.perf_counter()
        step = plan_released(project, parse_version(VERSION))
        t1 = time.perf_counter()
        result = apply_plan(plan_of(step))
        t2 = time.perf_counter()
        made = _api_requests(sandbox, seen)
        index_requests = len(fixture.index.requests) - index_seen
    if not result.state.pr_urls:
        raise RuntimeError(f"the API way opened no PR: {step.skipped or step.notes}")
    return Sample(
        t2 - t0,
        requests=len(made),
        extra={"plan_s": t1 - t0, "apply_s": t2 - t1, "index_requests": index_requests},
    )


def clone_way(ctx: Context, fixture: RelockFixture, downstream: Path) -> Sample:
    with fresh_sandbox(fixture.base, downstream) as sandbox:
        url = sandbox.git_url(example.DOWNSTREAM)
        env = {**ctx.env, **auth_environment(url, TOKEN)}
        scratch = Path(tempfile.mkdtemp(prefix="clone-", dir=fixture.base.base))
        dest = scratch / "openedx-platform"
        seen, index_seen = len(sandbox.requests), len(fixture.index.requests)
        uv = shipped_uv()[0]
        uv_env = resolver_env(fixture.env, scratch)
        t0 = time.perf_counter()

        def run(*cmd: str, cwd: Path = dest, with_env: Mapping[str, str] = env) -> str:
            return run_process(list(cmd), cwd=cwd, env=with_env).stdout

        run("git", "clone", "-q", "--depth", "1", url, str(dest), cwd=scratch)
        spec = f"edx-proctoring=={VERSION}"
        run(uv, "lock", "--upgrade-package", spec, "--no-build", "--default-index",
            fixture.index.url, with_env=uv_env)  # fmt: skip
        out = run(uv, "export", "--frozen", "--no-hashes", "--no-dev", with_env=uv_env)
        (dest / EXPORT).write_text(example.EXPORT_HEADER + out)
        run("git", "checkout", "-q", "-b", BRANCH)
        run("git", "commit", "-q", "-a", "-m", f"chore: upgrade edx-proctoring to {VERSION}")
        run("git", "push", "-q", "origin", BRANCH)
        wall = time.perf_counter() - t0
        made = _api_requests(sandbox, seen)
        index_requests = len(fixture.index.requests) - index_seen
        shutil.rmtree(scratch, ignore_errors=True)
    return Sample(wall, requests=len(made), extra={"index_requests": index_requests})


def relock(ctx: Context) -> Section:
    fixture = prepare(ctx)
    try:
        contenders: dict[str, Callable[[], Sample]] = {}
        for size in ctx.sizes:
            repo = fixture.base.downstreams[size.scale]
            contenders[f"api@{size.label}"] = partial(api_way, fixture, repo)
            contenders[f"clone@{size.label}"] = partial(clone_way, ctx, fixture, repo)
        ctx.log("relock: API vs clone at " + ", ".join(s.label for s in ctx.sizes))
        samples = interleave(contenders, runs=ctx.runs, warmup=ctx.warmup, progress=ctx.log)
    finally:
        fixture.index.stop()
    smallest = ctx.sizes[0]
    rows: list[list[str]] = []
    data: dict[str, Any] = {}
    for size in ctx.sizes:
        api, clone = samples[f"api@{size.label}"], samples[f"clone@{size.label}"]
        growth = paired_ratio(api, samples[f"api@{smallest.label}"])
        speedup = paired_ratio(clone, api)
        github = median([s.requests or 0 for s in api])
        index = median([s.extra["index_requests"] for s in api])
        rows.append(
            [
                f"{size.label} ({size.files:,} files, {size.commits:,} commits)",
                ms(median([s.wall for s in api])),
                f"{ms(median([s.extra['plan_s'] for s in api]))} / "
                f"{ms(median([s.extra['apply_s'] for s in api]))}",
                f"{github:g} + {index:g}",
                ratio(growth),
                ms(median([s.wall for s in clone])),
                f"{median([s.requests or 0 for s in clone]):g} + "
                f"{median([s.extra['index_requests'] for s in clone]):g}",
                ratio(speedup),
            ]
        )
        data[size.label] = {
            "files": size.files,
            "api": {**summary(api), "github_requests": github, "index_requests": index},
            "clone": summary(clone),
            "api_growth_vs_smallest": growth,
            "clone_over_api": speedup,
        }
    github_counts = {d["api"]["github_requests"] for d in data.values()}
    checks = [
        Check(
            "relock: GitHub requests do not grow with the repository",
            ", ".join(f"{k}: {d['api']['github_requests']:g}" for k, d in data.items()),
            len(github_counts) == 1,
        )
    ]
    return Section(
        name="relock",
        title="Relock of an openedx-platform-sized uv.lock: GitHub API vs clone",
        intro=(
            f"`release-tool downstream {VERSION}` re-locking a uv downstream whose uv.lock holds "
            f"{fixture.lock_packages} packages ({fixture.lock_bytes / 1e6:.2f} MB), against a "
            "local index, vs `git clone --depth 1` + the same `uv lock` and export + push."
        ),
        columns=[
            "downstream size",
            "API wall",
            "plan / apply",
            "API requests (GitHub + index)",
            f"API ÷ API at {smallest.label}",
            "clone wall",
            "clone requests (git + index)",
            "clone ÷ API",
        ],
        rows=rows,
        notes=[
            "Both ways run the same uv (the one release-tool ships) with the same warm cache; "
            "the API way reads pyproject.toml, uv.lock and the export through the API and "
            "writes one commit and the PR, the clone way pushes a branch and opens no PR.",
            "The index requests are uv's (the project pages and PEP 658 metadata it "
            "revalidates) plus, for the API way, its one look at the index while planning.",
        ],
        checks=checks,
        data={
            "lock_bytes": fixture.lock_bytes,
            "lock_packages": fixture.lock_packages,
            "sizes": data,
        },
    )
