"""The `preflight` step: read everything once, decide the versions, report every problem.

`gather` is what planning starts with (after `recover` has looked at the lock journal): the
version files, the working copy, local and remote tags, the changelog and its notes. It
returns the `Facts` every later step plans on, or raises one `PreflightError` listing every
problem found — never only the first. `plan` shows the checks that passed.
"""

from __future__ import annotations

from collections.abc import Mapping

from release_tool.errors import PreflightError, ReleaseError, UsageError
from release_tool.git_repo import (
    PendingRemote,
    RemoteState,
    WorkingState,
    credentials_refused,
)
from release_tool.plan import StepPlan
from release_tool.project import (
    Facts,
    FileVersion,
    Project,
    ReleaseRequest,
    releases_before,
    tag_name,
)
from release_tool.release_lock import ReleaseLock
from release_tool.steps import NAMES, recover
from release_tool.steps.base import Planning
from release_tool.steps.files import (
    check_order,
    current_version,
    read_file_versions,
    real_relpath,
    release_notes,
    resolve_version,
    stamp_changelog,
)
from release_tool.versions import Version

NAME = "preflight"


def gather(
    project: Project, request: ReleaseRequest, steps: frozenset[str] = frozenset(NAMES)
) -> Facts:
    """Read the world, decide the versions and the tag; raise every problem at once.

    `steps` are the steps the request selects (the pipeline decides): what the commit and the
    tag need (an identity, a signing key, tracked version files) is checked only when they
    are made."""
    config, repo = project.config, project.repo
    recovery = None
    with repo.start_ls_remote(config.remote) as pending:  # the remote answers while we read
        if ReleaseLock(repo).path.exists():  # a run was interrupted: its fate needs the remote
            remote, remote_error = _remote_state(pending)
            recovery = recover.inspect(project, remote)
        overlay = recovery.files if recovery and recovery.kind == "rollback" else {}
        found = read_file_versions(project, overlay)
        working = repo.state()
        local_tags = repo.local_tags()
        current = current_version(found, request)
        if recovery is None:
            remote, remote_error = _remote_state(pending)
    observed_head = working.head
    if recovery is not None and recovery.kind == "rollback":
        # Plan on the state the recover step leaves: files restored, branch and tags back.
        working = WorkingState(
            recovery.head or working.head,
            working.branch,
            tuple(path for path in working.dirty if path not in overlay),
        )
        local_tags = {t: sha for t, sha in local_tags.items() if t not in recovery.tags}
    head = working.head

    # A HEAD that already carries the current version's tag is a release in progress (or done):
    # the same command again finishes it instead of bumping a second time.
    current_tag = tag_name(config, current)
    asked = request.bump
    finishing = asked.word is not None or asked.version == current
    resumed = finishing and (
        local_tags.get(current_tag) == head
        or (remote is not None and remote.tags.get(current_tag) == head)
    )
    new = current if resumed else resolve_version(current, request)
    if not resumed:
        check_order(current, new, request)

    problems: list[ReleaseError] = []
    if remote is None:
        problems.append(_unreachable(project, remote_error))
        remote = RemoteState(heads={}, tags={})
    problems += _git_problems(project, working, local_tags, remote, new, resumed)

    stamped = stamp_changelog(project, new, request.today, overlay)
    if not resumed:
        problems += _write_problems(project, steps, found, new, stamped)
    notes = release_notes(project, new, stamped[1]) if stamped else ""
    if not notes.strip() and not request.allow_empty_notes:
        where = config.changelog or "the changelog (none configured)"
        problems.append(
            UsageError(
                f"no release notes for {new} in {where}",
                "write them under 'Unreleased' (or a [X.Y.Z] section), or pass --allow-empty-notes",
            )
        )
    if problems:
        raise problems[0] if len(problems) == 1 else PreflightError(problems)

    previous = current if current != new else releases_before(config, _all(local_tags, remote), new)
    return Facts(
        current=current,
        new=new,
        tag=tag_name(config, new),
        head=head,
        remote=remote,
        notes=notes,
        resumed=resumed,
        changelog=stamped,
        previous=previous,
        found=tuple(found),
        recovery=recovery,
        observed_head=observed_head,
    )


def plan(ctx: Planning) -> StepPlan:
    config, facts = ctx.project.config, ctx.facts
    notes = [
        f"version files agree on {facts.current}",
        f"on {config.branch}, clean, up to date with {config.remote}",
    ]
    if facts.resumed:
        notes.append(f"HEAD is already tagged {facts.tag}: finishing that release")
    return StepPlan(NAME, notes=tuple(notes))


def _all(local_tags: Mapping[str, str], remote: RemoteState) -> dict[str, str]:
    return {**local_tags, **remote.tags}


def _remote_state(pending: PendingRemote) -> tuple[RemoteState | None, ReleaseError | None]:
    """The remote's refs, or why they could not be read (a preflight problem, reported with
    the others rather than alone)."""
    try:
        return pending.result(), None
    except ReleaseError as exc:
        return None, exc


def _unreachable(project: Project, error: ReleaseError | None) -> ReleaseError:
    remote = project.config.remote
    said = error.message.removeprefix(f"remote {remote!r} is unreachable: ") if error else ""
    if credentials_refused(said):
        return UsageError(
            f"remote {remote!r} refused the credentials: {said}",
            "check GITHUB_TOKEN (or GH_TOKEN): it must be valid and allowed to push here",
        )
    return UsageError(
        f"remote {remote!r} is unreachable" + (f": {said}" if said else ""),
        "check the network, the remote URL and the token",
    )


def _git_problems(
    project: Project,
    working: WorkingState,
    local_tags: Mapping[str, str],
    remote: RemoteState,
    new: Version,
    resumed: bool,
) -> list[ReleaseError]:
    config, repo = project.config, project.repo
    problems: list[ReleaseError] = []
    head, branch, dirty = working.head, working.branch, working.dirty
    if dirty:
        problems.append(
            UsageError(
                f"the working tree has uncommitted changes ({', '.join(dirty[:3])}"
                f"{', …' if len(dirty) > 3 else ''})",
                "commit or stash them first: a release commits only the version files",
            )
        )
    if branch != config.branch:
        problems.append(
            UsageError(
                f"on {'a detached HEAD' if branch is None else f'branch {branch!r}'}, "
                f"not {config.branch!r}",
                f"git switch {config.branch} (or set `branch` in the config)",
            )
        )
    remote_head = remote.heads.get(config.branch)
    if (
        remote_head
        and remote_head != head
        and not (repo.has_commit(remote_head) and repo.is_ancestor(remote_head, head))
    ):
        problems.append(
            UsageError(
                f"{config.branch!r} is behind {config.remote}/{config.branch}",
                f"git pull --ff-only {config.remote} {config.branch}, then run again",
            )
        )
    tag = tag_name(config, new)
    published = remote.tags.get(tag)
    at = local_tags.get(tag)
    if at is not None and not (resumed and at == head):
        problems.append(
            UsageError(
                f"tag {tag} already exists locally, on commit {at[:12]}",
                f"{new} was released before: pick another version"
                if published is not None
                else f"pick another version, or delete the stale local tag (git tag -d {tag}) "
                "if it was never pushed",
            )
        )
    if published is not None and not (resumed and published == head):
        problems.append(
            UsageError(
                f"tag {tag} already exists on {config.remote}, on commit {published[:12]}",
                f"{tag} is already on {config.remote}: {new} was released; pick another version",
            )
        )
    return problems


def _write_problems(
    project: Project,
    steps: frozenset[str],
    found: list[FileVersion],
    new: Version,
    stamped: tuple[str, str] | None,
) -> list[ReleaseError]:
    """What predictably fails in the middle of the release, found before it starts: no
    committer identity, a signing key git cannot use, a version file git does not track."""
    config, repo = project.config, project.repo
    edited = [
        vf.path
        for vf in config.version_files
        if any(f.version != new for f in found if f.path == vf.path)
    ]
    if config.changelog and stamped and stamped[0] != stamped[1]:
        edited.append(config.changelog)
    commit = "commit" in steps and bool(edited)
    tag = "tag" in steps
    if not (commit or tag):
        return []
    paths = list(dict.fromkeys(real_relpath(project, path) for path in edited)) if commit else []
    ready = repo.readiness(paths)
    problems: list[ReleaseError] = []
    if ready.ident is None:
        said = ready.ident_error.removeprefix("git var failed: ")
        problems.append(
            UsageError(
                f"git has no committer identity for the release {'commit' if commit else 'tag'}"
                f": {said}",
                'git config user.name "Your Name"; git config user.email you@example.org '
                "(or set GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL)",
            )
        )
    for path in ready.untracked:
        if path in ready.ignored:
            problems.append(
                UsageError(
                    f"{path} is ignored by git, so the release commit cannot hold it",
                    f"track it (git add -f {path}; git commit), or take it out of version_files",
                )
            )
        else:
            problems.append(
                UsageError(
                    f"{path} is not tracked by git, so the release commit cannot hold it",
                    f"git add {path} and commit it first, or take it out of version_files",
                )
            )
    from release_tool.signing import signing_problems

    problems += signing_problems(
        ready.signing,
        commit=commit,
        tag=tag,
        sign_tags=config.sign,
        ident=ready.ident,
        root=repo.root,
    )
    return problems
