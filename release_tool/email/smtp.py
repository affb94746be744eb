"""Sending the announcement: SMTP settings from the environment and config, then one send.

`smtp_settings` resolves where and how to send (the environment wins over the config; the
password is read from the environment only) and refuses settings that cannot work, such as an
unencrypted connection to anything but this machine. `send_message` sends once and turns every
failure into a one-line `StepFailed` with the password masked.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from release_tool.config import EmailConfig
from release_tool.errors import StepFailed, UsageError
from release_tool.redact import Redactor

Security = Literal["starttls", "tls", "none"]

ENV_HOST = "RELEASE_TOOL_SMTP_HOST"
ENV_PORT = "RELEASE_TOOL_SMTP_PORT"
ENV_USER = "RELEASE_TOOL_SMTP_USER"
# The only place a password is ever read from (a variable name, not a secret).
ENV_PASSWORD = "RELEASE_TOOL_SMTP_PASSWORD"  # noqa: S105

DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. The password is kept out of repr, describe() and every message."""

    host: str
    port: int
    security: Security = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT
    where: str = "tool.release_tool.email"  # the email table's key path, for hints

    def describe(self) -> str:
        who = f", user {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}{who})"


def smtp_settings(config: EmailConfig, environ: Mapping[str, str]) -> SmtpSettings:
    """SMTP settings from the environment, then the config; UsageError if they cannot work.

    The environment wins over the config so a CI job can point at another server without
    editing pyproject.toml. The password comes from the environment only. With no user the
    server is used without authentication (a local relay); a user without a password, or a
    password without a user, is refused rather than guessed.
    """
    env_hint = f"set it in {config.where} or the environment"
    host = (environ.get(ENV_HOST) or config.smtp_host or "").strip()
    if not host:
        raise UsageError(
            "sending the email needs an SMTP host",
            f"set {config.key('smtp_host')} or {ENV_HOST}",
        )
    if any(c.isspace() for c in host):
        raise UsageError(f"SMTP host {host!r} is not a host name", env_hint)
    security = config.smtp_security
    if environ.get(ENV_PORT):
        try:
            port = int(environ[ENV_PORT])
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise UsageError(
                f"{ENV_PORT}={environ[ENV_PORT]!r} is not a port number",
                "give a number such as 587",
            )
    else:
        port = config.smtp_port or DEFAULT_PORTS[security]
    user = environ.get(ENV_USER) or config.smtp_user or None
    password = environ.get(ENV_PASSWORD) or None
    if user and not password:
        raise UsageError(
            f"SMTP user {user!r} is set but {ENV_PASSWORD} is not",
            f"export {ENV_PASSWORD}; a password is never read from the config",
        )
    if password and not user:
        raise UsageError(
            f"{ENV_PASSWORD} is set but no SMTP user is",
            f"set {config.key('smtp_user')} or {ENV_USER}",
        )
    if security == "none" and not _is_loopback(host):
        raise UsageError(
            f"smtp_security = 'none' is refused for {host}: the email and any password would "
            "cross the network unencrypted",
            "use 'starttls' or 'tls'; 'none' is only for a test server on this machine",
        )
    return SmtpSettings(
        host=host, port=port, security=security, user=user, password=password, where=config.where
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def send_message(
    smtp: SmtpSettings, message: EmailMessage, draft: Path
) -> dict[str, tuple[int, bytes]]:
    """Send once; every failure becomes a one-line StepFailed with the password masked."""
    redact = Redactor()
    if smtp.password:
        redact.add(smtp.password)
        redact.add(f"\0{smtp.user}\0{smtp.password}")  # AUTH PLAIN's credential, base64'd
    where = f"SMTP server {smtp.host}:{smtp.port}"
    again = f"the draft is kept at {draft}; run the same command again to send it"

    def failed(reason: str, hint: str) -> StepFailed:
        one_line = " ".join(redact(reason).split())
        return StepFailed(f"could not send the email: {one_line}", f"{hint}; {again}")

    try:
        # The system's trust store; SSL_CERT_FILE points it at a private CA.
        tls = ssl.create_default_context()
        client: smtplib.SMTP
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=tls)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=tls)
            if smtp.user and smtp.password:
                client.login(smtp.user, smtp.password)
            return client.send_message(message)
    except ssl.SSLCertVerificationError as exc:
        raise failed(
            f"the TLS certificate of {where} is not trusted ({exc.verify_message})",
            "check the host name; for a private CA set SSL_CERT_FILE",
        ) from None
    except ssl.SSLError as exc:
        raise failed(
            f"TLS with {where} failed ({exc.reason or exc})",
            "check smtp_security: 'tls' is implicit TLS (port 465), "
            "'starttls' upgrades a plain connection (port 587)",
        ) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise failed(
            f"{where} refused the login of user {smtp.user!r} "
            f"({exc.smtp_code} {_text(exc.smtp_error)})",
            f"check {ENV_USER} and {ENV_PASSWORD}",
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise failed(
            f"{where}: {exc}", "check smtp_security and whether the server needs a login"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise failed(
            f"{where} refused every recipient ({refused})",
            f"check `to` and `cc` in {smtp.where}",
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        raise failed(
            f"{where} refused the sender {exc.sender} ({exc.smtp_code} {_text(exc.smtp_error)})",
            f"check `from` in {smtp.where}; the server may only accept its user's own address",
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise failed(
            f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}", "see the server's answer"
        ) from None
    except smtplib.SMTPException as exc:
        raise failed(f"{where}: {exc}", "check the server and smtp_security") from None
    except ConnectionRefusedError:
        raise failed(
            f"{where} refused the connection", f"check smtp_host/smtp_port ({ENV_HOST}, {ENV_PORT})"
        ) from None
    except TimeoutError:
        raise failed(
            f"{where} did not answer within {smtp.timeout:g}s",
            f"check smtp_host/smtp_port ({ENV_HOST}, {ENV_PORT})",
        ) from None
    except socket.gaierror as exc:
        raise failed(
            f"cannot resolve {smtp.host} ({exc.strerror})", f"check smtp_host ({ENV_HOST})"
        ) from None
    except OSError as exc:
        raise failed(
            f"cannot reach {where} ({exc.strerror or exc})",
            f"check smtp_host/smtp_port ({ENV_HOST}, {ENV_PORT})",
        ) from None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
