"""The benchmark's surroundings: options, a scratch folder, a hermetic git, the tools' paths.

Git runs isolated from the machine: `HOME` is a scratch folder with its own `.gitconfig`
(identity, default branch, no signing) and the system configuration is ignored, so a
maintainer's hooks, aliases or `commit.gpgsign` never change what is measured. No GitHub token
from the environment is passed on: every GitHub request goes to a local sandbox.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bigrepo import Size

BENCH_DIR = Path(__file__).resolve().parent
GITCONFIG = """\
[user]
\tname = Bench Maintainer
\temail = bench@example.org
[init]
\tdefaultBranch = master
[commit]
\tgpgsign = false
[tag]
\tgpgsign = false
[protocol "file"]
\tallow = always
"""
DROPPED = ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_ACTIONS", "RELEASE_TOOL_GITHUB_API", "GIT_DIR")


@dataclass
class Context:
    """What every benchmark gets."""

    runs: int
    warmup: int
    sizes: list[Size]
    scratch: Path
    cache: Path
    log: Callable[[str], None] = print
    env: dict[str, str] = field(default_factory=dict)
    lock_mb: float = 50.0  # the big lockfile's size (biglock)

    def __post_init__(self) -> None:
        home = self.scratch / "home"
        home.mkdir(parents=True, exist_ok=True)
        (home / ".gitconfig").write_text(GITCONFIG, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in DROPPED}
        env.update(
            HOME=str(home),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_TERMINAL_PROMPT="0",
            # The console scripts of this interpreter's environment come first.
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            COLUMNS="100",
            NO_COLOR="1",
        )
        self.env = env
        # In-process runs (the rehearsal and the downstream PR) use the same git setup.
        for key in DROPPED:
            os.environ.pop(key, None)
        os.environ.update(env)

    def tool(self, name: str) -> str:
        """The console script `name`, next to this interpreter or on PATH."""
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            return str(beside)
        found = shutil.which(name, path=self.env["PATH"])
        if found is None:
            raise SystemExit(
                f"error: {name} is not installed; run the benchmark with `nox -s bench`, "
                "or pip install tbump bump-my-version into this environment"
            )
        return found

    def folder(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path
