"""The release pipeline: plan every step with reads only, then apply the same actions in order.

preflight → bump → commit → tag → push ──► github-release → wait-for-index → downstream → email

`plan_release` looks at the world (files, local and remote refs, later GitHub) and returns a
`ReleasePlan`: a dry run prints it, a real run prints it and hands it to `apply_plan`. A step
with nothing left to do is planned as skipped with the reason, which is how a re-run after a
failure converges instead of repeating work. Before the push, a failed action rolls back the
local actions already applied; after it, nothing is undone and the error says to re-run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from release_tool import changelog, rendering
from release_tool.config import Config
from release_tool.errors import (
    Interrupted,
    PreflightError,
    ReleaseError,
    StepFailed,
    UsageError,
    VersionError,
)
from release_tool.files import editor_for
from release_tool.files.write import WriteFileAction, read_text
from release_tool.git_repo import (
    CommitAction,
    GitRepo,
    PendingRemote,
    PreImage,
    PushAction,
    ReleaseLock,
    RemoteState,
    TagAction,
    WorkingState,
    credentials_refused,
)
from release_tool.plan import Action, Outcome, ReleasePlan, StepPlan, Undoable
from release_tool.versions import Version, bump, check_newer, parse_file_version, parse_version

STEPS = (
    "preflight",
    "bump",
    "commit",
    "tag",
    "push",
    "github-release",
    "wait-for-index",
    "downstream",
    "email",
)
BUMP_WORDS = ("major", "minor", "patch", "release", "pre", "current")
NPM_KINDS = ("package_json", "npm_lockfile")


@dataclass(frozen=True)
class Project:
    """The repository being released, its config, and the credentials the run may use."""

    root: Path
    config: Config
    repo: GitRepo
    token: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    # Where long waits (the package index) report progress; the CLI shows it on its spinner.
    progress: Callable[[str], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReleaseRequest:
    """What the user asked for on the command line."""

    bump: str
    pre: str | None = None
    allow_downgrade: bool = False
    allow_empty_notes: bool = False
    sync: bool = False
    send_email: bool = False
    skip: frozenset[str] = frozenset()
    only: frozenset[str] = frozenset()
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class FileVersion:
    """One version location in one file, as read."""

    path: str
    where: str
    line: int
    text: str
    version: Version
    source: str = field(repr=False, compare=False)  # the whole file, as read: what an edit edits


# --- versions in files and tags ---------------------------------------------------------------


def read_file_versions(project: Project) -> list[FileVersion]:
    """Every version location of every configured version file."""
    found = []
    for vf in project.config.version_files:
        text = _read(project.root, vf.path)
        for location in editor_for(vf.kind).read(text, vf.path):
            version = parse_file_version(location.text, vf.kind)
            found.append(
                FileVersion(vf.path, location.where, location.line, location.text, version, text)
            )
    return found


def _read(root: Path, relpath: str) -> str:
    try:
        return read_text(root / relpath)
    except FileNotFoundError:
        raise UsageError(
            f"{relpath}: file not found", "fix the path in [tool.release_tool] version_files"
        ) from None


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
    if request.bump in BUMP_WORDS:
        raise UsageError("--sync needs an explicit version", "e.g. release-tool bump 5.3.0 --sync")
    return max(f.version for f in found)


def tag_name(config: Config, version: Version) -> str:
    return config.tag_format.format(version=version.pep440)


def version_of_tag(config: Config, tag: str) -> Version | None:
    """The version a tag names: the configured format, or the bare/`v` spellings of old tags."""
    prefix, suffix = config.tag_format.split("{version}")
    candidates = [tag.removeprefix("v"), tag]
    if tag.startswith(prefix) and tag.endswith(suffix):
        candidates.insert(0, tag[len(prefix) : len(tag) - len(suffix) if suffix else None])
    for candidate in candidates:
        if re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", candidate):
            return parse_version(candidate)
    return None


def last_release(config: Config, tags: Mapping[str, str]) -> tuple[str, Version] | None:
    """The highest version tag; non-version tags (`release-2015-07-29`, `npmv1.0.0`) ignored."""
    releases = [(v, t) for t in tags if (v := version_of_tag(config, t)) is not None]
    if not releases:
        return None
    version, tag = max(releases)
    return tag, version


# --- planning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What planning learned, shared by the steps after preflight."""

    current: Version
    new: Version
    tag: str
    head: str
    remote: RemoteState
    notes: str
    resumed: bool
    changelog: tuple[str, str] | None  # the changelog as it is, and stamped for `new`
    previous: Version | None  # the release before this one, for "upgrade from X" wording


def resolve_version(current: Version, request: ReleaseRequest) -> Version:
    """The version asked for: a bump word applied to `current`, or an explicit version."""
    if request.bump == "current":
        if request.pre:
            raise UsageError(
                "--pre does not go with 'current'", "'current' releases what the files already say"
            )
        return current
    if request.bump in BUMP_WORDS:
        return bump(current, request.bump, request.pre)
    if request.pre:
        raise UsageError(
            "--pre does not go with an explicit version",
            f"write the pre-release into the version, e.g. {request.bump}rc1",
        )
    return parse_version(request.bump)


AfterPush = Callable[[Project, "Facts", ReleaseRequest], list[StepPlan]]


def selected(request: ReleaseRequest, step: str) -> bool:
    """Whether --skip/--only leave `step` in; a step left out is not even planned."""
    return step == "preflight" or (
        (not request.only or step in request.only) and step not in request.skip
    )


def plan_release(
    project: Project, request: ReleaseRequest, remote_steps: AfterPush | None = None
) -> ReleasePlan:
    """Plan the whole release with reads only. Raises if the release cannot go ahead."""
    _check_step_names(request)
    config, repo = project.config, project.repo
    with repo.start_ls_remote(config.remote) as pending:  # the remote answers while we read
        found = read_file_versions(project)
        working = repo.state()
        local_tags = repo.local_tags()
        current = current_version(found, request)
        remote, remote_error = _remote_state(pending)
    head = working.head

    # A HEAD that already carries the current version's tag is a release in progress (or done):
    # the same command again finishes it instead of bumping a second time.
    current_tag = tag_name(config, current)
    resumed = local_tags.get(current_tag) == head and request.bump in (*BUMP_WORDS, current.pep440)
    if not resumed and remote is not None:
        resumed = remote.tags.get(current_tag) == head and request.bump in (
            *BUMP_WORDS,
            current.pep440,
        )
    new = current if resumed else resolve_version(current, request)
    if not resumed and request.bump != "current":
        _check_order(current, new, request)

    problems: list[ReleaseError] = []
    if remote is None:
        problems.append(_unreachable(config, remote_error))
        remote = RemoteState(heads={}, tags={})
    problems += _git_problems(project, working, local_tags, remote, new, resumed)

    stamped = _stamp_changelog(project, new, request.today)
    notes = ""
    if config.changelog and stamped:
        fmt = changelog.changelog_format(config.changelog)
        notes = changelog.release_notes(stamped[1], new, fmt) or ""
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

    earlier = [
        v for t in {**local_tags, **remote.tags} if (v := version_of_tag(config, t)) and v < new
    ]
    previous = current if current != new else max(earlier, default=None)
    facts = Facts(
        current, new, tag_name(config, new), head, remote, notes, resumed, stamped, previous
    )
    steps = [StepPlan("preflight", notes=_preflight_notes(project, facts))]
    steps += _plan_local(project, facts, found, request)
    steps += (remote_steps or _after_push)(project, facts, request)
    listeners: tuple[Callable[[Mapping[str, str]], None], ...] = ()
    if selected(request, "email"):
        known = {key: value for step in steps for key, value in step.outputs.items()}
        email_step, board = _plan_email(project, facts, request, known)
        steps.append(email_step)
        listeners = (board.record,)
    return ReleasePlan(
        config.package,
        current,
        new,
        facts.tag,
        tuple(_filter(steps, request)),
        resumed=resumed,
        head=head,
        listeners=listeners,
    )


def _after_push(project: Project, facts: Facts, request: ReleaseRequest) -> list[StepPlan]:
    """github-release, wait-for-index and downstream, each planned only if selected."""
    if not any(selected(request, s) for s in ("github-release", "wait-for-index", "downstream")):
        return []  # a local-only run never needs a token, PyGithub or the network
    from release_tool.remote_steps import plan_remote_steps

    return [s for s in plan_remote_steps(project, facts, request) if selected(request, s.name)]


def _plan_email(
    project: Project, facts: Facts, request: ReleaseRequest, known: Mapping[str, str]
) -> tuple[StepPlan, Any]:
    """The email step, and the link board that hears the release and PR URLs: those that
    already exist now (`known`), and those the run creates, as it creates them."""
    from release_tool.email import LinkBoard
    from release_tool.email_step import EmailFacts, plan_email_step

    board = LinkBoard()
    board.record(known)
    email_facts = EmailFacts(facts.new, facts.previous, facts.tag, facts.notes, request.today)
    return plan_email_step(project, email_facts, send=request.send_email, links=board), board


def plan_bump(project: Project, request: ReleaseRequest) -> ReleasePlan:
    """Only the file edits (`release-tool bump`): no git checks, no commit."""
    found = read_file_versions(project)
    current = current_version(found, request)
    new = resolve_version(current, request)
    if request.bump != "current":
        _check_order(current, new, request)
    actions = _file_edits(project, found, new, _stamp_changelog(project, new, request.today))
    step = StepPlan(
        "bump", tuple(actions), skipped=None if actions else f"the files already say {new}"
    )
    return ReleasePlan(project.config.package, current, new, tag_name(project.config, new), (step,))


def _check_order(current: Version, new: Version, request: ReleaseRequest) -> None:
    if request.sync and new == current:
        return  # --sync to the highest version the files already hold is allowed
    check_newer(current, new, request.allow_downgrade)


def _check_step_names(request: ReleaseRequest) -> None:
    for name in sorted(request.skip | request.only):
        if name not in STEPS:
            raise UsageError(f"unknown step {name!r}", f"steps: {', '.join(STEPS)}")
    if "preflight" in request.skip:
        raise UsageError("preflight cannot be skipped", "its checks protect the release")


def _filter(steps: list[StepPlan], request: ReleaseRequest) -> list[StepPlan]:
    """Every pipeline step in order: as planned, or skipped with the reason."""
    planned = {step.name: step for step in steps}
    out = []
    for name in STEPS:
        if not selected(request, name):
            out.append(StepPlan(name, skipped="not selected (--skip/--only)"))
        elif name in planned:
            out.append(planned[name])
    return out


def _remote_state(pending: PendingRemote) -> tuple[RemoteState | None, ReleaseError | None]:
    """The remote's refs, or why they could not be read (a preflight problem, reported with
    the others rather than alone)."""
    try:
        return pending.result(), None
    except ReleaseError as exc:
        return None, exc


def _unreachable(config: Config, error: ReleaseError | None) -> ReleaseError:
    said = error.message.removeprefix(f"remote {config.remote!r} is unreachable: ") if error else ""
    if credentials_refused(said):
        return UsageError(
            f"remote {config.remote!r} refused the credentials: {said}",
            "check GITHUB_TOKEN (or GH_TOKEN): it must be valid and allowed to push here",
        )
    return UsageError(
        f"remote {config.remote!r} is unreachable" + (f": {said}" if said else ""),
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


def _preflight_notes(project: Project, facts: Facts) -> tuple[str, ...]:
    config = project.config
    notes = [
        f"version files agree on {facts.current}",
        f"on {config.branch}, clean, up to date with {config.remote}",
    ]
    if facts.resumed:
        notes.append(f"HEAD is already tagged {facts.tag}: finishing that release")
    return tuple(notes)


def _plan_local(
    project: Project, facts: Facts, found: list[FileVersion], request: ReleaseRequest
) -> list[StepPlan]:
    config, repo = project.config, project.repo
    if facts.resumed:
        done = f"already done: HEAD is {facts.tag}"
        steps = [
            StepPlan("bump", skipped=done),
            StepPlan("commit", skipped=done),
            StepPlan("tag", skipped=done),
        ]
    else:
        edits = _file_edits(project, found, facts.new, facts.changelog)
        context = {
            "package": config.package,
            "version": facts.new.pep440,
            "previous_version": facts.current.pep440,
            "tag": facts.tag,
        }
        if config.commit_message:
            message = rendering.render_string(
                config.commit_message, context, what="tool.release_tool.commit_message"
            )
        else:
            message = rendering.render(
                "commit_message.txt.j2", context, override_dir=_templates_dir(project)
            )
        message = message.strip() + "\n"
        bump_step = (
            StepPlan("bump", tuple(edits))
            if edits
            else StepPlan("bump", skipped=f"the files already say {facts.new}")
        )
        commit_step = (
            StepPlan(
                "commit",
                (CommitAction(repo, tuple(a.relpath for a in edits), message, parent=facts.head),),
            )
            if edits
            else StepPlan("commit", skipped="nothing to commit")
        )
        tag_message = f"{config.package} {facts.new}\n\n{facts.notes}".strip() + "\n"
        steps = [
            bump_step,
            commit_step,
            StepPlan("tag", (TagAction(repo, facts.tag, tag_message, config.sign),)),
        ]

    refspecs = []
    will_commit = any(s.name == "commit" and s.actions for s in steps)
    if will_commit or facts.remote.heads.get(config.branch) != facts.head:
        refspecs.append(f"HEAD:refs/heads/{config.branch}")
    if facts.remote.tags.get(facts.tag) is None:
        refspecs.append(f"refs/tags/{facts.tag}")
    push = (
        StepPlan("push", (PushAction(repo, config.remote, tuple(refspecs)),))
        if refspecs
        else StepPlan("push", skipped=f"already done: {facts.tag} is on {config.remote}")
    )
    return [*steps, push]


def _templates_dir(project: Project) -> Path | None:
    return project.root / project.config.templates if project.config.templates else None


def _stamp_changelog(project: Project, new: Version, today: date) -> tuple[str, str] | None:
    """The changelog as it is and as stamped for `new`; None when none is configured."""
    path = project.config.changelog
    if not path:
        return None
    text = _read(project.root, path)
    return text, changelog.stamp(text, new, today, changelog.changelog_format(path))


def _file_edits(
    project: Project,
    found: list[FileVersion],
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
                WriteFileAction(project.root / vf.path, vf.path, old, text, f"{was} → {spelled}")
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
            )
        )
    return edits


# --- applying ------------------------------------------------------------------------------


class Observer(Protocol):
    """How the CLI follows a run (progress lines); the pipeline itself never prints."""

    def action_started(self, action: Action) -> None: ...

    def action_done(self, action: Action, outcome: Outcome) -> None: ...

    def action_failed(self, action: Action, error: BaseException) -> None: ...


@dataclass
class RunResult:
    """What a run did: each applied action's description and outcome, and merged outputs."""

    applied: list[tuple[str, str, Outcome]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)


POINT_OF_NO_RETURN = "push"


def recover_interrupted(project: Project) -> str | None:
    """Finish off a run that was killed outright (its lock is left behind): see ReleaseLock."""
    return ReleaseLock(project.repo).recover(project.config.remote)


def run_release(project: Project, plan: ReleasePlan, observer: Observer | None = None) -> RunResult:
    """Apply a release plan under the repository's release lock.

    The lock keeps a second release of this repository from starting while this one runs, and
    records the local state before it, so a run killed outright can be rolled back by the next.
    """
    files = {a.relpath: a.old for a in plan.actions if isinstance(a, WriteFileAction)}
    tags = [a.name for a in plan.actions if isinstance(a, TagAction)]
    lock = ReleaseLock(project.repo)
    working = project.repo.state()
    lock.acquire(PreImage(working.head, files, tags[0] if tags else None, working.branch))
    try:
        if plan.head is not None and working.head != plan.head:
            raise UsageError(
                "the repository changed after the plan was made",
                "run the same command again to plan on what is there now",
            )
        return apply_plan(plan, observer)
    finally:
        lock.release()


def apply_plan(plan: ReleasePlan, observer: Observer | None = None) -> RunResult:
    """Apply every action in order; roll back local ones if anything fails before the push."""
    result = RunResult(outputs=plan.known_outputs)
    undo_stack: list[Undoable] = []
    pushed = False
    for action in plan.actions:
        if observer:
            observer.action_started(action)
        try:
            outcome = action.apply()
        except (Exception, KeyboardInterrupt) as exc:
            if observer:
                observer.action_failed(action, exc)
            rolled_back = "" if pushed else _roll_back(undo_stack)
            raise _failure(action, exc, pushed, rolled_back) from exc
        result.applied.append((action.step, action.describe(), outcome))
        result.outputs.update(outcome.outputs)
        for listener in plan.listeners:
            listener(outcome.outputs)
        if isinstance(action, Undoable):
            undo_stack.append(action)
        if action.step == POINT_OF_NO_RETURN:
            pushed = True
        if observer:
            observer.action_done(action, outcome)
    return result


def _roll_back(undo_stack: list[Undoable]) -> str:
    failures = []
    for action in reversed(undo_stack):
        try:
            action.undo()
        except Exception as exc:  # keep undoing the rest; report what could not be undone
            failures.append(f"{type(exc).__name__}: {exc}")
    if failures:
        return "; rollback incomplete: " + "; ".join(failures)
    return "; local changes rolled back" if undo_stack else ""


def _failure(action: Action, exc: BaseException, pushed: bool, rolled_back: str) -> ReleaseError:
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted(
            f"interrupted during {action.step}{rolled_back}",
            "run the same command again to finish" if pushed else "",
        )
    reason = exc.message if isinstance(exc, ReleaseError) else f"{type(exc).__name__}: {exc}"
    hint = exc.hint if isinstance(exc, ReleaseError) and exc.hint else ""
    again = (
        "run the same command again to finish the release"
        if pushed
        else "fix the cause and run the same command again"
    )
    if "same command again" in hint:  # the step's own hint already says it
        again = ""
    return StepFailed(
        f"{action.step} failed: {reason}{rolled_back}", "; ".join(h for h in (hint, again) if h)
    )


__all__ = [
    "STEPS",
    "FileVersion",
    "Project",
    "ReleaseRequest",
    "RunResult",
    "VersionError",
    "apply_plan",
    "plan_bump",
    "plan_release",
]
