"""The local dry run and the start-up, against tbump and bump-my-version.

The scratch repository is today's edx-proctoring (`release_tool.example.library_repo()`), cloned
from a bare `origin`, with a `tbump.toml` and a `.bumpversion.toml` configured for the same
three version files as our `[tool.release_tool]` (`edx_proctoring/__init__.py`,
`package.json`, `package-lock.json`), committed and pushed so the tree is clean for all three.

Contenders, each its console script in a subprocess:

* `release-tool plan patch --local`: preflight (version files, git state, `git ls-remote`),
  then the bump (three files and the changelog), commit, tag and push planned and printed;
* `tbump --dry-run 5.2.1`: its git checks, the file patches and git commands printed;
* `bump-my-version bump --dry-run patch`: the same with bump-my-version.

The repository is checked unchanged afterwards (no tag, clean tree): all three are dry runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from context import Context
from harness import Completed, Sample, interleave, paired_ratio, peak_mb, run_process, summary
from report import Check, Section, mib, ms, ratio

from release_tool import example
from release_tool.git_repo import build_repository

NEXT = "5.2.1"

TBUMP_TOML = f"""\
[version]
current = "{example.CURRENT_VERSION}"
regex = '''
  (?P<major>\\d+)
  \\.
  (?P<minor>\\d+)
  \\.
  (?P<patch>\\d+)
'''

[git]
message_template = "Bump to {{new_version}}"
tag_template = "v{{new_version}}"

[[file]]
src = "edx_proctoring/__init__.py"
search = "__version__ = '{{current_version}}'"

[[file]]
src = "package.json"
search = '"version": "{{current_version}}"'

[[file]]
src = "package-lock.json"
search = '"version": "{{current_version}}"'
"""

BUMPVERSION_TOML = f"""\
[tool.bumpversion]
current_version = "{example.CURRENT_VERSION}"
commit = true
tag = true
tag_name = "v{{new_version}}"
message = "Bump version: {{current_version}} → {{new_version}}"

[[tool.bumpversion.files]]
filename = "edx_proctoring/__init__.py"
search = "__version__ = '{{current_version}}'"
replace = "__version__ = '{{new_version}}'"

[[tool.bumpversion.files]]
filename = "package.json"
search = '"version": "{{current_version}}"'
replace = '"version": "{{new_version}}"'

[[tool.bumpversion.files]]
filename = "package-lock.json"
search = '"version": "{{current_version}}"'
replace = '"version": "{{new_version}}"'
"""


def library_with_configs(ctx: Context) -> Path:
    """The scratch edx-proctoring clone, with tbump's and bump-my-version's configs committed."""
    base = ctx.folder("local")
    origin = base / "origin.git"
    build_repository(origin, example.library_repo())
    work = base / "edx-proctoring"
    git = ["git", "-C", str(work)]
    run_process(["git", "clone", "-q", str(origin), str(work)], cwd=base, env=ctx.env)
    (work / "tbump.toml").write_text(TBUMP_TOML, encoding="utf-8")
    (work / ".bumpversion.toml").write_text(BUMPVERSION_TOML, encoding="utf-8")
    run_process([*git, "add", "tbump.toml", ".bumpversion.toml"], cwd=base, env=ctx.env)
    run_process([*git, "commit", "-q", "-m", "chore: bench configs"], cwd=base, env=ctx.env)
    run_process([*git, "push", "-q", "origin", "master"], cwd=base, env=ctx.env)
    return work


def _state(ctx: Context, work: Path) -> str:
    """Everything a dry run must leave alone: HEAD, refs, the index and the tree."""
    return "\n".join(
        run_process(["git", *args], cwd=work, env=ctx.env).stdout
        for args in (["show-ref"], ["status", "--porcelain", "--untracked-files=all"])
    )


def _contender(
    ctx: Context, work: Path, cmd: list[str], expect: str | None
) -> Callable[[], Sample]:
    def run() -> Sample:
        done = run_process(cmd, cwd=work, env=ctx.env)
        if expect is not None:
            _expect(done, expect, cmd)
        return done.sample()

    return run


def _expect(done: Completed, text: str, cmd: list[str]) -> None:
    if text not in done.stdout + done.stderr:
        raise RuntimeError(f"{' '.join(cmd)}: expected {text!r} in its output")


def _compare(
    ctx: Context, work: Path, commands: dict[str, tuple[list[str], str | None]]
) -> dict[str, list[Sample]]:
    contenders = {
        name: _contender(ctx, work, cmd, expect) for name, (cmd, expect) in commands.items()
    }
    return interleave(contenders, runs=ctx.runs, warmup=ctx.warmup, progress=ctx.log)


def _rows(samples: dict[str, list[Sample]], ours: str) -> list[list[str]]:
    rows = []
    for name, series in samples.items():
        info = summary(series)
        if name == ours:
            rel = rel_cpu = "1.00× (baseline)"
        else:
            rel = ratio(paired_ratio(samples[ours], series))
            rel_cpu = ratio(paired_ratio(samples[ours], series, of="cpu"))
        rows.append(
            [
                f"`{name}`",
                ms(info["median_s"]),
                f"{ms(info['min_s'])} – {ms(info['max_s'])}",
                ms(info["cpu_s"]),
                mib(peak_mb(series)),
                rel,
                rel_cpu,
            ]
        )
    return rows


COLUMNS = [
    "command",
    "median wall",
    "min – max wall",
    "median CPU",
    "peak RSS",
    "release-tool ÷ this (wall)",
    "(CPU)",
]


def dry_run(ctx: Context) -> Section:
    work = library_with_configs(ctx)
    ours = "release-tool plan patch --local"
    skipped = "release-tool release patch --dry-run, every remote step skipped"
    tbump = f"tbump --dry-run {NEXT}"
    bmv = "bump-my-version bump --dry-run patch"
    before = _state(ctx, work)
    ctx.log("local dry run: release-tool vs tbump vs bump-my-version")
    samples = _compare(
        ctx,
        work,
        {
            ours: ([ctx.tool("release-tool"), "plan", "patch", "--local"], f"→ {NEXT}"),
            skipped: (
                [
                    *(ctx.tool("release-tool"), "release", "patch", "--dry-run"),
                    *("--skip", "github-release", "--skip", "downstream", "--skip", "email"),
                ],
                f"→ {NEXT}",
            ),
            tbump: ([ctx.tool("tbump"), "--dry-run", NEXT], NEXT),
            bmv: ([ctx.tool("bump-my-version"), "bump", "--dry-run", "patch"], None),
        },
    )
    if _state(ctx, work) != before:
        raise RuntimeError("a dry run changed the repository")
    vs_tbump = paired_ratio(samples[ours], samples[tbump])
    skipped_vs_tbump = paired_ratio(samples[skipped], samples[tbump])
    vs_bmv = paired_ratio(samples[ours], samples[bmv])
    return Section(
        name="local",
        title="Local dry run (edx-proctoring-shaped repository)",
        intro=(
            "Plan a patch release of the three version files (and, for release-tool, the "
            "changelog), with every git check, and change nothing. Each command is its console "
            "script in a subprocess: start-up included, as a maintainer sees it."
        ),
        columns=COLUMNS,
        rows=_rows(samples, ours),
        notes=[
            "release-tool also reads the remote (`git ls-remote origin`, a local bare "
            "repository here) and stamps the changelog; tbump and bump-my-version do neither.",
            'tbump\'s `search` for package-lock.json also matches the `"version": "5.2.0"` '
            "of the dependency `@edx/eslint-config` (line 16), which it would rewrite; "
            "release-tool changes only the package's two positions.",
        ],
        checks=[
            Check(
                "`plan patch --local` ≤ 1.0× `tbump --dry-run`", ratio(vs_tbump), vs_tbump <= 1.0
            ),
            Check(
                "`release patch --dry-run` with every remote step skipped ≤ 1.0× `tbump --dry-run`",
                ratio(skipped_vs_tbump),
                skipped_vs_tbump <= 1.0,
            ),
            Check(
                "`plan patch --local` ≤ 0.3× `bump-my-version bump --dry-run`",
                ratio(vs_bmv),
                vs_bmv <= 0.3,
            ),
        ],
        data={
            "series": {name: summary(s) for name, s in samples.items()},
            "ratio_vs_tbump": vs_tbump,
            "remote_skipped_ratio_vs_tbump": skipped_vs_tbump,
            "ratio_vs_bump_my_version": vs_bmv,
        },
    )


def startup(ctx: Context) -> Section:
    work = ctx.scratch / "local" / "edx-proctoring"
    if not work.is_dir():
        work = library_with_configs(ctx)
    ours = "release-tool --help"
    ctx.log("start-up: --help of each tool")
    samples = _compare(
        ctx,
        work,
        {
            ours: ([ctx.tool("release-tool"), "--help"], "Usage"),
            "tbump --help": ([ctx.tool("tbump"), "--help"], "Usage"),
            "bump-my-version --help": ([ctx.tool("bump-my-version"), "--help"], "Usage"),
        },
    )
    return Section(
        name="startup",
        title="Start-up (`--help`)",
        intro="The cost of starting each tool: interpreter, imports, argument parsing, help text.",
        columns=COLUMNS,
        rows=_rows(samples, ours),
        data={"series": {name: summary(s) for name, s in samples.items()}},
    )
