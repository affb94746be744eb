"""The announcement as an RFC 5322 message: templates + context → a deterministic `EmailMessage`.

`render_email` fills the three templates in `templates/email/` (subject, plain-text body, HTML
body; a project's `templates` folder overrides any of them, and `email.subject` in the config
overrides the subject) and builds a multipart/alternative message. The changelog section reaches
the templates as data, in text and as safe HTML (see `notes`). Every address and link is checked
before anything is rendered.

Determinism. The same inputs give the same bytes: the Message-ID comes from package, version and
a domain, the Date from the release date, the MIME boundary from a hash of the two parts. So a
re-run rewrites the draft byte for byte, and the Message-ID is a stable name for "the
announcement of this version", which is what the `sent` record stores.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from typing import Any

from release_tool.config import EmailConfig, check_address
from release_tool.email.notes import NotesFormat, notes_to_html
from release_tool.errors import ConfigError, UsageError
from release_tool.rendering import render, render_string

SUBJECT_TEMPLATE = "email/subject.txt.j2"
TEXT_TEMPLATE = "email/body.txt.j2"
HTML_TEMPLATE = "email/body.html.j2"

_DOMAIN_RE = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")
# RFC 5322 atext plus '.', for the local part of the Message-ID.
_NOT_ATEXT_RE = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")


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
    # Repositories whose PR the run has yet to open: a plan-time rendering shows a placeholder.
    pending_prs: tuple[str, ...] = ()
    notes_format: NotesFormat = "rst"


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
        raw_subject = render_string(config.subject, variables, what=config.key("subject"))
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
    return f"<{message_id_local(package, version)}@{domain}>"


def message_id_local(package: str, version: str) -> str:
    """The part of the Message-ID before the @: the same for every sender of this version."""
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
        "downstream_pr_urls": [
            *context.downstream_pr_urls,
            *(pending_pr_placeholder(repository) for repository in context.pending_prs),
        ],
    }


def pending_pr_placeholder(repository: str) -> str:
    """What a dry run shows where the URL of a PR the run will open goes."""
    return f"[the PR on {repository}: its URL is known once the run opens it]"


def _check_addresses(sender: str, config: EmailConfig) -> None:
    checks = [("from", sender)]
    checks += [("to", a) for a in config.to] + [("cc", a) for a in config.cc]
    if config.reply_to:
        checks.append(("reply_to", config.reply_to))
    if not config.to:
        raise UsageError("the email has no recipients", f"set {config.key('to')}")
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
                f"fix the address in {config.where} (or git's user.email)",
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
