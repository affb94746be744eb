"""The uv era of the bundled example, served with a package index: what `rehearse --example`
and the relock tests release into.

* `build_index(DIR)`: the example's index: every package of `example.INDEX_PACKAGES` (the
  library's released versions with their dependencies, the downstream's other requirements,
  the dependency the library's next version adds), as tiny wheels (`sandbox.wheels`).
* `lock_downstream(index_url)`: the uv-era downstream's `uv.lock` and export, made by uv
  itself against that index (a uv.lock records its index's URL in every entry, and the
  sandbox's port is only known once it serves, so this text cannot be bundled).
* `seed_uv_example(sandbox)`: into a serving sandbox, the library whose config relocks its
  downstream (`example.RELOCK_LIBRARY_PYPROJECT`) and that downstream's history into the uv era.
* `Publisher`: the library's publish workflow, simulated. On GitHub a release's `published`
  event runs a workflow that builds the distributions and uploads them to the index; the
  publisher is a sandbox observer that, after each API exchange, looks for published (non-
  draft) releases of the library whose version the index does not have, and builds that
  version's wheel and sdist into the index directory: the name, the version from the tag
  (`tag_format`), and as dependencies the lines of `requirements/base.in` *at the tag* (what
  the real setup.py reads as its install_requires). Nothing of the library runs. It publishes
  at once, where a real workflow takes minutes; the `wait-for-index` poll is the same either
  way. A release only ever published through a lost answer is still found, on the next
  exchange.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_tool import example
from release_tool.sandbox import EXAMPLE_COLLABORATORS, Exchange, Sandbox, wheels
from release_tool.sandbox.index import parse_filename
from release_tool.sandbox.state import Release

Observer = Callable[[Exchange], None]


def build_index(directory: Path) -> Path:
    """Publish the example's packages into `directory` (wheels only); returns it."""
    for name, version, requires in example.INDEX_PACKAGES:
        wheels.publish(directory, name, version, requires, sdist=False)
    return Path(directory)


def lock_downstream(index_url: str, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(uv.lock, export) of `example.UV_PYPROJECT` locked by the shipped uv against
    `index_url`, in the resolvers' hermetic environment."""
    from release_tool.resolvers.common import resolver_env
    from release_tool.resolvers.uv import shipped_uv

    uv = shipped_uv()[0]
    with tempfile.TemporaryDirectory(prefix="release-tool-example-") as tmp:
        root = Path(tmp)
        work = root / "repo"
        work.mkdir()
        (work / "pyproject.toml").write_text(example.UV_PYPROJECT)
        run_env = resolver_env(env, root)
        _run([uv, "lock", "--default-index", index_url], work, run_env)
        export = _run(
            [uv, "export", "--frozen", "--no-hashes", *example.EXPORT_ARGS], work, run_env
        )
        return (work / "uv.lock").read_text(), export


def _run(command: list[str], cwd: Path, env: Mapping[str, str]) -> str:
    proc = subprocess.run(
        command, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:3])} failed for the example: {proc.stderr}")
    return proc.stdout


def seed_uv_example(sandbox: Sandbox, env: Mapping[str, str] | None = None) -> None:
    """Replace the example pair in a serving `sandbox` (which has an index) by its uv era."""
    from release_tool.git_repo import build_repository

    lock, export = lock_downstream(sandbox.index_url, env)
    repos = (
        example.library_repo(example.RELOCK_LIBRARY_PYPROJECT),
        example.uv_downstream_repo(lock, export),
    )
    with tempfile.TemporaryDirectory(prefix="release-tool-example-") as tmp:
        for repo in repos:
            bare = Path(tmp) / f"{repo.full_name.replace('/', '-')}.git"
            build_repository(bare, repo)
            sandbox.copy_repository(bare, repo.full_name, force=True)
            # As in `seed_example`: the reviewers the configuration asks for are collaborators.
            for login in EXAMPLE_COLLABORATORS.get(repo.full_name, ()):
                sandbox.add_collaborator(repo.full_name, login)


class Publisher:
    """The library's publish workflow (see the module docstring), as a sandbox observer;
    `then` is called after it with every exchange (e.g. the tests' contract check)."""

    def __init__(
        self,
        sandbox: Sandbox,
        repository: str,
        package: str,
        *,
        tag_format: str = "v{version}",
        requirements: str = "requirements/base.in",
        then: Observer | None = None,
    ) -> None:
        if sandbox.index is None:
            raise RuntimeError("the publisher needs a sandbox serving an index")
        self.sandbox, self.repository, self.package = sandbox, repository, package
        self.tag_format, self.requirements, self.then = tag_format, requirements, then
        self.directory = sandbox.index.directory
        self.published: list[str] = []  # versions built, in order
        self._lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        try:
            self.publish_pending()
        finally:
            if self.then is not None:
                self.then(exchange)

    def publish_pending(self) -> list[str]:
        """Build every published release's version that the index lacks; returns them."""
        built = []
        with self._lock:
            have = self._versions_on_index()
            for release in self.sandbox.state.releases(self.repository):
                version = self._version(release.tag_name)
                if release.draft or version is None or version in have:
                    continue
                wheels.publish(self.directory, self.package, str(version), self._requires(release))
                have.add(version)
                built.append(str(version))
            self.published += built
        return built

    def _version(self, tag: str) -> Version | None:
        prefix, _, suffix = self.tag_format.partition("{version}")
        if not (tag.startswith(prefix) and tag.endswith(suffix)):
            return None
        try:
            return Version(tag[len(prefix) : len(tag) - len(suffix)])
        except InvalidVersion:
            return None

    def _versions_on_index(self) -> set[Version]:
        wanted = canonicalize_name(self.package)
        found = set()
        for path in self.directory.iterdir():
            parsed = parse_filename(path.name)
            if parsed is not None and parsed[0] == wanted:
                found.add(Version(parsed[1]))
        return found

    def _requires(self, release: Release) -> list[str]:
        # No such file at the tag (git fails, no output): a package without requirements.
        text = self.sandbox.store.git(
            self.repository,
            "show",
            f"refs/tags/{release.tag_name}:{self.requirements}",
            check=False,
        ).decode()
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        return [line for line in lines if line and not line.startswith("-")]
