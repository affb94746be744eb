"""Where a console script's start-up goes: `python -X importtime`, summarised.

    python benchmarks/importtime.py [--runs N] [--depth D] -- release-tool plan patch --local

Runs the command N times (default 9) under `-X importtime` and prints, for each module imported
at depth ≤ D below the top (default 0: the top-level imports), the median cumulative import
time, largest first, then the median total. A `release_tool.*` module always counts as top
level, so the tool's own modules are told apart from the libraries they pull in.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict

LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def parse(stderr: str) -> list[tuple[int, int, str]]:
    """(cumulative µs, depth, module) of every import line, in the order printed."""
    rows = []
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match:
            rows.append((int(match[2]), len(match[3]) // 2, match[4]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--depth", type=int, default=0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = [c for c in args.command if c != "--"]
    if not command:
        parser.error("give the command after --")
    script = shutil.which(command[0]) or command[0]
    per_module: dict[str, list[int]] = defaultdict(list)
    totals = []
    for _ in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", script, *command[1:]],
            capture_output=True,
            text=True,
            check=False,
        )
        rows = parse(done.stderr)
        totals.append(sum(us for us, depth, _ in rows if depth == 0))
        for us, depth, module in rows:
            if depth <= args.depth or (depth <= args.depth + 1 and module.startswith("release_")):
                per_module[("  " * depth) + module].append(us)
    ranked = sorted(per_module.items(), key=lambda kv: -statistics.median(kv[1]))
    for module, values in ranked[:30]:
        print(f"{statistics.median(values) / 1000:8.1f} ms  {module}")
    print(f"{statistics.median(totals) / 1000:8.1f} ms  total of top-level imports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
