"""`release-tool status`'s downstream rows, against the sandbox GitHub (and its package index
for the uv-era downstream): what a maintainer reads there before and after a release.

A relocked downstream's row says what its base *locks* (uv.lock, or the compiled files of a
pip-tools downstream), read through the API at the base commit; an `edit` or `dispatch` entry's
row says what its `files` pin, as before.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import github
import pytest
from index_support import hermetic_env
from sandbox_fixtures import DOWNSTREAM, GRANTS, LIBRARY, MAINTAINER_TOKEN, TOKENS, Contract
from test_github_release import FAST, replace_downstream
from test_relock import BRANCH, apply_step, downstream_step, publish_release, relock_config

from release_tool import example
from release_tool.config import CompileConfig, Config
from release_tool.downstream import downstream_status
from release_tool.git_repo import run_git
from release_tool.github_api import GitHub
from release_tool.sandbox import Sandbox
from release_tool.sandbox.example_index import Publisher, build_index, seed_uv_example
from release_tool.versions import parse_version

ROW = f"PR {DOWNSTREAM}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return hermetic_env(tmp_path / "env")


@pytest.fixture
def world(tmp_path: Path, contract: Contract, env: dict[str, str]) -> Iterator[Sandbox]:
    """The sandbox with its package index, holding the uv era of the example pair."""
    index = build_index(tmp_path / "index")
    with Sandbox(tmp_path / "sandbox", tokens=TOKENS, grants=GRANTS, index=index) as sandbox:
        seed_uv_example(sandbox, env)
        sandbox.observer = Publisher(sandbox, LIBRARY, "edx-proctoring", then=contract)
        yield sandbox


def status(sandbox: Sandbox, config: Config, version: str = "5.3.0") -> str:
    gh = GitHub(sandbox.api_url, MAINTAINER_TOKEN, policy=FAST)
    ((what, state),) = downstream_status(gh, config, parse_version(version))
    assert what == ROW
    return state


def commit_downstream(sandbox: Sandbox, tmp_path: Path, files: Mapping[str, str | None]) -> None:
    """Commit `files` (None deletes) on the downstream's master: a clone, then a push."""
    work = tmp_path / f"push-{len(list(tmp_path.glob('push-*')))}"
    run_git("clone", "-q", sandbox.git_url(DOWNSTREAM), str(work), cwd=tmp_path)
    for path, text in files.items():
        if text is None:
            run_git("rm", "-q", path, cwd=work)
        else:
            (work / path).write_text(text)
    run_git("commit", "-qam", "chore: change the requirements", cwd=work)
    url = sandbox.git_url(DOWNSTREAM).replace("://", f"://x:{MAINTAINER_TOKEN}@")
    run_git("push", "-q", url, "HEAD:master", cwd=work)


def at_master(sandbox: Sandbox, path: str) -> str:
    return sandbox.store.git(DOWNSTREAM, "show", f"refs/heads/master:{path}").decode()


def merge_pull(sandbox: Sandbox) -> None:
    """Merge the tool's PR as a maintainer would (a fast-forward of master), through the API."""
    gh: Any = github.Github(
        base_url=sandbox.api_url, auth=github.Auth.Token(MAINTAINER_TOKEN), retry=None
    )
    repo = gh.get_repo(DOWNSTREAM)
    (pull,) = repo.get_pulls(state="open")
    assert pull.head.ref == BRANCH
    repo.get_git_ref("heads/master").edit(pull.head.sha)
    pull.edit(state="closed")


# --- uv ------------------------------------------------------------------------------------------


def test_a_uv_downstream_shows_the_version_its_lock_holds_before_and_after_the_release(
    world: Sandbox, tmp_path: Path, env: dict[str, str]
) -> None:
    config = relock_config(tmp_path)  # relock detected from `exports`; `files` is empty
    assert config.downstream[0].files == ()
    assert status(world, config) == "none (locks 5.2.0)"
    assert status(world, config, "5.2.0") == "already locks 5.2.0"
    # Configured as relock, detected from the uv.lock at the root; the name as spelt in the
    # configuration is normalised as PEP 503 does.
    detected = replace_downstream(config, strategy="relock", exports=())
    assert status(world, detected) == "none (locks 5.2.0)"
    assert status(world, dataclasses.replace(detected, package="Edx_Proctoring")) == (
        "none (locks 5.2.0)"
    )

    publish_release(world)
    apply_step(downstream_step(world, config, env))
    opened = rf"open #1 {re.escape(world.url)}/{DOWNSTREAM}/pull/1"
    assert re.fullmatch(opened, status(world, config))

    merge_pull(world)
    assert '\nname = "edx-proctoring"\nversion = "5.3.0"\n' in at_master(world, "uv.lock")
    assert status(world, config) == "already locks 5.3.0"
    assert status(world, config, "5.2.0") == "none (locks 5.3.0)"


def test_a_lock_without_the_package_or_unreadable_or_missing_says_so(
    world: Sandbox, tmp_path: Path
) -> None:
    config = relock_config(tmp_path)
    lock = at_master(world, "uv.lock")
    blocks = lock.split("\n[[package]]\n")
    kept = [b for b in blocks if not b.startswith('name = "edx-proctoring"\n')]
    assert len(kept) == len(blocks) - 1
    commit_downstream(world, tmp_path, {"uv.lock": "\n[[package]]\n".join(kept)})
    assert status(world, config) == "none (not in uv.lock)"

    commit_downstream(world, tmp_path, {"uv.lock": "version = 1\n[[package]\nname = 'x'\n"})
    state = status(world, config)
    assert state.startswith(f"unknown ({DOWNSTREAM}@master: uv.lock is not valid TOML: ")

    commit_downstream(world, tmp_path, {"uv.lock": None})
    assert status(world, config) == f"unknown ({DOWNSTREAM}@master has no uv.lock)"
    # Not configured as relock and nothing to detect: an edit entry without files, as before.
    assert status(world, replace_downstream(config, exports=())) == "none"


# --- pip-tools (the sandbox's example downstream: compiled files pinning 5.2.0) ------------------

COMPILES = (
    CompileConfig("requirements/edx/kernel.in", "requirements/edx/base.txt"),
    CompileConfig("requirements/edx/testing.in"),
)


def pip_tools_config(tmp_path: Path, **changes: Any) -> Config:
    return relock_config(tmp_path, **{"exports": (), "compile": COMPILES, **changes})


def test_a_pip_tools_downstream_shows_what_its_compiled_files_pin(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = pip_tools_config(tmp_path)
    assert status(sandbox, config) == "none (locks 5.2.0)"
    # The compiled files at the new version: what a merged relock PR leaves.
    commit_downstream(
        sandbox,
        tmp_path,
        {c.target: at_master(sandbox, c.target).replace("==5.2.0", "==5.3.0") for c in COMPILES},
    )
    assert status(sandbox, config) == "already locks 5.3.0"
    testing = "requirements/edx/testing.txt"
    # Half moved (one compiled file still at the old version): both are shown.
    commit_downstream(
        sandbox,
        tmp_path,
        {testing: example.downstream_files()[testing]},
    )
    assert status(sandbox, config) == "none (locks 5.2.0, 5.3.0)"
    # A compiled file not there yet (the first compile creates it) is left out; none at all
    # is unknown.
    missing = (*COMPILES, CompileConfig("requirements/edx/new.in"))
    assert status(sandbox, pip_tools_config(tmp_path, compile=missing)) == (
        "none (locks 5.2.0, 5.3.0)"
    )
    nowhere = (CompileConfig("requirements/none.in"),)
    assert status(sandbox, pip_tools_config(tmp_path, compile=nowhere)) == (
        f"unknown ({DOWNSTREAM}@master has none of requirements/none.txt)"
    )


def test_compiled_files_without_the_package_say_so(sandbox: Sandbox, tmp_path: Path) -> None:
    compiled = "requirements/edx/doc.txt"
    text = at_master(sandbox, compiled)
    kept = [line for line in text.splitlines(keepends=True) if "edx-proctoring==" not in line]
    assert len(kept) == len(text.splitlines()) - 1
    commit_downstream(sandbox, tmp_path, {compiled: "".join(kept)})
    config = pip_tools_config(tmp_path, compile=(CompileConfig("requirements/edx/doc.in"),))
    assert status(sandbox, config) == f"none (not in {compiled})"


# --- edit and dispatch: what their files pin, as before ------------------------------------------


def test_edit_and_dispatch_entries_show_their_pins(sandbox: Sandbox, tmp_path: Path) -> None:
    pinned = relock_config(tmp_path, exports=(), files=("requirements/edx/*.txt",))
    # No strategy and no uv.lock: edited, so the pins are shown.
    assert status(sandbox, pinned) == "none (pins 5.2.0)"
    assert status(sandbox, pinned, "5.2.0") == "already pins 5.2.0"
    edit = replace_downstream(pinned, strategy="edit")
    assert status(sandbox, edit) == "none (pins 5.2.0)"
    dispatch = replace_downstream(pinned, strategy="dispatch", workflow="upgrade-one.yml")
    assert status(sandbox, dispatch) == "none (pins 5.2.0)"
    assert status(sandbox, replace_downstream(dispatch, files=())) == "none"
    # Configured as relock with nothing to relock: the plan's refusal, as the row's state.
    relock = replace_downstream(pinned, strategy="relock")
    assert status(sandbox, relock).startswith(
        "unknown (tool.release_tool.downstream[0]: requirements/edx/base.txt, "
    )
    assert "are pip-compile output, but `compile` is not configured)" in status(sandbox, relock)


def test_an_edit_entry_on_a_uv_downstream_still_shows_its_pins(
    world: Sandbox, tmp_path: Path
) -> None:
    export = "requirements/edx/base.txt"
    config = relock_config(tmp_path, strategy="edit", exports=(), files=(export,))
    assert status(world, config) == "none (pins 5.2.0)"
