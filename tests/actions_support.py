"""Running the steps of action.yml and of the example workflows as the Actions runner would: the
step's `run` script under `bash --noprofile --norc -eo pipefail`, its `env:` with the
`${{ ... }}` expressions replaced by the values the test gives (an unknown expression fails the
test), the runner's files ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, $RUNNER_TEMP), and the
release-tool the action installs standing in as a shim that runs this checkout's code."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def load_yaml(path: Path) -> dict[Any, Any]:
    yaml: Any = importlib.import_module("yaml")  # a runtime dependency; no type stubs installed
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as True
        data["on"] = data.pop(True)
    return data


def steps_of(workflow: Mapping[Any, Any]) -> Iterator[dict[str, Any]]:
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def substitute(text: str, values: Mapping[str, str]) -> str:
    """`${{ expr }}` → values[expr]; a KeyError for an expression the test did not give."""
    return EXPRESSION.sub(lambda m: values[m.group(1)], text)


@dataclass
class StepRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class Runner:
    """A runner's per-job files, in `root`."""

    root: Path

    def __post_init__(self) -> None:
        self.temp = self.root / "runner-temp"
        bin_dir = self.temp / "release-tool" / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        shim = bin_dir / "release-tool"
        shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m release_tool "$@"\n')
        shim.chmod(0o755)
        self.output = self.root / "github_output"
        self.summary = self.root / "step_summary"

    def run(
        self,
        step: Mapping[str, Any],
        expressions: Mapping[str, str],
        *,
        cwd: Path,
        env: Mapping[str, str],
    ) -> StepRun:
        """Run one `run:` step; its outputs are what it appended to $GITHUB_OUTPUT."""
        self.output.write_text("")
        self.summary.touch()
        step_env = {k: substitute(str(v), expressions) for k, v in step.get("env", {}).items()}
        script = self.root / "step.sh"
        script.write_text(step["run"])
        full_env = {
            **os.environ,
            **env,
            **step_env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "RUNNER_TEMP": str(self.temp),
            "PYTHONPATH": str(ROOT),
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        return StepRun(
            result.returncode, result.stdout, result.stderr, parse_outputs(self.output.read_text())
        )


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT records (`name<<DELIM` … `DELIM`, or `name=value`)."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs
