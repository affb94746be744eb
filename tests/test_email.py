"""The notification email: rendering, escaping, overrides, the .eml draft, and real SMTP.

Every SMTP test talks to a real aiosmtpd server on 127.0.0.1 (plain, with AUTH, with STARTTLS
and with implicit TLS, the last two with a throw-away self-signed certificate), so what is
checked is what a mail server actually receives: the envelope and the bytes.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from release_tool.config import EmailConfig
from release_tool.email import (
    EmailContext,
    SendEmailAction,
    WriteDraftAction,
    is_safe_url,
    message_bytes,
    notes_format_for,
    notes_to_html,
    plan_email_actions,
    render_email,
    sent_record,
    smtp_settings,
)
from release_tool.errors import ConfigError, StepFailed, UsageError
from release_tool.plan import RunState

SENDER = "Open edX Release Bot <release-bot@example.org>"
TO = "release-notifications@edx.org"
CC = "Jane Maintainer <jane@example.org>"
# The AUTH tests run without TLS on purpose (loopback); aiosmtpd warns about exactly that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PASSWORD = "s3cret-Pa55word!"  # the test server's password

# An edx-proctoring-shaped changelog section: bullets, a link, inline code.
RST_NOTES = """\
* Add a "retry" action for proctored exam attempts in an ``error`` state
  (`#1210 <https://github.com/openedx/edx-proctoring/pull/1210>`_)
* Drop Python 3.8 support
* Fix exam submit email content
"""

MD_NOTES = """\
### Added
- A "retry" action for attempts in an `error` state ([#1210](https://github.com/openedx/edx-proctoring/pull/1210))

### Removed
- Python 3.8 support
"""


def make_context(**changes: Any) -> EmailContext:
    values: dict[str, Any] = {
        "package": "edx-proctoring",
        "version": "5.3.0",
        "previous_version": "5.2.0",
        "date": dt.date(2025, 3, 20),
        "notes_text": RST_NOTES,
        "repository_url": "https://github.com/openedx/edx-proctoring",
        "tag_url": "https://github.com/openedx/edx-proctoring/tree/v5.3.0",
        "index_url": "https://pypi.org/project/edx-proctoring/5.3.0/",
        "release_url": "https://github.com/openedx/edx-proctoring/releases/tag/v5.3.0",
        "downstream_pr_urls": ("https://github.com/openedx/edx-platform/pull/36300",),
    }
    values.update(changes)
    return EmailContext(**values)


def make_config(**changes: Any) -> EmailConfig:
    values: dict[str, Any] = {"to": (TO,), "cc": (CC,), "reply_to": "maintainers@example.org"}
    values.update(changes)
    return EmailConfig(**values)


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text/plain, text/html) contents of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    # A body parsed from the wire keeps its CRLFs; compare text, not line ends.
    return (plain.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n"))


def render(context: EmailContext | None = None, **kwargs: Any) -> EmailMessage:
    config = kwargs.pop("config", make_config())
    return render_email(
        config,
        context or make_context(),
        sender=SENDER,
        override_dir=kwargs.pop("override", None),
        **kwargs,
    )


# --- rendering ----------------------------------------------------------------------------------


def test_rst_release_renders_into_a_two_part_message() -> None:
    message = parse(message_bytes(render()))

    assert message["From"] == SENDER
    assert message["To"] == TO
    assert message["Cc"] == CC
    assert message["Reply-To"] == "maintainers@example.org"
    assert message["Subject"] == "edx-proctoring 5.3.0 released"
    assert message["Message-ID"] == "<release.edx-proctoring.5.3.0@example.org>"
    assert parsedate_to_datetime(message["Date"]) == dt.datetime(2025, 3, 20, 12, tzinfo=dt.UTC)
    assert message["MIME-Version"] == "1.0"
    text, html = parts(message)

    assert "edx-proctoring 5.3.0 was released on 2025-03-20." in text
    assert RST_NOTES.rstrip() in text  # the section exactly as written
    assert "https://pypi.org/project/edx-proctoring/5.3.0/" in text
    assert "https://github.com/openedx/edx-proctoring/releases/tag/v5.3.0" in text
    assert "- https://github.com/openedx/edx-platform/pull/36300" in text

    assert (
        '<a class="reference external" href="https://github.com/openedx/edx-proctoring/pull/1210">#1210</a>'
        in html
    )
    assert '<span class="docutils literal">error</span>' in html
    assert "<li><p>Drop Python 3.8 support</p></li>" in html
    assert 'href="https://pypi.org/project/edx-proctoring/5.3.0/"' in html
    assert 'href="https://github.com/openedx/edx-platform/pull/36300"' in html


def test_markdown_release_renders_links_and_code() -> None:
    message = parse(
        message_bytes(render(make_context(notes_text=MD_NOTES, notes_format="markdown")))
    )
    text, html = parts(message)

    assert MD_NOTES.rstrip() in text
    assert "<h3>Added</h3>" in html
    assert "<code>error</code>" in html
    assert '<a href="https://github.com/openedx/edx-proctoring/pull/1210">#1210</a>' in html


def test_render_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    first, second = message_bytes(render()), message_bytes(render())
    assert first == second

    draft = tmp_path / "dist" / "release" / "5.3.0" / "notification.eml"
    assert (
        WriteDraftAction(draft, render())
        .apply(RunState())
        .summary.startswith("email draft written")
    )
    again = WriteDraftAction(draft, render()).apply(RunState())
    assert again.summary.startswith("email draft unchanged")
    assert draft.read_bytes() == first
    assert parse(draft.read_bytes())["Message-ID"] == "<release.edx-proctoring.5.3.0@example.org>"


def test_optional_parts_are_left_out() -> None:
    context = make_context(
        previous_version=None, release_url=None, downstream_pr_urls=(), notes_text=""
    )
    message = render(context, config=make_config(cc=(), reply_to=None))
    text, html = parts(message)

    assert message["Cc"] is None
    assert message["Reply-To"] is None
    assert "previous release" not in text
    assert "Release notes:" not in text
    assert "Upgrade pull requests" not in text
    assert "No changes are listed in the changelog for this version." in text
    assert "No changes are listed" in html


def test_non_ascii_text_and_names_survive_the_round_trip() -> None:
    notes = "* Correction de l'e-mail de soumission (merci à Zoë)\n"
    config = make_config(cc=("Zoë Müller <zoe@example.org>",))
    message = parse(message_bytes(render(make_context(notes_text=notes), config=config)))

    assert message["Cc"] == "Zoë Müller <zoe@example.org>"
    text, html = parts(message)
    assert notes.rstrip() in text
    assert "merci à Zoë" in html
    message_bytes(render(make_context(notes_text=notes), config=config)).decode("ascii")


def test_message_id_domain_and_date_can_be_given() -> None:
    when = dt.datetime(2025, 3, 21, 9, 30, tzinfo=dt.UTC)
    message = render(message_id_domain="releases.example.net", when=when)
    assert message["Message-ID"] == "<release.edx-proctoring.5.3.0@releases.example.net>"
    assert parsedate_to_datetime(message["Date"]) == when


def test_notes_format_follows_the_changelog_name() -> None:
    assert notes_format_for("CHANGELOG.rst") == "rst"
    assert notes_format_for("docs/CHANGELOG.md") == "markdown"
    assert notes_format_for("CHANGES.txt") == "text"
    assert notes_format_for(None) == "text"


# --- hostile changelog text ---------------------------------------------------------------------

HOSTILE_RST = """\
* Fix <script>alert(1)</script> in the dashboard
* Show {{ 7*7 }} and {% for x in range(3) %}{{ x }}{% endfor %} literally
* `click here <javascript:alert(2)>`_ and `also <JaVa\tScRiPt:alert(3)>`_
"""


def test_hostile_rst_arrives_as_text() -> None:
    text, html = parts(parse(message_bytes(render(make_context(notes_text=HOSTILE_RST)))))

    # The plain text is the section as written: nothing evaluated.
    assert HOSTILE_RST.rstrip() in text
    assert "49" not in text
    # The HTML: markup escaped, template syntax inert, the javascript: links now plain text.
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html
    assert "{% for x in range(3) %}{{ x }}{% endfor %}" in html
    assert "49" not in html
    assert "012" not in html
    assert "javascript" not in html.lower()
    assert "click here" in html


@pytest.mark.parametrize(
    "directive",
    [
        ".. raw:: html\n\n   <script>alert(1)</script>\n",
        "Text :raw-html:`<script>alert(1)</script>`\n\n.. role:: raw-html(raw)\n   :format: html\n",
        ".. include:: /etc/passwd\n",
        ".. csv-table::\n   :file: /etc/passwd\n",
    ],
    ids=["raw-directive", "raw-role", "include", "csv-file"],
)
def test_dangerous_rst_directives_are_shown_as_written(directive: str) -> None:
    notes = "* A normal entry\n\n" + directive
    html = str(notes_to_html(notes, "rst"))

    assert html.startswith("<pre")
    assert "<script" not in html
    assert "root:" not in html  # /etc/passwd was not read
    assert "A normal entry" in html


def test_hostile_markdown_arrives_as_text() -> None:
    notes = (
        "- inline <script>alert(1)</script> html\n"
        "- [bad](javascript:alert(2)) and <javascript:alert(3)> and ![img](javascript:alert(4))\n"
        "- {{ 7*7 }}\n\n"
        '<div onclick="alert(5)">block html</div>\n'
    )
    text, html = parts(
        parse(message_bytes(render(make_context(notes_text=notes, notes_format="markdown"))))
    )

    assert notes.rstrip() in text
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<div onclick" not in html
    assert "&lt;div onclick=&quot;alert(5)&quot;&gt;" in html
    assert 'href="javascript' not in html.lower()
    assert 'src="javascript' not in html.lower()
    assert "{{ 7*7 }}" in html
    assert "49" not in html


def test_text_notes_are_preformatted_and_escaped() -> None:
    html = str(notes_to_html("<b>bold</b> & more\n  indented", "text"))
    assert html == (
        '<pre style="white-space: pre-wrap;">&lt;b&gt;bold&lt;/b&gt; &amp; more\n  indented</pre>'
    )


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org/x", True),
        ("HTTP://example.org", True),
        ("mailto:a@example.org", True),
        ("#section", True),
        ("javascript:alert(1)", False),
        (" java\tscript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox", False),
        ("file:///etc/passwd", False),
        ("relative/path.html", False),
    ],
)
def test_only_web_and_mail_links_are_safe(url: str, safe: bool) -> None:
    assert is_safe_url(url) is safe


# --- overrides ----------------------------------------------------------------------------------


def write_override(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "release-templates"
    (folder / "email").mkdir(parents=True, exist_ok=True)
    (folder / "email" / name).write_text(text, encoding="utf-8")
    return folder


def test_a_project_body_template_wins(tmp_path: Path) -> None:
    folder = write_override(
        tmp_path, "body.txt.j2", "Hello! {{ package }} {{ version }} is out.\n\n{{ notes_text }}\n"
    )
    text, html = parts(render(override=folder))

    assert text.startswith("Hello! edx-proctoring 5.3.0 is out.")
    assert "Drop Python 3.8 support" in text
    assert "What's new in 5.3.0" in html  # the HTML part is still the bundled one


def test_a_project_subject_template_and_the_config_subject(tmp_path: Path) -> None:
    folder = write_override(tmp_path, "subject.txt.j2", "[ANN]\n{{ package }} v{{ version }}\n")
    assert render(override=folder)["Subject"] == "[ANN] edx-proctoring v5.3.0"

    config = make_config(subject="New release: {{ package }}=={{ version }}")
    assert render(config=config, override=folder)["Subject"] == "New release: edx-proctoring==5.3.0"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("body.txt.j2", "{% if package %}never closed\n", "email/body.txt.j2"),
        ("body.html.j2", "<p>{{ no_such_variable }}</p>\n", "email/body.html.j2"),
        ("subject.txt.j2", "{{ package.nope }}\n", "email/subject.txt.j2"),
    ],
    ids=["syntax-error", "undefined-variable", "undefined-attribute"],
)
def test_a_broken_override_is_a_one_line_config_error(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    folder = write_override(tmp_path, name, text)
    with pytest.raises(ConfigError) as excinfo:
        render(override=folder)
    assert expected in excinfo.value.message
    assert "\n" not in excinfo.value.message


def test_a_broken_config_subject_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"tool\.release_tool\.email\.subject"):
        render(config=make_config(subject="{{ package "))


def test_changelog_text_is_never_rendered_as_a_template(tmp_path: Path) -> None:
    # Even a project template that prints the notes twice does not evaluate them.
    folder = write_override(tmp_path, "body.txt.j2", "{{ notes_text }}|{{ notes_text|upper }}\n")
    text, _ = parts(render(make_context(notes_text="{{ 7*7 }}"), override=folder))
    assert text == "{{ 7*7 }}|{{ 7*7 }}\n"


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        ({"to": ("not-an-address",)}, "not-an-address"),
        ({"cc": ("Doe, Jane <jane@example.org>",)}, "Doe, Jane <jane@example.org>"),
        ({"reply_to": "a@b"}, "a@b"),
        ({"to": ()}, "no recipients"),
    ],
)
def test_a_bad_address_is_a_usage_error_naming_it(changes: dict[str, Any], bad: str) -> None:
    with pytest.raises(UsageError) as excinfo:
        render(config=make_config(**changes))
    assert bad in excinfo.value.message


def test_a_bad_sender_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"email from: .*Bcc"):
        render_email(
            make_config(),
            make_context(),
            sender="Bot <bot@example.org>\nBcc: x@y.org",
            override_dir=None,
        )


def test_the_configured_sender_wins_over_the_default() -> None:
    config = make_config(sender="Releases <releases@example.com>")
    message = render_email(config, make_context(), sender=SENDER, override_dir=None)
    assert message["From"] == "Releases <releases@example.com>"
    assert message["Message-ID"] == "<release.edx-proctoring.5.3.0@example.com>"


def test_a_non_web_link_is_refused() -> None:
    with pytest.raises(UsageError, match="release_url"):
        render(make_context(release_url="javascript:alert(1)"))


# --- planning -----------------------------------------------------------------------------------


def plan(
    tmp_path: Path,
    *,
    send: bool,
    environ: dict[str, str] | None = None,
    known: RunState | None = None,
    **changes: Any,
) -> Any:
    context = make_context(**changes.pop("context", {}))
    return plan_email_actions(
        make_config(**changes),
        context,
        repo_root=tmp_path,
        sender=SENDER,
        send=send,
        environ=environ or {},
        override_dir=None,
        known=known,
    )


def test_plan_without_sending_is_the_draft_only(tmp_path: Path) -> None:
    email_plan = plan(tmp_path, send=False)

    assert len(email_plan.actions) == 1
    draft = email_plan.actions[0]
    assert isinstance(draft, WriteDraftAction)
    assert draft.step == "email"
    assert draft.path == tmp_path / "dist/release/5.3.0/notification.eml"
    assert str(draft.path) in draft.describe()
    assert "Subject: edx-proctoring 5.3.0 released" in draft.details()
    assert "Drop Python 3.8 support" in draft.details()
    assert email_plan.notes == ("the email is written as a draft only; sending was not asked",)
    assert not (tmp_path / "dist").exists()  # planning wrote nothing

    outcome = draft.apply(RunState())
    assert outcome.produced == RunState(email_draft=str(draft.path))
    assert draft.path.read_bytes() == message_bytes(email_plan.message)


@pytest.mark.parametrize(
    ("environ", "changes", "message"),
    [
        ({}, {}, "needs an SMTP host"),
        (
            {"RELEASE_TOOL_SMTP_HOST": "smtp.example.org", "RELEASE_TOOL_SMTP_USER": "bot"},
            {},
            "RELEASE_TOOL_SMTP_PASSWORD is not",
        ),
        (
            {"RELEASE_TOOL_SMTP_HOST": "smtp.example.org", "RELEASE_TOOL_SMTP_PASSWORD": PASSWORD},
            {},
            "no SMTP user",
        ),
        (
            {"RELEASE_TOOL_SMTP_HOST": "smtp.example.org", "RELEASE_TOOL_SMTP_PORT": "smtp"},
            {},
            "not a port number",
        ),
        ({}, {"smtp_host": "smtp.example.org", "smtp_security": "none"}, "'none' is refused"),
    ],
)
def test_sending_without_usable_smtp_settings_fails_at_plan_time(
    tmp_path: Path, environ: dict[str, str], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as excinfo:
        plan(tmp_path, send=True, environ=environ, **changes)
    assert message in excinfo.value.message
    assert PASSWORD not in excinfo.value.message + excinfo.value.hint


def test_smtp_settings_environment_over_config() -> None:
    config = make_config(smtp_host="smtp.example.org", smtp_port=2525, smtp_user="cfg-user")
    settings = smtp_settings(
        config,
        {
            "RELEASE_TOOL_SMTP_HOST": "relay.example.net",
            "RELEASE_TOOL_SMTP_USER": "env-user",
            "RELEASE_TOOL_SMTP_PASSWORD": PASSWORD,
        },
    )
    assert (settings.host, settings.port, settings.user) == ("relay.example.net", 2525, "env-user")
    assert smtp_settings(make_config(smtp_host="h.example.org"), {}).port == 587
    assert (
        smtp_settings(make_config(smtp_host="h.example.org", smtp_security="tls"), {}).port == 465
    )
    assert PASSWORD not in repr(settings)


# --- a real SMTP server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    login: bytes | None


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it was given."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data.login if session.authenticated else None
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                session.ssl is not None,
                login,
            )
        )
        return "250 Message accepted for delivery"


def check_password(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"bot"
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@dataclass
class Server:
    handler: Recorder
    port: int

    @property
    def environ(self) -> dict[str, str]:
        return {"RELEASE_TOOL_SMTP_HOST": "127.0.0.1", "RELEASE_TOOL_SMTP_PORT": str(self.port)}


def start_server(**kwargs: Any) -> Iterator[Server]:
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield Server(handler, controller.port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    yield from start_server()


@pytest.fixture
def auth_server() -> Iterator[Server]:
    yield from start_server(
        authenticator=check_password, auth_required=True, auth_require_tls=False
    )


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "release-tool test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def apply_all(actions: tuple[Any, ...], state: RunState | None = None) -> list[Any]:
    state = state or RunState()
    return [action.apply(state) for action in actions]


def test_send_through_a_real_server_once(tmp_path: Path, smtp_server: Server) -> None:
    email_plan = plan(tmp_path, send=True, environ=smtp_server.environ, smtp_security="none")
    draft, send = email_plan.actions
    assert isinstance(send, SendEmailAction)
    assert f"127.0.0.1:{smtp_server.port}" in send.describe()
    assert TO in send.describe()
    assert "jane@example.org" in send.describe()

    outcomes = apply_all(email_plan.actions)

    assert len(smtp_server.handler.messages) == 1
    received = smtp_server.handler.messages[0]
    assert received.mail_from == "release-bot@example.org"
    assert received.rcpt_tos == [TO, "jane@example.org"]
    message = parse(received.content)
    assert message["Subject"] == "edx-proctoring 5.3.0 released"
    assert message["Message-ID"] == "<release.edx-proctoring.5.3.0@example.org>"
    assert message["Cc"] == CC
    text, html = parts(message)
    assert "Drop Python 3.8 support" in text
    assert "<li><p>Drop Python 3.8 support</p></li>" in html
    # What left is the draft, except that Date says when it was sent.
    sent_date = parsedate_to_datetime(message["Date"])
    assert abs(sent_date - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert parts(parse(draft.path.read_bytes())) == (text, html)

    record = draft.path.parent / "sent"
    assert record.read_text() == "<release.edx-proctoring.5.3.0@example.org>\n"
    assert outcomes[1].produced == RunState(
        email_message_id="<release.edx-proctoring.5.3.0@example.org>"
    )

    # A re-run plans no send (and needs no SMTP settings at all) ...
    rerun = plan(tmp_path, send=True, environ={}, smtp_security="none")
    assert [type(a) for a in rerun.actions] == [WriteDraftAction]
    assert rerun.already_sent == "<release.edx-proctoring.5.3.0@example.org>"
    assert "already sent (Message-ID <release.edx-proctoring.5.3.0@example.org>)" in rerun.notes[0]
    apply_all(rerun.actions)
    # ... and a stale send action applied again sees the record and does nothing.
    assert send.apply(RunState()).summary.startswith("email already sent")
    assert len(smtp_server.handler.messages) == 1


def test_the_sent_record_ignores_the_message_id_domain(tmp_path: Path) -> None:
    record = tmp_path / "sent"
    record.write_text(
        "<release.edx-proctoring.5.2.0@example.org>\n"
        "<release.edx-proctoring.5.3.0@other.example.com>\n"
    )
    assert (
        sent_record(record, "edx-proctoring", "5.3.0")
        == "<release.edx-proctoring.5.3.0@other.example.com>"
    )
    assert sent_record(record, "edx-proctoring", "5.3.1") is None
    assert sent_record(tmp_path / "missing", "edx-proctoring", "5.3.0") is None


def test_login_with_the_right_password(tmp_path: Path, auth_server: Server) -> None:
    environ = {
        **auth_server.environ,
        "RELEASE_TOOL_SMTP_USER": "bot",
        "RELEASE_TOOL_SMTP_PASSWORD": PASSWORD,
    }
    email_plan = plan(tmp_path, send=True, environ=environ, smtp_security="none")
    send = email_plan.actions[1]
    for text in (send.describe(), send.details(), repr(send)):
        assert PASSWORD not in text

    apply_all(email_plan.actions)

    assert [m.login for m in auth_server.handler.messages] == [b"bot"]


def test_a_wrong_password_is_a_clear_failure_without_the_password(
    tmp_path: Path, auth_server: Server
) -> None:
    environ = {
        **auth_server.environ,
        "RELEASE_TOOL_SMTP_USER": "bot",
        "RELEASE_TOOL_SMTP_PASSWORD": "wrong-" + PASSWORD,
    }
    draft, send = plan(tmp_path, send=True, environ=environ, smtp_security="none").actions
    draft.apply(RunState())

    with pytest.raises(StepFailed) as excinfo:
        send.apply(RunState())

    error = excinfo.value
    assert "refused the login of user 'bot'" in error.message
    assert "535" in error.message
    assert "\n" not in error.message
    assert "RELEASE_TOOL_SMTP_PASSWORD" in error.hint
    for text in (error.message, error.hint, str(error), repr(error)):
        assert PASSWORD not in text
    assert draft.path.is_file()
    assert not (draft.path.parent / "sent").exists()
    assert auth_server.handler.messages == []


def test_a_refused_connection_fails_clearly_and_keeps_the_draft(tmp_path: Path) -> None:
    environ = {"RELEASE_TOOL_SMTP_HOST": "127.0.0.1", "RELEASE_TOOL_SMTP_PORT": str(free_port())}
    draft, send = plan(tmp_path, send=True, environ=environ, smtp_security="none").actions
    draft.apply(RunState())

    with pytest.raises(StepFailed) as excinfo:
        send.apply(RunState())

    assert "refused the connection" in excinfo.value.message
    assert str(draft.path) in excinfo.value.hint
    assert "run the same command again" in excinfo.value.hint
    assert draft.path.is_file()
    assert not (draft.path.parent / "sent").exists()


def test_starttls_with_a_trusted_certificate(
    tmp_path: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the client trusts our test CA
    servers = start_server(
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=check_password,
        auth_required=True,
    )
    server = next(servers)
    try:
        environ = {
            **server.environ,
            "RELEASE_TOOL_SMTP_USER": "bot",
            "RELEASE_TOOL_SMTP_PASSWORD": PASSWORD,
        }
        apply_all(plan(tmp_path, send=True, environ=environ).actions)  # starttls is the default
    finally:
        next(servers, None)

    assert [(m.tls, m.login) for m in server.handler.messages] == [(True, b"bot")]


def test_starttls_with_an_untrusted_certificate_fails(
    tmp_path: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    servers = start_server(tls_context=server_tls(certificate), require_starttls=True)
    server = next(servers)
    try:
        draft, send = plan(tmp_path, send=True, environ=server.environ).actions
        draft.apply(RunState())
        with pytest.raises(StepFailed, match=r"TLS certificate .* is not trusted") as excinfo:
            send.apply(RunState())
    finally:
        next(servers, None)

    assert "SSL_CERT_FILE" in excinfo.value.hint
    assert server.handler.messages == []
    assert draft.path.is_file()


def test_starttls_against_a_server_without_it_fails(tmp_path: Path, smtp_server: Server) -> None:
    send = plan(tmp_path, send=True, environ=smtp_server.environ).actions[1]
    with pytest.raises(StepFailed, match="STARTTLS"):
        send.apply(RunState())
    assert smtp_server.handler.messages == []


def test_implicit_tls(
    tmp_path: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    servers = start_server(ssl_context=server_tls(certificate))
    server = next(servers)
    try:
        apply_all(plan(tmp_path, send=True, environ=server.environ, smtp_security="tls").actions)
    finally:
        next(servers, None)

    assert len(server.handler.messages) == 1


# --- late-bound links -----------------------------------------------------------------------------


def test_links_known_only_at_apply_time_reach_draft_and_mail(
    tmp_path: Path, smtp_server: Server
) -> None:
    release = "https://github.com/openedx/edx-proctoring/releases/tag/v5.3.0"
    pr_a = "https://github.com/openedx/edx-platform/pull/36300"
    pr_b = "https://github.com/openedx/edx-platform-next/pull/36301"
    email_plan = plan(
        tmp_path,
        send=True,
        environ=smtp_server.environ,
        known=RunState(pending_prs=("openedx/edx-platform", "openedx/edx-platform-next")),
        smtp_security="none",
        context={"release_url": None, "downstream_pr_urls": ()},
    )
    # The plan shows what is known at plan time: no release, and a marked placeholder for
    # each PR the run will open.
    preview_text = email_plan.actions[0].details()
    assert release not in preview_text
    assert (
        "- [the PR on openedx/edx-platform: its URL is known once the run opens it]\n"
        "- [the PR on openedx/edx-platform-next: its URL is known once the run opens it]\n"
    ) in preview_text

    # Earlier actions completed: the run state they produced reaches the actions.
    apply_all(email_plan.actions, RunState(release_url=release, pr_urls=(pr_a, pr_b)))

    draft_text, draft_html = parts(parse(email_plan.draft_path.read_bytes()))
    sent_text, _ = parts(parse(smtp_server.handler.messages[0].content))
    for text in (draft_text, sent_text):
        assert f"Release notes: {release}" in text
        assert f"- {pr_a}\n- {pr_b}\n" in text
        assert "known once the run opens it" not in text
    assert f'href="{pr_b}"' in draft_html
