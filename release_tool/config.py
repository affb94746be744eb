"""The configuration, as frozen dataclasses: `[tool.release_tool]` in the released repository's
pyproject.toml, or the same keys at the top level of `release-tool.toml` at its root (for the
many libraries with setup.py/setup.cfg and no pyproject.toml); never both.

Each field carries its TOML key, its help text and (where the type says too little) its check,
right beside it, so this file is also the reference for the configuration. Loading is strict: an
unknown key, a wrong type or a path outside the repository is a `ConfigError` naming the key path
(`tool.release_tool.downstream[0].files`, or `release-tool.toml: downstream[0].files`), never a
silently ignored setting. A table that later messages name also keeps its key path (`where`,
filled in by the loader, no TOML key), so they spell a key the same way (`config.key("sign")`).

The classes compare by identity (`eq=False`): nothing compares two configurations, and the
`__eq__` and `__hash__` a dataclass would generate for these wide classes cost every run's
start-up about 2 ms (docs/performance.md).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NamedTuple

from release_tool.config_fields import (
    DEFAULT_NETWORK_TIMEOUT as DEFAULT_NETWORK_TIMEOUT,  # noqa: PLC0414 (re-exported)
)
from release_tool.config_fields import (
    _check_addresses,
    _check_globs,
    _check_http_url,
    _check_nonempty,
    _check_optional_address,
    _check_package,
    _check_positive,
    _check_pr_head,
    _check_repository,
    _check_search,
    _check_tag_format,
    _internal,
    _key_path,
    _Keyed,
    _opt,
    toml_fields,
)
from release_tool.config_fields import (
    check_address as check_address,  # noqa: PLC0414 (re-exported)
)
from release_tool.errors import ConfigError

FileKind = Literal["python", "package_json", "npm_lockfile", "pyproject", "pattern"]
FILE_KINDS: tuple[str, ...] = typing.get_args(FileKind)


@dataclass(frozen=True, eq=False)
class VersionFile:
    """A file that holds the version, and which editor changes it."""

    path: str = _opt(help="Path of the file, relative to the repository root.", path=True)
    kind: FileKind = _opt(
        "pattern",
        help="Editor: python, package_json, npm_lockfile, pyproject or pattern; default: "
        "from the file's name (*.py, package.json, ...), else pattern.",
    )
    search: str | None = _opt(
        None,
        help="kind = 'pattern': the text around the version, {version} where it stands, e.g. "
        "`version='{version}'`; it must match exactly once. Default: the whole file is the "
        "version (a VERSION file).",
        check=_check_search,
    )
    spelling: Literal["pep440", "semver"] = _opt(
        "pep440", help="kind = 'pattern': how the file spells the version."
    )

    @property
    def semver(self) -> bool:
        """Whether the file spells the version in SemVer (npm files, `spelling = "semver"`)."""
        return self.kind in ("package_json", "npm_lockfile") or self.spelling == "semver"


@dataclass(frozen=True, eq=False)
class EmailConfig(_Keyed):
    """`[tool.release_tool.email]` (`[email]` in release-tool.toml): the notification email."""

    to: tuple[str, ...] = _opt(
        help="Recipients, e.g. ['release-notifications@edx.org'].",
        check=lambda v: _check_nonempty(v) or _check_addresses(v),
    )
    cc: tuple[str, ...] = _opt((), help="Copy recipients.", check=_check_addresses)
    sender: str | None = _opt(
        None,
        key="from",
        help="From address; default: git's `user.name <user.email>`.",
        check=_check_optional_address,
    )
    reply_to: str | None = _opt(None, help="Reply-To address.", check=_check_optional_address)
    subject: str | None = _opt(None, help="Jinja2 template for the subject line.")
    draft: str = _opt(
        "dist/release/{version}/notification.eml",
        help="Where the .eml draft is written ({version} is replaced), relative to the repo.",
        path=True,
    )
    send: bool = _opt(False, help="Send the email through SMTP (also: --send-email).")
    smtp_host: str | None = _opt(None, help="SMTP host; or RELEASE_TOOL_SMTP_HOST.")
    smtp_port: int | None = _opt(None, help="SMTP port; default 587 (starttls) or 465 (tls).")
    smtp_user: str | None = _opt(None, help="SMTP user; or RELEASE_TOOL_SMTP_USER.")
    smtp_security: Literal["starttls", "tls", "none"] = _opt(
        "starttls", help="starttls, tls (implicit TLS) or none (loopback test servers only)."
    )
    where: str = _internal("tool.release_tool.email")


def _check_repo_path(value: str) -> str | None:
    """A path inside the downstream repository (it is not on disk here: no symlink check)."""
    pure = PurePosixPath(value)
    if not value or pure.is_absolute() or ".." in pure.parts or "\\" in value:
        return f"{value!r} is not a relative path inside the downstream repository"
    return None


@dataclass(frozen=True, eq=False)
class ExportConfig:
    """One `uv export` output of a relocked uv downstream."""

    output: str = _opt(
        help="The exported file, e.g. 'requirements/edx/base.txt' (its leading comments stay).",
        check=_check_repo_path,
    )
    args: tuple[str, ...] = _opt(
        (),
        help="Arguments after `uv export --frozen --no-hashes`, exactly as given, e.g. "
        "['--no-default-groups', '--group', 'bundled'].",
    )


@dataclass(frozen=True, eq=False)
class CompileConfig:
    """One pip-compile run of a relocked pip-tools downstream (a string is just `source`)."""

    source: str = _opt(
        help="The .in file, e.g. 'requirements/edx/kernel.in'.", check=_check_repo_path
    )
    output: str | None = _opt(
        None,
        help="The compiled file; default: `source` with .txt for .in.",
        check=lambda v: None if v is None else _check_repo_path(v),
    )
    args: tuple[str, ...] = _opt((), help="Extra pip-compile arguments, e.g. ['--allow-unsafe'].")

    @property
    def target(self) -> str:
        """The compiled file."""
        return self.output or str(PurePosixPath(self.source).with_suffix(".txt"))


@dataclass(frozen=True, eq=False)
class DownstreamConfig(_Keyed):
    """A `[[tool.release_tool.downstream]]` (`[[downstream]]`) entry: a repository pinning us."""

    repository: str = _opt(help="The downstream repository, 'owner/name'.", check=_check_repository)
    files: tuple[str, ...] = _opt(
        (),
        help="Globs of requirements files that pin the package, e.g. 'requirements/edx/*.txt'.",
    )
    base: str | None = _opt(None, help="Base branch of the PR; default: the repo's default.")
    branch: str = _opt("release-tool/{package}", help="Branch the tool pushes the change to.")
    labels: tuple[str, ...] = _opt((), help="Labels put on the PR.")
    reviewers: tuple[str, ...] = _opt((), help="Users asked to review the PR.")
    fork: bool = _opt(
        False, help="Push the branch to the token user's fork (automatic without write access)."
    )
    raise_lower_bound: bool = _opt(
        False, help="Also raise `>=` lower bounds in .in files to the new version."
    )
    constraints: tuple[str, ...] = _opt(
        ("requirements/constraints.txt",),
        help="Constraint files: a pin there is updated and called out in the PR body.",
    )
    strategy: Literal["relock", "edit", "dispatch"] | None = _opt(
        None,
        help="relock: re-resolve with the downstream's own resolver (uv or pip-tools) and "
        "commit every changed file; edit: commit the pin changes; dispatch: run the "
        "downstream's own workflow. Default: relock when `exports`, `compile` or `resolver` "
        "is set or the downstream has a uv.lock at its root, else edit.",
    )
    resolver: Literal["uv", "pip-tools"] | None = _opt(
        None,
        help="With relock: uv or pip-tools; default: uv when the downstream has a uv.lock, "
        "pip-tools when `compile` is set.",
    )
    exports: tuple[ExportConfig, ...] = _opt(
        (),
        help="With relock (uv): files regenerated by `uv export --frozen --no-hashes ARGS`, as "
        '[{ output = "requirements/edx/base.txt", args = ["--no-dev"] }].',
    )
    uv_version: str | None = _opt(
        None,
        help="With relock (uv): the uv version to run when the downstream's `required-version` "
        "pins none; default: the uv release-tool ships. Installed on demand.",
    )
    index_url: str | None = _opt(
        None,
        help="With relock: the index the downstream resolves from; default: the one its lock "
        "and [tool.uv] settings name, spelt as recorded.",
    )
    pip_tools: str | None = _opt(
        None,
        help="With relock (pip-tools): the pip-tools version, e.g. '7.4.1' (so the output "
        "matches the downstream's own check); default: the one installed.",
    )
    compile: tuple[CompileConfig, ...] = _opt(
        (),
        help="With relock (pip-tools): the .in files to compile, in order (a later one may "
        "include an earlier one's output); strings or { source, output, args } tables.",
    )
    workflow: str | None = _opt(
        None, help="With strategy = 'dispatch': the workflow file name, e.g. 'upgrade-one.yml'."
    )
    inputs: dict[str, str] = _opt(
        {}, help="With strategy = 'dispatch': workflow inputs (Jinja2 templates)."
    )
    allow_generated: bool = _opt(
        False,
        help="With strategy = 'edit': also edit files whose header says they are generated "
        "(`GENERATED FILE, DO NOT EDIT`, a pip-compile or uv header); by default such a "
        "file is refused: its own tool regenerates it (strategy = 'relock').",
    )
    check_dependencies: bool = _opt(
        True,
        help="With strategy = 'edit': before editing, compare the dependencies of the release "
        "the downstream pins and the new one (their metadata on the library's index_url, PEP "
        "658) and refuse when they differ (strategy = 'relock' moves them too).",
    )
    move_held: bool = _opt(
        False,
        help="Move a pin in a constraints file that has a comment (on its line or right "
        "above it: a deliberate hold); by default it is left alone and reported.",
    )
    major_title_prefix: str = _opt(
        "[major] ",
        help="Put before the PR's title when the upgrade crosses a major version.",
    )
    major_label: str | None = _opt(
        None, help="A label put on the PR when the upgrade crosses a major version."
    )
    pr_head: str = _opt(
        "{actor}/upgrade-{package}*",
        help="With strategy = 'dispatch': the head branch of the PR the workflow opens, a glob; "
        "{actor} is the token's user, {package} the package. The PR is the release's when "
        "its title or body names the version (pass it in an input such as change_desc).",
        check=_check_pr_head,
    )
    run_timeout: float = _opt(
        3600.0,
        help="With strategy = 'dispatch': seconds to wait for the workflow run to complete.",
        check=_check_positive,
    )
    where: str = _internal("tool.release_tool.downstream")  # `...downstream[0]` when loaded


@dataclass(frozen=True, eq=False)
class Config(_Keyed):
    """`[tool.release_tool]` (or release-tool.toml): everything the pipeline needs to know."""

    package: str = _opt(
        help="The package's name on the index, e.g. 'edx-proctoring'.", check=_check_package
    )
    repository: str = _opt(help="The GitHub repository, 'owner/name'.", check=_check_repository)
    version_files: tuple[VersionFile, ...] = _opt(
        (),
        help="Files holding the version: paths (kind from the name) or {path, kind, search, "
        "spelling} tables; may be empty when the version comes from tags.",
    )
    version_source: Literal["files", "tag"] | None = _opt(
        None,
        help="Where the current version comes from: 'files' (the version files agree on it) "
        "or 'tag' (the last release tag reachable from HEAD); default: 'tag' when "
        "pyproject.toml's version is dynamic and derived from git (setuptools-scm, "
        "hatch-vcs, ...), else 'files'.",
    )
    branch: str = _opt("main", help="The branch releases are made from.")
    remote: str = _opt("origin", help="The git remote that is pushed to.")
    tag_format: str = _opt(
        "v{version}", help="Tag name; {version} is the PEP 440 version.", check=_check_tag_format
    )
    changelog: str | None = _opt(
        None, help="CHANGELOG.rst or CHANGELOG.md; none if absent.", path=True
    )
    changelog_prerelease_notes: bool = _opt(
        True,
        help="A final release's notes also hold the sections of its pre-releases since the "
        "previous final release.",
    )
    commit_message: str | None = _opt(
        None, help="Jinja2 template of the release commit message; default: templates/."
    )
    sign: bool = _opt(False, help="Sign the tag (git tag -s).")
    github_api: str | None = _opt(
        None, help="GitHub API URL; default https://api.github.com (or RELEASE_TOOL_GITHUB_API)."
    )
    draft_release: bool = _opt(False, help="Create the GitHub release as a draft.")
    release_notes: Literal["changelog", "github", "commits"] = _opt(
        "changelog",
        help="Where the release notes come from: 'changelog' (the version's section), "
        "'github' (GitHub's generated notes, read while planning) or 'commits' (the "
        "conventional-commit subjects since the previous release tag, grouped by type).",
    )
    release_assets: tuple[str, ...] = _opt(
        (),
        help="Globs of the files to attach to the GitHub release, e.g. ['dist/*.whl', "
        "'dist/*.tar.gz'], built by build_command; the release is then created as a draft, "
        "the assets uploaded, and only then published (immutable releases).",
        check=_check_globs,
    )
    build_command: tuple[str, ...] = _opt(
        (),
        help="The command that builds release_assets, e.g. ['python', '-m', 'build'], run "
        "in a clean checkout of the tag (never in the working tree).",
    )
    build_timeout: float = _opt(
        1800.0, help="Seconds build_command may take.", check=_check_positive
    )
    wait_for_index: bool = _opt(False, help="Wait until the version is on the index before PRs.")
    index_url: str = _opt(
        "https://pypi.org/simple/", help="PEP 691 simple index to wait on.", check=_check_http_url
    )
    index_timeout: float = _opt(900.0, help="Seconds to wait for the index.", check=_check_positive)
    network_timeout: float = _opt(
        DEFAULT_NETWORK_TIMEOUT,
        help="Seconds one network operation may take in all (a git push, ls-remote or clone; "
        "one GitHub API request; one look at the package index); or "
        "RELEASE_TOOL_NETWORK_TIMEOUT.",
        check=_check_positive,
    )
    templates: str | None = _opt(
        None, help="Folder of templates overriding the bundled ones (same file names).", path=True
    )
    email: EmailConfig | None = _opt(None, help="The notification email; none if absent.")
    downstream: tuple[DownstreamConfig, ...] = _opt((), help="Downstream repositories.")
    where: str = _internal("tool.release_tool")


# --- loading -----------------------------------------------------------------------------------

_KIND_BY_NAME = {
    "package.json": "package_json",
    "package-lock.json": "npm_lockfile",
    "npm-shrinkwrap.json": "npm_lockfile",
    "pyproject.toml": "pyproject",
}


def file_kind_for(path: str) -> str | None:
    """The editor kind recognised from a file's name, or None."""
    name = PurePosixPath(path).name
    if name in _KIND_BY_NAME:
        return _KIND_BY_NAME[name]
    return "python" if name.endswith(".py") else None


#: The configuration file of a project that keeps it out of pyproject.toml.
CONFIG_FILE = "release-tool.toml"
PYPROJECT = "pyproject.toml"
#: The key path of the configuration's top level in each file (see `_key_path`).
_WHERE = {PYPROJECT: "tool.release_tool", CONFIG_FILE: f"{CONFIG_FILE}:"}


class ConfigSource(NamedTuple):
    """Where the configuration lives: the file's name and its (unvalidated) table."""

    file: str  # PYPROJECT or CONFIG_FILE
    table: Any

    @property
    def where(self) -> str:
        """The key path of the top level, as errors name it."""
        return _WHERE[self.file]


def find_config(root: Path) -> ConfigSource | None:
    """The configuration of the repository at `root`: `[tool.release_tool]` in pyproject.toml
    or the top level of release-tool.toml; None if neither holds one; a `ConfigError` naming
    both files if both do, or naming the file that is not valid TOML."""
    pyproject = _read_toml(root / PYPROJECT)
    own = _read_toml(root / CONFIG_FILE)
    section = None if pyproject is None else pyproject.get("tool", {}).get("release_tool")
    if section is not None and own is not None:
        raise ConfigError(
            f"configuration in both {PYPROJECT} ([tool.release_tool]) and {CONFIG_FILE}",
            f"keep one of them: move what {CONFIG_FILE} adds into [tool.release_tool] and "
            f"delete it, or the other way round",
        )
    if own is not None:
        return ConfigSource(CONFIG_FILE, own)
    if section is not None:
        return ConfigSource(PYPROJECT, section)
    return None


def _read_toml(path: Path) -> dict[str, Any] | None:
    """A TOML file's data, None if there is no such file. Read with the standard library's
    tomllib (reading is all loading does; tomlkit, which keeps a file byte for byte, is for
    the editors, and costs a dry run's start-up three times as much to import)."""
    import tomllib  # deferred: start-up time matters for `--help`

    from release_tool.textfiles import read_text

    try:
        text = read_text(path, path.name)  # not UTF-8, a NUL byte: a UsageError
    except (FileNotFoundError, NotADirectoryError):
        return None
    if text.startswith("\ufeff"):
        raise ConfigError(
            f"{path.name} starts with a byte-order mark (U+FEFF), which TOML readers such "
            "as pip's refuse",
            f"save {path.name} as UTF-8 without a BOM",
        )
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path.name} is not valid TOML: {exc}", "fix the syntax error it names"
        ) from None
    return data


def load_config(root: Path) -> Config:
    """Read and validate the configuration of the repository at `root` (see `find_config`)."""
    source = find_config(root)
    if source is None:
        hint = "run `release-tool init` to write a starting configuration"
        if (root / PYPROJECT).is_file():
            raise ConfigError(
                f"{PYPROJECT} has no [tool.release_tool] section and there is no {CONFIG_FILE}",
                f"{hint}, or see docs/configuration.md",
            )
        raise ConfigError(
            f"no {PYPROJECT} or {CONFIG_FILE} in {root}",
            f"run in the library's repository (or -C DIR); {hint}",
        )
    return config_from_mapping(source.table, root, source.where)


def config_from_mapping(data: Any, root: Path, where: str = "tool.release_tool") -> Config:
    """Build a Config from already-parsed TOML data; `root` confines every path; `where` is
    the key path of `data` in errors (`release-tool.toml:` for that file's top level)."""
    config = _build(Config, data, where, root)
    assert isinstance(config, Config)
    if config.build_command and not config.release_assets:
        raise ConfigError(
            f"{config.key('build_command')}: set, but release_assets is empty",
            "list the files the build makes in release_assets, e.g. ['dist/*.whl', "
            "'dist/*.tar.gz'], or remove build_command",
        )
    return config


def _build(cls: type[Any], data: Any, where: str, root: Path) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{where}: expected a table, got {_describe(data)}",
            "see the README's configuration reference",
        )
    fields = {(f.metadata.get("key") or f.name): f for f in toml_fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{_key_path(where, unknown[0])}: unknown key",
            f"known keys here: {', '.join(sorted(fields))}",
        )
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, f in fields.items():
        path = _key_path(where, key)
        if key not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(
                    f"{path}: required key is missing", f"set it: {f.metadata['help']}"
                )
            continue
        value = _convert(hints[f.name], data[key], path, root)
        if cls is VersionFile and f.name == "kind" and value not in FILE_KINDS:
            raise ConfigError(f"{path}: unknown kind {value!r}", f"one of: {', '.join(FILE_KINDS)}")
        check = f.metadata.get("check")
        problem = check(value) if check else None
        if problem:
            raise ConfigError(f"{path}: {problem}", str(f.metadata["help"]))
        if f.metadata.get("path") and value is not None:
            _confine(value, path, root)
        values[f.name] = value
    if issubclass(cls, _Keyed):
        values["where"] = where
    return cls(**values)


def _convert(tp: Any, value: Any, path: str, root: Path) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, path, root)
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{path}: {value!r} is not one of {allowed}", f"use one of {allowed}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(
                f"{path}: expected a list, got {_describe(value)}", "write it as [ ... ]"
            )
        return tuple(_convert(args[0], item, f"{path}[{i}]", root) for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(
                f"{path}: expected a table of strings, got {_describe(value)}",
                'write it as { key = "value" }',
            )
        return types.MappingProxyType(dict(value))
    if tp is VersionFile:
        return _version_file(value, path, root)
    if tp is CompileConfig and isinstance(value, str):
        value = {"source": value}
    if dataclasses.is_dataclass(tp):
        return _build(typing.cast(type[Any], tp), value, path, root)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, bool, int, float) and (type(value) is not tp):
        raise ConfigError(
            f"{path}: expected {_TYPE_WORDS[tp]}, got {_describe(value)}",
            f"write it as {_TYPE_EXAMPLES[tp]}",
        )
    return value


def _version_file(value: Any, path: str, root: Path) -> VersionFile:
    if isinstance(value, str):
        kind = file_kind_for(value)
        if kind is None:
            raise ConfigError(
                f"{path}: cannot tell the kind of {value!r} from its name",
                f'give it as {{ path = "{value}" }} (a file holding only the version), as '
                f"{{ path, search = \"version = '{{version}}'\" }}, or with a kind "
                f"({', '.join(FILE_KINDS)})",
            )
        _confine(value, path, root)
        return VersionFile(path=value, kind=typing.cast(FileKind, kind))
    built = _build(VersionFile, value, path, root)
    assert isinstance(built, VersionFile)
    if "kind" not in value and "search" not in value:  # the kind from the name, as for a string
        named = file_kind_for(built.path)
        if named is not None:
            built = dataclasses.replace(built, kind=typing.cast(FileKind, named))
    if built.kind != "pattern":
        for key in ("search", "spelling"):
            if key in value:
                raise ConfigError(
                    f"{path}.{key}: only with kind = 'pattern' (this entry is {built.kind!r})",
                    f"remove {key}, or set kind = 'pattern'",
                )
    return built


def _confine(value: str, path: str, root: Path) -> None:
    """Refuse a configured path that leaves the repository (`../x`, absolute, a symlink out)."""
    hint = "config paths are relative to the repository root and stay inside it"
    pure = PurePosixPath(value)
    if pure.is_absolute() or Path(value).is_absolute() or ".." in pure.parts or "\\" in value:
        raise ConfigError(f"{path}: {value!r} is outside the repository", hint)
    resolved_root = root.resolve()
    # Only the part before a template placeholder must exist to be checked for symlinks.
    literal = value.split("{", 1)[0]
    target = (root / literal).resolve()
    if not target.is_relative_to(resolved_root):
        raise ConfigError(f"{path}: {value!r} leads outside the repository", hint)


_TYPE_WORDS = {str: "a string", bool: "true or false", int: "an integer", float: "a number"}
_TYPE_EXAMPLES = {str: '"text"', bool: "true", int: "587", float: "600"}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
