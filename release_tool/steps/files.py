"""Version files and the changelog as planning reads and edits them.

Shared by `preflight` (which reads every version location and decides the versions), `bump`
(the edits) and `release-tool bump` (edits alone). Each file is read once per plan; an
`overlay` gives the text a file will have after the `recover` step restores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from release_tool import changelog
from release_tool.errors import UsageError
from release_tool.files import editor_for
from release_tool.files.write import WriteFileAction, read_text
from release_tool.project import NPM_KINDS, FileVersion, Project, ReleaseRequest
from release_tool.versions import Version, bump, check_newer, parse_file_version


def read_text_of(project: Project, relpath: str, overlay: Mapping[str, str]) -> str:
    if relpath in overlay:
        return overlay[relpath]
    try:
        return read_text(project.root / relpath)
    except FileNotFoundError:
        raise UsageError(
            f"{relpath}: file not found", "fix the path in [tool.release_tool] version_files"
        ) from None


def read_file_versions(
    project: Project, overlay: Mapping[str, str] | None = None
) -> list[FileVersion]:
    """Every version location of every configured version file."""
    found = []
    for vf in project.config.version_files:
        text = read_text_of(project, vf.path, overlay or {})
        for location in editor_for(vf.kind).read(text, vf.path):
            version = parse_file_version(location.text, vf.kind)
            found.append(
                FileVersion(vf.path, location.where, location.line, location.text, version, text)
            )
    return found


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


def current_version(found: list[FileVersion], request: ReleaseRequest) -> Version:
    """The version the files agree on; with --sync, the highest one (they are brought to
    the explicit version asked for, which must not be lower)."""
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


def stamp_changelog(
    project: Project, new: Version, today: date, overlay: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """The changelog as it is and as stamped for `new`; None when none is configured."""
    path = project.config.changelog
    if not path:
        return None
    text = read_text_of(project, path, overlay or {})
    return text, changelog.stamp(text, new, today, changelog.changelog_format(path))


def file_edits(
    project: Project,
    found: list[FileVersion] | tuple[FileVersion, ...],
    new: Version,
    changelog_texts: tuple[str, str] | None,
) -> list[WriteFileAction]:
    """An edit for every file the new version changes, from the texts planning already read."""
    edits = []
    for vf in project.config.version_files:
        read = [f for f in found if f.path == vf.path]  # every file has at least one location
        old = read[0].source
        text = editor_for(vf.kind).write(old, vf.path, new)
        if text != old:
            spelled = new.semver if vf.kind in NPM_KINDS else new.pep440
            was = ", ".join(sorted({f.text for f in read}))
            edits.append(
                WriteFileAction(
                    project.root / vf.path,
                    vf.path,
                    old,
                    text,
                    f"{was} → {spelled}",
                    old_version=was,
                    new_version=spelled,
                )
            )
    if project.config.changelog and changelog_texts and changelog_texts[0] != changelog_texts[1]:
        old, stamped = changelog_texts
        edits.append(
            WriteFileAction(
                project.root / project.config.changelog,
                project.config.changelog,
                old,
                stamped,
                f"section [{new}] stamped",
                new_version=str(new),
            )
        )
    return edits


def release_notes(project: Project, version: Version, text: str | None = None) -> str:
    """The changelog section of `version` ('' when there is none): the one reader of notes.

    `text` is the changelog as planning already read (or stamped) it; otherwise the file is
    read, and a missing file has no notes.
    """
    path = project.config.changelog
    if not path:
        return ""
    if text is None:
        if not (project.root / path).is_file():
            return ""
        text = read_text(project.root / path)
    return changelog.release_notes(text, version, changelog.changelog_format(path)) or ""
