"""The `preflight` step: read everything once, decide the versions, report every problem.

`survey` is what planning starts with (after `recover` has looked at the lock journal): the
version files, the working copy, local and remote tags, the changelog and its notes. It
returns the `Facts` every later step plans on — when the versions could be decided — and
every problem found, all of them: disagreeing files do not hide a dirty tree, missing notes or
a stale tag. `gather` is the same, raising the problems. `plan` shows the checks that passed.

Versions: `major|minor|patch|release|pre|X.Y.Z` always name a new version computed from the
files'; only `current` (or the explicit version the files already say, tagged at HEAD: an
interrupted release of exactly that version, as is a run the lock journal says had pushed)
finishes a release HEAD already carries. A version tagged in any spelling (`X.Y.Z`, `vX.Y.Z`,
the configured format) is released: its tag is that one, and no second spelling is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from typing import NamedTuple

from release_tool.errors import PreflightError, ReleaseError, UsageError, VersionError
from release_tool.git_repo import (
    PendingRead,
    PendingReadiness,
    PendingRemote,
    RemoteState,
    WorkingState,
    credentials_refused,
)
from release_tool.plan import StepPlan
from release_tool.project import (
    NPM_KINDS,
    Facts,
    FileVersion,
    LocalCommit,
    Project,
    Recovery,
    ReleaseRequest,
    release_tag,
    releases_before,
    tag_spellings,
)
from release_tool.release_lock import ReleaseLock
from release_tool.steps import NAMES
from release_tool.steps.base import Planning
from release_tool.steps.files import (
    NO_RELEASE,
    check_order,
    current_version,
    own_lock_problems,
    plan_changelog,
    read_file_versions,
    real_relpath,
    resolve_version,
    version_source,
)
from release_tool.versions import Version

NAME = "preflight"
ALLOW_UNPUSHED = "--allow-unpushed"


class Survey(NamedTuple):
    """What preflight found: the facts (None when no version could be decided), and every
    problem that stops the release. (A NamedTuple: a plain reading, made fast at start-up.)"""

    facts: Facts | None
    problems: tuple[ReleaseError, ...]


def combined(problems: list[ReleaseError] | tuple[ReleaseError, ...]) -> ReleaseError:
    """One error for one or more problems (the first one's own when alone)."""
    unique = list({p.message: p for p in problems}.values())
    return unique[0] if len(unique) == 1 else PreflightError(unique)


def gather(
    project: Project, request: ReleaseRequest, steps: frozenset[str] = frozenset(NAMES)
) -> Facts:
    """Read the world, decide the versions and the tag; raise every problem at once."""
    found = survey(project, request, steps)
    if found.problems or found.facts is None:
        raise combined(found.problems)
    return found.facts


def survey(
    project: Project, request: ReleaseRequest, steps: frozenset[str] = frozenset(NAMES)
) -> Survey:
    """Read the world and decide the versions and the tag, collecting every problem.

    `steps` are the steps the request selects (the pipeline decides): what the commit and the
    tag need (an identity, a signing key, tracked version files) is checked only when they
    are made."""
    config, repo = project.config, project.repo
    # The git reads that need no earlier answer answer while the files are read and the
    # changelog parsed: the remote (a network round trip), the working copy and the tags now,
    # what the commit and the tag need once those are in (`_survey`), so that on a small
    # machine the processes do not all compete at once.
    with ExitStack() as reads:
        pending = reads.enter_context(repo.start_ls_remote(config.remote, project.network_timeout))
        state = reads.enter_context(repo.start_state())
        tags = reads.enter_context(repo.start_local_tags())
        return _survey(project, request, steps, reads, pending, state, tags)


def _survey(
    project: Project,
    request: ReleaseRequest,
    steps: frozenset[str],
    reads: ExitStack,
    pending: PendingRemote,
    state: PendingRead[WorkingState],
    tags: PendingRead[dict[str, str]],
) -> Survey:
    """`survey`, on the git reads it started (`reads` stops whatever is left uncollected)."""
    config, repo = project.config, project.repo
    problems: list[ReleaseError] = []
    recovery: Recovery | None = None
    found: list[FileVersion] = []
    if ReleaseLock(repo).path.exists():  # a run was interrupted: its fate needs the remote
        from release_tool.steps import recover

        remote, remote_error = _remote_state(pending)
        recovery = recover.inspect(project, remote, tags.result())
    overlay = recovery.files if recovery and recovery.kind == "rollback" else {}
    try:
        found = read_file_versions(project, overlay)
    except UsageError as exc:
        problems.append(exc)
    working = state.result()
    local_tags = tags.result()
    # What the commit and the tag need (checked only when they are made), asked about every
    # file the commit may hold: which of them it holds is known only later.
    ready = (
        reads.enter_context(
            repo.start_readiness(_commit_paths(project) if "commit" in steps else [])
        )
        if steps & {"commit", "tag"}
        else None
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
    reachable = remote is not None
    if remote is None:
        problems.append(_unreachable(project, remote_error))
        remote = RemoteState(heads={}, tags={})

    rolled_back = recovery is not None and recovery.kind == "rollback"
    source = version_source(project)  # pyproject.toml read once
    current = _current(
        project,
        found,
        request,
        problems,
        head=(recovery.head if recovery and rolled_back else None) or working.head,
        ignore=recovery.tags if recovery and rolled_back else (),
        source=source,
    )
    # A HEAD that already carries the current version's tag (any spelling) is a release in
    # progress (or done): `current`, or that very version asked for explicitly, finishes it.
    at_head = [
        tag
        for tag in (tag_spellings(config, current) if current else ())
        if head in (local_tags.get(tag), remote.tags.get(tag))
    ]
    asked = request.bump
    finishing = (
        asked.is_current
        or (asked.version is not None and asked.version == current)
        or (recovery is not None and recovery.kind == "finish")
    )
    resumed = bool(finishing and at_head and not request.sync)
    new = current if resumed else _new(project, request, current, problems)

    problems += _git_problems(project, working, local_tags, remote, new, resumed, reachable)
    unpushed = _unpushed(project, working, remote, resumed) if reachable else ()
    if new is None:
        return Survey(None, tuple(problems))
    if not resumed:
        problems += own_lock_problems(project, overlay)

    try:
        markdown = bool(steps & {"github-release", "downstream"})  # who shows it as Markdown
        log = plan_changelog(project, new, request.today, overlay, markdown=markdown)
        unreadable = False
    except ReleaseError as exc:  # two headings for the version, nowhere to stamp one
        problems.append(exc)
        log, unreadable = None, True
    if not resumed:
        stamped = (log.old, log.stamped) if log else None
        problems += _write_problems(project, steps, found, new, stamped, ready)
    notes = log.notes if log else ""
    notes_markdown = log.notes_markdown if log else ""
    warnings = log.warnings if log else ()
    tag = at_head[0] if resumed else release_tag(config, new, local_tags, remote.tags)
    if config.release_notes != "changelog":  # GitHub's generated notes, or the commits
        from release_tool.steps.notes import plan_notes

        try:
            picked = plan_notes(
                project, new=new, head=head, tag=tag, remote_tags=remote.tags, steps=steps
            )
            notes = notes_markdown = picked.markdown
            warnings = (*warnings, *picked.warnings)
        except ReleaseError as exc:
            problems.append(exc)
            notes = notes_markdown = ""
    elif not notes.strip() and not request.allow_empty_notes and not unreadable:
        where = config.changelog or "the changelog (none configured)"
        problems.append(
            UsageError(
                f"no release notes for {new} in {where}",
                "write them under 'Unreleased' (or a [X.Y.Z] section), or pass --allow-empty-notes",
            )
        )

    from_tags = source == "tag"
    if not found and not from_tags:  # a version file could not be read: nothing to edit
        return Survey(None, tuple(problems))
    if current is None:
        if not found:
            return Survey(None, tuple(problems))
        current = max(f.version for f in found)
    if current != new:
        previous: Version | None = current
    else:
        previous = releases_before(config, project.repo.local_tags(merged=head), new)
    if previous == NO_RELEASE:
        previous = None  # the first release
    facts = Facts(
        current=current,
        new=new,
        tag=tag,
        head=head,
        remote=remote,
        notes=notes,
        resumed=resumed,
        changelog=(log.old, log.stamped) if log else None,
        previous=previous,
        found=tuple(found),
        recovery=recovery,
        observed_head=observed_head,
        unpushed=unpushed,
        notes_markdown=notes_markdown,
        warnings=warnings,
        version_source=source,
    )
    return Survey(facts, tuple(problems))


def plan(ctx: Planning) -> StepPlan:
    config, facts = ctx.project.config, ctx.facts
    upstream = f"{config.remote}/{config.branch}"
    if ctx.facts.version_source == "tag":
        since = "no release tag reachable from HEAD yet" if facts.current == NO_RELEASE else ""
        notes = [f"version from tags: {since or facts.current}"]
    else:
        notes = [f"version files agree on {facts.current}"]
    if not facts.unpushed:
        notes.append(f"on {config.branch}, clean, up to date with {upstream}")
    else:
        notes.append(
            f"warning: on {config.branch}, clean, and {len(facts.unpushed)} commit(s) ahead of "
            f"{upstream}, which the push publishes: "
            + "; ".join(str(commit) for commit in facts.unpushed)
        )
        if not ctx.request.allow_unpushed:
            notes.append(f"a real run refuses to publish them without {ALLOW_UNPUSHED}")
    if facts.resumed:
        notes.append(f"HEAD is already tagged {facts.tag}: finishing that release")
    notes += [f"warning: {warning}" for warning in facts.warnings]
    return StepPlan(NAME, notes=tuple(notes))


def unpushed_problem(project: Project, facts: Facts) -> UsageError:
    """Why a real run refuses to push commits nobody has seen on the remote."""
    config = project.config
    shown = "; ".join(str(commit) for commit in facts.unpushed[:5])
    more = f"; and {len(facts.unpushed) - 5} more" if len(facts.unpushed) > 5 else ""
    return UsageError(
        f"the push would publish {len(facts.unpushed)} commit(s) besides the release commit "
        f"that {config.remote}/{config.branch} does not have: {shown}{more}",
        f"review them (git log {config.remote}/{config.branch}..HEAD) and push them through "
        f"review first, or pass {ALLOW_UNPUSHED} to publish them with the release",
    )


def _current(
    project: Project,
    found: list[FileVersion],
    request: ReleaseRequest,
    problems: list[ReleaseError],
    *,
    head: str,
    ignore: Sequence[str],
    source: str,
) -> Version | None:
    """The current version (the files', or the last tag's); on a disagreement an explicit
    version still gets planned (for its own problems), a bump word cannot be."""
    try:
        return current_version(project, found, request, head=head, ignore=ignore, source=source)
    except UsageError as exc:
        problems.append(exc)
    return None


def _new(
    project: Project,
    request: ReleaseRequest,
    current: Version | None,
    problems: list[ReleaseError],
) -> Version | None:
    """The version to release (None when it cannot be decided); its problems collected."""
    new = request.bump.version if current is None else None
    try:
        if current is not None:
            new = resolve_version(current, request)
            check_order(current, new, request)
    except UsageError as exc:
        problems.append(exc)
    if new is not None and new.unspellable_in_semver:
        npm = [vf.path for vf in project.config.version_files if vf.kind in NPM_KINDS]
        if npm:
            problems.append(
                VersionError(
                    f"{new} is {new.unspellable_in_semver}, which npm cannot spell "
                    f"({', '.join(npm)} hold a SemVer version)",
                    "release X.Y.Z or a pre-release X.Y.ZaN / bN / rcN; .devN and .postN "
                    "releases are for packages with no npm version file",
                )
            )
    return new


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
    new: Version | None,
    resumed: bool,
    reachable: bool,
) -> list[ReleaseError]:
    config = project.config
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
    switch = f"git switch {config.branch} (or set `branch` in the config)"
    if branch is None:
        problems.append(
            UsageError(f"HEAD is detached at {head[:12]}, not on {config.branch!r}", switch)
        )
    elif branch != config.branch:
        problems.append(UsageError(f"on branch {branch!r}, not {config.branch!r}", switch))
    elif reachable:
        problems += _upstream_problems(project, head, remote)
    for tag in tag_spellings(config, new) if new else ():
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
                    f"{tag} is already on {config.remote}: {new} was released; pick another "
                    "version",
                )
            )
    return problems


def _write_problems(
    project: Project,
    steps: frozenset[str],
    found: list[FileVersion],
    new: Version,
    stamped: tuple[str, str] | None,
    pending: PendingReadiness | None,
) -> list[ReleaseError]:
    """What predictably fails in the middle of the release, found before it starts: no
    committer identity, a signing key git cannot use, a version file git does not track.
    `pending` is git's answer under way (`survey` started it when the commit or the tag is made)."""
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
    if not (commit or tag) or pending is None:  # (pending: started whenever either is made)
        return []
    paths = list(dict.fromkeys(real_relpath(project, path) for path in edited)) if commit else []
    ready = pending.result(paths)
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
    if not (config.sign or ready.signing):
        return problems  # nothing asks git to sign: nothing to check (nor to import)
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


def _commit_paths(project: Project) -> list[str]:
    """Every file a release commit may hold, as git names it: the version files and the
    changelog (a path that cannot be named is refused when it is read, not here)."""
    config = project.config
    named = [vf.path for vf in config.version_files]
    if config.changelog:
        named.append(config.changelog)
    paths = []
    for path in dict.fromkeys(named):
        try:
            paths.append(real_relpath(project, path))
        except UsageError:
            continue
    return list(dict.fromkeys(paths))


def _upstream_problems(project: Project, head: str, remote: RemoteState) -> list[ReleaseError]:
    """The configured branch against the remote's: missing there, behind, or diverged."""
    config, repo = project.config, project.repo
    upstream = f"{config.remote}/{config.branch}"
    remote_head = remote.heads.get(config.branch)
    pull = f"git pull --ff-only {config.remote} {config.branch}, then run again"
    if remote_head is None:
        return [
            UsageError(
                f"{config.remote} has no branch {config.branch!r}",
                f"push it through review first (git push {config.remote} {config.branch}), "
                "or set `branch` in the config to the branch releases are made from",
            )
        ]
    if remote_head == head:
        return []
    if not repo.has_commit(remote_head):
        said = f"{config.remote} has commits this clone has not fetched"
        return [UsageError(f"{config.branch!r} is behind {upstream} ({said})", pull)]
    if repo.is_ancestor(remote_head, head):
        return []  # ahead: the commits the push would publish are listed, not refused here
    if repo.is_ancestor(head, remote_head):
        behind = len(repo.commits_between(head, remote_head))
        return [UsageError(f"{config.branch!r} is behind {upstream} by {behind} commit(s)", pull)]
    return [
        UsageError(
            f"{config.branch!r} and {upstream} have diverged",
            f"git pull --rebase {config.remote} {config.branch} (or reset to {upstream}), "
            "then run again",
        )
    ]


def _unpushed(
    project: Project, working: WorkingState, remote: RemoteState, resumed: bool
) -> tuple[LocalCommit, ...]:
    """The commits HEAD has that the remote's branch lacks, but for the release commit (HEAD,
    when it already carries the release's tag)."""
    config, repo = project.config, project.repo
    remote_head = remote.heads.get(config.branch)
    head = working.head
    if (
        working.branch != config.branch
        or remote_head is None
        or remote_head == head
        or not repo.has_commit(remote_head)
        or not repo.is_ancestor(remote_head, head)
    ):
        return ()
    commits = [
        LocalCommit(sha, subject) for sha, subject in repo.commits_between(remote_head, head)
    ]
    if resumed:
        commits = [c for c in commits if c.sha != head]
    return tuple(commits)


__all__ = ["ALLOW_UNPUSHED", "Survey", "combined", "gather", "plan", "survey", "unpushed_problem"]
