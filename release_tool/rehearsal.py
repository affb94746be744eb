"""A rehearsal: the whole pipeline against an embedded sandbox, on copies, with a throwaway token.

What is rehearsed is the working tree as it is: the branch's commits, and on top of them the
uncommitted changes (a configuration being tried, say), committed in the clone as one
"rehearsal commit" (`rehearsal_tree`). The sandbox's copy of the branch is where the
repository's remote-tracking branch says the real remote is, so commits not pushed yet are
unpushed in the rehearsal too (a real release refuses them without --allow-unpushed, and so
does the rehearsal); the uncommitted changes count as committed and pushed when nothing else
is unpushed. Downstream repositories are read from the real GitHub when there is a token,
else the bundled example stands in, and the result says which (`rehearsal_data`).

`session` starts a sandbox on a free port with the library and its downstreams in it, clones the
library into a scratch workspace and yields a `Rehearsal` whose `Project` points at the sandbox.
The caller plans and applies exactly as a real release does — nothing here is a rehearsal-only
code path — and `summarize` reads back what the run produced, with a browsable URL for each
thing. At the end the sandbox stops, and a workspace the session created is deleted unless
kept. SIGINT and SIGTERM stop a session, even one started in the background (where a shell
has SIGINT ignored). The user's own repository, token and remotes are never written.

The bundled example is rehearsed in its uv era, hermetically: the sandbox also serves a package
index (`sandbox.example_index`: the library's released versions and every dependency, as tiny
wheels), the downstream is locked against it, the library's config is pointed at it
(`index_url`), and the library's publish workflow is simulated by a sandbox observer
(`example_index.Publisher`): once the GitHub release is published, the new version's wheel and
sdist, with the dependencies `requirements/base.in` has at the tag, appear on the index. The
downstream step then re-locks the downstream with uv against that index, and the new version
brings its new dependency into the lock and the export. No network is used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from release_tool import example
from release_tool.apply import RunResult
from release_tool.config import Config, load_config
from release_tool.errors import ReleaseError
from release_tool.git_repo import GitRepo, clone, run_git
from release_tool.interrupts import Terminated
from release_tool.plan import ReleasePlan
from release_tool.project import Project, ReleaseRequest, network_timeout
from release_tool.rehearsal_data import Reader, github_reader, import_downstream
from release_tool.rehearsal_tree import Overlay, overlay
from release_tool.sandbox import (
    Sandbox,
    copy_repository,
    email_html,
    example_index,
    seed_example,
)

USER = "maintainer"
WORKSPACE_PREFIX = "release-tool-rehearsal-"
EMAIL_PAGE = "/rehearsal/email"


@dataclass(frozen=True)
class Rehearsal:
    sandbox: Sandbox
    workspace: Path
    project: Project
    token: str
    repositories: tuple[str, ...]
    # Per downstream: (repository, where its files came from), e.g. "example data, not X (…)".
    downstream: tuple[tuple[str, str], ...] = ()
    working_tree: Overlay | None = None  # the uncommitted changes rehearsed, if any
    notes: tuple[str, ...] = ()  # what the rehearsal does differently from a real run


def prepare(
    source: Path | None,
    workspace: Path,
    *,
    downstream_from: Path | None = None,
    port: int = 0,
    environ: Mapping[str, str] | None = None,
    reader: Reader | Literal["auto"] | None = "auto",
    era: Literal["uv", "pip-tools"] = "uv",
) -> Rehearsal:
    """Build the sandbox and the working copy; `source=None` rehearses the bundled example,
    in its uv era (re-locked against the sandbox's index), or with `era="pip-tools"` in its
    pip-tools era (pins edited; no index: a sandbox copied elsewhere works the same).

    `reader` reads a downstream's files from GitHub; "auto": GitHub's API (`github_api`, or
    RELEASE_TOOL_GITHUB_API) with GITHUB_TOKEN or GH_TOKEN from `environ`, if one is set; None:
    never (the bundled example stands in). Also read from `environ`:
    RELEASE_TOOL_NETWORK_TIMEOUT (the deadline of the clone and of every request)."""
    environ = environ or {}
    root = workspace / "sandbox"
    index: Path | None = None
    source_config: Config | None = None
    downstream: list[tuple[str, str]] = []
    if source is None:
        if era == "uv":
            index = example_index.build_index(workspace / "index")
        else:
            seed_example(root)
        library = example.LIBRARY
        names = [example.LIBRARY, example.DOWNSTREAM]
        downstream.append((example.DOWNSTREAM, "example data (the bundled example pair)"))
    else:
        config = source_config = load_config(source)
        library = config.repository
        copy_repository(root, source, library)
        _at_the_remote_head(root / f"{library}.git", source, config)
        names = [library]
        if reader == "auto":
            reader, why = _default_reader(config, environ)
        else:
            why = "no reader given"
        for entry in config.downstream:
            if downstream_from is not None:
                copy_repository(root, downstream_from, entry.repository)
                words = f"the local copy {downstream_from}"
            else:
                words = import_downstream(root, entry, reader, why)
            downstream.append((entry.repository, words))
            names.append(entry.repository)
    token = f"rehearsal-{secrets.token_hex(12)}"
    sandbox = Sandbox(
        root, port=port, tokens={token: USER}, grants=[(USER, name) for name in names], index=index
    ).start()
    work = workspace / "work" / library.split("/")[1]
    work.parent.mkdir(parents=True, exist_ok=True)
    timeout = network_timeout(environ, source_config)
    try:
        if index is not None:
            example_index.seed_uv_example(sandbox)
            sandbox.observer = example_index.Publisher(sandbox, library, "edx-proctoring")
        clone(sandbox.git_url(library), work, token, timeout)
        # A throwaway clone gets its own identity, so a fresh machine without git's user.name
        # can rehearse; the library's real history is not touched.
        run_git("config", "user.name", "release-tool rehearsal", cwd=work)
        run_git("config", "user.email", "rehearsal@release-tool.invalid", cwd=work)
        branch = load_config(work).branch
        tree: Overlay | None = None
        notes: list[str] = []
        if source is None:
            run_git("checkout", "-q", branch, cwd=work)
        else:
            tree, notes = _as_the_working_tree(source, work, sandbox, library, branch)
        config = dataclasses.replace(load_config(work), github_api=sandbox.api_url)
        if index is not None:
            config = dataclasses.replace(config, index_url=sandbox.index_url)
    except BaseException:
        sandbox.stop()
        raise
    project = Project(
        root=work,
        config=config,
        repo=GitRepo(work, token),
        token=token,
        environ={},
        network_timeout=network_timeout(environ, config),
    )
    return Rehearsal(
        sandbox, workspace, project, token, tuple(names), tuple(downstream), tree, tuple(notes)
    )


def _default_reader(config: Config, environ: Mapping[str, str]) -> tuple[Reader | None, str]:
    from release_tool.github_api import api_url

    token = environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN")
    if not token:
        return None, "no GITHUB_TOKEN or GH_TOKEN to read it from GitHub with"
    api = api_url(config.github_api, environ)
    return github_reader(api, token, timeout=network_timeout(environ, config)), ""


def _at_the_remote_head(bare: Path, source: Path, config: Config) -> None:
    """Put the sandbox's branch where the source's remote-tracking branch says the real remote
    has it (a copy takes the local branch, unpushed commits and all)."""
    tracking = f"refs/remotes/{config.remote}/{config.branch}"
    try:
        run_git("rev-parse", "--verify", "-q", tracking, cwd=source)
    except ReleaseError:
        return  # never fetched: the local branch stands for the remote's
    run_git(
        "fetch", "-q", "--no-tags", str(source), f"+{tracking}:refs/heads/{config.branch}", cwd=bare
    )


def _as_the_working_tree(
    source: Path, work: Path, sandbox: Sandbox, library: str, branch: str
) -> tuple[Overlay, list[str]]:
    """Check out what the source has checked out, and bring its uncommitted changes over."""
    run_git("fetch", "-q", "--no-tags", str(source), "HEAD", cwd=work)
    try:
        current: str | None = run_git("symbolic-ref", "-q", "--short", "HEAD", cwd=source)
    except ReleaseError:
        current = None  # detached: the release's preflight says what to do
    if current:
        run_git("checkout", "-q", "-B", current, "FETCH_HEAD", cwd=work)
        with contextlib.suppress(ReleaseError):  # unless the remote does not have it
            run_git("branch", "-q", f"--set-upstream-to=origin/{current}", cwd=work)
    else:
        run_git("checkout", "-q", "--detach", "FETCH_HEAD", cwd=work)
    tree = overlay(source, work)
    notes: list[str] = []
    if tree.commit is not None:
        remote_head = sandbox.store.ref(library, f"refs/heads/{branch}")
        parent = run_git("rev-parse", "HEAD^", cwd=work)
        if current == branch and remote_head is not None and remote_head[0] == parent:
            # Nothing else is unpushed: rehearse the changes as committed and pushed.
            bare = sandbox.repository_path(library)
            run_git("push", "-q", str(bare), f"HEAD:refs/heads/{branch}", cwd=work)
            run_git("fetch", "-q", "origin", cwd=work)
            notes.append(
                f"uncommitted changes rehearsed as committed and pushed: {', '.join(tree.changed)}"
            )
        else:
            notes.append(
                "uncommitted changes rehearsed as a commit on top of HEAD: "
                + ", ".join(tree.changed)
            )
    notes += [f"left out: {what}" for what in tree.left_out]
    hooks = source / ".git" / "hooks"
    if hooks.is_dir() and any(not p.name.endswith(".sample") for p in hooks.iterdir()):
        notes.append("left out: the repository's git hooks (the rehearsal's clone has none)")
    return tree, notes


def rehearsal_request(request: ReleaseRequest) -> tuple[ReleaseRequest, tuple[str, ...]]:
    """The request a rehearsal runs, and what it leaves out of the one asked for: the
    notification email is written as a draft, never sent."""
    if not request.send_email:
        return request, ()
    return dataclasses.replace(request, send_email=False), (
        "left out: --send-email (the email is written as a draft; a rehearsal sends nothing)",
    )


def summarize(rehearsal: Rehearsal, plan: ReleasePlan, result: RunResult) -> dict[str, Any]:
    """What the rehearsal produced: tag, release (URL, body), PRs (URL, diff), email draft
    (its file and a page showing it), where each downstream's data came from, and notes."""
    state = result.state
    details = {action.step: action.details() for action in plan.actions}
    sandbox = rehearsal.sandbox
    repository = rehearsal.project.config.repository
    email_url = None
    email_text = details.get("email", "")
    if state.email_draft and Path(state.email_draft).is_file():
        written = Path(state.email_draft).read_bytes()
        email_url = sandbox.add_page(EMAIL_PAGE, email_html(written))
        email_text = _email_preview(written)  # what was written: the PR URLs filled in
    if state.pr_urls:
        # What the PRs really hold, after what was planned (a relock resolved while applying:
        # the plan could only say what would run).
        details["downstream"] = details.get("downstream", "") + "".join(_pr_diffs(rehearsal))
    return {
        "version": str(plan.new),
        "tag": plan.tag,
        "tag_url": f"{sandbox.html_url(repository)}/tree/{plan.tag}",
        "repository_url": sandbox.html_url(repository),
        "release_url": state.release_url,
        "release_body": details.get("github-release", ""),
        "downstream_pr_urls": list(state.pr_urls),
        "downstream_diff": details.get("downstream", ""),
        "downstream_data": dict(rehearsal.downstream),
        "email_draft": state.email_draft,
        "email": email_text,
        "email_url": email_url,
        "notes": list(rehearsal.notes),
        "workspace": str(rehearsal.workspace),
        "api_url": sandbox.api_url,
    }


def _email_preview(draft: bytes) -> str:
    """The written draft as the plan shows an email: headers a reader sees, the text body."""
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    from release_tool.email import preview

    message = message_from_bytes(draft, policy=policy.default)
    return preview(message) if isinstance(message, EmailMessage) else ""


def _pr_diffs(rehearsal: Rehearsal) -> list[str]:
    """`git diff` of each open PR of the rehearsal's downstream repositories: base..head."""
    sandbox = rehearsal.sandbox
    diffs = []
    for name in rehearsal.repositories[1:]:
        for pull in sandbox.state.pulls(name):
            if pull.state != "open":
                continue
            base = f"refs/heads/{pull.base_ref}"
            head = sandbox.store.git(pull.head_repo, "rev-parse", f"refs/heads/{pull.head_ref}")
            if pull.head_repo != name:
                continue  # from a fork: its objects are in another repository
            text = sandbox.store.git(name, "diff", f"{base}...{head.decode().strip()}")
            diffs.append(f"PR #{pull.number} on {name}:\n{text.decode()}")
    return diffs


@contextmanager
def session(
    source: Path | None,
    *,
    workspace: Path | None = None,
    keep: bool = False,
    downstream_from: Path | None = None,
    environ: Mapping[str, str] | None = None,
    reader: Reader | Literal["auto"] | None = "auto",
    era: Literal["uv", "pip-tools"] = "uv",
) -> Iterator[Rehearsal]:
    """A prepared rehearsal, stopped at the end. A workspace this creates (no `workspace`
    given) is deleted at the end unless `keep`; one given is the caller's and stays. SIGINT
    and SIGTERM raise KeyboardInterrupt within, however the process was started."""
    owned = workspace is None
    where = workspace or Path(tempfile.mkdtemp(prefix=WORKSPACE_PREFIX))
    with stoppable():
        try:
            where.mkdir(parents=True, exist_ok=True)
            rehearsal = prepare(
                source,
                where,
                downstream_from=downstream_from,
                environ=environ,
                reader=reader,
                era=era,
            )
            try:
                yield rehearsal
            finally:
                rehearsal.sandbox.stop()
        finally:
            if owned and not keep:
                shutil.rmtree(where, ignore_errors=True)


@contextmanager
def stoppable() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt and SIGTERM `Terminated` (one too), even in a process
    started with SIGINT ignored (a background job of a shell); the handlers are restored after.
    Only the main thread can set handlers: elsewhere this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum: int, frame: object) -> None:
        raise Terminated()

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, terminated),
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
