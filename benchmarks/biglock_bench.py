"""Planning with a big lockfile: `release-tool plan patch --local` on a 50 MB package-lock.json.

The scratch repository is the example library (`release_tool.example.library_repo()`) whose
`package-lock.json` is replaced by a generated lockfile v2 of `--lock-mb` megabytes (default
50): the root package, then thousands of packages under `"packages"` and again under the
v1-compatible `"dependencies"`, each with a `"version"` (some equal to the package's own), a
`resolved` URL, an `integrity` hash and a few dependencies. Only the two package positions
(the top-level `"version"` and `packages[""].version`) may change.

What is measured is the console script in a subprocess, as a maintainer runs it: its wall
time and its own peak RSS. The targets (issue 16): under 3 s and under 300 MB for 50 MB.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from context import Context
from harness import Sample, interleave, peak_mb, run_process, summary
from report import Check, Section, mib, ms

from release_tool import example
from release_tool.git_repo import build_repository

NEXT = "5.2.1"
CHANGED = re.compile(rf'^ *\+ *"version": "{re.escape(NEXT)}"', re.MULTILINE)  # a diff line
TARGET_S = 3.0
TARGET_MB = 300.0
FULL_SIZE_MB = 50.0


def _package(i: int, version: str) -> tuple[str, str]:
    """One package's entry under "packages" and under "dependencies" (JSON text, indented)."""
    name = f"pkg-{i:06d}"
    own = version if i % 97 == 0 else f"{i % 13}.{i % 7}.{i % 5}"  # some share the version
    integrity = "sha512-" + hashlib.sha512(name.encode()).hexdigest()[:86] + "=="
    resolved = f"https://registry.npmjs.org/{name}/-/{name}-{own}.tgz"
    deps = {f"pkg-{(i * 7 + k) % 100_000:06d}": f"^{k}.0.0" for k in range(3)}
    packages = {
        "version": own,
        "resolved": resolved,
        "integrity": integrity,
        "dev": True,
        "dependencies": deps,
        "engines": {"node": ">=14"},
    }
    dependencies = {
        "version": own,
        "resolved": resolved,
        "integrity": integrity,
        "dev": True,
        "requires": deps,
    }
    body = json.dumps(packages, indent=2).replace("\n", "\n    ")
    dep = json.dumps(dependencies, indent=2).replace("\n", "\n    ")
    return f'    "node_modules/{name}": {body}', f'    "{name}": {dep}'


def big_lockfile(name: str, version: str, size_mb: float) -> str:
    """A lockfile v2 of about `size_mb` megabytes for package `name` at `version`."""
    wanted = int(size_mb * 1_000_000)
    packages: list[str] = []
    dependencies: list[str] = []
    size = i = 0
    while size < wanted:
        entry, dep = _package(i, version)
        packages.append(entry)
        dependencies.append(dep)
        size += len(entry) + len(dep) + 4
        i += 1
    root = json.dumps(
        {"name": name, "version": version, "license": "AGPL-3.0", "devDependencies": {}},
        indent=2,
    ).replace("\n", "\n    ")
    return (
        "{\n"
        f'  "name": {json.dumps(name)},\n'
        f'  "version": {json.dumps(version)},\n'
        '  "lockfileVersion": 2,\n'
        '  "requires": true,\n'
        '  "packages": {\n'
        f'    "": {root},\n' + ",\n".join(packages) + "\n  },\n"
        '  "dependencies": {\n' + ",\n".join(dependencies) + "\n  }\n"
        "}\n"
    )


def library_with_big_lockfile(ctx: Context, size_mb: float) -> Path:
    base = ctx.folder("biglock")
    origin = base / "origin.git"
    build_repository(origin, example.library_repo())
    work = base / "edx-proctoring"
    git = ["git", "-C", str(work)]
    run_process(["git", "clone", "-q", str(origin), str(work)], cwd=base, env=ctx.env)
    text = big_lockfile("@edx/edx-proctoring", example.CURRENT_VERSION, size_mb)
    (work / "package-lock.json").write_bytes(text.encode("utf-8"))
    run_process([*git, "commit", "-qam", "build: a big lockfile"], cwd=base, env=ctx.env)
    run_process([*git, "push", "-q", "origin", "master"], cwd=base, env=ctx.env)
    return work


def big_lockfile_plan(ctx: Context) -> Section:
    size_mb = ctx.lock_mb
    work = library_with_big_lockfile(ctx, size_mb)
    actual_mb = (work / "package-lock.json").stat().st_size / 1_000_000
    cmd = [ctx.tool("release-tool"), "plan", "patch", "--local"]
    name = "release-tool plan patch --local"
    ctx.log(f"big lockfile: plan --local with a {actual_mb:.0f} MB package-lock.json")

    def run() -> Sample:
        done = run_process(cmd, cwd=work, env=ctx.env)
        # package.json's "version", and the lockfile's two positions: no other.
        if f"→ {NEXT}" not in done.stdout or len(CHANGED.findall(done.stdout)) != 3:
            raise RuntimeError(f"{' '.join(cmd)}: the plan does not edit exactly the positions")
        return done.sample()

    samples = interleave({name: run}, runs=ctx.runs, warmup=ctx.warmup, progress=ctx.log)[name]
    info = summary(samples)
    peak = peak_mb(samples)
    full = size_mb >= FULL_SIZE_MB
    return Section(
        name="biglock",
        title=f"Planning with a {actual_mb:.0f} MB package-lock.json",
        intro=(
            "`release-tool plan patch --local` on the example library whose lockfile is a "
            "generated lockfile v2 (thousands of packages under `packages` and "
            "`dependencies`): the two package positions are located and the JSON validated "
            "without building its object tree."
        ),
        columns=["command", "lockfile", "median wall", "min – max wall", "peak RSS"],
        rows=[
            [
                f"`{name}`",
                f"{actual_mb:.1f} MB",
                ms(info["median_s"]),
                f"{ms(info['min_s'])} – {ms(info['max_s'])}",
                mib(peak),
            ]
        ],
        checks=[
            Check(
                f"plan with a {FULL_SIZE_MB:.0f} MB lockfile < {TARGET_S:.0f} s",
                ms(info["median_s"]),
                info["median_s"] < TARGET_S if full else None,
            ),
            Check(
                f"plan with a {FULL_SIZE_MB:.0f} MB lockfile < {TARGET_MB:.0f} MB peak RSS",
                mib(peak),
                (peak or 0) * 1.048576 < TARGET_MB if full else None,
            ),
        ],
        data={"lockfile_mb": actual_mb, "series": info},
    )
