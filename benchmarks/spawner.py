"""A small process that runs the measured commands, so their peak memory is their own.

Linux records, when a process calls exec, the resident size of the memory it had *before*
(the copy of its parent's, after fork or vfork) into the maximum RSS that `wait4` and
`RUSAGE_CHILDREN` later report. A command spawned straight from the benchmark process (which
holds the sandbox, PyGithub and a 6 MB tree listing) would show the benchmark's size, not its
own. This process stays small (about 10 MiB, the floor of every figure), spawns each command,
and answers with the command's wall time and `ru_maxrss`.

Protocol: one JSON object per line on stdin, `{"cmd": [...], "cwd": "...", "env": {...}}`;
one per line on stdout, `{"wall": s, "cpu": s, "maxrss_kb": n, "returncode": n, "stdout": "...",
"stderr": "..."}`. End of input ends it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any


def run(request: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            request["cmd"],
            cwd=request["cwd"],
            env=request["env"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss_kb": usage.ru_maxrss,
            "returncode": proc.returncode,
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def main() -> None:
    for line in sys.stdin:
        try:
            answer = run(json.loads(line))
        except OSError as exc:  # a missing executable, a bad cwd: the caller reports it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
