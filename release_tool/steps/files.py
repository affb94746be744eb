"""Version files and the changelog as planning reads and edits them.

Shared by `preflight` (which reads every version location and decides the versions), `bump`
(the edits) and `release-tool bump` (edits alone). Each file is read once per plan; an
`overlay` gives the text a file will have after the `recover` step restores it.

Where the current version comes from (`version_source`): the version files, which must agree;
or, for a project whose version is derived from git tags (setuptools-scm, hatch-vcs, ...), the
last release tag reachable from HEAD. The files such a project lists (package.json, its
lockfile) then follow the tag: a release writes the new version into them, and with none there
is no release commit, only the tag. A static `[project] version` change moves the project's
own `uv.lock` entry in the same edit (through uv; see `release_tool.resolvers.own_lock`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from release_tool import changelog
from release_tool.config import VersionFile
from release_tool.errors import ReleaseError, UsageError
from release_tool.files import Editor, editor_for
from release_tool.files.write import WriteFileAction
from release_tool.project import FileVersion, Project, ReleaseRequest, last_release
from release_tool.textfiles import read_text
from release_tool.versions import Version, bump, check_newer, parse_file_version

#: The current version when a tag-versioned project has no release yet (an explicit first
#: version is then asked for).
NO_RELEASE = Version(0, 0, 0)
# Build requirements and tool tables that derive the version from git.
_VCS_REQUIREMENTS = {
    "setuptools-scm",
    "hatch-vcs",
    "versioningit",
    "poetry-dynamic-versioning",
    "uv-dynamic-versioning",
    "setuptools-git-versioning",
}


def real_relpath(project: Project, relpath: str) -> str:
    """The repository path of the file `relpath` names: itself, or — when it is a symlink (or
    lies under one) — the file the link leads to, which is what git tracks and what an edit
    changes (the link stays a link). A link that leads out of the repository, or into
    `.git`, is refused."""
    path = project.root / relpath
    target = path.resolve()
    root = project.root.resolve()
    if target == root / relpath:
        return relpath
    if not target.is_relative_to(root) or target.relative_to(root).parts[:1] == (".git",):
        raise UsageError(
            f"{relpath}: a symlink that leads outside the repository ({target})",
            "a version file is edited where it lives: point the link inside the repository",
        )
    return target.relative_to(root).as_posix()


def read_text_of(project: Project, relpath: str, overlay: Mapping[str, str]) -> str:
    real = real_relpath(project, relpath)
    if real in overlay:
        return overlay[real]
    try:
        return read_text(project.root / real, relpath)
    except FileNotFoundError:
        raise UsageError(
            f"{relpath}: file not found", f"fix the path in {project.config.key('version_files')}"
        ) from None


def editor_of(vf: VersionFile) -> Editor:
    """The editor of one `version_files` entry."""
    return editor_for(vf.kind, search=vf.search, semver=vf.semver)


def read_file_versions(
    project: Project, overlay: Mapping[str, str] | None = None
) -> list[FileVersion]:
    """Every version location of every configured version file."""
    found = []
    texts: dict[str, str] = {}
    for vf in project.config.version_files:
        if vf.path not in texts:
            texts[vf.path] = read_text_of(project, vf.path, overlay or {})
        text = texts[vf.path]
        for location in editor_of(vf).read(text, vf.path):
            version = parse_file_version(location.text, "package_json" if vf.semver else "python")
            found.append(
                FileVersion(vf.path, location.where, location.line, location.text, version, text)
            )
    return found


# --- where the current version comes from ------------------------------------------------------


def version_source(project: Project) -> str:
    """'tag' or 'files': the configured `version_source`, else detected (see the module doc)."""
    configured = project.config.version_source
    if configured is not None:
        return configured
    return "tag" if version_from_vcs(project) else "files"


def version_from_vcs(project: Project) -> bool:
    """Whether pyproject.toml declares a dynamic version that a git-based plugin derives."""
    path = project.root / "pyproject.toml"
    try:
        data = tomllib.loads(read_text(path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return derives_version_from_vcs(data)


def derives_version_from_vcs(data: Mapping[str, Any]) -> bool:
    """Whether pyproject.toml's `data` declares a dynamic version a git-based plugin derives."""
    meta = data.get("project")
    if not isinstance(meta, dict) or "version" not in meta.get("dynamic", []):
        return False
    tool = data.get("tool", {})
    if "setuptools_scm" in tool or "setuptools-scm" in tool:
        return True
    if tool.get("hatch", {}).get("version", {}).get("source") == "vcs":
        return True
    if tool.get("pdm", {}).get("version", {}).get("source") == "scm":
        return True
    requires = data.get("build-system", {}).get("requires", [])
    names = {re.split(r"[^A-Za-z0-9._-]", str(r).strip(), maxsplit=1)[0] for r in requires}
    return any(re.sub(r"[-_.]+", "-", n).lower() in _VCS_REQUIREMENTS for n in names)


def last_reachable_release(
    project: Project, head: str = "HEAD", ignore: Sequence[str] = ()
) -> tuple[str, Version] | None:
    """The last release tag reachable from `head` and its version (tags in `ignore` left out:
    the ones a rollback is about to delete)."""
    tags = [t for t in project.repo.tags_merged(head) if t not in ignore]
    return last_release(project.config, dict.fromkeys(tags, ""))


def version_table(found: list[FileVersion]) -> str:
    width = max(len(f"{f.path} ({f.where}, line {f.line})") for f in found)
    return "\n".join(
        f"  {f'{f.path} ({f.where}, line {f.line})':<{width}}  {f.text}" for f in found
    )


def agreed_version(found: list[FileVersion]) -> Version:
    """The one version every file says, or a UsageError with a table of who says what."""
    versions = {f.version for f in found}
    if len(versions) == 1:
        return versions.pop()
    raise UsageError(
        "version files disagree: " + ", ".join(sorted(str(v) for v in versions)),
        "bring them to one version explicitly: release-tool bump VERSION --sync",
        details=version_table(found),
    )


def current_version(
    project: Project,
    found: list[FileVersion],
    request: ReleaseRequest,
    *,
    head: str = "HEAD",
    ignore: Sequence[str] = (),
    source: str | None = None,
) -> Version:
    """The current version (`source`: `version_source`, when the caller already knows it).

    From tags: the last release tag reachable from `head` (none yet: the files' version if
    they agree on one, else `NO_RELEASE`, and only an explicit version can be released).
    From files: the version they agree on; with --sync, the highest one (they are brought to
    the explicit version asked for, which must not be lower).
    """
    if (source or version_source(project)) == "tag":
        last = last_reachable_release(project, head, ignore)
        if last is not None:
            return last[1]
        if found and len({f.version for f in found}) == 1:
            return found[0].version
        if request.bump.version is None:
            raise UsageError(
                f"no release tag reachable from HEAD to {request.bump} from "
                "(the version comes from tags)",
                "give the first version explicitly, e.g. release-tool release 1.0.0",
            )
        return NO_RELEASE
    if not found:
        raise UsageError(
            "no version files are configured, and the version does not come from tags",
            'list the files that hold the version in version_files, or set version_source = "tag"',
        )
    if not request.sync:
        return agreed_version(found)
    if request.bump.version is None:
        raise UsageError("--sync needs an explicit version", "e.g. release-tool bump 5.3.0 --sync")
    return max(f.version for f in found)


def resolve_version(current: Version, request: ReleaseRequest) -> Version:
    """The version asked for: a bump word applied to `current`, or an explicit version."""
    asked = request.bump
    if asked.is_current:
        if request.pre:
            raise UsageError(
                "--pre does not go with 'current'", "'current' releases what the files already say"
            )
        return current
    if asked.word is not None:
        return bump(current, asked.word, request.pre)
    if request.pre:
        raise UsageError(
            "--pre does not go with an explicit version",
            f"write the pre-release into the version, e.g. {asked}rc1",
        )
    assert asked.version is not None
    return asked.version


def check_order(current: Version, new: Version, request: ReleaseRequest) -> None:
    if request.bump.is_current or (request.sync and new == current):
        return  # --sync to the highest version the files already hold is allowed
    check_newer(current, new, request.allow_downgrade)


class ChangelogPlan(NamedTuple):
    """The changelog as read and as stamped for the new version, and that version's notes."""

    old: str
    stamped: str
    notes: str  # the version's section as written ('' when it has none)
    notes_markdown: str  # the same as GitHub-flavoured Markdown
    warnings: tuple[str, ...]  # line-numbered findings worth showing (not a heading for Sphinx)


def plan_changelog(
    project: Project,
    new: Version,
    today: date,
    overlay: Mapping[str, str] | None = None,
    *,
    markdown: bool = True,
) -> ChangelogPlan | None:
    """Stamp the changelog for `new` and read its notes; None when none is configured.

    `markdown`: also convert the notes to Markdown (only the GitHub release and the PR show
    them so; an RST conversion imports docutils, which a local run does not need).
    Raises FileEditError when the file cannot say (two headings for `new`, no Unreleased
    section to stamp)."""
    path = project.config.changelog
    if not path:
        return None
    text = read_text_of(project, path, overlay or {})
    stamped = changelog.parse(text, path).stamp(new, today)
    log = changelog.parse(stamped, path)
    include = project.config.changelog_prerelease_notes
    notes = log.notes(new, include_prereleases=include) or ""
    converted = (log.notes_markdown(new, include_prereleases=include) or "") if markdown else ""
    warnings = tuple(f"{path} line {f.line}: {f.message}" for f in log.warnings_for(new))
    return ChangelogPlan(text, stamped, notes, converted, warnings)


def stamp_changelog(
    project: Project, new: Version, today: date, overlay: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """The changelog as it is and as stamped for `new`; None when none is configured."""
    planned = plan_changelog(project, new, today, overlay)
    return (planned.old, planned.stamped) if planned else None


def file_edits(
    project: Project,
    found: list[FileVersion] | tuple[FileVersion, ...],
    new: Version,
    changelog_texts: tuple[str, str] | None,
    overlay: Mapping[str, str] | None = None,
) -> list[WriteFileAction]:
    """An edit for every file the new version changes, from the texts planning already read
    (several entries on one file edit it in turn); the project's own uv.lock follows a
    `[project] version` edit."""
    edits = []
    entries: dict[str, list[VersionFile]] = {}
    for vf in project.config.version_files:
        entries.setdefault(vf.path, []).append(vf)
    for path, vfs in entries.items():
        read = [f for f in found if f.path == path]  # every file has at least one location
        old = read[0].source
        text = old
        for vf in vfs:
            text = editor_of(vf).write(text, path, new)
        if text != old:
            spelled = ", ".join(sorted({new.semver if vf.semver else new.pep440 for vf in vfs}))
            was = ", ".join(sorted({f.text for f in read}))
            edits.append(
                _edit(
                    project, path, old, text, f"{was} → {spelled}", old_version=was,
                    new_version=spelled,
                )
            )  # fmt: skip
            if any(vf.kind == "pyproject" for vf in vfs):
                edits += own_lock_edit(project, path, text, overlay or {})
    if project.config.changelog and changelog_texts and changelog_texts[0] != changelog_texts[1]:
        old, stamped = changelog_texts
        edits.append(
            _edit(
                project,
                project.config.changelog,
                old,
                stamped,
                f"section [{new}] stamped",
                new_version=str(new),
            )
        )
    return edits


def _edit(
    project: Project,
    relpath: str,
    old: str,
    new: str,
    summary: str,
    *,
    old_version: str | None = None,
    new_version: str | None = None,
) -> WriteFileAction:
    """The edit of `relpath`, made where the file lives (a symlink's target)."""
    real = real_relpath(project, relpath)
    if real != relpath:
        summary += f" (through the symlink {relpath})"
    return WriteFileAction(
        project.root / real,
        real,
        old,
        new,
        summary,
        old_version=old_version,
        new_version=new_version,
    )


def own_lock_edit(
    project: Project, pyproject_path: str, pyproject: str, overlay: Mapping[str, str]
) -> list[WriteFileAction]:
    """The edit of the uv.lock beside an edited pyproject.toml (none without a uv.lock)."""
    folder = PurePosixPath(pyproject_path).parent
    files = _own_lock_inputs(project, folder, overlay)
    if files is None:
        return []
    from release_tool.resolvers import own_lock

    old = files[own_lock.LOCK]
    new = own_lock.relock(files, pyproject, env=project.environ)
    if new == old:
        return []
    relpath = str(folder / own_lock.LOCK)
    name = tomllib.loads(pyproject).get("project", {}).get("name", "the project")
    return [WriteFileAction(project.root / relpath, relpath, old, new, f"{name}'s entry (uv lock)")]


def own_lock_problems(project: Project, overlay: Mapping[str, str]) -> list[ReleaseError]:
    """Preflight: each uv.lock beside a static-version pyproject.toml must be up to date."""
    problems: list[ReleaseError] = []
    for vf in project.config.version_files:
        if vf.kind != "pyproject":
            continue
        folder = PurePosixPath(vf.path).parent
        files = _own_lock_inputs(project, folder, overlay)
        if files is None:
            continue
        from release_tool.resolvers import own_lock

        try:
            own_lock.check(files, env=project.environ)
        except ReleaseError as exc:
            problems.append(exc)
    return problems


def _own_lock_inputs(
    project: Project, folder: PurePosixPath, overlay: Mapping[str, str]
) -> dict[str, str] | None:
    if not (project.root / folder / "uv.lock").is_file() and str(folder / "uv.lock") not in overlay:
        return None  # most projects: no uv, nothing imported
    from release_tool.resolvers import own_lock

    prefix = "" if str(folder) == "." else f"{folder}/"
    local = {k.removeprefix(prefix): v for k, v in overlay.items() if k.startswith(prefix)}
    return own_lock.inputs(project.root / folder, local)


def release_notes(project: Project, version: Version, *, markdown: bool = False) -> str:
    """The notes of `version`, released earlier ('' when it has none): the changelog as it is
    now. `markdown`: as GitHub-flavoured Markdown (the release and PR bodies)."""
    path = project.config.changelog
    if not path or not (project.root / path).is_file():
        return ""
    log = changelog.parse(read_text(project.root / path, path), path)
    include = project.config.changelog_prerelease_notes
    if markdown:
        return log.notes_markdown(version, include_prereleases=include) or ""
    return log.notes(version, include_prereleases=include) or ""
