"""What the uv and pip-tools resolvers share: results, the lock diff, the scratch tree, the
environment a resolver runs in, running it, and installing a pinned tool version on demand.

The environment is built from scratch, not inherited: PATH, HOME, locale, TLS and proxy
settings, `UV_CACHE_DIR` and git's credential variables pass through from the given environment;
nothing else does (no `UV_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, token, ...). User- and system-level
uv and pip configuration is hidden (`XDG_CONFIG_HOME`/`XDG_CONFIG_DIRS` point at an empty
folder, `PIP_CONFIG_FILE` at the null device), so the downstream's own files alone decide how
it resolves. The project's own configuration (`[tool.uv]`, `uv.toml`) is read as usual.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_tool.errors import ReleaseError, UsageError

# Variables a resolver may see, copied from the given environment when set.
PASSED = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "SYSTEMROOT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "UV_CACHE_DIR",
    "UV_PYTHON_DOWNLOADS",
    "PIP_TOOLS_CACHE_DIR",
    "PIP_CACHE_DIR",
    "SSH_AUTH_SOCK",
    "GIT_ASKPASS",
    "GIT_SSH_COMMAND",
    "GIT_TERMINAL_PROMPT",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_COUNT",
)
_GIT_CONFIG_PAIR = re.compile(r"GIT_CONFIG_(KEY|VALUE)_\d+")
DEFAULT_TIMEOUT = 900.0  # a full re-lock of a large platform takes minutes, not hours


@dataclass(frozen=True)
class PackageChange:
    """One package whose locked version(s) changed; `old`/`new` are "" when absent."""

    name: str
    old: str
    new: str

    def __str__(self) -> str:
        if not self.old:
            return f"+ {self.name} {self.new}"
        if not self.new:
            return f"- {self.name} {self.old}"
        return f"{self.name} {self.old} -> {self.new}"


@dataclass(frozen=True)
class LockDiff:
    """How the locked set of packages changed between the old and the new lock."""

    added: tuple[PackageChange, ...] = ()
    removed: tuple[PackageChange, ...] = ()
    upgraded: tuple[PackageChange, ...] = ()
    downgraded: tuple[PackageChange, ...] = ()

    @property
    def changes(self) -> tuple[PackageChange, ...]:
        return self.added + self.removed + self.upgraded + self.downgraded

    def lines(self) -> list[str]:
        """One line per change, sorted by package name (for a PR body or a log)."""
        return [str(c) for c in sorted(self.changes, key=lambda c: c.name)]


@dataclass(frozen=True)
class Resolution:
    """What a resolver produced: the files it changed (path -> new text, paths as given),
    the lock diff, warnings for the PR, and the tool that did it (e.g. `uv 0.13.9`)."""

    files: Mapping[str, str]
    diff: LockDiff
    warnings: tuple[str, ...] = ()
    tool: str = ""
    commands: tuple[tuple[str, ...], ...] = field(default=())


def diff_versions(old: Mapping[str, set[str]], new: Mapping[str, set[str]]) -> LockDiff:
    """Compare two `{package: {versions}}` maps (a package can be locked at several versions
    in a forked uv resolution). Names are compared PEP 503-normalised."""
    old_n = _normalised(old)
    new_n = _normalised(new)
    added, removed, upgraded, downgraded = [], [], [], []
    for name in sorted(old_n.keys() | new_n.keys()):
        before, after = old_n.get(name, set()), new_n.get(name, set())
        if before == after:
            continue
        change = PackageChange(name, _join(before), _join(after))
        if not before:
            added.append(change)
        elif not after:
            removed.append(change)
        elif max(map(version_key, after)) >= max(map(version_key, before)):
            upgraded.append(change)
        else:
            downgraded.append(change)
    return LockDiff(tuple(added), tuple(removed), tuple(upgraded), tuple(downgraded))


def version_key(text: str) -> tuple[int, Version | None, str]:
    """A sort key for version strings: PEP 440 versions in order, anything else after them."""
    try:
        return (0, Version(text), "")
    except InvalidVersion:
        return (1, None, text)


def _normalised(versions: Mapping[str, set[str]]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for name, found in versions.items():
        result.setdefault(str(canonicalize_name(name)), set()).update(found)
    return result


def _join(versions: set[str]) -> str:
    return ", ".join(sorted(versions, key=version_key))


def same_version(a: str, b: str) -> bool:
    """Whether two version strings are the same PEP 440 version (`1.1` == `1.1.0`)."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


# -- the scratch tree ------------------------------------------------------------------------


def checked_path(path: str) -> PurePosixPath:
    """A mapping key as a relative path inside the scratch tree; refuses escapes."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or path.startswith("\\"):
        raise UsageError(
            f"lock input path {path!r} is not a relative path inside the repository",
            "give repository-relative paths such as requirements/base.txt",
        )
    return pure


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    """Write every `{relative path: text}` under `root`, byte for byte (no newline rewriting)."""
    for path, text in files.items():
        target = root.joinpath(*checked_path(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode())


def read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode()
    except FileNotFoundError:
        return None


def scratch(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for one resolution (removed afterwards)."""
    return tempfile.TemporaryDirectory(prefix=f"release-tool-{prefix}-")


# -- the environment and running -------------------------------------------------------------


def resolver_env(
    env: Mapping[str, str] | None, scratch_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a resolver runs in (see the module docstring)."""
    given = os.environ if env is None else env
    result = {k: v for k, v in given.items() if k in PASSED or _GIT_CONFIG_PAIR.fullmatch(k)}
    no_config = scratch_dir / "no-config"
    no_config.mkdir(exist_ok=True)
    result.update(
        {
            "XDG_CONFIG_HOME": str(no_config),
            "XDG_CONFIG_DIRS": str(no_config),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INPUT": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "NO_COLOR": "1",
            "UV_NO_PROGRESS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    result.setdefault("UV_PYTHON_DOWNLOADS", "never")
    result.setdefault("PATH", os.defpath)
    result.update(extra or {})
    return result


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    what: str,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run a resolver command; a failure is a `ReleaseError` carrying the tool's reason."""
    try:
        proc = subprocess.run(
            list(command),
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError(
            f"{what}: cannot run {command[0]}", "install it, or configure its path"
        ) from None
    except subprocess.TimeoutExpired:
        raise ReleaseError(
            f"{what} did not finish within {timeout:.0f} s",
            "check that the package index answers, then run again",
        ) from None
    if proc.returncode != 0:
        reason, details = failure_reason(proc.stderr or proc.stdout)
        raise ReleaseError(
            f"{what} failed: {reason}",
            "read the resolver's reason above; fix the downstream's constraints or the index",
            details,
        )
    return proc


_NOISE = re.compile(
    r"^(Using (CPython|Python)|Resolved \d+ packages?|Audited|Prepared|Downloading|Building|"
    r"Built|Updated|Looking in|Collecting|Getting requirements|Preparing metadata)"
)


def failure_reason(stderr: str) -> tuple[str, str]:
    """(one-line reason, the tool's meaningful output) from a failed resolver's stderr: the
    first error line (uv's `error:`/`×`, pip's `ERROR:`), completed by the next line when it
    ends with a colon; else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if not _NOISE.match(line)]
    details = "\n".join(meaningful[-40:])
    pairs = [(line, _clean(line)) for line in meaningful]
    pairs = [(raw, text) for raw, text in pairs if text and not text.startswith("hint:")]
    if not pairs:
        return "no output", details
    first = next((i for i, (raw, _) in enumerate(pairs) if raw.startswith(_MARKERS)), None)
    if first is None:
        return pairs[-1][1][:300], details
    reason = pairs[first][1]
    if reason.endswith(":") and first + 1 < len(pairs):
        reason = f"{reason} {pairs[first + 1][1]}"
    return reason[:300], details


_MARKERS = ("error:", "ERROR:", "×", "Could not", "No solution")


def _clean(line: str) -> str:
    text = line.lstrip("×╰─▶│ ").strip()
    for prefix in ("error:", "ERROR:", "cause:", "Caused by:"):
        text = text.removeprefix(prefix).strip()
    return text


# -- tools at a pinned version ---------------------------------------------------------------


def default_tools_dir() -> Path:
    """Where pinned tool versions are installed: `$XDG_CACHE_HOME/release-tool/tools`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "release-tool" / "tools"


def install_tool(
    requirement: str,
    folder: str,
    *,
    tools_dir: Path | None,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """`pip install --target TOOLS/FOLDER REQUIREMENT`, once: later calls reuse the folder.

    The install goes into a sibling folder first and is renamed into place, so an interrupted
    install is never mistaken for a complete one. The given environment (the user's pip
    configuration included) applies: the tool comes from wherever they install packages.
    """
    root = Path(tools_dir) if tools_dir is not None else default_tools_dir()
    target = root / folder
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder}-", dir=root))
    command = [python or sys.executable, "-m", "pip", "install", "--quiet"]
    command += ["--target", str(partial), requirement]
    try:
        run(
            command,
            cwd=root,
            env=dict(os.environ if env is None else env),
            what=f"installing {requirement}",
        )
        try:
            partial.rename(target)
        except OSError:  # another run installed it meanwhile
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target
