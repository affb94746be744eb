"""GitHub App authentication: the app's credentials, each repository's installation, and the
installation tokens that act on it.

An App signs a short JWT with its private key (PyGithub's `Auth.AppAuth`), asks GitHub for the
installation that covers a repository (`GET /repos/{owner}/{repo}/installation`), and gets an
installation token for it (`Auth.AppInstallationAuth`, renewed by PyGithub before it expires).
Each repository is written with the token of its own installation: the library's, the
downstream's (another organization may have installed the app separately).

An installation token is not a user's: `GET /user` answers 403, and there is no account to
fork into. Nothing here (or in the callers) asks who the token is.

The credentials come from the environment: `RELEASE_TOOL_APP_ID`, and the private key's PEM
text in `RELEASE_TOOL_APP_PRIVATE_KEY` or a file named by `RELEASE_TOOL_APP_PRIVATE_KEY_FILE`.
The key is a secret: the CLI redacts it (and masks it in an Actions log) like a token.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release_tool.errors import UsageError
from release_tool.github_api.errors import doing
from release_tool.project import GitHubApp, RetryPolicy

if TYPE_CHECKING:
    from github.Auth import AppInstallationAuth
    from github.GithubIntegration import GithubIntegration

APP_ID_ENV = "RELEASE_TOOL_APP_ID"
APP_KEY_ENV = "RELEASE_TOOL_APP_PRIVATE_KEY"
APP_KEY_FILE_ENV = "RELEASE_TOOL_APP_PRIVATE_KEY_FILE"
_KEY_HINT = (
    f"set {APP_ID_ENV} to the App's id and {APP_KEY_ENV} to its private key (the PEM text), "
    f"or {APP_KEY_FILE_ENV} to the key's file"
)


def app_from_environ(environ: Mapping[str, str]) -> GitHubApp | None:
    """The App the environment names (None without RELEASE_TOOL_APP_ID); a UsageError for an
    id that is no number, a missing or unreadable key, or a key that is not PEM."""
    raw_id = (environ.get(APP_ID_ENV) or "").strip()
    text = environ.get(APP_KEY_ENV) or ""
    key_file = environ.get(APP_KEY_FILE_ENV) or ""
    if not raw_id:
        if text or key_file:
            raise UsageError(
                f"{APP_KEY_ENV} or {APP_KEY_FILE_ENV} is set without {APP_ID_ENV}", _KEY_HINT
            )
        return None
    if not raw_id.isdigit():
        raise UsageError(f"{APP_ID_ENV}={raw_id!r} is not an App id (a number)", _KEY_HINT)
    if text and key_file:
        raise UsageError(f"both {APP_KEY_ENV} and {APP_KEY_FILE_ENV} are set", "set only one")
    if key_file:
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"{APP_KEY_FILE_ENV}: cannot read {key_file} ({type(exc).__name__})", _KEY_HINT
            ) from None
    if not text.strip():
        raise UsageError(f"{APP_ID_ENV} is set, but the App's private key is not", _KEY_HINT)
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise UsageError(
            "the App's private key is not a PEM private key (-----BEGIN ... PRIVATE KEY-----)",
            "use the .pem file GitHub gave when the key was generated",
        )
    return GitHubApp(int(raw_id), text.strip() + "\n")


@dataclass(frozen=True)
class Installation:
    """The App's installation that covers a repository, and what it may do there."""

    id: int
    account: str
    permissions: Mapping[str, str]

    @property
    def can_write(self) -> bool:
        return self.permissions.get("contents") == "write"

    @property
    def can_triage(self) -> bool:
        return "write" in (self.permissions.get("pull_requests"), self.permissions.get("issues"))


class Installations:
    """The installations of one App, looked up once per repository, and their tokens."""

    def __init__(self, api: str, app: GitHubApp, *, retry: Any, timeout: float) -> None:
        self.api = api
        self.app = app
        self._retry = retry
        self._timeout = timeout
        self._integration: GithubIntegration | None = None
        self._found: dict[str, Installation | None] = {}
        self._auths: dict[int, AppInstallationAuth] = {}

    def __repr__(self) -> str:  # never the key
        return f"Installations(app {self.app.id} on {self.api!r})"

    def _app_auth(self) -> Any:
        from github import Auth

        return Auth.AppAuth(self.app.id, self.app.private_key)

    def _gi(self) -> GithubIntegration:
        if self._integration is None:
            from github import GithubIntegration

            self._integration = GithubIntegration(
                auth=self._app_auth(),
                base_url=self.api,
                retry=self._retry,
                timeout=int(max(self._timeout, 1)),
                seconds_between_requests=0,
                seconds_between_writes=0,
            )
        return self._integration

    def of(self, full_name: str) -> Installation | None:
        """The installation covering `full_name` (None: the App is not installed there)."""
        key = full_name.lower()
        if key not in self._found:
            from github.GithubException import GithubException

            owner, name = full_name.split("/", 1)
            with _app_doing(self, f"finding the App's installation on {full_name}"):
                try:
                    found = self._gi().get_repo_installation(owner, name)
                except GithubException as exc:
                    if exc.status != 404:
                        raise
                    self._found[key] = None
                else:
                    data = found.raw_data
                    self._found[key] = Installation(
                        int(data["id"]),
                        str((data.get("account") or {}).get("login") or owner),
                        dict(data.get("permissions") or {}),
                    )
        return self._found[key]

    def auth(self, installation: Installation) -> AppInstallationAuth:
        """PyGithub's auth for the installation (its token made on first use, then renewed)."""
        if installation.id not in self._auths:
            self._auths[installation.id] = self._app_auth().get_installation_auth(installation.id)
        return self._auths[installation.id]

    def token(self, full_name: str) -> str:
        """An installation token for `full_name` (what git pushes with)."""
        installation = self.of(full_name)
        if installation is None:
            raise not_installed(self.app, full_name)
        with _app_doing(self, f"making an installation token for {full_name}"):
            issued = self._gi().get_access_token(installation.id)
        return str(issued.token)


def not_installed(app: GitHubApp, full_name: str) -> UsageError:
    return UsageError(
        f"the GitHub App {app.id} is not installed on {full_name}",
        f"install the App on {full_name} (contents and pull requests: write), or use a token "
        "(GITHUB_TOKEN) instead",
    )


@contextmanager
def _app_doing(installations: Installations, what: str) -> Iterator[None]:
    """`doing`, with a 401 read as the App's credentials (not a token) being refused."""
    from github.GithubException import GithubException

    with doing(installations.api, what):
        try:
            yield
        except GithubException as exc:
            if exc.status != 401:
                raise
            raise UsageError(
                f"GitHub refused the App's credentials (401) while {what}",
                f"check {APP_ID_ENV} (App {installations.app.id}) and that the private key is "
                "the App's current one",
            ) from exc


def app_login(
    environ: Mapping[str, str], api: str, repository: str, *, policy: RetryPolicy, timeout: float
) -> tuple[GitHubApp, str] | None:
    """The App the environment names and an installation token for `repository` (the one git
    pushes with); None when no App is configured."""
    app = app_from_environ(environ)
    if app is None:
        return None
    from release_tool.github_api.retry import retry_for

    installations = Installations(api, app, retry=retry_for(policy), timeout=timeout)
    return app, installations.token(repository)
