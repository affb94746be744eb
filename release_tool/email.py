"""The release notification email: templates → an RFC 5322 message → a .eml draft → maybe SMTP.

Rendering. `render_email` fills the three templates in `templates/email/` (subject, plain-text
body, HTML body; a project's `templates` folder overrides any of them, and `email.subject` in the
config overrides the subject) and builds a multipart/alternative `EmailMessage`. The changelog
section is *data*: it reaches the templates as a variable and is never compiled as a template.
Its HTML form comes from docutils (RST) or markdown-it-py (Markdown) with raw HTML off, file
inclusion off, and every link scheme except http, https and mailto turned into plain text; only
then is it wrapped in `Markup` for the autoescaping HTML template.

Determinism. The same inputs give the same bytes: the Message-ID comes from package, version and
a domain, the Date from the release date, the MIME boundary from a hash of the two parts. So a
re-run rewrites the draft byte for byte, and the Message-ID is a stable name for "the
announcement of this version", which is what the `sent` record stores.

Actions. `plan_email_actions` returns a `WriteDraftAction` (the .eml file) and, when sending is
asked and not already done, a `SendEmailAction`. Links that exist only after earlier actions
applied (the GitHub release, the downstream PRs) reach both through a `LinkBoard`: the pipeline
records each applied action's outputs on it, and the email actions render again at apply time
with whatever the board then knows.
"""

from __future__ import annotations

import copy
import hashlib
import io
import ipaddress
import os
import re
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup

from release_tool.config import EmailConfig, check_address
from release_tool.errors import ConfigError, StepFailed, UsageError
from release_tool.plan import Outcome
from release_tool.redact import Redactor
from release_tool.rendering import render, render_string

if TYPE_CHECKING:
    from docutils.readers import Reader
    from markdown_it import MarkdownIt


NotesFormat = Literal["rst", "markdown", "text"]
Security = Literal["starttls", "tls", "none"]

SUBJECT_TEMPLATE = "email/subject.txt.j2"
TEXT_TEMPLATE = "email/body.txt.j2"
HTML_TEMPLATE = "email/body.html.j2"
SENT_RECORD = "sent"

ENV_HOST = "RELEASE_TOOL_SMTP_HOST"
ENV_PORT = "RELEASE_TOOL_SMTP_PORT"
ENV_USER = "RELEASE_TOOL_SMTP_USER"
# The only place a password is ever read from (a variable name, not a secret).
ENV_PASSWORD = "RELEASE_TOOL_SMTP_PASSWORD"  # noqa: S105

DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
SMTP_TIMEOUT = 30.0

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_DOMAIN_RE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
# RFC 5322 atext plus '.', for the local part of the Message-ID.
_NOT_ATEXT_RE = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")


# --- the context --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailContext:
    """What the announcement is about. Plain strings: the caller owns versions and changelogs."""

    package: str
    version: str
    previous_version: str | None
    date: date
    notes_text: str  # the changelog section as written
    repository_url: str
    tag_url: str
    index_url: str  # the version's page on the index, e.g. https://pypi.org/project/x/1.0/
    release_url: str | None = None
    downstream_pr_urls: tuple[str, ...] = ()
    notes_format: NotesFormat = "rst"


def notes_format_for(changelog: str | None) -> NotesFormat:
    """The notes format of a changelog file name: CHANGELOG.rst → rst, .md → markdown."""
    suffix = Path(changelog).suffix.lower() if changelog else ""
    if suffix in (".md", ".markdown"):
        return "markdown"
    return "rst" if suffix in (".rst", ".rest") else "text"


class LinkBoard:
    """Links learned while the plan is applied, read by the email actions at apply time.

    The pipeline makes one board per run, hands it to `plan_email_actions`, and calls
    `record(outcome.outputs)` after each applied action. Keys read: `release_url` (one URL) and
    `downstream_pr_url` / `downstream_pr_urls` (one URL, or several separated by whitespace;
    `Outcome.outputs` holds strings only). Anything else is ignored. A URL from the board wins
    over the plan-time `release_url`; PR URLs are added to the plan-time ones, without repeats.
    """

    def __init__(self) -> None:
        self.release_url: str | None = None
        self.downstream_pr_urls: list[str] = []

    def record(self, outputs: Mapping[str, str]) -> None:
        """Take the links out of an applied action's outputs."""
        if outputs.get("release_url"):
            self.release_url = outputs["release_url"]
        for key in ("downstream_pr_url", "downstream_pr_urls"):
            for url in outputs.get(key, "").split():
                self.add_downstream_pr(url)

    def add_downstream_pr(self, url: str) -> None:
        if url not in self.downstream_pr_urls:
            self.downstream_pr_urls.append(url)

    def fill(self, context: EmailContext) -> EmailContext:
        """`context` with what the board knows added."""
        prs = tuple(dict.fromkeys((*context.downstream_pr_urls, *self.downstream_pr_urls)))
        return replace(
            context, release_url=self.release_url or context.release_url, downstream_pr_urls=prs
        )

    def __repr__(self) -> str:
        return f"LinkBoard({self.release_url!r}, {self.downstream_pr_urls!r})"


# --- the notes as HTML --------------------------------------------------------------------------


def is_safe_url(url: str) -> bool:
    """Whether a link may stay a link in the HTML part: http, https, mailto, or a #fragment.

    Anything else (javascript:, data:, vbscript:, file:, and relative links, which mean nothing
    in an email) is refused. Browsers drop ASCII whitespace and control characters inside a
    scheme, so "java\\tscript:" is compared as "javascript:".
    """
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", url)
    if cleaned.startswith("#"):
        return True
    match = _SCHEME_RE.match(cleaned)
    return match is not None and match.group(1).lower() in _SAFE_SCHEMES


def notes_to_html(text: str, notes_format: NotesFormat) -> Markup:
    """The changelog section as safe HTML: raw HTML escaped, unsafe links neutralised.

    RST that docutils reports any problem with (an unknown Sphinx role, a disabled `raw` or
    `include` directive, broken markup) is shown as written in a <pre> block instead: the reader
    then sees exactly what the author wrote rather than a half-rendered section with docutils'
    error boxes in it.
    """
    if not text.strip():
        return Markup("")
    html: str | None = None
    if notes_format == "rst":
        html = _rst_to_html(text)
    elif notes_format == "markdown":
        html = _markdown().render(text)
    if html is None:
        return Markup('<pre style="white-space: pre-wrap;">{}</pre>').format(text)
    # Safe by construction: both renderers escape all text and raw HTML is disabled in both.
    return Markup(html.strip())  # noqa: S704


_DOCUTILS_SETTINGS: dict[str, Any] = {
    # Never read docutils.conf from the released repository, $HOME or DOCUTILSCONFIG: one of
    # them could switch raw HTML back on.
    "_disable_config": True,
    "raw_enabled": False,  # `.. raw:: html` and the raw role
    "file_insertion_enabled": False,  # `.. include:: /etc/passwd`, csv-table :file:/:url:
    "report_level": 2,
    "halt_level": 5,  # never raise on bad markup: report, then fall back to <pre>
    "exit_status_level": 5,
    "doctitle_xform": False,  # a heading inside the notes stays a heading, not the page title
    "initial_header_level": 3,
    "syntax_highlight": "none",  # no Pygments: same output everywhere
    "embed_stylesheet": False,
    "footnote_backlinks": False,
}


def _rst_to_html(text: str) -> str | None:
    from docutils.core import publish_parts
    from docutils.writers.html5_polyglot import Writer

    warnings = io.StringIO()
    settings = {**_DOCUTILS_SETTINGS, "warning_stream": warnings}
    reader = _safe_rst_reader()  # outside the `try`: a mistake of ours must not be swallowed
    try:
        parts = publish_parts(
            source=text, reader=reader, writer=Writer(), settings_overrides=settings
        )
    except Exception:  # a docutils bug on odd input must not stop a release: show the text
        return None
    if warnings.getvalue():
        return None
    fragment = parts["fragment"]
    return fragment if isinstance(fragment, str) else None


def _safe_rst_reader() -> Reader[Any]:
    """The standalone reader plus a transform that unlinks unsafe URIs (docutils keeps them)."""
    from docutils import nodes
    from docutils.readers.standalone import Reader as StandaloneReader
    from docutils.transforms import Transform

    class NeutraliseUnsafeLinks(Transform):
        default_priority = 900  # after targets are resolved into `refuri`s (640-850)

        def apply(self, **kwargs: Any) -> None:
            for ref in list(self.document.findall(nodes.reference)):
                uri = ref.get("refuri")
                if uri is not None and not is_safe_url(uri):
                    ref.replace_self(nodes.inline("", "", *ref.children))
            for image in list(self.document.findall(nodes.image)):
                if not is_safe_url(image.get("uri", "")):
                    image.replace_self(nodes.inline("", image.get("alt", "")))

    class SafeReader(StandaloneReader):  # type: ignore[type-arg]  # generic in stubs only
        def get_transforms(self) -> list[type[Transform]]:
            return [*super().get_transforms(), NeutraliseUnsafeLinks]

    return SafeReader()


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    class SafeMarkdownIt(MarkdownIt):
        def validateLink(self, url: str) -> bool:  # markdown-it's spelling
            # A link that fails this is rendered as its text, not as a link.
            return is_safe_url(url)

    # "html": False turns raw HTML, inline and block, into escaped text.
    return SafeMarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


# --- the message --------------------------------------------------------------------------------


def render_email(
    config: EmailConfig,
    context: EmailContext,
    *,
    sender: str,
    override_dir: Path | None,
    message_id_domain: str | None = None,
    when: datetime | None = None,
) -> EmailMessage:
    """The announcement as a multipart/alternative RFC 5322 message, the same for the same input.

    `sender` is the From address used when the config sets none (e.g. git's identity).
    `message_id_domain` defaults to the From address's domain. `when` is the Date header;
    by default noon UTC of the release date, which shows as that date in every time zone from
    UTC-11 to UTC+11 and keeps a re-render identical.
    """
    from_address = config.sender or sender
    _check_addresses(from_address, config)
    _check_links(context)
    variables = _template_variables(context)
    if config.subject is not None:
        raw_subject = render_string(
            config.subject, variables, what="tool.release_tool.email.subject"
        )
    else:
        raw_subject = render(SUBJECT_TEMPLATE, variables, override_dir=override_dir)
    # A header is one line: template newlines and runs of spaces become single spaces.
    subject = " ".join(raw_subject.split())
    if not subject:
        raise ConfigError(
            "the email subject template rendered an empty subject",
            "make it print at least the package and the version",
        )
    text = render(TEXT_TEMPLATE, variables, override_dir=override_dir)
    html = render(HTML_TEMPLATE, variables, override_dir=override_dir)

    domain = message_id_domain or parseaddr(from_address)[1].rpartition("@")[2]
    if when is None:
        when = datetime.combine(context.date, time(12, 0), tzinfo=UTC)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=UTC)

    message = EmailMessage(policy=policy.default)
    message["From"] = from_address
    message["To"] = ", ".join(config.to)
    if config.cc:
        message["Cc"] = ", ".join(config.cc)
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id(context.package, context.version, domain)
    message.set_content(text, subtype="plain", cte=_transfer_encoding(text))
    message.add_alternative(html, subtype="html", cte=_transfer_encoding(html))
    for part in message.iter_parts():
        del part["MIME-Version"]  # add_alternative copies it into the part; it belongs on top
    # The generator would pick a random boundary; one derived from the parts keeps the bytes
    # stable, and a hash of the content cannot occur inside that content.
    digest = hashlib.sha256(text.encode() + b"\0" + html.encode()).hexdigest()
    message.set_boundary(f"==release-tool-{digest[:32]}")
    return message


def message_id(package: str, version: str, domain: str) -> str:
    """`<release.PACKAGE.VERSION@DOMAIN>`: one announcement per version, whoever renders it."""
    if not _DOMAIN_RE.fullmatch(domain):
        raise UsageError(
            f"{domain!r} is not a valid Message-ID domain", "give a domain such as example.org"
        )
    return f"<{_message_id_local(package, version)}@{domain}>"


def _message_id_local(package: str, version: str) -> str:
    local = _NOT_ATEXT_RE.sub("-", f"release.{package}.{version}")
    return re.sub(r"\.{2,}", ".", local).strip(".")


def message_bytes(message: EmailMessage) -> bytes:
    """The message as the .eml draft holds it: headers folded at 78 columns, LF line ends.

    LF rather than the wire's CRLF: mail clients open either, the draft diffs and prints
    cleanly, and it parses back into exactly the parts that were rendered (a parsed CRLF body
    keeps its CRs). smtplib converts to CRLF when sending.
    """
    return message.as_bytes(policy=policy.default)


def _transfer_encoding(text: str) -> str:
    # 7bit keeps the draft readable; anything else goes quoted-printable, so the whole message
    # is ASCII and needs no 8BITMIME from the SMTP server. 998 is RFC 5322's line limit.
    if text.isascii() and all(len(line) <= 998 for line in text.splitlines()):
        return "7bit"
    return "quoted-printable"


def _template_variables(context: EmailContext) -> dict[str, Any]:
    # Leading blank lines and trailing whitespace go; the first line's indentation stays
    # (it is meaningful in RST and Markdown).
    notes = re.sub(r"\A(?:[ \t]*\n)+", "", context.notes_text).rstrip()
    return {
        "package": context.package,
        "version": context.version,
        "previous_version": context.previous_version,
        "date": context.date,
        "notes_text": notes,
        "notes_html": notes_to_html(notes, context.notes_format),
        "repository_url": context.repository_url,
        "tag_url": context.tag_url,
        "release_url": context.release_url,
        "index_url": context.index_url,
        "downstream_pr_urls": list(context.downstream_pr_urls),
    }


def _check_addresses(sender: str, config: EmailConfig) -> None:
    checks = [("from", sender)]
    checks += [("to", a) for a in config.to] + [("cc", a) for a in config.cc]
    if config.reply_to:
        checks.append(("reply_to", config.reply_to))
    if not config.to:
        raise UsageError("the email has no recipients", "set `to` in [tool.release_tool.email]")
    for key, address in checks:
        problem = check_address(address)
        # One address per entry: an unquoted comma ("Doe, Jane <j@x.org>") would make two.
        if problem is None and (
            "\r" in address or "\n" in address or len(getaddresses([address])) != 1
        ):
            problem = f"{address!r} is not a single valid email address"
        if problem:
            raise UsageError(
                f"email {key}: {problem}",
                "fix the address in [tool.release_tool.email] (or git's user.email)",
            )


def _check_links(context: EmailContext) -> None:
    links = [
        ("repository_url", context.repository_url),
        ("tag_url", context.tag_url),
        ("index_url", context.index_url),
        ("release_url", context.release_url),
    ]
    links += [("downstream_pr_urls", url) for url in context.downstream_pr_urls]
    for name, url in links:
        if url is not None and not re.match(r"https?://[^\s]+\Z", url):
            raise UsageError(
                f"email link {name} {url!r} is not an http(s) URL",
                "links in the announcement must be web addresses",
            )


def preview(message: EmailMessage) -> str:
    """The headers a reader sees and the plain-text body: what a dry run shows."""
    lines = [
        f"{name}: {message[name]}"
        for name in ("From", "To", "Cc", "Reply-To", "Subject")
        if message[name] is not None
    ]
    body = message.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return "\n".join(lines) + "\n\n" + str(text)


# --- files --------------------------------------------------------------------------------------


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` in one rename: a crash never leaves half a draft or half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide an ordinary file from the group
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sent_record(record: Path, package: str, version: str) -> str | None:
    """The recorded Message-ID if this version's announcement was already sent, else None.

    The record holds one Message-ID per line. It matches on package and version only, not the
    domain: the default domain is the sender's, and a re-run by another maintainer (another git
    identity) must still see that the announcement went out.
    """
    try:
        lines = record.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    local = _message_id_local(package, version)
    for line in lines:
        if line.strip().startswith(f"<{local}@"):
            return line.strip()
    return None


def _record_sent(record: Path, msgid: str) -> None:
    try:
        existing = record.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    _write_atomically(record, f"{existing}{msgid}\n".encode())


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. The password is kept out of repr, describe() and every message."""

    host: str
    port: int
    security: Security = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT

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
    env_hint = "set it in [tool.release_tool.email] or the environment"
    host = (environ.get(ENV_HOST) or config.smtp_host or "").strip()
    if not host:
        raise UsageError(
            "sending the email needs an SMTP host",
            f"set smtp_host in [tool.release_tool.email] or {ENV_HOST}",
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
            f"set smtp_user in [tool.release_tool.email] or {ENV_USER}",
        )
    if security == "none" and not _is_loopback(host):
        raise UsageError(
            f"smtp_security = 'none' is refused for {host}: the email and any password would "
            "cross the network unencrypted",
            "use 'starttls' or 'tls'; 'none' is only for a test server on this machine",
        )
    return SmtpSettings(host=host, port=port, security=security, user=user, password=password)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _send(smtp: SmtpSettings, message: EmailMessage, draft: Path) -> dict[str, tuple[int, bytes]]:
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
            "check `to` and `cc` in [tool.release_tool.email]",
        ) from None
    except smtplib.SMTPSenderRefused as exc:
        raise failed(
            f"{where} refused the sender {exc.sender} ({exc.smtp_code} {_text(exc.smtp_error)})",
            "check `from` in [tool.release_tool.email]; the server may only accept "
            "its user's own address",
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


# --- actions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailSpec:
    """The inputs of `render_email`, kept so an action can render again at apply time."""

    config: EmailConfig
    context: EmailContext
    sender: str
    override_dir: Path | None = None
    message_id_domain: str | None = None

    def render(self, links: LinkBoard | None = None) -> EmailMessage:
        context = links.fill(self.context) if links is not None else self.context
        return render_email(
            self.config,
            context,
            sender=self.sender,
            override_dir=self.override_dir,
            message_id_domain=self.message_id_domain,
        )


def _current(
    message: EmailMessage, spec: EmailSpec | None, links: LinkBoard | None
) -> EmailMessage:
    # Re-render only when something can have changed since planning: the board's links.
    if spec is None or links is None:
        return message
    return spec.render(links)


@dataclass(frozen=True)
class WriteDraftAction:
    """Write the message as a .eml draft at `path` (atomically; folders created)."""

    path: Path
    message: EmailMessage  # the plan-time rendering, shown by details()
    spec: EmailSpec | None = None
    links: LinkBoard | None = None
    step: str = "email"

    def describe(self) -> str:
        return f"write the email draft {self.path}"

    def details(self) -> str:
        return preview(self.message)

    def apply(self) -> Outcome:
        data = message_bytes(_current(self.message, self.spec, self.links))
        if self.path.is_file() and self.path.read_bytes() == data:
            summary = f"email draft unchanged: {self.path}"
        else:
            _write_atomically(self.path, data)
            summary = f"email draft written: {self.path}"
        return Outcome(summary, {"email_draft": str(self.path)})


@dataclass(frozen=True)
class SendEmailAction:
    """Send the message through SMTP once; `record` (next to the draft) remembers that it did."""

    message: EmailMessage
    smtp: SmtpSettings
    draft_path: Path
    record: Path
    spec: EmailSpec | None = None
    links: LinkBoard | None = None
    step: str = "email"

    def describe(self) -> str:
        headers = [str(h) for h in (self.message["To"], self.message["Cc"]) if h is not None]
        recipients = ", ".join(address for _, address in getaddresses(headers))
        return f"send the email to {recipients} through {self.smtp.describe()}"

    def details(self) -> str:
        return (
            f"Message-ID: {self.message['Message-ID']}\n"
            f"Subject: {self.message['Subject']}\n"
            f"SMTP: {self.smtp.describe()}\n"
            f"recorded in: {self.record}"
        )

    def apply(self) -> Outcome:
        message = _current(self.message, self.spec, self.links)
        msgid = str(message["Message-ID"])
        context = self.spec.context if self.spec else None
        if context is not None:
            already = sent_record(self.record, context.package, context.version)
        else:
            already = msgid if _listed(self.record, msgid) else None
        if already:  # sent by an earlier run since this plan was made: never twice
            return Outcome(
                f"email already sent (Message-ID {already})", {"email_message_id": already}
            )
        # The draft is dated with the release date for stable bytes; the message that leaves
        # says when it was actually sent, as RFC 5322's Date means.
        outgoing = copy.deepcopy(message)
        outgoing.replace_header("Date", format_datetime(datetime.now(UTC)))
        refused = _send(self.smtp, outgoing, self.draft_path)
        try:
            _record_sent(self.record, msgid)
        except OSError as exc:
            raise StepFailed(
                f"the email was sent but {self.record} could not be written ({exc.strerror})",
                f"write {msgid} into {self.record} so that a re-run does not send it again",
            ) from None
        summary = f"email sent (Message-ID {msgid})"
        if refused:
            summary += "; refused by the server: " + ", ".join(sorted(refused))
        return Outcome(summary, {"email_message_id": msgid})


def _listed(record: Path, msgid: str) -> bool:
    try:
        return msgid in record.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return False


# Both satisfy plan.Action; named concretely so the tuple keeps their types.
EmailAction = WriteDraftAction | SendEmailAction


# --- planning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailPlan:
    """The email step's actions, its notes (e.g. "already sent"), and what was rendered."""

    actions: tuple[EmailAction, ...]
    message: EmailMessage
    draft_path: Path
    record: Path
    notes: tuple[str, ...] = ()
    already_sent: str | None = None  # the recorded Message-ID


def draft_path_for(config: EmailConfig, repo_root: Path, version: str) -> Path:
    """Where the draft of `version` goes: config `draft` with {version}, under the repo root."""
    path = repo_root / config.draft.replace("{version}", version)
    if not path.resolve().is_relative_to(repo_root.resolve()):
        raise UsageError(
            f"the email draft path {path} is outside the repository",
            "set `draft` in [tool.release_tool.email] to a path inside it",
        )
    return path


def plan_email_actions(
    config: EmailConfig,
    context: EmailContext,
    *,
    repo_root: Path,
    sender: str,
    send: bool,
    environ: Mapping[str, str],
    override_dir: Path | None,
    links: LinkBoard | None = None,
    message_id_domain: str | None = None,
) -> EmailPlan:
    """The draft action, and the send action when `send` is asked and not already done.

    Reads only (templates, the `sent` record, `environ`); raises ConfigError for a broken
    template and UsageError for a bad address or missing SMTP settings, all before anything
    is applied. `links` is the run's LinkBoard, if links are still to come.
    """
    spec = EmailSpec(config, context, sender, override_dir, message_id_domain)
    message = spec.render(links)
    draft = draft_path_for(config, repo_root, context.version)
    record = draft.parent / SENT_RECORD
    actions: list[EmailAction] = [WriteDraftAction(draft, message, spec, links)]
    notes: list[str] = []
    already = sent_record(record, context.package, context.version) if send else None
    if already:
        notes.append(f"email already sent (Message-ID {already}); not sending it again")
    elif send:
        smtp = smtp_settings(config, environ)
        actions.append(SendEmailAction(message, smtp, draft, record, spec, links))
    else:
        notes.append("the email is written as a draft only; sending was not asked")
    return EmailPlan(tuple(actions), message, draft, record, tuple(notes), already)


__all__ = [
    "EmailAction",
    "EmailContext",
    "EmailPlan",
    "EmailSpec",
    "LinkBoard",
    "NotesFormat",
    "SendEmailAction",
    "SmtpSettings",
    "WriteDraftAction",
    "draft_path_for",
    "is_safe_url",
    "message_bytes",
    "message_id",
    "notes_format_for",
    "notes_to_html",
    "plan_email_actions",
    "preview",
    "render_email",
    "sent_record",
    "smtp_settings",
]
