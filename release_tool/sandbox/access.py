"""Who may do what: tokens mapped to users, write grants, and GitHub's permission levels.

A user writes the repositories under `ROOT/USER/`, the forks it created, the repositories it
was granted and those it is a collaborator of (recorded in the state); it reads everything else
(every sandbox repository is public). A request without a token may read but not write, as on
GitHub.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from release_tool.errors import UsageError

DEFAULT_USER = "maintainer"

Level = Literal["admin", "write", "read"]

# GitHub's login rule: alphanumerics and single hyphens, at most 39 characters.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_TOKEN_HINT = (
    "write a token as TOKEN, TOKEN:USER or TOKEN:USER:OPTIONS (e.g. sandbox-token:maintainer); "  # noqa: S105
    "OPTIONS, comma-separated: repos=OWNER/NAME+OWNER/NAME (a fine-grained token limited to "
    "those repositories), no-workflow / workflow (whether it may change .github/workflows/)"
)
TokenKind = Literal["classic", "fine-grained", "installation"]


@dataclass(frozen=True)
class Token:
    """What a token may do beyond its user's permissions.

    `classic`: a personal access token with the `repo` scope, and the `workflow` scope unless
    `workflow` is False. `fine-grained`: a personal access token that writes only the listed
    `repositories` (it reads every public repository). `installation`: a GitHub App
    installation token, acting as the app's bot on the installation's `account`.
    """

    user: str
    kind: TokenKind = "classic"
    repositories: frozenset[str] | None = None  # lower-case OWNER/NAME; None: no limit
    workflow: bool = True
    account: str | None = None  # installation tokens: the account the app is installed on

    def limits(self, full_name: str) -> bool:
        """Whether this token keeps its holder from writing `full_name`."""
        if self.kind == "installation" and full_name.split("/", 1)[0].lower() != (
            (self.account or "").lower()
        ):
            return True
        return self.repositories is not None and full_name.lower() not in self.repositories

    def workflow_refusal(self, path: str) -> str:
        """GitHub's words when this token may not change the workflow file `path`."""
        if self.kind == "installation":
            return (
                f"refusing to allow a GitHub App to create or update workflow `{path}` "
                "without `workflows` permission"
            )
        return (
            f"refusing to allow a Personal Access Token to create or update workflow `{path}` "
            "without `workflow` scope"
        )


_GRANT_HINT = "write a grant as USER:OWNER/NAME (e.g. maintainer:openedx/edx-platform)"


def parse_token(spec: str) -> tuple[str, str | Token]:
    """`'TOKEN[:USER[:OPTIONS]]'` → (token, user), or (token, Token) when OPTIONS are given;
    a bare TOKEN belongs to user `maintainer`."""
    token, sep, rest = spec.partition(":")
    user, _, options = rest.partition(":")
    if not sep:
        user = DEFAULT_USER
    if not token or any(c.isspace() for c in token):
        raise UsageError(
            "bad sandbox token: the token is empty or contains whitespace", _TOKEN_HINT
        )
    if not _LOGIN.fullmatch(user):
        raise UsageError(f"bad sandbox token: {user!r} is not a valid GitHub login", _TOKEN_HINT)
    if not options:
        return token, user
    repositories: frozenset[str] | None = None
    workflow: bool | None = None
    for option in options.split(","):
        name, _, value = option.strip().partition("=")
        if name == "repos" and value and all(is_full_name(r) for r in value.split("+")):
            repositories = frozenset(r.lower() for r in value.split("+"))
        elif name in ("workflow", "no-workflow") and not value:
            workflow = name == "workflow"
        else:
            raise UsageError(f"bad sandbox token option {option!r}", _TOKEN_HINT)
    kind: TokenKind = "classic" if repositories is None else "fine-grained"
    # A fine-grained token changes workflows only if given the permission.
    allowed = workflow if workflow is not None else kind == "classic"
    return token, Token(user, kind, repositories, allowed)


def parse_grant(spec: str) -> tuple[str, str]:
    """`'USER:OWNER/NAME'` → (user, 'OWNER/NAME')."""
    user, sep, full_name = spec.partition(":")
    if not sep or not _LOGIN.fullmatch(user) or not is_full_name(full_name):
        raise UsageError(f"bad sandbox grant {spec!r}", _GRANT_HINT)
    return user, full_name


def is_full_name(full_name: str) -> bool:
    """Whether `full_name` is a well-formed OWNER/NAME (no path tricks: it becomes a path)."""
    owner, sep, name = full_name.partition("/")
    return (
        bool(sep)
        and bool(_LOGIN.fullmatch(owner))
        and bool(_REPO_NAME.fullmatch(name))
        and name not in (".", "..")
        and not name.endswith(".git")
    )


@dataclass(frozen=True)
class Credentials:
    """What a request presented: no token, a known user's token, a GitHub App's JWT, or
    something nobody owns."""

    user: str | None
    presented: bool
    token: Token | None = None
    app: int | None = None  # the id of the app whose valid JWT was presented
    jwt_error: str | None = None  # why a JWT was refused

    @property
    def bad(self) -> bool:
        return self.presented and self.user is None and self.app is None


class Access:
    """Tokens, grants and the per-repository permission of a user."""

    def __init__(
        self,
        tokens: Mapping[str, str | Token],
        grants: Iterable[tuple[str, str]],
        forked_by: Callable[[str], str | None],
        collaborators: Callable[[str], Iterable[str]] = lambda full_name: (),
        former_names: Callable[[str], Iterable[str]] = lambda full_name: (),
        members: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._tokens = {
            secret: Token(who) if isinstance(who, str) else who for secret, who in tokens.items()
        }
        # Verifies an app's JWT (see `apps`): the app's id, or an error message.
        self.verify_jwt: Callable[[str], int | str] | None = None
        # Logins and repository names are case-insensitive, as on GitHub.
        self._grants = frozenset((user.lower(), name.lower()) for user, name in grants)
        self._collaborators = collaborators
        self._former_names = former_names  # a grant follows its repository's renames
        self._members = {(user.lower(), org.lower()) for user, org in members}
        # Forks are recorded in the state file; asking through a callable keeps this module
        # free of it.
        self._forked_by = forked_by

    @property
    def users(self) -> frozenset[str]:
        return frozenset(t.user for t in self._tokens.values() if t.kind != "installation")

    def add_token(self, secret: str, token: Token) -> None:
        """A token issued while serving (an app installation's)."""
        self._tokens[secret] = token

    def _credentials(self, secret: str) -> Credentials:
        token = self._tokens.get(secret)
        return Credentials(token.user if token else None, True, token)

    def from_api_header(self, header: str | None) -> Credentials:
        """`Authorization: token X`, `Bearer X` or Basic with the token as password."""
        if not header:
            return Credentials(None, presented=False)
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value.count(".") == 2 and value not in self._tokens:
            # A JSON Web Token: a GitHub App authenticating as itself.
            verdict = (
                self.verify_jwt(value)
                if self.verify_jwt
                else "A JSON web token could not be decoded"
            )
            if isinstance(verdict, int):
                return Credentials(None, True, app=verdict)
            return Credentials(None, True, jwt_error=verdict)
        if scheme.lower() in ("token", "bearer"):
            return self._credentials(value)
        if scheme.lower() == "basic":
            return self.from_basic(value)
        return Credentials(None, presented=True)

    def from_basic(self, encoded: str) -> Credentials:
        """HTTP Basic as git sends it: the token as the password (or, as GitHub allows, the
        user name)."""
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return Credentials(None, presented=True)
        name, _, password = decoded.partition(":")
        return self._credentials(password if password in self._tokens else name)

    def level(self, user: str | None, full_name: str) -> Level:
        if user is None:
            return "read"
        login = user.lower()
        if full_name.split("/", 1)[0].lower() == login or (
            (self._forked_by(full_name) or "").lower() == login
        ):
            return "admin"
        names = {full_name.lower(), *self._former_names(full_name)}
        if any((login, name) in self._grants for name in names) or login in (
            c.lower() for c in self._collaborators(full_name)
        ):
            return "write"
        return "read"

    def is_member(self, user: str, org: str) -> bool:
        """Whether `user` belongs to the organization `org`."""
        return (user.lower(), org.lower()) in self._members

    def add_member(self, user: str, org: str) -> None:
        self._members.add((user.lower(), org.lower()))

    def can_write(self, user: str | None, full_name: str) -> bool:
        return self.level(user, full_name) != "read"

    def may_write(self, credentials: Credentials, full_name: str) -> bool:
        """Whether the request may write `full_name`: its user's permission, within what its
        token allows (an installation token writes its account's repositories)."""
        token = credentials.token
        if token is not None and token.limits(full_name):
            return False
        if token is not None and token.kind == "installation":
            return True
        return self.can_write(credentials.user, full_name)

    def permissions(self, user: str | None, full_name: str) -> dict[str, bool] | None:
        """The `permissions` object of a repository; GitHub omits it for anonymous requests."""
        if user is None:
            return None
        level = self.level(user, full_name)
        return {
            "admin": level == "admin",
            "maintain": level == "admin",
            "push": level != "read",
            "triage": level != "read",
            "pull": True,
        }
