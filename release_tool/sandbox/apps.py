"""GitHub Apps: an app authenticates with an RS256 JSON Web Token signed by its private key,
lists its installations, and gets installation access tokens (`ghs_...`, one hour) that act as
the app's bot on the installation's account.

The sandbox installs each configured app on every owner that has repositories (one installation
per owner, all repositories). `parse_app('ID:KEYFILE')` reads the key file: a private key (the
public half is derived) or a public key. PyJWT and `cryptography` come with PyGithub.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from release_tool.errors import UsageError

_APP_HINT = "write an app as ID:KEYFILE, KEYFILE the app's private (or public) key in PEM"
DEFAULT_PERMISSIONS = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "actions": "write",
    "metadata": "read",
}
TOKEN_LIFETIME = 3600  # seconds, as GitHub's installation tokens
JWT_MAX_LIFETIME = 600  # GitHub refuses a JWT that expires more than 10 minutes out


@dataclass(frozen=True)
class App:
    """A GitHub App: its id, the public key its JWTs are checked with, its permissions (add
    `"workflows": "write"` to let its tokens change workflow files)."""

    id: int
    public_key: Any  # a cryptography RSA public key
    slug: str = "sandbox-app"
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))

    @property
    def bot(self) -> str:
        return f"{self.slug}[bot]"


def parse_app(spec: str) -> App:
    """`'ID:KEYFILE'` → an App; a UsageError with a hint on bad input."""
    app_id, sep, key_file = spec.partition(":")
    if not sep or not app_id.isdigit() or not key_file:
        raise UsageError(f"bad sandbox app {spec!r}", _APP_HINT)
    try:
        data = Path(key_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the app key {key_file}: {exc.strerror}", _APP_HINT) from None
    return App(int(app_id), load_public_key(data))


def load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    try:
        if b"PRIVATE KEY" in pem:
            return serialization.load_pem_private_key(pem, password=None).public_key()
        return serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise UsageError("the app key is not a PEM RSA key", _APP_HINT) from None


def verify_jwt(apps: list[App], encoded: str) -> int | str:
    """The id of the app that signed `encoded`, or GitHub's reason for refusing it."""
    import jwt

    try:
        claims = jwt.decode(encoded, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "A JSON web token could not be decoded"
    issuer = str(claims.get("iss", ""))
    app = next((a for a in apps if str(a.id) == issuer), None)
    if app is None:
        return "A JSON web token could not be decoded"
    try:
        jwt.decode(
            encoded,
            app.public_key,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"]},
            leeway=60,
        )
    except jwt.ExpiredSignatureError:
        return (
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires"
        )
    except jwt.ImmatureSignatureError:
        return (
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued"
        )
    except jwt.PyJWTError:
        return "A JSON web token could not be decoded"
    if int(claims["exp"]) - int(claims["iat"]) > JWT_MAX_LIFETIME + 60:
        return "'Expiration time' claim ('exp') is too far in the future"
    return app.id


def new_token() -> str:
    return "ghs_" + secrets.token_hex(18)


def expires_at() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + TOKEN_LIFETIME))
