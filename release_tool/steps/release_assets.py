"""Immutable releases: build the assets on the tagged commit, attach them to a draft, publish.

With `release_assets` in the config, the `github-release` step makes the release in three
moves, so that a published release never lacks a file (GitHub's immutable releases forbid
adding one after publishing):

1. `build_command` runs in a clean checkout of the tag — a local clone in a temporary
   directory, never the working tree — under `build_timeout`, and each `release_assets` glob
   must match at least one file there;
2. the release is created as a draft (its body carries `OWN_MARKER`, an HTML comment GitHub
   does not show) and each asset is uploaded through the release's `upload_url`;
3. the draft is published (left a draft with `draft_release = true`).

A run that stopped part-way is finished by the same command: GitHub lets several drafts name
one tag, so the plan looks for *the tool's* draft (the one holding the marker), never creates
a second one, uploads only what it lacks (by name and size: a partial upload of another size
is replaced), and publishes it. A build that fails leaves nothing on GitHub.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release_tool.errors import StepFailed
from release_tool.git_repo import run_git
from release_tool.github_api import GitHub, ReleaseInfo
from release_tool.plan import Outcome, RunState
from release_tool.steps.notes import OWN_MARKER

STEP = "github-release"
#: Environment variables a build never sees: the credentials of the release itself.
_WITHHELD = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "RELEASE_TOOL_APP_PRIVATE_KEY",
    "RELEASE_TOOL_SMTP_PASSWORD",
)
_OUTPUT_TAIL = 20  # lines of a failed build's output shown in the error


@dataclass(frozen=True)
class AssetBuild:
    """How the assets are made: the command, the globs it fills, how long it may take."""

    command: tuple[str, ...]
    globs: tuple[str, ...]
    timeout: float

    def lines(self, tag: str) -> list[str]:
        if self.command:
            build = f"build: {' '.join(self.command)} in a clean checkout of {tag}"
            build += f" (at most {self.timeout:g} s)"
        else:
            build = f"build: none (the files as committed at {tag})"
        return [build, f"assets: {', '.join(self.globs)}"]


def build_assets(
    root: Path, tag: str, build: AssetBuild, workdir: Path, environ: Mapping[str, str]
) -> list[Path]:
    """Check `tag` out in `workdir` (a local clone: tags and history as in `root`, so a version
    derived from git is the tag's), run the build there, and collect the assets."""
    checkout = workdir / "checkout"
    run_git("clone", "--quiet", "--shared", "--no-checkout", str(root), str(checkout), cwd=root)
    run_git("-c", "advice.detachedHead=false", "checkout", "--quiet", tag, cwd=checkout)
    if build.command:
        _run_build(build, checkout, environ)
    found: dict[str, Path] = {}
    for pattern in build.globs:
        matches = sorted(p for p in checkout.glob(pattern) if p.is_file())
        if not matches:
            raise StepFailed(
                f"release asset {pattern!r} matched no file in the checkout of {tag}"
                + (" after the build" if build.command else ""),
                "check release_assets and build_command, then run the same command again",
            )
        for path in matches:
            other = found.get(path.name)
            if other is not None and other != path:
                raise StepFailed(
                    f"two release assets are named {path.name}: "
                    f"{other.relative_to(checkout)} and {path.relative_to(checkout)}",
                    "a release's assets need distinct names: narrow release_assets",
                )
            found[path.name] = path
    return list(found.values())


def _run_build(build: AssetBuild, checkout: Path, environ: Mapping[str, str]) -> None:
    env = {k: v for k, v in environ.items() if k not in _WITHHELD}
    shown = " ".join(build.command)
    try:
        process = subprocess.Popen(  # the project's own configured command
            list(build.command),
            cwd=checkout,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # its own process group: a timeout stops all of it
        )
    except OSError as exc:
        raise StepFailed(
            f"build_command could not start: {shown}: {exc.strerror or exc}",
            "fix build_command (the program must be on PATH), then run the same command again",
        ) from None
    try:
        output, _ = process.communicate(timeout=build.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise StepFailed(
            f"build_command did not finish in {build.timeout:g} s: {shown}",
            "raise build_timeout or make the build faster, then run the same command again",
        ) from None
    except BaseException:  # Ctrl-C: stop the build with the run
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    if process.returncode != 0:
        tail = "\n".join(output.splitlines()[-_OUTPUT_TAIL:])
        raise StepFailed(
            f"build_command failed (exit {process.returncode}): {shown}",
            "fix the build, then run the same command again (nothing was created on GitHub)",
            tail,
        )


@dataclass(frozen=True)
class ImmutableReleaseAction:
    """Build, create (or find) the tool's draft, upload what it lacks, publish."""

    gh: GitHub = field(repr=False, compare=False)
    root: Path
    environ: Mapping[str, str] = field(repr=False, compare=False)
    repository: str
    tag: str
    name: str
    body: str  # with OWN_MARKER
    prerelease: bool
    keep_draft: bool  # draft_release = true: upload, and leave it a draft
    build: AssetBuild
    existing: ReleaseInfo | None  # the tool's draft from an earlier run
    step: str = STEP

    def describe(self) -> str:
        end = "leave it a draft" if self.keep_draft else "publish it"
        kind = " (pre-release)" if self.prerelease else ""
        if self.existing is not None:
            return (
                f"finish the draft release {self.tag}{kind} on {self.repository} left by an "
                f"earlier run: build, upload the assets it lacks, {end}"
            )
        return (
            f"create GitHub release {self.name!r} for {self.tag} on {self.repository}{kind} "
            f"as a draft, build and upload its assets, {end}"
        )

    def details(self) -> str:
        lines = self.build.lines(self.tag)
        if self.existing is not None:
            lines.append(f"draft: {self.existing.html_url}")
        return "\n".join([*lines, "", self.body.replace(OWN_MARKER, "").rstrip()])

    def data(self) -> dict[str, Any]:
        return {
            "action": "immutable-release",
            "repository": self.repository,
            "tag": self.tag,
            "name": self.name,
            "body": self.body,
            "prerelease": self.prerelease,
            "draft": self.keep_draft,
            "build_command": list(self.build.command),
            "assets": list(self.build.globs),
            "existing_draft": self.existing.html_url if self.existing else None,
        }

    def apply(self, state: RunState) -> Outcome:
        gh, repository = self.gh, self.repository
        with tempfile.TemporaryDirectory(prefix="release-tool-build-") as tmp:
            # Built first: a build that fails leaves nothing on GitHub.
            files = build_assets(self.root, self.tag, self.build, Path(tmp), self.environ)
            draft = self.existing or gh.draft_of(repository, self.tag, OWN_MARKER)
            if draft is None:
                draft = gh.create_release(
                    repository,
                    tag=self.tag,
                    name=self.name,
                    body=self.body,
                    draft=True,
                    prerelease=self.prerelease,
                    marker=OWN_MARKER,
                )
            have = {asset.name: asset for asset in gh.release_assets(repository, draft.id)}
            uploaded = []
            for path in files:
                asset = have.get(path.name)
                size = path.stat().st_size
                if asset is not None and asset.size == size and asset.state == "uploaded":
                    continue
                if asset is not None:  # a partial upload, or another build's file: replaced
                    gh.delete_asset(repository, asset.id)
                gh.upload_asset(repository, draft, path)
                uploaded.append(path.name)
        made = gh.update_release(
            repository,
            draft.id,
            name=self.name,
            body=self.body,
            draft=self.keep_draft,
            prerelease=self.prerelease,
            was_draft=True,
        )
        did = "kept as a draft" if self.keep_draft else "published"
        summary = (
            f"release {self.tag} {did} with {len(files)} asset(s)"
            f" ({len(uploaded)} uploaded now): {made.html_url}"
        )
        return Outcome(summary, RunState(release_url=made.html_url))
