"""release_tool's benchmarks (issue #8): `nox -s bench`, or `python benchmarks/run.py`.

Six benchmarks, the first four and `relock` comparing contenders measured side by side in the
same loop:

    local       `release-tool plan patch --local` vs `tbump --dry-run` vs `bump-my-version
                bump --dry-run`, on an edx-proctoring-shaped repository
    startup     `--help` of the three tools
    release     the full example release against the sandbox: total and per step
    downstream  the downstream PR through the API vs a `git clone --depth 1` + push, on an
                edx-platform-shaped downstream at 1×, 4× and 16× (16× ≈ edx-platform)
    relock      the relock of an openedx-platform-sized uv.lock (400 packages, local index)
                through the API vs a clone + the same `uv lock`, at the same sizes
    biglock     `release-tool plan patch --local` with a 50 MB package-lock.json: wall time
                and peak RSS against the targets (under 3 s, under 300 MB)

Writes `benchmarks/results/results.md` (Markdown tables) and `results.json` (every sample).
Everything is generated locally; the big downstream repositories are cached under
`benchmarks/.cache/` (delete it to regenerate). Options: --runs N (default 7), --warmup N
(default 1), --quick (5 runs, sizes 1× and 4×), --only NAME (repeatable), --sizes 1,4,16,
--lock-mb MB (the big lockfile's size, default 50), --out DIR, --cache DIR, --keep (keep the
scratch folder).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bigrepo import Size
from context import BENCH_DIR, Context
from harness import SPAWNER, run_process
from report import Section, write

BENCHMARKS: dict[str, Callable[[Context], Section]] = {}


def _register() -> None:
    # Imported here so `--help` answers before release_tool and the sandbox are imported.
    from biglock_bench import big_lockfile_plan
    from downstream_bench import downstream_pr
    from local_bench import dry_run, startup
    from release_bench import full_release
    from relock_bench import relock

    BENCHMARKS.update(
        {
            "local": dry_run,
            "startup": startup,
            "release": full_release,
            "downstream": downstream_pr,
            "relock": relock,
            "biglock": big_lockfile_plan,
        }
    )


NAMES = ("local", "startup", "release", "downstream", "relock", "biglock")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="Benchmark release_tool against tbump and bump-my-version, and the "
        "downstream PR against a clone.",
    )
    parser.add_argument("--runs", type=int, default=None, help="measured runs (default 7)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up rounds (default 1)")
    parser.add_argument(
        "--quick", action="store_true", help="1 warm-up, 5 runs, downstream sizes 1× and 4× only"
    )
    parser.add_argument(
        "--only", action="append", choices=NAMES, metavar="NAME", help=f"one of {', '.join(NAMES)}"
    )
    parser.add_argument(
        "--sizes",
        help="downstream sizes in sixteenths of edx-platform, e.g. 1,4,16 (default) or 0.1",
    )
    parser.add_argument(
        "--lock-mb", type=float, default=50.0, help="the big lockfile's size in MB (default 50)"
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="results folder")
    parser.add_argument(
        "--cache", type=Path, default=BENCH_DIR / ".cache", help="generated repositories"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    args.runs = args.runs if args.runs is not None else (5 if args.quick else 7)
    args.warmup = args.warmup if args.warmup is not None else 1
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    sizes = args.sizes or ("1,4" if args.quick else "1,4,16")
    try:
        args.sizes = [Size(float(x)) for x in sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes: {sizes!r} is not a list of numbers")
    if args.lock_mb <= 0:
        parser.error("--lock-mb must be positive")
    if any(s.scale <= 0 for s in args.sizes):
        parser.error("--sizes must be positive")
    return args


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    except OSError:
        return "not installed"
    return (out.stdout or out.stderr).strip().splitlines()[0] if out.returncode == 0 else "?"


def machine() -> dict[str, object]:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    bindir = Path(sys.executable).parent
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "git": _version(["git", "--version"]),
        "load_before": load,
        "tools": {
            "release-tool": _version([str(bindir / "release-tool"), "--version"]),
            "tbump": _version([str(bindir / "tbump"), "--version"]),
            "bump-my-version": _version([str(bindir / "bump-my-version"), "--version"]),
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _register()
    started = time.perf_counter()
    info = machine()
    scratch = Path(tempfile.mkdtemp(prefix="release-tool-bench-"))

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    ctx = Context(
        args.runs, args.warmup, args.sizes, scratch, args.cache.resolve(), log, lock_mb=args.lock_mb
    )
    # What a command that uses almost no memory reports: the floor of every peak RSS figure.
    info["rss_floor_mib"] = round(run_process(["true"], cwd=scratch, env=ctx.env).maxrss_kb / 1024)
    sections: list[Section] = []
    try:
        for name in NAMES:
            if args.only and name not in args.only:
                continue
            sections.append(BENCHMARKS[name](ctx))
    finally:
        SPAWNER.close()
        if args.keep:
            log(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    info["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    info["wall_s"] = round(time.perf_counter() - started, 1)
    config = {
        "runs": args.runs,
        "warmup": args.warmup,
        "sizes": [s.scale for s in args.sizes],
        "lock_mb": args.lock_mb,
        "only": args.only or list(NAMES),
    }
    md, js = write(args.out, sections, info, config)
    print(md.read_text(encoding="utf-8"))
    log(f"wrote {md} and {js}")
    missed = [c for s in sections for c in s.checks if c.met is False]
    for check in missed:
        log(f"target not met: {check.target}: {check.measured}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
