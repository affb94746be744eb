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
_TOKEN_HINT = "write a token as TOKEN or TOKEN:USER (e.g. sandbox-token:maintainer)"  # noqa: S105
_GRANT_HINT = "write a grant as USER:OWNER/NAME (e.g. maintainer:openedx/edx-platform)"


def parse_token(spec: str) -> tuple[str, str]:
    """`'TOKEN[:USER]'` → (token, user); a bare TOKEN belongs to user `maintainer`."""
    token, sep, user = spec.partition(":")
    if not sep:
        user = DEFAULT_USER
    if not token or any(c.isspace() for c in token):
        raise UsageError(
            "bad sandbox token: the token is empty or contains whitespace", _TOKEN_HINT
        )
    if not _LOGIN.fullmatch(user):
        raise UsageError(f"bad sandbox token: {user!r} is not a valid GitHub login", _TOKEN_HINT)
    return token, user


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
    """What a request presented: no token, a known user, or a token nobody owns."""

    user: str | None
    presented: bool

    @property
    def bad(self) -> bool:
        return self.presented and self.user is None


class Access:
    """Tokens, grants and the per-repository permission of a user."""

    def __init__(
        self,
        tokens: Mapping[str, str],
        grants: Iterable[tuple[str, str]],
        forked_by: Callable[[str], str | None],
        collaborators: Callable[[str], Iterable[str]] = lambda full_name: (),
        former_names: Callable[[str], Iterable[str]] = lambda full_name: (),
    ) -> None:
        self._tokens = dict(tokens)
        # Logins and repository names are case-insensitive, as on GitHub.
        self._grants = frozenset((user.lower(), name.lower()) for user, name in grants)
        self._collaborators = collaborators
        self._former_names = former_names  # a grant follows its repository's renames
        # Forks are recorded in the state file; asking through a callable keeps this module
        # free of it.
        self._forked_by = forked_by

    @property
    def users(self) -> frozenset[str]:
        return frozenset(self._tokens.values())

    def from_api_header(self, header: str | None) -> Credentials:
        """`Authorization: token X`, `Bearer X` or Basic with the token as password."""
        if not header:
            return Credentials(None, presented=False)
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() in ("token", "bearer"):
            return Credentials(self._tokens.get(value), presented=True)
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
        user = self._tokens.get(password) or self._tokens.get(name)
        return Credentials(user, presented=True)

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

    def can_write(self, user: str | None, full_name: str) -> bool:
        return self.level(user, full_name) != "read"

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
