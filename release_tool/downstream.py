"""The downstream step: upgrade the released package's pins in each downstream repository.

For each `[[tool.release_tool.downstream]]` entry, with no clone and reads only while planning:

1. GET the repository (its default branch, and whether the token may push: if not, the change
   goes through the token user's fork);
2. list the base branch's tree once, recursively (GitHub takes the branch name for the tree, so
   the branch's commit is not read until the apply needs it);
3. match the `files` globs (fnmatch on posix paths) and the `constraints` files that exist, and
   read only those blobs (each distinct blob once);
4. edit the pin lines with `files.requirements.update_pins` (pure, all or nothing: a hashed
   file, a pin newer than the release or an unparseable pin is an error now, before anything
   is written);
5. look for the tool's open pull request (`pulls?head=OWNER:BRANCH`).

The result is one `DownstreamPRAction` per entry (or a note saying why there is nothing to do),
whose `apply` re-reads the base branch, then writes one commit through the Git Data API (a tree
with `base_tree` and inline contents, a commit on the base head), points the tool's branch at
it, and opens the pull request or updates it in place. Every point of that sequence is safe to
die at: the re-run's plan sees what exists and does the rest.

Convergence without extra reads: the tree the commit will have is computed locally (git's own
object hashing, from the listing we already have), so an open PR whose head commit has that tree
is known to be current with a single GET of that commit, and a failed tree POST is checked with a
GET of the sha it would have made.

`strategy = "dispatch"` entries run the downstream's own upgrade workflow instead
(`DispatchWorkflowAction`), with inputs rendered from the entry's templates.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from release_tool import rendering
from release_tool.config import Config, DownstreamConfig
from release_tool.errors import FileEditError, ReleaseError, StepFailed, UsageError
from release_tool.files.requirements import PinChange, PinEdit, pins_of, update_pins
from release_tool.files.write import unified_diff
from release_tool.github_api import GitHub, PullInfo, RepoInfo, TreeEntry, TreeListing
from release_tool.plan import Action, Outcome, StepPlan
from release_tool.versions import Version

STEP = "downstream"
# Regular files only: a symlink's blob is its target path, a submodule is not a file.
_FILE_MODES = ("100644", "100755")


@dataclass(frozen=True)
class Upgrade:
    """What is being rolled out downstream: the release, and how to link to it."""

    package: str
    version: Version
    tag: str
    notes: str
    release_url: str
    repository: str  # the library, owner/name
    repository_url: str
    previous: Version | None = None


# --- git object ids, computed locally ----------------------------------------------------------


def git_blob_sha(data: bytes) -> str:
    """The object id git gives a blob with this content."""
    return _git_object_sha("blob", data)


def _git_object_sha(kind: str, data: bytes) -> str:
    # SHA-1 is git's object naming here, not a security measure.
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def tree_sha_after(entries: Iterable[TreeEntry], changes: Mapping[str, bytes]) -> str:
    """The sha of the root tree listed by `entries` once the files in `changes` are replaced.

    `entries` is a complete recursive listing. Only the trees on the changed paths are rebuilt;
    every other tree keeps the sha GitHub listed.
    """
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for entry in entries:
        parent, name = posixpath.split(entry.path)
        children.setdefault(parent, {})[name] = (entry.mode, entry.sha)
        if entry.type == "tree":
            children.setdefault(entry.path, {})
    dirty: set[str] = set()
    for path, data in changes.items():
        parent, name = posixpath.split(path)
        mode = children.get(parent, {}).get(name, ("100644", ""))[0]
        children.setdefault(parent, {})[name] = (mode, git_blob_sha(data))
        while True:
            dirty.add(parent)
            if not parent:
                break
            parent = posixpath.dirname(parent)
    for directory in sorted(dirty, key=lambda d: d.count("/") + bool(d), reverse=True):
        sha = _tree_object_sha(children[directory])
        if directory:
            parent, name = posixpath.split(directory)
            children[parent][name] = ("040000", sha)
        else:
            return sha
    return _tree_object_sha(children[""])


def _tree_object_sha(items: Mapping[str, tuple[str, str]]) -> str:
    def sort_key(name: str) -> bytes:
        # git sorts a tree's entries by name, comparing a subtree's name as if it ended in '/'.
        is_tree = items[name][0] in ("040000", "40000")
        return (name + "/" if is_tree else name).encode()

    body = b"".join(
        f"{items[name][0].lstrip('0')} {name}".encode() + b"\0" + bytes.fromhex(items[name][1])
        for name in sorted(items, key=sort_key)
    )
    return _git_object_sha("tree", body)


# --- reading the downstream's pins --------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One downstream file the PR changes."""

    path: str
    mode: str
    edit: PinEdit
    constraints: bool


@dataclass(frozen=True)
class Pins:
    """What the base branch says: its tree, and the edit of every file read."""

    listing: TreeListing
    edits: tuple[tuple[TreeEntry, PinEdit, bool], ...]  # (entry, edit, is a constraints file)

    @property
    def changes(self) -> tuple[FileChange, ...]:
        return tuple(
            FileChange(entry.path, entry.mode, edit, constraints)
            for entry, edit, constraints in self.edits
            if edit.changed
        )

    @property
    def already_current(self) -> bool:
        return not self.changes


def _where(index: int) -> str:
    return f"tool.release_tool.downstream[{index}]"


def read_pins(
    gh: GitHub, entry: DownstreamConfig, index: int, base: str, package: str, version: Version
) -> Pins:
    """List `base` once, read the matched files, and edit their pins (nothing written)."""
    repo = entry.repository
    listing = gh.tree(repo, base)
    if listing is None:
        raise UsageError(
            f"{repo} has no branch {base!r}", f"set `base` in {_where(index)} to an existing branch"
        )
    if listing.truncated:
        raise UsageError(
            f"{repo}@{base} has too many files to list in one request",
            "GitHub truncated the tree listing; use strategy = 'dispatch' for it",
        )
    files = {e.path: e for e in listing.entries if e.type == "blob" and e.mode in _FILE_MODES}
    chosen: dict[str, bool] = {}  # path → is a constraints file
    for glob in entry.files:
        hits = sorted(path for path in files if fnmatchcase(path, glob))
        if not hits:
            raise UsageError(
                f"{_where(index)}.files: {glob!r} matches no file in {repo}@{base}",
                "globs match paths from the repository root, e.g. 'requirements/edx/*.txt'",
            )
        for path in hits:
            chosen.setdefault(path, False)
    # A constraints file that is not in the tree costs nothing: it simply is not read.
    for path in entry.constraints:
        if path in files:
            chosen[path] = True

    texts: dict[str, str] = {}  # blob sha → text: identical files are read once
    edits = []
    for path, constraints in chosen.items():
        blob = files[path]
        if blob.sha not in texts:
            try:
                texts[blob.sha] = gh.blob(repo, blob.sha).decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(
                    f"{repo}: {path} is not UTF-8 text", f"leave it out of {_where(index)}.files"
                ) from None
        try:
            edit = update_pins(
                path,
                texts[blob.sha],
                package,
                version.pep440,
                raise_lower_bound=entry.raise_lower_bound,
                is_constraints=constraints,
            )
        except FileEditError as exc:
            raise FileEditError(f"{repo}@{base}: {exc.message}", exc.hint) from None
        edits.append((blob, edit, constraints))

    pinning = [
        edit
        for _, edit, constraints in edits
        if not constraints and (edit.changes or edit.already_current)
    ]
    if not pinning:
        read = ", ".join(f"{e.path} ({_presence(e)})" for _, e, c in edits if not c)
        raise UsageError(
            f"{repo}@{base} does not pin {package}: none of the files matched by "
            f"{_where(index)}.files does ({read})",
            f"point `files` at the requirements files that pin {package} with == or a git URL"
            + (
                ""
                if entry.raise_lower_bound
                else ", or set raise_lower_bound = true to raise `>=` bounds"
            ),
        )
    return Pins(listing, tuple(edits))


def _presence(edit: PinEdit) -> str:
    return {
        "requirement": "only a lower bound",
        "comment-only": "only in comments",
        "absent": "not mentioned",
    }[edit.presence]


# --- rendering -----------------------------------------------------------------------------------


def _change_dict(change: PinChange) -> dict[str, Any]:
    return {"line": change.line, "old": change.old, "new": change.new, "kind": change.kind}


def template_context(
    upgrade: Upgrade, changes: Sequence[FileChange], *, downstream: str, base: str, branch: str
) -> dict[str, Any]:
    files = [
        {
            "path": c.path,
            "constraints": c.constraints,
            "changes": [_change_dict(x) for x in c.edit.changes],
        }
        for c in changes
    ]
    olds = {x.old for c in changes for x in c.edit.changes if x.old != upgrade.version.pep440}
    return {
        "package": upgrade.package,
        "version": upgrade.version.pep440,
        "previous_version": upgrade.previous.pep440 if upgrade.previous else None,
        "previous_versions": sorted(olds, key=_version_key),
        "tag": upgrade.tag,
        "release_url": upgrade.release_url,
        "repository": upgrade.repository,
        "repository_url": upgrade.repository_url,
        "notes": upgrade.notes,
        "files": files,
        "constraints": [f for f in files if f["constraints"]],
        "downstream": downstream,
        "base": base,
        "branch": branch,
    }


def _version_key(text: str) -> tuple[int, Any]:
    """Sort key for versions as written in files (PEP 440 order; unparseable ones last)."""
    from packaging.version import InvalidVersion
    from packaging.version import Version as PackagingVersion

    try:
        return (0, PackagingVersion(text))
    except InvalidVersion:
        return (1, text)


def _render(name: str, context: dict[str, Any], templates: Path | None) -> str:
    return rendering.render(name, context, override_dir=templates)


# --- the actions -----------------------------------------------------------------------------


@dataclass
class PullLinks:
    """The PR URLs of one run's downstream step, shared by its actions.

    `apply_plan` merges outcomes with `dict.update`, so each action reports every URL known so
    far: the last one's `downstream_pr_urls` holds them all.
    """

    urls: list[str] = field(default_factory=list)

    def add(self, url: str) -> dict[str, str]:
        if url not in self.urls:
            self.urls.append(url)
        return {"downstream_pr_urls": "\n".join(self.urls)}


@dataclass(frozen=True)
class DownstreamPRAction:
    """Open or update the tool's pull request on one downstream repository."""

    gh: GitHub = field(repr=False, compare=False)
    repository: str
    push_to: str  # the repository the branch lives in: the downstream, or the user's fork
    fork: bool
    fork_exists: bool
    head_owner: str
    base: str
    base_tree: str
    branch: str
    files: tuple[FileChange, ...]
    expected_tree: str
    commit_message: str
    title: str
    body: str
    labels: tuple[str, ...]  # to add
    reviewers: tuple[str, ...]  # to request
    pull: PullInfo | None  # the open PR found while planning
    update_branch: bool
    pull_changes: tuple[tuple[str, str], ...] = ()  # fields to PATCH on the open PR
    links: PullLinks = field(default_factory=PullLinks, repr=False, compare=False)
    step: str = STEP

    @property
    def writes_commit(self) -> bool:
        return self.pull is None or self.update_branch

    def describe(self) -> str:
        count = f"({len(self.files)} file{'s' if len(self.files) != 1 else ''})"
        via = f" from the fork {self.push_to}" if self.fork else ""
        if self.pull is None:
            return f"open PR on {self.repository}{via}: {self.title} {count}"
        parts = (["branch"] if self.update_branch else []) + [k for k, _ in self.pull_changes]
        parts += ["labels"] if self.labels else []
        parts += ["reviewers"] if self.reviewers else []
        return (
            f"update PR #{self.pull.number} on {self.repository}{via}: {', '.join(parts)} {count}"
        )

    def details(self) -> str:
        lines = [
            f"repository: {self.repository} (base {self.base})",
            f"branch: {self.branch}"
            + (f" on the fork {self.push_to}" if self.fork else "")
            + ("" if self.writes_commit else " (already current)"),
        ]
        if self.fork and not self.fork_exists:
            lines.append(f"fork: create {self.push_to}, then sync its {self.base}")
        if self.pull is not None:
            lines.append(f"pull request: #{self.pull.number} {self.pull.html_url}")
        lines.append(f"title: {self.title}")
        if self.labels:
            lines.append(f"labels: {', '.join(self.labels)}")
        if self.reviewers:
            lines.append(f"reviewers: {', '.join(self.reviewers)}")
        lines += ["", "body:", *(f"  {line}" if line else "" for line in self.body.splitlines())]
        lines += [
            "",
            "commit message:",
            *(f"  {line}" if line else "" for line in self.commit_message.splitlines()),
            "",
        ]
        diffs = "".join(unified_diff(c.path, c.edit.old_text, c.edit.new_text) for c in self.files)
        return "\n".join(lines) + "\n" + diffs

    def apply(self) -> Outcome:
        gh = self.gh
        pull = self.pull
        if self.writes_commit:
            # Right before the first write: a base that moved since planning would make this
            # commit undo someone else's change (our tree is the planned base plus our edits).
            head = gh.branch_head(self.repository, self.base)
            if head is None:
                raise StepFailed(
                    f"the base branch {self.base} of {self.repository} is gone",
                    "fix `base` in the downstream config, then run again",
                )
            if head.tree != self.base_tree:
                raise StepFailed(
                    f"base branch moved during the run: {self.repository}@{self.base} changed "
                    "after the plan was made, so nothing was written",
                    "run the same command again: it plans against the new base",
                )
            push_to = self.push_to
            if self.fork:
                if not self.fork_exists:
                    push_to = gh.fork(self.repository)
                    gh.wait_for_branch(push_to, self.base)
                # The fork must hold the base commit before a commit can name it as parent.
                gh.sync_fork(push_to, self.base)
            files = {c.path: (c.mode, c.edit.new_text) for c in self.files}
            tree = gh.create_tree(
                push_to, base_tree=self.base_tree, files=files, expected=self.expected_tree
            )
            commit = gh.create_commit(
                push_to, message=self.commit_message, tree=tree, parent=head.commit
            )
            gh.point_branch(push_to, self.branch, commit, exists=True if pull else None)
        labels, reviewers = self.labels, self.reviewers
        if pull is None:
            pull = gh.create_pull(
                self.repository,
                base=self.base,
                head_owner=self.head_owner,
                branch=self.branch,
                same_repo=not self.fork,
                title=self.title,
                body=self.body,
            )
            verb = "opened"
            # A create that found the PR a failed earlier attempt had opened: only what is
            # still missing.
            labels = tuple(x for x in labels if x.lower() not in {y.lower() for y in pull.labels})
            reviewers = tuple(
                x for x in reviewers if x.lower() not in {y.lower() for y in pull.reviewers}
            )
        else:
            verb = "updated"
            if self.pull_changes:
                pull = gh.update_pull(self.repository, pull.number, dict(self.pull_changes))
        if labels:
            gh.add_labels(self.repository, pull.number, labels)
        if reviewers:
            gh.request_reviewers(self.repository, pull.number, reviewers)
        return Outcome(
            f"{verb} PR #{pull.number} on {self.repository}: {pull.html_url}",
            self.links.add(pull.html_url),
        )


@dataclass(frozen=True)
class DispatchWorkflowAction:
    """Run the downstream's own upgrade workflow (workflow_dispatch) instead of editing."""

    gh: GitHub = field(repr=False, compare=False)
    repository: str
    workflow: str
    ref: str
    inputs: tuple[tuple[str, str], ...]
    step: str = STEP

    def describe(self) -> str:
        return f"run workflow {self.workflow} on {self.repository} (ref {self.ref})"

    def details(self) -> str:
        return "\n".join(f"{key}: {value}" for key, value in self.inputs)

    def apply(self) -> Outcome:
        self.gh.dispatch(self.repository, self.workflow, ref=self.ref, inputs=dict(self.inputs))
        return Outcome(f"dispatched {self.workflow} on {self.repository}")


# --- planning ------------------------------------------------------------------------------------


def plan_downstream(
    gh: GitHub, config: Config, upgrade: Upgrade, *, templates: Path | None = None
) -> StepPlan:
    """The downstream step for every configured entry, with reads only."""
    if not config.downstream:
        return StepPlan(STEP, skipped="not configured")
    actions: list[Action] = []
    done: list[str] = []  # entries with nothing to do, and why
    notes: list[str] = []  # what the plan should say besides its actions
    links = PullLinks()
    for index, entry in enumerate(config.downstream):
        if entry.strategy == "dispatch":
            planned = _plan_dispatch(gh, entry, index, upgrade)
        else:
            planned = _plan_edit(gh, entry, index, upgrade, templates, links)
        if isinstance(planned, str):
            done.append(planned)
        else:
            action, note = planned
            actions.append(action)
            notes += [note] if note else []
    if not actions:
        return StepPlan(STEP, skipped="already done: " + "; ".join(done))
    return StepPlan(STEP, tuple(actions), notes=tuple(done + notes))


@dataclass(frozen=True)
class Target:
    """Where an entry's change goes: the repository, its base, and where the branch lives."""

    repo: RepoInfo
    base: str
    fork: bool
    push_to: str
    head_owner: str
    fork_exists: bool
    can_triage: bool


def resolve_target(gh: GitHub, entry: DownstreamConfig, index: int) -> Target:
    repo = gh.repository(entry.repository)
    if repo is None:
        raise UsageError(
            f"{_where(index)}.repository: {entry.repository} not found",
            "check the name, and that the token can see the repository",
        )
    base = entry.base or repo.default_branch
    owner, name = entry.repository.split("/", 1)
    if not (entry.fork or not repo.can_push):
        return Target(repo, base, False, entry.repository, owner, True, repo.can_triage)
    login = gh.login()
    push_to = f"{login}/{name}"
    existing = gh.repository(push_to)
    if existing is not None and existing.fork_of != entry.repository:
        raise UsageError(
            f"{push_to} exists and is not a fork of {entry.repository}",
            f"rename or delete it, or use a token whose user may push to {entry.repository}",
        )
    return Target(repo, base, True, push_to, login, existing is not None, repo.can_triage)


def _plan_edit(
    gh: GitHub,
    entry: DownstreamConfig,
    index: int,
    upgrade: Upgrade,
    templates: Path | None,
    links: PullLinks,
) -> tuple[Action, str] | str:
    """The entry's action and a note, or why there is nothing to do."""
    if not entry.files:
        raise UsageError(
            f"{_where(index)}.files is empty",
            "list the requirements files that pin the package (globs)",
        )
    target = resolve_target(gh, entry, index)
    repo, base = entry.repository, target.base
    pins = read_pins(gh, entry, index, base, upgrade.package, upgrade.version)
    branch = entry.branch.format(package=upgrade.package)
    pull = gh.open_pull(repo, target.head_owner, branch)
    if pins.already_current:
        where = f" (PR #{pull.number} {pull.html_url} is still open)" if pull else ""
        return f"{repo}@{base} already pins {upgrade.package} {upgrade.version}{where}"

    changes = pins.changes
    expected = tree_sha_after(
        pins.listing.entries, {c.path: c.edit.new_text.encode() for c in changes}
    )
    context = template_context(upgrade, changes, downstream=repo, base=base, branch=branch)
    title = _render("github/pr_title.txt.j2", context, templates).strip()
    body = _render("github/pr_body.md.j2", context, templates).strip() + "\n"
    message = _render("github/downstream_commit.txt.j2", context, templates).strip() + "\n"

    labels, reviewers = entry.labels, entry.reviewers
    note = ""
    if not target.can_triage and (labels or reviewers):
        # Without triage access GitHub refuses both; the PR is still worth opening.
        note = (
            f"{repo}: labels and reviewers skipped (the token's user has no triage "
            "access there; a maintainer can add them)"
        )
        labels, reviewers = (), ()
    update_branch = False
    pull_changes: list[tuple[str, str]] = []
    if pull is not None:
        update_branch = gh.commit_tree(target.push_to, pull.head_sha) != expected
        for key, want, have in (
            ("title", title, pull.title),
            ("body", body, pull.body),
            ("base", base, pull.base),
        ):
            if want != have:
                pull_changes.append((key, want))
        have_labels = {x.lower() for x in pull.labels}
        labels = tuple(x for x in labels if x.lower() not in have_labels)
        have_reviewers = {x.lower() for x in (*pull.reviewers, pull.author)}
        reviewers = tuple(x for x in reviewers if x.lower() not in have_reviewers)
        if not (update_branch or pull_changes or labels or reviewers):
            links.add(pull.html_url)
            return f"{repo}: PR #{pull.number} is up to date ({pull.html_url})"
    action = DownstreamPRAction(
        gh=gh,
        repository=repo,
        push_to=target.push_to,
        fork=target.fork,
        fork_exists=target.fork_exists,
        head_owner=target.head_owner,
        base=base,
        base_tree=pins.listing.sha,
        branch=branch,
        files=changes,
        expected_tree=expected,
        commit_message=message,
        title=title,
        body=body,
        labels=labels,
        reviewers=reviewers,
        pull=pull,
        update_branch=update_branch,
        pull_changes=tuple(pull_changes),
        links=links,
    )
    return action, note


def render_inputs(
    entry: DownstreamConfig, index: int, upgrade: Upgrade
) -> tuple[tuple[str, str], ...]:
    context = {
        "package": upgrade.package,
        "version": upgrade.version.pep440,
        "previous_version": upgrade.previous.pep440 if upgrade.previous else None,
        "tag": upgrade.tag,
        "release_url": upgrade.release_url,
        "repository": upgrade.repository,
        "notes": upgrade.notes,
        "downstream": entry.repository,
    }
    return tuple(
        (key, rendering.render_string(value, context, what=f"{_where(index)}.inputs.{key}"))
        for key, value in entry.inputs.items()
    )


def _plan_dispatch(
    gh: GitHub, entry: DownstreamConfig, index: int, upgrade: Upgrade
) -> tuple[Action, str] | str:
    """The entry's dispatch action, or why there is nothing to do."""
    repo_name = entry.repository
    if not entry.workflow:
        raise UsageError(
            f"{_where(index)}: strategy = 'dispatch' needs `workflow`",
            "name the workflow file, e.g. workflow = 'upgrade-one-python-dependency.yml'",
        )
    repo = gh.repository(repo_name)
    if repo is None:
        raise UsageError(
            f"{_where(index)}.repository: {repo_name} not found",
            "check the name, and that the token can see the repository",
        )
    if not repo.can_push:
        raise UsageError(
            f"dispatching a workflow on {repo_name} needs write access, which "
            "the token's user does not have",
            "use a token with actions write access there, or strategy = 'edit'",
        )
    base = entry.base or repo.default_branch
    inputs = render_inputs(entry, index, upgrade)
    if entry.files:
        pins = read_pins(gh, entry, index, base, upgrade.package, upgrade.version)
        if pins.already_current:
            return f"{repo_name}@{base} already pins {upgrade.package} {upgrade.version}"
    branch = dict(inputs).get("branch")
    if branch:
        # The workflow opens its PR from the `branch` input: if that PR is open, it has run.
        pull = gh.open_pull(repo_name, repo_name.split("/", 1)[0], branch)
        if pull is not None:
            return f"{repo_name}: the workflow's PR #{pull.number} is open ({pull.html_url})"
    if not gh.workflow_exists(repo_name, entry.workflow):
        raise UsageError(
            f"{_where(index)}.workflow: {entry.workflow} not found in {repo_name}",
            "name a file under .github/workflows/ of that repository",
        )
    return DispatchWorkflowAction(gh, repo_name, entry.workflow, base, inputs), ""


# --- status --------------------------------------------------------------------------------------


def downstream_status(gh: GitHub, config: Config, version: Version) -> list[tuple[str, str]]:
    """(what, state) per downstream entry, for `release-tool status`; never raises."""
    rows = []
    for index, entry in enumerate(config.downstream):
        what = f"PR {entry.repository}"
        try:
            rows.append((what, _entry_status(gh, entry, index, config.package, version)))
        except ReleaseError as exc:
            rows.append((what, f"unknown ({exc.message})"))
    return rows


def _entry_status(
    gh: GitHub, entry: DownstreamConfig, index: int, package: str, version: Version
) -> str:
    target = resolve_target(gh, entry, index)
    # A dispatched workflow names its own branch: for it, only the pins can be shown.
    branch = "" if entry.strategy == "dispatch" else entry.branch.format(package=package)
    pull = gh.open_pull(entry.repository, target.head_owner, branch) if branch else None
    if pull is not None:
        return f"open #{pull.number} {pull.html_url}"
    listing = gh.tree(entry.repository, target.base)
    if listing is None:
        return f"unknown (no branch {target.base})"
    pinned: set[str] = set()
    for blob in listing.entries:
        if blob.type == "blob" and any(fnmatchcase(blob.path, g) for g in entry.files):
            text = gh.blob(entry.repository, blob.sha).decode("utf-8", "replace")
            pinned.update(v for _, v in pins_of(blob.path, text, package))
    if pinned and all(_version_key(v) == _version_key(version.pep440) for v in pinned):
        return f"already pins {version}"
    return "none" + (f" (pins {', '.join(sorted(pinned, key=_version_key))})" if pinned else "")
