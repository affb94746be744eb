"""The `relock` strategy end to end: the sandbox GitHub with its package index, the example
library released with the pipeline (its publish workflow simulated by `Publisher`), and the
downstream re-resolved by its own resolver (uv, or pip-tools) with no clone.

What a downstream maintainer depends on: one PR whose lock and exports hold the new version
and the dependency it brings; their own check passes on it (`uv lock --locked` and the exports
reproduced byte for byte; a re-run of pip-compile changes nothing); re-runs converge; a fault
on any write, then a re-run, ends where an undisturbed run ends. Hermetic: the loopback index.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from index_support import hermetic_env
from sandbox_fixtures import (
    DOWNSTREAM,
    GRANTS,
    LIBRARY,
    MAINTAINER_TOKEN,
    TOKENS,
    Contract,
    fsck_problems,
)
from test_github_release import (
    FAST,
    library_project,
    release,
    replace_downstream,
    step,
    writes,
)

from release_tool import example
from release_tool.config import CompileConfig, Config, config_from_mapping
from release_tool.downstream import (
    DownstreamPRAction,
    RelockAction,
    RelockSettings,
    Upgrade,
    plan_downstream,
)
from release_tool.errors import ReleaseError, UsageError
from release_tool.example import Commit, ExampleRepo
from release_tool.git_repo import build_repository, run_git
from release_tool.github_api import GitHub
from release_tool.plan import RunState, StepPlan
from release_tool.project import Project
from release_tool.resolvers import uv as uv_resolver
from release_tool.sandbox import Sandbox, wheels
from release_tool.sandbox.example_index import Publisher, build_index, seed_uv_example
from release_tool.steps.downstream import plan_released
from release_tool.versions import parse_version

BRANCH = "release-tool/edx-proctoring"
EXPORT = "requirements/edx/base.txt"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return hermetic_env(tmp_path / "env")


@pytest.fixture
def world(tmp_path: Path, contract: Contract, env: dict[str, str]) -> Iterator[Sandbox]:
    """A sandbox serving the example's index, holding the uv era of the example pair, with
    the library's publish workflow simulated."""
    index = build_index(tmp_path / "index")
    with Sandbox(tmp_path / "sandbox", tokens=TOKENS, grants=GRANTS, index=index) as sandbox:
        seed_uv_example(sandbox, env)
        sandbox.observer = Publisher(sandbox, LIBRARY, "edx-proctoring", then=contract)
        yield sandbox
    broken = fsck_problems(sandbox)
    assert not broken, broken


def project_of(sandbox: Sandbox, tmp_path: Path, env: Mapping[str, str], **changes: Any) -> Project:
    """The library as the pipeline sees it: its config's index is the sandbox's."""

    def change(config: Config) -> Config:
        # A short wait: the publish workflow is instant here, so a long one would be a bug.
        config = dataclasses.replace(config, index_url=sandbox.index_url, index_timeout=30.0)
        return replace_downstream(config, **changes) if changes else config

    return library_project(sandbox, tmp_path, environ=dict(env), change=change)


def settings(sandbox: Sandbox, env: Mapping[str, str]) -> RelockSettings:
    return RelockSettings(index_url=sandbox.index_url, timeout=10, interval=0.02, env=env)


def upgrade(version: str = "5.3.0") -> Upgrade:
    return Upgrade(
        package="edx-proctoring",
        version=parse_version(version),
        tag=f"v{version}",
        notes="* notes",
        release_url=f"https://example.test/releases/tag/v{version}",
        repository=LIBRARY,
        repository_url=f"https://example.test/{LIBRARY}",
    )


def relock_config(tmp_path: Path, **changes: Any) -> Config:
    data = tomllib.loads(example.RELOCK_LIBRARY_PYPROJECT)["tool"]["release_tool"]
    config = config_from_mapping(data, tmp_path)
    return replace_downstream(config, **changes) if changes else config


def publish_release(sandbox: Sandbox, version: str = "5.3.0") -> None:
    """The library's next version on the index, as its publish workflow would upload it."""
    deps = [*example.DEPENDENCIES, example.NEW_DEPENDENCY]
    assert sandbox.index is not None
    wheels.publish(sandbox.index.directory, "edx-proctoring", version, deps)


def downstream_step(sandbox: Sandbox, config: Config, env: Mapping[str, str]) -> StepPlan:
    gh = GitHub(sandbox.api_url, MAINTAINER_TOKEN, policy=FAST)
    return plan_downstream(gh, config, upgrade(), relock_settings=settings(sandbox, env))


def apply_step(planned: StepPlan) -> None:
    for action in planned.actions:
        action.apply(RunState())


def git(sandbox: Sandbox, *args: str, repository: str = DOWNSTREAM) -> str:
    return sandbox.store.git(repository, *args).decode()


def at_branch(sandbox: Sandbox, path: str, ref: str = f"refs/heads/{BRANCH}") -> str:
    return git(sandbox, "show", f"{ref}:{path}")


def open_pull(sandbox: Sandbox) -> Any:
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    assert pull.state == "open"
    return pull


def locked(lock_text: str) -> dict[str, str]:
    return {p["name"]: p["version"] for p in tomllib.loads(lock_text)["package"]}


def run(args: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    proc = subprocess.run(args, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def clone_branch(sandbox: Sandbox, dest: Path) -> Path:
    run_git("clone", "-q", "-b", BRANCH, sandbox.git_url(DOWNSTREAM), str(dest), cwd=dest.parent)
    return dest


def assert_relocked(sandbox: Sandbox, tmp_path: Path, env: Mapping[str, str]) -> None:
    """The end state: one open PR, one commit on the base changing the lock and the export,
    which hold 5.3.0 and its new dependency; the downstream's own check passes on a clone."""
    pull = open_pull(sandbox)
    assert (pull.head_ref, pull.base_ref) == (BRANCH, "master")
    assert pull.labels == ["dependencies"] and pull.reviewers == ["edx-platform-reviewer"]
    head = git(sandbox, "rev-parse", f"refs/heads/{BRANCH}").strip()
    parents = git(sandbox, "rev-list", "--parents", "-n1", head).split()
    assert parents[1:] == [git(sandbox, "rev-parse", "refs/heads/master").strip()]
    changed = git(sandbox, "diff", "--name-only", "refs/heads/master", head).split()
    assert changed == [EXPORT, "uv.lock"]
    lock = locked(at_branch(sandbox, "uv.lock"))
    assert lock["edx-proctoring"] == "5.3.0" and lock["jsonfield"] == "3.1.0"
    export = at_branch(sandbox, EXPORT)
    assert export.startswith(example.EXPORT_HEADER + "# This file was autogenerated by uv")
    assert "\nedx-proctoring==5.3.0\n" in export and "\njsonfield==3.1.0\n" in export
    # The downstream's own check, in a clone of the PR branch: the lock is current, and the
    # export reproduces byte for byte.
    work = clone_branch(sandbox, tmp_path / f"check-{len(list(tmp_path.glob('check-*')))}")
    uv = uv_resolver.shipped_uv()[0]
    run([uv, "lock", "--locked", "--default-index", sandbox.index_url], work, env)
    out = run([uv, "export", "--frozen", "--no-hashes", *example.EXPORT_ARGS], work, env)
    assert (work / EXPORT).read_text() == example.EXPORT_HEADER + out


# --- uv: the whole release ---------------------------------------------------------------------


def test_a_release_adding_a_dependency_relocks_the_downstream(
    world: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    project = project_of(world, tmp_path, env)
    planned, result = release(project)

    # Planned before the release existed: the resolution waits for the index, at apply time.
    (action,) = step(planned, "downstream").actions
    assert isinstance(action, RelockAction)
    assert action.describe() == (
        "re-lock openedx/edx-platform with uv once edx-proctoring 5.3.0 is on the index, "
        "then open PR"
    )
    details = action.details()
    for line in (
        "  pyproject.toml (",
        "  uv.lock (",
        f"  {EXPORT} (",
        "  uv lock --upgrade-package edx-proctoring==5.3.0",
        f"  uv export --frozen --no-hashes --no-dev > {EXPORT}",
        f"first: wait until edx-proctoring 5.3.0 is on {world.index_url}",
    ):
        assert line in details
    assert step(planned, "wait-for-index").skipped  # wait_for_index = false: the relock waits
    assert_relocked(world, tmp_path, env)
    pull = open_pull(world)
    assert result.outputs["downstream_pr_urls"] == f"{world.url}/{DOWNSTREAM}/pull/1"
    assert "from 5.2.0 to **5.3.0**" in pull.body
    assert "- added jsonfield 3.1.0" in pull.body
    assert "    uv lock --upgrade-package edx-proctoring==5.3.0 --no-build --default-index" in (
        pull.body
    )
    message = git(world, "log", "-1", "--format=%B", f"refs/heads/{BRANCH}")
    assert message.startswith("chore: upgrade edx-proctoring to 5.3.0\n\nRe-resolved with uv ")
    assert "+ jsonfield 3.1.0\n" in message

    # A re-run converges: the version is on the index now, so the plan resolves at once and
    # finds the PR current. Nothing is written.
    before = len(world.requests)
    again, rerun = release(project, "current")
    assert writes(world, before) == []
    assert rerun.applied == []
    assert step(again, "downstream").skipped == (
        f"already done: {DOWNSTREAM}: PR #1 is up to date ({world.url}/{DOWNSTREAM}/pull/1)"
    )
    assert len(world.state.pulls(DOWNSTREAM)) == 1


def test_with_the_version_on_the_index_the_plan_shows_the_real_diff(
    world: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    project = project_of(world, tmp_path, env)
    release(project, skip=frozenset({"email", "downstream"}))
    before = len(world.requests)
    planned = plan_released(project, parse_version("5.3.0"))
    assert writes(world, before) == []
    (action,) = planned.actions
    assert isinstance(action, DownstreamPRAction)
    assert action.describe() == (
        "open PR on openedx/edx-platform: chore: upgrade edx-proctoring to 5.3.0 (2 files)"
    )
    details = action.details()
    assert "-edx-proctoring==5.2.0\n+edx-proctoring==5.3.0\n" in details
    assert '+name = "jsonfield"\n' in details and "+jsonfield==3.1.0\n" in details
    assert "- added jsonfield 3.1.0" in action.body
    # What the dry run showed is what the run does.
    apply_step(planned)
    assert open_pull(world).body == action.body
    assert_relocked(world, tmp_path, env)


def test_a_lock_written_by_another_uv_revision_is_warned_about(
    world: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    lock = at_branch(world, "uv.lock", "refs/heads/master")
    revision = tomllib.loads(lock)["revision"]
    old = lock.replace(f"revision = {revision}\n", "revision = 2\n", 1)
    _commit_downstream(world, tmp_path, {"uv.lock": old})
    planned = downstream_step(world, relock_config(tmp_path), env)
    (note,) = planned.notes
    assert note.startswith(f"warning: {DOWNSTREAM}@master: uv.lock revision changed from 2 to ")
    assert "(even without the upgrade: the PR will carry it)" in note


def _commit_downstream(sandbox: Sandbox, tmp_path: Path, files: Mapping[str, str]) -> None:
    """Commit `files` on the downstream's master (a clone, a push over the sandbox's git)."""
    work = tmp_path / "push"
    run_git("clone", "-q", sandbox.git_url(DOWNSTREAM), str(work), cwd=tmp_path)
    for path, text in files.items():
        (work / path).write_text(text)
    run_git("commit", "-qam", "chore: change the lock", cwd=work)
    url = sandbox.git_url(DOWNSTREAM).replace("://", f"://x:{MAINTAINER_TOKEN}@")
    run_git("push", "-q", url, "HEAD:master", cwd=work)


# --- faults ------------------------------------------------------------------------------------

DOWNSTREAM_WRITES = [
    "POST /repos/*/git/trees",
    "POST /repos/*/git/commits",
    "POST /repos/*/git/refs",
    "POST /repos/*/pulls",
    "POST /repos/*/issues/*/labels",
    "POST /repos/*/pulls/*/requested_reviewers",
]


@pytest.mark.parametrize("write", DOWNSTREAM_WRITES)
def test_a_fault_on_each_write_then_a_rerun_reaches_the_same_end(
    world: Sandbox, tmp_path: Path, env: dict[str, str], write: str
) -> None:
    # A rate limit that resets in an hour stops the run (a 5xx is retried within it: the
    # shared `DownstreamPRAction` machinery, tested with the edit strategy).
    publish_release(world)
    config = relock_config(tmp_path)
    # The undisturbed end: what the resolver makes of the base, computed here independently.
    base = {
        p: at_branch(world, p, "refs/heads/master") for p in ("pyproject.toml", "uv.lock", EXPORT)
    }
    expected = uv_resolver.relock(
        base,
        "edx-proctoring",
        "5.3.0",
        exports=[uv_resolver.Export(EXPORT, ("--no-dev",))],
        env=env,
    ).files
    world.add_fault(f"{write} ratelimit 1")
    with pytest.raises(ReleaseError):
        apply_step(downstream_step(world, config, env))
    assert world.faults == []
    apply_step(downstream_step(world, config, env))
    assert_relocked(world, tmp_path, env)
    for path, text in expected.items():
        assert at_branch(world, path) == text
    assert downstream_step(world, config, env).actions == ()  # and it stays there


def test_a_fault_in_a_whole_release_then_the_same_command_converges(
    world: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    project = project_of(world, tmp_path, env)
    world.add_fault("POST /repos/*/pulls ratelimit 1")
    with pytest.raises(ReleaseError, match="downstream failed"):
        release(project)
    # The branch was written before the fault; the re-run (version now on the index) plans
    # at once and only opens the PR.
    before = len(world.requests)
    again, _ = release(project, "current")
    (action,) = step(again, "downstream").actions
    assert isinstance(action, DownstreamPRAction) and action.pull is None
    assert [p for _, p, _ in writes(world, before) if DOWNSTREAM in p][-3:] == [
        f"/api/v3/repos/{DOWNSTREAM}/pulls",
        f"/api/v3/repos/{DOWNSTREAM}/issues/1/labels",
        f"/api/v3/repos/{DOWNSTREAM}/pulls/1/requested_reviewers",
    ]
    assert_relocked(world, tmp_path, env)


# --- refusals ----------------------------------------------------------------------------------


def test_relock_of_a_downstream_with_nothing_to_relock_is_refused(
    sandbox: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    # The pip-tools era example: compiled files, but no `compile` configured.
    config = relock_config(
        tmp_path, strategy="relock", exports=(), files=("requirements/edx/*.txt",)
    )
    before = len(sandbox.requests)
    with pytest.raises(UsageError) as refused:
        downstream_step_on(sandbox, config, env)
    assert "are pip-compile output, but `compile` is not configured" in refused.value.message
    assert "compile = [" in refused.value.hint
    assert writes(sandbox, before) == []
    # Without files either: no uv.lock, nothing to compile.
    config = relock_config(tmp_path, strategy="relock", exports=())
    with pytest.raises(UsageError, match=r"has no uv\.lock at its root"):
        downstream_step_on(sandbox, config, env)


def downstream_step_on(sandbox: Sandbox, config: Config, env: Mapping[str, str]) -> StepPlan:
    gh = GitHub(sandbox.api_url, MAINTAINER_TOKEN, policy=FAST)
    return plan_downstream(
        gh, config, upgrade(), relock_settings=RelockSettings(index_url="http://127.0.0.1:9/")
    )


def test_without_a_strategy_a_downstream_without_a_lock_is_edited(
    sandbox: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    # The example's compiled files carry pip-compile's header: editing them must be allowed.
    config = relock_config(
        tmp_path,
        exports=(),
        files=("requirements/edx/*.txt",),
        allow_generated=True,
        check_dependencies=False,
    )
    planned = downstream_step_on(sandbox, config, env)
    (action,) = planned.actions
    assert isinstance(action, DownstreamPRAction)
    assert "-edx-proctoring==5.2.0\n+edx-proctoring==5.3.0\n" in action.details()


# --- pip-tools ---------------------------------------------------------------------------------

KERNEL_IN = "-c ../constraints.txt\n\nDjango\nedx-proctoring>=2.0.1\nedx-when\n"
TESTING_IN = "-r base.txt\n\npytest\n"
COMPILES = (
    CompileConfig("requirements/edx/kernel.in", "requirements/edx/base.txt"),
    CompileConfig("requirements/edx/testing.in"),
)


def compile_all(repo: Path, index_url: str, env: Mapping[str, str]) -> None:
    for entry in COMPILES:
        run(
            [sys.executable, "-m", "piptools", "compile", "--quiet", "--index-url", index_url,
             "--no-emit-index-url", "--output-file", entry.target, *entry.args, entry.source],
            repo, {**env, "CUSTOM_COMPILE_COMMAND": "make upgrade"},
        )  # fmt: skip


def test_a_pip_tools_downstream_is_recompiled(
    world: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    # The downstream in its pip-tools era, compiled against the sandbox's index.
    work = tmp_path / "compiled"
    inputs = {
        "requirements/constraints.txt": "# emergency pins\nDjango<5.0\n",
        "requirements/edx/kernel.in": KERNEL_IN,
        "requirements/edx/testing.in": TESTING_IN,
    }
    for path, text in inputs.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    compile_all(work, world.index_url, env)
    files = {**inputs, **{e.target: (work / e.target).read_text() for e in COMPILES}}
    assert "edx-proctoring==5.2.0" in files["requirements/edx/base.txt"]
    bare = tmp_path / "pip-tools-downstream.git"
    build_repository(bare, ExampleRepo(DOWNSTREAM, "master", (Commit("pip-tools era", files),)))
    world.copy_repository(bare, DOWNSTREAM, force=True)

    project = project_of(
        world, tmp_path, env, exports=(), compile=COMPILES, index_url=world.index_url
    )
    planned, _ = release(project)
    (action,) = step(planned, "downstream").actions
    assert isinstance(action, RelockAction)
    assert "  pip-compile --upgrade-package edx-proctoring==5.3.0 --output-file " in (
        action.details()
    )
    assert "  requirements/constraints.txt (" in action.details()  # the -c include is read

    pull = open_pull(world)
    assert "- added jsonfield 3.1.0" in pull.body
    changed = git(world, "diff", "--name-only", "refs/heads/master", f"refs/heads/{BRANCH}")
    assert changed.split() == ["requirements/edx/base.txt", "requirements/edx/testing.txt"]
    for entry in COMPILES:
        text = at_branch(world, entry.target)
        assert "\nedx-proctoring==5.3.0\n" in text and "\njsonfield==3.1.0\n" in text
        assert "#    make upgrade\n" in text and "127.0.0.1" not in text
    # The downstream's check: re-running the compile in a clone of the PR branch changes
    # nothing.
    clone = clone_branch(world, tmp_path / "check")
    compile_all(clone, world.index_url, env)
    assert run_git("status", "--porcelain", cwd=clone) == ""
    # And a re-run converges.
    before = len(world.requests)
    again, _ = release(project, "current")
    assert writes(world, before) == []
    # (This world's downstream has no collaborators: the reviewer is left out with a note.)
    skipped = step(again, "downstream").skipped
    assert skipped.startswith("already done: ") and f"{DOWNSTREAM}: PR #1 is up to date" in skipped


# --- configuration -----------------------------------------------------------------------------


def test_relock_configuration_is_read_and_checked(tmp_path: Path) -> None:
    from release_tool.errors import ConfigError

    data = tomllib.loads(example.RELOCK_LIBRARY_PYPROJECT)["tool"]["release_tool"]
    entry = data["downstream"][0]
    entry.update(
        {
            "strategy": "relock",
            "compile": ["requirements/base.in", {"source": "k.in", "output": "base.txt"}],
            "pip_tools": "7.4.1",
            "uv_version": "0.5.3",
            "index_url": "https://pypi.org/simple",
        }
    )
    (downstream,) = config_from_mapping(data, tmp_path).downstream
    assert [(c.source, c.target) for c in downstream.compile] == [
        ("requirements/base.in", "requirements/base.txt"),
        ("k.in", "base.txt"),
    ]
    assert [(e.output, e.args) for e in downstream.exports] == [(EXPORT, ("--no-dev",))]
    assert (downstream.strategy, downstream.pip_tools, downstream.uv_version) == (
        "relock", "7.4.1", "0.5.3",
    )  # fmt: skip
    for key, value, message in (
        ("strategy", "lock", "'lock' is not one of 'relock', 'edit', 'dispatch'"),
        ("resolver", "poetry", "'poetry' is not one of 'uv', 'pip-tools'"),
        ("exports", [{"output": "../x.txt"}], "is not a relative path inside the downstream"),
        ("exports", [{"output": "x.txt", "cmd": "make"}], "exports[0].cmd: unknown key"),
    ):
        bad = {**data, "downstream": [{**entry, key: value}]}
        with pytest.raises(ConfigError, match=re.escape(message)):
            config_from_mapping(bad, tmp_path)


def test_a_relock_pr_carries_the_guards_of_an_edit_pr(
    world: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    """A major upgrade is flagged in the title, and an open PR that already upgrades further
    is never moved back by a plan for an older version."""
    config = relock_config(tmp_path)
    gh = GitHub(world.api_url, MAINTAINER_TOKEN, policy=FAST)
    publish_release(world, "6.0.0")
    planned = plan_downstream(gh, config, upgrade("6.0.0"), relock_settings=settings(world, env))
    (action,) = planned.actions
    assert isinstance(action, DownstreamPRAction)
    assert action.title.startswith(config.downstream[0].major_title_prefix)
    assert any("a major upgrade" in note for note in planned.notes)
    apply_step(planned)
    head = at_branch(world, "uv.lock")

    publish_release(world, "5.3.0")
    older = plan_downstream(gh, config, upgrade("5.3.0"), relock_settings=settings(world, env))
    assert older.actions == ()
    assert older.skipped is not None and "newer than 5.3.0: left as it is" in older.skipped
    assert at_branch(world, "uv.lock") == head
