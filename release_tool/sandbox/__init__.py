"""The embedded GitHub: a REST API subset, git smart HTTP and fault injection on 127.0.0.1.

    with Sandbox(root, tokens={"tok": "maintainer"}) as sandbox:
        gh = github.Github(base_url=sandbox.api_url, auth=github.Auth.Token("tok"))
        ...                                   # PyGithub, and `git clone sandbox.git_url(...)`

Repositories are bare git repositories under `ROOT/OWNER/NAME.git`; releases, pull requests,
labels, forks and dispatches live in `ROOT/sandbox-state.json`, so a sandbox restarted on the
same root has them all. See DESIGN.md, "The sandbox".

Modules: `server` (HTTP, git CGI, applying faults), `api` (dispatching the REST operations),
`rest` (what the operations share), `ops_repos`, `ops_git`, `ops_releases`, `ops_assets`,
`ops_pulls`, `ops_actions` (the operations), `workflows` (workflow inputs and run hooks),
`store` (git objects), `state` (the JSON state), `shapes`, `shapes_releases`, `shapes_actions`
(GitHub's JSON shapes), `access` (tokens, grants, permissions), `faults` (fault specs), `index`
(the package index served with `index=DIR`), `wheels` (tiny wheels and sdists to fill it),
`pages` (HTML pages for the web URLs the API hands out).
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from release_tool.errors import UsageError
from release_tool.sandbox.access import (
    DEFAULT_USER,
    Access,
    Token,
    is_full_name,
    parse_grant,
    parse_token,
)
from release_tool.sandbox.api import Api
from release_tool.sandbox.apps import App, parse_app, verify_jwt
from release_tool.sandbox.faults import Fault, FaultSet, parse_fault
from release_tool.sandbox.index import Index
from release_tool.sandbox.ops_repos import rename
from release_tool.sandbox.pages import email_html
from release_tool.sandbox.server import MAX_GIT_BODY, MAX_JSON_BODY, Exchange, SandboxServer
from release_tool.sandbox.shapes import Urls
from release_tool.sandbox.state import Dispatch, Label, Pull, Release, RepoMeta, Run, State
from release_tool.sandbox.store import GitError, GitStore
from release_tool.sandbox.workflows import Fail, Hook, OpenPull, RunContext

LOCK_FILE = ".sandbox.lock"
EXAMPLE_COLLABORATORS = {"openedx/edx-platform": ("edx-platform-reviewer",)}

__all__ = [
    "DEFAULT_USER",
    "LOCK_FILE",
    "App",
    "Dispatch",
    "Exchange",
    "Fail",
    "Fault",
    "Hook",
    "Label",
    "OpenPull",
    "Pull",
    "Release",
    "RepoMeta",
    "Run",
    "RunContext",
    "Sandbox",
    "State",
    "Token",
    "copy_repository",
    "email_html",
    "parse_app",
    "parse_fault",
    "parse_grant",
    "parse_rename",
    "parse_token",
    "seed_example",
]


class Sandbox:
    """A sandbox GitHub serving the repositories under `root`.

    `tokens` maps each token to its user, or to a `Token` (fine-grained, without the `workflow`
    scope); `grants` are (user, OWNER/NAME) write grants beyond the user's own namespace and
    forks; `members` are (user, ORG) memberships (forking into an organization needs one);
    `apps` are the GitHub Apps (`apps.App`) installed on every owner. Request bodies over
    `max_json_body` (API) or `max_git_body` (git, uploads) bytes get 413. `start()` serves on
    a background thread (tests), `serve_forever()` on the calling one (the CLI). `port=0` picks
    a free port.
    `on_dispatch` maps (OWNER/NAME, workflow file) to what a dispatched run does (see
    `workflows`); a run completes `run_delay` seconds after its dispatch; a fork appears
    `fork_delay` seconds after it was asked for (0: at once).
    """

    def __init__(
        self,
        root: Path,
        *,
        port: int = 0,
        tokens: Mapping[str, str | Token] | None = None,
        grants: Iterable[tuple[str, str]] = (),
        faults: Iterable[Fault | str] = (),
        observer: Callable[[Exchange], None] | None = None,
        index: Path | None = None,
        on_dispatch: Mapping[tuple[str, str], Hook] | None = None,
        run_delay: float = 0.2,
        renames: Iterable[tuple[str, str] | str] = (),
        fork_delay: float = 0.0,
        apps: Iterable[App] = (),
        max_json_body: int = MAX_JSON_BODY,
        max_git_body: int = MAX_GIT_BODY,
        members: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.root = Path(root).resolve()
        # The wheels and sdists served at /simple/ (`index_url`), read on each request.
        self.index = Index(Path(index)) if index is not None else None
        self.root.mkdir(parents=True, exist_ok=True)
        self._port = port
        self.store = GitStore(self.root)
        self.state = State(self.root)
        self.access = Access(
            tokens or {},
            grants,
            self.state.forked_by,
            self.state.collaborators,
            self.state.former_names,
            members,
        )
        self._apps = list(apps)
        self._limits = (max_json_body, max_git_body)
        self.access.verify_jwt = lambda encoded: verify_jwt(self._apps, encoded)
        self._faults = FaultSet()
        for fault in faults:
            self.add_fault(fault)
        self._observer = observer
        self._hooks: dict[tuple[str, str], Hook] = dict(on_dispatch or {})
        self._run_delay = run_delay
        self._fork_delay = fork_delay
        self._renames = [parse_rename(spec) if isinstance(spec, str) else spec for spec in renames]
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._life = threading.RLock()  # guards start/stop against each other
        self._serving = False  # serve_forever() is running on some thread
        self._requests: list[tuple[str, str, int]] = []
        self._pages: dict[str, str] = {}  # extra HTML pages (`add_page`)
        self._root_lock: IO[str] | None = None

    # -- life cycle -------------------------------------------------------------------------

    def _bind(self) -> SandboxServer:
        with self._life:
            if self._server is None:
                self._lock_root()
                # Whatever another sandbox (or seed_example) wrote before we held the root.
                self.state.reload()
                try:
                    for old, new in self._renames:
                        self._rename(old, new)
                except UsageError:
                    self._unlock_root()
                    raise
                try:
                    server = SandboxServer(self._port, self.access, self._faults, self._make_api)
                except OSError as exc:
                    self._unlock_root()
                    raise UsageError(
                        f"the sandbox cannot listen on 127.0.0.1:{self._port}: {exc.strerror}",
                        "choose another port (0 picks a free one)",
                    ) from None
                self._port = server.server_address[1]
                server.observer = self._observer
                server.index = self.index
                server.max_json_body, server.max_git_body = self._limits
                server.requests = self._requests  # kept across stop() and start()
                server.pages = self._pages
                self._server = server
            return self._server

    def _lock_root(self) -> None:
        self._root_lock = _lock(self.root)

    def _unlock_root(self) -> None:
        if self._root_lock is not None:
            self._root_lock.close()  # closing the file releases the flock
            self._root_lock = None

    def _make_api(self, port: int) -> Api:
        api = Api(self.store, self.state, self.access, Urls(f"http://127.0.0.1:{port}"))
        api.hooks, api.run_delay = self._hooks, self._run_delay
        api.fork_delay, api.apps = self._fork_delay, self._apps
        return api

    def start(self) -> Sandbox:
        """Serve on a background thread; returns self (so `Sandbox(...).start()` chains)."""
        server = self._bind()
        if self._thread is None:
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sandbox:{self._port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self, ready: Callable[[Sandbox], None] | None = None) -> None:
        """Serve on the calling thread until `stop()` (from another thread) or Ctrl-C;
        `ready` is called once the port is bound (to print the URL, say)."""
        server = self._bind()
        try:
            if ready is not None:
                ready(self)
            self._serving = True
            server.serve_forever(poll_interval=0.2)
        finally:
            self._serving = False
            self._close()

    def stop(self) -> None:
        """Stop serving and cut open connections; the root keeps everything."""
        with self._life:
            server, thread, self._thread = self._server, self._thread, None
        if server is None:
            return
        # shutdown() waits for the serving loop to end: only ask when one is running.
        if thread is not None or self._serving:
            server.shutdown()
        if thread is not None:
            thread.join()
        self._close()

    def _close(self) -> None:
        # stop() on one thread and serve_forever()'s own exit on another may both get here.
        with self._life:
            server, self._server = self._server, None
            if server is not None:
                server.api.cancel_runs()
                server.close_connections()
                server.server_close()
            self._unlock_root()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None and self._port == 0:
            raise RuntimeError("the sandbox has no port until it is started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What PyGithub takes as `base_url`."""
        return f"{self.url}/api/v3"

    @property
    def index_url(self) -> str:
        """The package index (`index=DIR`), as pip's `--index-url` and uv's `--default-index`
        take it."""
        if self.index is None:
            raise RuntimeError("this sandbox serves no package index (pass index=DIR)")
        return f"{self.url}/simple/"

    def git_url(self, full_name: str) -> str:
        return f"{self.url}/{full_name}.git"

    def html_url(self, full_name: str) -> str:
        return f"{self.url}/{full_name}"

    # -- faults and observation ---------------------------------------------------------------

    def add_fault(self, spec: str | Fault) -> Fault:
        fault = parse_fault(spec)
        self._faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[tuple[Fault, int | None]]:
        """The faults that can still fire, each with the hits it has left (None: unlimited)."""
        return self._faults.active()

    @property
    def observer(self) -> Callable[[Exchange], None] | None:
        return self._observer

    @observer.setter
    def observer(self, observer: Callable[[Exchange], None] | None) -> None:
        self._observer = observer
        if self._server is not None:
            self._server.observer = observer

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request this object served, API and git alike, in
        order (status 0: the connection was reset by a fault). Path without the query."""
        return self._requests

    def add_page(self, path: str, html: str) -> str:
        """Serve `html` at `path` (e.g. a rehearsal's email draft); returns its URL. The
        repository, tag, release and pull request pages need no adding (see `pages`)."""
        self._pages[path] = html
        return f"{self.url}{path}"

    # -- tokens and apps ----------------------------------------------------------------------

    def add_token(self, secret: str, who: str | Token) -> None:
        """Accept one more token: a user's (classic, all scopes) or a `Token`."""
        self.access.add_token(secret, Token(who) if isinstance(who, str) else who)

    def add_member(self, user: str, org: str) -> None:
        """Make `user` a member of the organization `org` (who may fork into it)."""
        self.access.add_member(user, org)

    def set_body_limits(self, *, json_body: int | None = None, git_body: int | None = None) -> None:
        """Change the request body limits (bytes) beyond which requests get 413."""
        self._limits = (json_body or self._limits[0], git_body or self._limits[1])
        if self._server is not None:
            self._server.max_json_body, self._server.max_git_body = self._limits

    def add_app(self, app: App) -> None:
        """Configure one more GitHub App (installed on every owner)."""
        self._apps.append(app)

    # -- workflow runs ------------------------------------------------------------------------

    @property
    def fork_delay(self) -> float:
        """Seconds a new fork takes to appear, as on GitHub (0: at once)."""
        return self._fork_delay

    @fork_delay.setter
    def fork_delay(self, seconds: float) -> None:
        self._fork_delay = seconds
        if self._server is not None:
            self._server.api.fork_delay = seconds

    def on_dispatch(self, full_name: str, workflow: str, hook: Hook) -> None:
        """What a run of `workflow` (a file name under .github/workflows/) of `full_name` does
        once dispatched: `OpenPull(...)`, `Fail()`, or a callable (see `workflows`)."""
        self._hooks[(full_name, workflow)] = hook

    def wait_for_runs(self, full_name: str, timeout: float = 10.0) -> list[Run]:
        """Wait until no run of `full_name` is queued or in progress; returns its runs."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.state.runs(full_name)
            if all(r.status == "completed" for r in runs) or time.monotonic() > deadline:
                return runs
            time.sleep(0.02)

    # -- repositories -----------------------------------------------------------------------

    def repositories(self) -> list[str]:
        return self.store.repositories()

    def repository_path(self, full_name: str) -> Path:
        return self.store.path(full_name)

    def add_collaborator(self, full_name: str, login: str) -> None:
        """Give `login` write access to `full_name` (kept in the state): a user a review may be
        requested from, as GitHub allows only collaborators."""
        if not self.store.exists(full_name):
            raise UsageError(f"the sandbox has no repository {full_name}", "create it first")
        self.state.add_collaborator(full_name, login)

    def rename(self, old: str, new: str) -> None:
        """Rename (or transfer) repository `old` to `new`, as GitHub does: the old name then
        answers with redirects (API: 301 on reads, 307 on writes; git: 301). Needs the root:
        call it on a started sandbox, or pass `renames=` to the constructor."""
        if self._root_lock is None:
            raise UsageError(
                "the sandbox must be started to rename a repository",
                "start it first, or pass renames=[(OLD, NEW)] when creating it",
            )
        with self.state.locked():
            self._rename(old, new)

    def _rename(self, old: str, new: str) -> None:
        for name in (old, new):
            if not is_full_name(name):
                raise UsageError(f"{name!r} is not a repository name", _RENAME_HINT)
        found = self.store.canonical(old)
        if found is None:
            moved = self.state.renamed_to(old)
            if moved is not None and moved == self.store.canonical(new):
                return  # done already (the same --rename on a restart)
            raise UsageError(f"the sandbox has no repository {old}", _RENAME_HINT)
        taken = self.store.canonical(new)
        if taken is not None and taken != found:
            raise UsageError(f"the sandbox already has {taken}", _RENAME_HINT)
        rename(self.store, self.state, found, new)

    def copy_repository(self, source: Path, full_name: str, *, force: bool = False) -> Path:
        """Import `source` (bare or a working copy: its branches and tags) as `full_name`."""
        return _copy(self.store, self.state, source, full_name, force=force)


_RENAME_HINT = "write a rename as OLD_OWNER/OLD_NAME=NEW_OWNER/NEW_NAME"


def parse_rename(spec: str) -> tuple[str, str]:
    """`'OWNER/OLD=OWNER/NEW'` → (old, new)."""
    old, sep, new = spec.partition("=")
    old, new = old.strip(), new.strip()
    if not sep or not is_full_name(old) or not is_full_name(new):
        raise UsageError(f"bad rename {spec!r}", _RENAME_HINT)
    return old, new


def _lock(root: Path) -> IO[str]:
    """Hold the root: one sandbox (or seeding) at a time, or each would overwrite the other's
    state file. The lock lasts until the returned file is closed."""
    root.mkdir(parents=True, exist_ok=True)
    handle = (root / LOCK_FILE).open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise UsageError(
            f"another sandbox is already serving {root}",
            "stop it first (or use that sandbox's own methods), or choose another root",
        ) from None
    return handle


def copy_repository(root: Path, source: Path, full_name: str, *, force: bool = False) -> Path:
    """Import `source` into the sandbox root as `full_name` (rehearsals copy a real
    repository in) while no sandbox serves the root (else use `Sandbox.copy_repository`);
    refuses to replace an existing repository unless `force`."""
    root = Path(root).resolve()
    with _lock(root):
        return _copy(GitStore(root), State(root), source, full_name, force=force)


def _copy(store: GitStore, state: State, source: Path, full_name: str, *, force: bool) -> Path:
    if not is_full_name(full_name):
        raise UsageError(
            f"{full_name!r} is not a repository name",
            "write it as OWNER/NAME, e.g. openedx/edx-proctoring",
        )
    if store.exists(full_name):
        if not force:
            raise UsageError(
                f"the sandbox already has {full_name}", "pass force=True (--force) to replace it"
            )
        store.remove(full_name)
        state.forget_repo(full_name)
    try:
        store.clone_bare(Path(source), full_name)
    except GitError as exc:
        raise UsageError(
            f"cannot copy {source} into the sandbox: {exc.stderr.strip()}",
            "give a git repository (a working copy or a bare one)",
        ) from None
    state.repo(full_name)
    return store.path(full_name)


def seed_example(root: Path, *, force: bool = False) -> list[str]:
    """Build the bundled example pair (release_tool.example) into the root:
    `openedx/edx-proctoring` and `openedx/edx-platform`. Existing repositories are kept
    unless `force`, which rebuilds them and drops their releases and pull requests.
    Returns the names of the repositories built. No sandbox may be serving the root."""

    root = Path(root).resolve()
    with _lock(root):
        return _seed(GitStore(root), State(root), force=force)


def _seed(store: GitStore, state: State, *, force: bool) -> list[str]:
    from release_tool import example
    from release_tool.git_repo import build_repository

    built = []
    for repo in (example.library_repo(), example.downstream_repo()):
        if store.exists(repo.full_name):
            if not force:
                continue
            store.remove(repo.full_name)
            state.forget_repo(repo.full_name)
        build_repository(store.path(repo.full_name), repo)
        # The build clones from a scratch directory: the copy must not point back at it.
        store.git(repo.full_name, "remote", "remove", "origin", check=False)
        state.repo(repo.full_name)
        # The reviewers the example's configuration asks for are collaborators, as they must
        # be on GitHub for the review request to be accepted.
        for login in EXAMPLE_COLLABORATORS.get(repo.full_name, ()):
            state.add_collaborator(repo.full_name, login)
        built.append(repo.full_name)
    return built
