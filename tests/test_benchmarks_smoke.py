"""The benchmark harness (benchmarks/run.py) runs end to end on tiny inputs.

One measured run of each benchmark, no warm-up, a downstream of a few dozen files: this checks
that every scenario still works against the current code (the CLI, the rehearsal, the
downstream step, the sandbox) and that both result files are written, not the figures.
`biglock` plans with a 0.2 MB lockfile instead of 50 MB. `local` and `startup` need tbump
and bump-my-version (installed by `nox -s bench`); without them only `release`, `downstream`,
`relock` and `biglock` are run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
TOOLS = ("tbump", "bump-my-version")


def _installed(name: str) -> bool:
    return (Path(sys.executable).parent / name).is_file() or shutil.which(name) is not None


@pytest.mark.slow
def test_every_benchmark_runs_on_tiny_inputs(tmp_path: Path) -> None:
    names = ["release", "downstream", "relock", "biglock"]
    if all(_installed(tool) for tool in TOOLS):
        names = ["local", "startup", *names]
    only = [arg for name in names for arg in ("--only", name)]
    out = tmp_path / "results"
    result = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--runs",
            "1",
            "--warmup",
            "0",
            "--sizes",
            "0.02",
            "--lock-mb",
            "0.2",
            "--out",
            str(out),
            "--cache",
            str(tmp_path / "cache"),
            *only,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert list(data["sections"]) == names
    downstream = data["sections"]["downstream"]["data"]["sizes"]["0.02×"]
    assert downstream["files"] == 25
    assert downstream["api"]["requests"] > 0
    assert downstream["clone"]["median_s"] > 0
    relock = data["sections"]["relock"]["data"]
    assert relock["lock_packages"] > 25  # the generated packages, the library and its deps
    assert relock["sizes"]["0.02×"]["api"]["github_requests"] > 0
    steps = data["sections"]["release"]["data"]["steps"]
    assert {"bump", "commit", "tag", "push", "github-release", "downstream", "email"} <= set(steps)

    biglock = data["sections"]["biglock"]["data"]
    assert 0.15 < biglock["lockfile_mb"] < 0.3
    assert biglock["series"]["peak_rss_mib"] > 0

    markdown = (out / "results.md").read_text(encoding="utf-8")
    assert "## Targets" in markdown
    assert "| downstream size |" in markdown
    if "local" in names:
        assert "`tbump --dry-run 5.2.1`" in markdown
        assert "`release-tool --help`" in markdown
