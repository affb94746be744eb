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
    ReleaseLock,
    RemoteState,
    WorkingState,
    credentials_refused,
)
from release_tool.plan import StepPlan
from release_tool.project import Facts, Project, ReleaseRequest, releases_before, tag_name
from release_tool.steps.base import Planning
from release_tool.steps.files import (
    NO_RELEASE,
    check_order,
    current_version,
    own_lock_problems,
    plan_changelog,
    read_file_versions,
    resolve_version,
    version_source,
)
from release_tool.versions import Version

NAME = "preflight"


def gather(project: Project, request: ReleaseRequest) -> Facts:
    """Read the world, decide the versions and the tag; raise every problem at once."""
    config, repo = project.config, project.repo
    recovery = None
    with repo.start_ls_remote(config.remote) as pending:  # the remote answers while we read
        if ReleaseLock(repo).path.exists():  # a run was interrupted: its fate needs the remote
            from release_tool.steps import recover

            remote, remote_error = _remote_state(pending)
            recovery = recover.inspect(project, remote)
        overlay = recovery.files if recovery and recovery.kind == "rollback" else {}
        found = read_file_versions(project, overlay)
        working = repo.state()
        local_tags = repo.local_tags()
        rolled_back = recovery is not None and recovery.kind == "rollback"
        current = current_version(
            project,
            found,
            request,
            head=(recovery.head if recovery and rolled_back else None) or working.head,
            ignore=recovery.tags if recovery and rolled_back else (),
        )
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
    if not resumed:
        problems += own_lock_problems(project, overlay)

    try:
        log = plan_changelog(project, new, request.today, overlay)
        unreadable = False
    except ReleaseError as exc:  # two headings for the version, nothing to stamp
        problems.append(exc)
        log, unreadable = None, True
    notes = log.notes if log else ""
    if not notes.strip() and not request.allow_empty_notes and not unreadable:
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
    if previous == NO_RELEASE:
        previous = None  # the first release
    return Facts(
        current=current,
        new=new,
        tag=tag_name(config, new),
        head=head,
        remote=remote,
        notes=notes,
        resumed=resumed,
        changelog=(log.old, log.stamped) if log else None,
        previous=previous,
        found=tuple(found),
        recovery=recovery,
        observed_head=observed_head,
        notes_markdown=log.notes_markdown if log else "",
        warnings=log.warnings if log else (),
    )


def plan(ctx: Planning) -> StepPlan:
    config, facts = ctx.project.config, ctx.facts
    if version_source(ctx.project) == "tag":
        since = "no release tag reachable from HEAD yet" if facts.current == NO_RELEASE else ""
        source = f"version from tags: {since or facts.current}"
    else:
        source = f"version files agree on {facts.current}"
    notes = [
        source,
        f"on {config.branch}, clean, up to date with {config.remote}",
    ]
    if facts.resumed:
        notes.append(f"HEAD is already tagged {facts.tag}: finishing that release")
    notes += [f"warning: {warning}" for warning in facts.warnings]
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
    for where, tags in (("locally", local_tags), (f"on {config.remote}", remote.tags)):
        at = tags.get(tag)
        if at is not None and not (resumed and at == head):
            problems.append(
                UsageError(
                    f"tag {tag} already exists {where}, on commit {at[:12]}",
                    f"{new} was released before: pick another version, or delete the stale tag",
                )
            )
    return problems
