"""`release-tool init`: a starting configuration, from what the repository already shows.

Discovery reads and never executes anything (setup.py is parsed with `ast`), and each finding
says where it came from, so the written configuration explains itself in comments:

* `package` — `[project] name` in pyproject.toml, `[metadata] name` in setup.cfg, or the
  literal `name=` of setup.py's `setup(...)` call (else the folder's name, said so);
* `version_files` — a top-level package's `__init__.py` with a literal `__version__` (the one
  named after the package when there are several), package.json, package-lock.json /
  npm-shrinkwrap.json, setup.py's `version='X'` and setup.cfg's `version = X` as
  `{ path, search }` pattern entries, `VERSION` files, a static pyproject.toml version; each is
  read with the editor a release will use, so only files a release can edit are listed;
* `version_source = "tag"` — when the version is derived from git tags (setuptools-scm,
  hatch-vcs, … in pyproject.toml; `use_scm_version` in setup.py);
* `changelog` — CHANGELOG, HISTORY or CHANGES (.rst or .md), with its heading style;
* `repository` — the `origin` remote's GitHub owner/name (https and ssh URL forms);
* `branch` — the remote's default branch (`origin/HEAD`), else the current branch;
* `tag_format` — bare `{version}` or `v{version}`: the majority of the latest release tags.

`starting_config` turns a `Discovery` into the text to write: into pyproject.toml (the section
appended, rendered with tomlkit, every existing byte kept) if the project has one, else into
`release-tool.toml`. `write_config` is the one writer; it refuses (exit 2) when a configuration
exists already: overwriting one would silently lose hand-written settings (email, downstream),
so there is no --force: delete it to start over (`init --dry-run` shows the proposal anyway).
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release_tool.changelog import parse as parse_changelog
from release_tool.config import (
    CONFIG_FILE,
    PYPROJECT,
    config_from_mapping,
    find_config,
)
from release_tool.errors import ReleaseError, UsageError
from release_tool.files import editor_for
from release_tool.git_repo import run_git
from release_tool.steps.files import derives_version_from_vcs
from release_tool.versions import parse_file_version, tag_version

if TYPE_CHECKING:
    from tomlkit.container import Container

#: Changelog names, in order of preference (the first found is taken).
CHANGELOG_NAMES = tuple(
    f"{stem}.{suffix}" for stem in ("CHANGELOG", "HISTORY", "CHANGES") for suffix in ("rst", "md")
)
#: npm's version files at the repository root, and their editors.
NPM_FILES = (
    ("package.json", "package_json"),
    ("package-lock.json", "npm_lockfile"),
    ("npm-shrinkwrap.json", "npm_lockfile"),
)
#: Top-level folders that are never the released package.
_NOT_PACKAGES = frozenset(
    {"test", "tests", "doc", "docs", "build", "dist", "node_modules", "venv", "env", "scripts"}
)
#: How many of the latest release tags decide the tag format.
RECENT_TAGS = 5
_PACKAGE_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_GITHUB_URL = re.compile(
    r"^(?:(?:https?|git|ssh|git\+ssh)://(?:[^@/]+@)?(?:www\.)?github\.com(?::\d+)?/"
    r"|(?:[^@/:]+@)?github\.com:/?)"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class FoundFile:
    """A version file a release can edit, as a `version_files` entry names it."""

    path: str
    version: str  # as the file writes it
    search: str | None = None  # a pattern entry's template (setup.py, setup.cfg)
    whole_file: bool = False  # a VERSION file: `{ path }`, the whole file is the version

    def entry(self) -> str | dict[str, str]:
        if self.search is not None:
            return {"path": self.path, "search": self.search}
        return {"path": self.path} if self.whole_file else self.path


@dataclass(frozen=True)
class Discovery:
    """What `init` found, and where each finding came from (said in the comments)."""

    package: str
    package_from: str
    repository: str | None  # None: the remote is not on GitHub (or there is none)
    remote: str  # what the remote said, for the comment (no credentials)
    branch: str
    branch_from: str
    tag_format: str
    tags_from: str
    version_files: tuple[FoundFile, ...] = ()
    tag_versioned: str | None = None  # why the version comes from tags; None: the files
    changelog: str | None = None
    changelog_style: str | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class StartingConfig:
    """The configuration `init` writes: the file, the text added, the file's whole new text."""

    path: str  # PYPROJECT or CONFIG_FILE
    section: str
    text: str


# --- discovery ---------------------------------------------------------------------------------


def discover(root: Path, remote: str = "origin") -> Discovery:
    """Everything `init` finds in the repository at `root` (reads only)."""
    notes: list[str] = []
    found_name = package_name(root)
    package, package_from = found_name or (_folder_name(root), "the folder's name")
    files = tuple(version_files(root, package, notes))
    tag_versioned = derived_from_tags(root)
    if not files and not tag_versioned:
        notes.append(
            "no version file found: list the files that hold the version in version_files, "
            'or set version_source = "tag" if the version comes from git tags'
        )
    versions = {_parsed(f) for f in files} - {None}
    if len(versions) > 1 and not tag_versioned:
        said = ", ".join(f"{f.path} {f.version}" for f in files)
        notes.append(
            f"the version files disagree today ({said}): `release-tool bump X.Y.Z --sync` "
            "brings them to one version"
        )
    url = remote_url(root, remote)
    shown = _without_credentials(url) if url else "no such remote"
    repository = github_repository(url) if url else None
    if repository is None:
        notes.append(
            f"{remote!r} is not a GitHub repository ({shown}): set repository to the "
            "library's owner/name on GitHub"
        )
    branch, branch_from = default_branch(root, remote)
    tag_format, tags_from = tag_format_from(_tags(root))
    changelog = find_changelog(root)
    return Discovery(
        package=package,
        package_from=package_from,
        repository=repository,
        remote=shown,
        branch=branch,
        branch_from=branch_from,
        tag_format=tag_format,
        tags_from=tags_from,
        version_files=files,
        tag_versioned=tag_versioned,
        changelog=changelog[0] if changelog else None,
        changelog_style=changelog[1] if changelog else None,
        notes=tuple(notes),
    )


def package_name(root: Path) -> tuple[str, str] | None:
    """(name, where it was found): pyproject.toml, setup.cfg, then setup.py; None if none."""
    pyproject = _toml(root / PYPROJECT)
    name = pyproject.get("project", {}).get("name") if pyproject else None
    if isinstance(name, str) and _PACKAGE_RE.match(name):
        return name, f"{PYPROJECT} [project] name"
    cfg = _setup_cfg(root)
    if cfg is not None and _PACKAGE_RE.match(cfg.get("metadata", "name", fallback="")):
        return cfg.get("metadata", "name"), "setup.cfg [metadata] name"
    text = _read(root / "setup.py")
    name = setup_py_argument(text, "name") if text else None
    if name and _PACKAGE_RE.match(name):
        return name, "setup.py name="
    return None


def setup_py_argument(text: str, keyword: str) -> str | None:
    """The literal string given as `keyword` to setup.py's `setup(...)` call (a module-level
    constant it names counts too); None if there is none. Parsed, never executed."""
    found = _setup_keyword(text, keyword)
    if found is None:
        return None
    value, constants = found[0].value, found[1]
    if isinstance(value, ast.Name):
        value = constants.get(value.id, value)
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def version_files(root: Path, package: str, notes: list[str]) -> list[FoundFile]:
    """Every file that holds the version and that a release can edit (see the module doc)."""
    found = _package_inits(root, package)
    for name, kind in NPM_FILES:
        npm = _read_with(root, name, kind)
        if npm:
            found.append(npm)
    found += _setup_versions(root, notes)
    for folder in [root, *_package_dirs(root)]:
        version = _read_with(root, _relative(root, folder / "VERSION"), "pattern")
        if version:
            found.append(FoundFile(version.path, version.version, whole_file=True))
    pyproject = _read_with(root, PYPROJECT, "pyproject")
    if pyproject:
        found.append(pyproject)
    return found


def derived_from_tags(root: Path) -> str | None:
    """Why the version is derived from git tags (None: it is not)."""
    pyproject = _toml(root / PYPROJECT)
    if pyproject and derives_version_from_vcs(pyproject):
        return f"{PYPROJECT}: the version is dynamic, derived from git tags"
    text = _read(root / "setup.py")
    found = _setup_keyword(text, "use_scm_version") if text else None
    if found is not None:
        value = found[0].value
        if not (isinstance(value, ast.Constant) and not value.value):
            return "setup.py: use_scm_version (setuptools-scm)"
    return None


def find_changelog(root: Path) -> tuple[str, str] | None:
    """(path, what its headings look like) of the changelog, None if there is none."""
    names = {p.name.lower(): p.name for p in root.iterdir() if p.is_file()}
    for wanted in CHANGELOG_NAMES:
        name = names.get(wanted.lower())
        if name is None:
            continue
        text = _read(root / name) or ""
        try:
            parsed = parse_changelog(text, name)
        except ReleaseError as exc:
            return name, f"not readable as a changelog ({exc.message})"
        releases = sum(1 for s in parsed.sections if s.version is not None)
        if parsed.style.learnt:
            style = f"headings {parsed.style.describe()}, learnt from its {releases} release(s)"
        else:
            style = f"no release heading yet: new ones read {parsed.style.describe()}"
        if parsed.findings:
            style += f"; {len(parsed.findings)} finding(s), `release-tool plan` lists them"
        return name, style
    return None


def github_repository(url: str) -> str | None:
    """`owner/name` of a GitHub remote URL (https, ssh, scp-like `git@github.com:o/n.git`)."""
    match = _GITHUB_URL.match(url.strip())
    return f"{match['owner']}/{match['name']}" if match else None


def remote_url(root: Path, remote: str) -> str | None:
    """The remote's URL; a GitHub one if either its configured or its rewritten
    (`insteadOf`) form is one; None without such a remote (or outside a git repository)."""
    urls = [_git(root, "config", "--get", f"remote.{remote}.url")]
    urls.append(_git(root, "remote", "get-url", remote))
    present = [u for u in urls if u]
    return next((u for u in present if github_repository(u)), present[0] if present else None)


def default_branch(root: Path, remote: str = "origin") -> tuple[str, str]:
    """(branch, where it came from): the remote's HEAD, else the current branch, else main."""
    head = _git(root, "symbolic-ref", "--short", f"refs/remotes/{remote}/HEAD")
    if head and head.startswith(f"{remote}/"):
        return head.removeprefix(f"{remote}/"), f"{remote}/HEAD"
    current = _git(root, "symbolic-ref", "--short", "HEAD")
    if current:
        return current, "the current branch"
    return "main", "the default (no branch found)"


def tag_format_from(tags: Iterable[str]) -> tuple[str, str]:
    """(tag_format, why): bare `{version}` or `v{version}`, as the majority of the latest
    release tags spell them (a tie goes to the latest's spelling); `v{version}` without any."""
    releases = []
    for tag in tags:
        bare = tag[1:] if tag[:1] == "v" else tag
        version = tag_version(bare)
        if version is not None:
            releases.append((version, tag[:1] == "v"))
    if not releases:
        return "v{version}", "no release tag yet"
    recent = sorted(releases, key=lambda r: r[0], reverse=True)[:RECENT_TAGS]
    v_count = sum(1 for _, v in recent if v)
    use_v = v_count > len(recent) - v_count or (v_count * 2 == len(recent) and recent[0][1])
    spelt = "vX.Y.Z" if use_v else "X.Y.Z"
    return (
        "v{version}" if use_v else "{version}",
        f"{spelt}, as {v_count if use_v else len(recent) - v_count} of the latest "
        f"{len(recent)} release tag(s)",
    )


# --- the starting configuration ----------------------------------------------------------------


def starting_config(root: Path, found: Discovery) -> StartingConfig:
    """The text to write (pure but for reading pyproject.toml): appended to pyproject.toml if
    the project has one, else a new release-tool.toml; checked to load as a configuration."""
    import tomlkit

    pyproject = root / PYPROJECT
    if pyproject.is_file():
        document = tomlkit.document()
        tool = tomlkit.table(is_super_table=True)
        table = tomlkit.table()
        _fill(table.value, found)
        tool.add("release_tool", table)
        document.add("tool", tool)
        old = _read(pyproject) or ""
        section = tomlkit.dumps(document)
        if "\r\n" in old:  # the file's own line endings
            section = section.replace("\n", "\r\n")
        newline = "\r\n" if "\r\n" in old else "\n"
        separator = "" if not old else newline if old.endswith("\n") else newline * 2
        start = StartingConfig(PYPROJECT, section, old + separator + section)
    else:
        document = tomlkit.document()
        _fill(document, found)
        section = tomlkit.dumps(document)
        start = StartingConfig(CONFIG_FILE, section, section)
    _check(root, start)
    return start


def existing_config(root: Path) -> str | None:
    """Where a configuration lives already (for messages), None if there is none."""
    existing = find_config(root)
    if existing is None:
        return None
    return f"[tool.release_tool] in {PYPROJECT}" if existing.file == PYPROJECT else CONFIG_FILE


def write_config(root: Path, found: Discovery) -> StartingConfig:
    """Write the starting configuration and return it; refuse (exit 2, nothing written) if a
    configuration exists already."""
    existing = existing_config(root)
    if existing is not None:
        raise UsageError(
            f"a configuration exists already: {existing}",
            "edit it (docs/configuration.md), or delete it first to start over; "
            "`release-tool init --dry-run` shows what init would write",
        )
    start = starting_config(root, found)
    try:
        tomllib.loads(start.text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"{start.path}: [tool.release_tool] cannot be added to it ({exc})",
            f"write the configuration into {CONFIG_FILE} instead (docs/configuration.md)",
        ) from None
    mode = "w" if start.path == PYPROJECT else "x"
    with (root / start.path).open(mode, encoding="utf-8", newline="") as out:
        out.write(start.text)
    return start


def summary(root: Path, start: StartingConfig, dry_run: bool) -> str:
    """The final line `init` prints: what it wrote (or would), and what comes next."""
    where = f"[tool.release_tool] into {PYPROJECT}" if start.path == PYPROJECT else start.path
    if not dry_run:
        return f"Wrote {where}: check it, commit it, then run `release-tool status`."
    existing = existing_config(root)
    refusal = f" (it refuses while {existing} exists)" if existing else ""
    return f"Dry run: init would write {where}{refusal}."


def _fill(table: Container, found: Discovery) -> None:
    """The configuration's keys, each with a comment saying where it came from."""
    import tomlkit
    from tomlkit.items import Array

    def add(key: str, value: Any, comment: str) -> None:
        item = tomlkit.item(value)
        if isinstance(item, Array):
            item.multiline(bool(value))
        if comment:
            item.comment(comment)
        table.append(key, item)

    table.append(None, tomlkit.comment("Written by `release-tool init`; see docs/configuration.md"))
    for note in found.notes:
        table.append(None, tomlkit.comment(f"NOTE: {note}"))
    add("package", found.package, f"from {found.package_from}")
    if found.repository:
        add("repository", found.repository, f"from {found.remote}")
    else:
        add("repository", "OWNER/NAME", "NOT FOUND: the library's GitHub owner/name")
    add("branch", found.branch, f"from {found.branch_from}")
    add("tag_format", found.tag_format, found.tags_from)
    if found.tag_versioned:
        add("version_source", "tag", found.tag_versioned)
    said = list(dict.fromkeys(f.version for f in found.version_files))
    agree = "all say" if len(found.version_files) > 1 and len(said) == 1 else "they say"
    comment = f"{agree} {', '.join(said)}" if said else ""
    add("version_files", [f.entry() for f in found.version_files], comment)
    if found.changelog:
        add("changelog", found.changelog, found.changelog_style or "")
    else:
        table.append(
            None,
            tomlkit.comment(
                "no changelog found (CHANGELOG, HISTORY or CHANGES): set changelog, or release "
                "with --allow-empty-notes"
            ),
        )


def _check(root: Path, start: StartingConfig) -> None:
    """What init writes must load as a configuration (it is built from what init found)."""
    data = tomllib.loads(start.section)
    if start.path == PYPROJECT:
        config_from_mapping(data["tool"]["release_tool"], root)
    else:
        config_from_mapping(data, root, f"{CONFIG_FILE}:")


# --- helpers -----------------------------------------------------------------------------------


def _package_inits(root: Path, package: str) -> list[FoundFile]:
    found = []
    for folder in _package_dirs(root):
        init = _read_with(root, _relative(root, folder / "__init__.py"), "python")
        if init:
            found.append(init)
    wanted = re.sub(r"[-.]+", "_", package).lower()
    named = [f for f in found if f.path.split("/")[-2].lower() == wanted]
    return named or found


def _package_dirs(root: Path) -> list[Path]:
    """Top-level (and src/) folders that are Python packages, tests and docs left out."""
    folders = []
    for base in (root, root / "src"):
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            name = child.name
            if name.startswith((".", "_")) or name.lower() in _NOT_PACKAGES:
                continue
            if (child / "__init__.py").is_file():
                folders.append(child)
    return folders


def _setup_versions(root: Path, notes: list[str]) -> list[FoundFile]:
    """setup.py's literal `version='X'` and setup.cfg's `version = X`, as pattern entries."""
    found = []
    text = _read(root / "setup.py")
    if text and setup_py_argument(text, "version"):
        keyword = _setup_keyword(text, "version")
        assert keyword is not None
        segment = ast.get_source_segment(text, keyword[0]) or ""
        literal = ast.get_source_segment(text, keyword[0].value) or ""
        if literal[:1] in ("'", '"') and segment.endswith(literal) and "\n" not in segment:
            quote = literal[0]
            search = f"{segment[: -len(literal)]}{quote}{{version}}{quote}"
            found += _pattern(root, "setup.py", search, text, notes)
    cfg = _setup_cfg(root)
    if cfg is not None and cfg.has_option("metadata", "version"):
        value = cfg.get("metadata", "version")
        text = _read(root / "setup.cfg") or ""
        line = re.search(rf"(?m)^(version[ \t]*[=:][ \t]*){re.escape(value)}[ \t]*$", text)
        if line and not value.startswith(("attr:", "file:")):
            found += _pattern(root, "setup.cfg", f"{line[1]}{{version}}", text, notes)
    return found


def _pattern(root: Path, path: str, search: str, text: str, notes: list[str]) -> list[FoundFile]:
    try:
        (location,) = editor_for("pattern", search=search).read(text, path)
        parse_file_version(location.text, "python")
    except (ReleaseError, ValueError) as exc:
        notes.append(f"{path} holds a version that init cannot list: {exc}")
        return []
    return [FoundFile(path, location.text, search=search)]


def _read_with(root: Path, path: str, kind: str) -> FoundFile | None:
    """The file at `path` if the editor of `kind` reads exactly one version from it."""
    text = _read(root / path)
    if text is None:
        return None
    try:
        locations = editor_for(kind).read(text, path)
        for location in locations:
            parse_file_version(location.text, "package_json" if "json" in path else "python")
    except (ReleaseError, ValueError):
        return None
    return FoundFile(path, locations[0].text) if locations else None


def _parsed(found: FoundFile) -> str | None:
    try:
        kind = "package_json" if found.path.endswith(".json") else "python"
        return parse_file_version(found.version, kind).pep440
    except ReleaseError:
        return None


def _setup_keyword(text: str, keyword: str) -> tuple[ast.keyword, dict[str, ast.expr]] | None:
    """The `keyword=` argument of the module's `setup(...)` call, and the module's constants."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    constants = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node.func) == "setup":
            for kw in node.keywords:
                if kw.arg == keyword:
                    return kw, constants
    return None


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _setup_cfg(root: Path) -> configparser.ConfigParser | None:
    text = _read(root / "setup.cfg")
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser


def _toml(path: Path) -> dict[str, Any] | None:
    text = _read(path)
    try:
        return tomllib.loads(text) if text is not None else None
    except tomllib.TOMLDecodeError:
        return None


def _read(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _tags(root: Path) -> list[str]:
    return (_git(root, "tag", "--list") or "").splitlines()


def _git(root: Path, *args: str) -> str | None:
    try:
        return run_git(*args, cwd=root) or None
    except (ReleaseError, OSError):
        return None


def _folder_name(root: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", root.name).strip("-._") or "package"


def _without_credentials(url: str) -> str:
    return re.sub(r"^([a-z+]+://)[^/@]*@", r"\1", url)
