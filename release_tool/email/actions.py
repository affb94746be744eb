"""The email step's actions and their plan: write the .eml draft, maybe send it, never twice.

`plan_email_actions` returns a `WriteDraftAction` (the .eml file) and, when sending is asked and
not already done, a `SendEmailAction`. Both keep an `EmailSpec` (the inputs of `render_email`)
so they can render again at apply time with the run state (the release and PR URLs the run
produced). At plan time, a PR the run has yet to open shows as a marked placeholder. The
`sent` record next to the draft holds the Message-ID of every announcement that went out; a
version listed there is never sent again.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any

from release_tool.config import EmailConfig
from release_tool.email.message import (
    EmailContext,
    message_bytes,
    message_id_local,
    preview,
    render_email,
)
from release_tool.email.smtp import SmtpSettings, send_message, smtp_settings
from release_tool.errors import StepFailed, UsageError
from release_tool.files.write import write_bytes_atomically
from release_tool.plan import Outcome, RunState

SENT_RECORD = "sent"


@dataclass(frozen=True)
class EmailSpec:
    """The inputs of `render_email`, kept so an action can render again at apply time."""

    config: EmailConfig
    context: EmailContext
    sender: str
    override_dir: Path | None = None
    message_id_domain: str | None = None

    def render(self, state: RunState | None = None, *, planned: bool = False) -> EmailMessage:
        """The message with what `state` knows: at apply time the run's results; `planned`,
        a dry run's rendering, where each PR still to be opened shows as a placeholder."""
        context = self.context
        if state is not None:
            context = replace(
                context,
                release_url=state.release_url or context.release_url,
                downstream_pr_urls=tuple(
                    dict.fromkeys((*context.downstream_pr_urls, *state.pr_urls))
                ),
                pending_prs=state.pending_prs if planned else (),
            )
        return render_email(
            self.config,
            context,
            sender=self.sender,
            override_dir=self.override_dir,
            message_id_domain=self.message_id_domain,
        )


def _current(message: EmailMessage, spec: EmailSpec | None, state: RunState) -> EmailMessage:
    # The run's state (release and PR URLs) is only known now; without a spec, as planned.
    return message if spec is None else spec.render(state)


@dataclass(frozen=True)
class WriteDraftAction:
    """Write the message as a .eml draft at `path` (atomically; folders created)."""

    path: Path
    message: EmailMessage  # the plan-time rendering, shown by details()
    spec: EmailSpec | None = None
    step: str = "email"

    def describe(self) -> str:
        return f"write the email draft {self.path}"

    def details(self) -> str:
        return preview(self.message)

    def data(self) -> dict[str, Any]:
        body = self.message.get_body(("plain",))
        return {
            "action": "email-draft",
            "path": str(self.path),
            "headers": {
                name: str(value)
                for name, value in self.message.items()
                if not name.lower().startswith(("content-", "mime-"))
            },
            "text": str(body.get_content()) if isinstance(body, EmailMessage) else "",
        }

    def apply(self, state: RunState) -> Outcome:
        data = message_bytes(_current(self.message, self.spec, state))
        if self.path.is_file() and self.path.read_bytes() == data:
            summary = f"email draft unchanged: {self.path}"
        else:
            write_bytes_atomically(self.path, data)
            summary = f"email draft written: {self.path}"
        return Outcome(summary, RunState(email_draft=str(self.path)))


@dataclass(frozen=True)
class SendEmailAction:
    """Send the message through SMTP once; `record` (next to the draft) remembers that it did."""

    message: EmailMessage
    smtp: SmtpSettings
    draft_path: Path
    record: Path
    spec: EmailSpec | None = None
    step: str = "email"

    @property
    def recipients(self) -> list[str]:
        headers = [str(h) for h in (self.message["To"], self.message["Cc"]) if h is not None]
        return [address for _, address in getaddresses(headers)]

    def describe(self) -> str:
        recipients = ", ".join(self.recipients)
        return f"send the email to {recipients} through {self.smtp.describe()}"

    def details(self) -> str:
        return (
            f"Message-ID: {self.message['Message-ID']}\n"
            f"Subject: {self.message['Subject']}\n"
            f"SMTP: {self.smtp.describe()}\n"
            f"recorded in: {self.record}"
        )

    def data(self) -> dict[str, Any]:
        smtp = self.smtp  # never the password
        return {
            "action": "email-send",
            "recipients": self.recipients,
            "message_id": str(self.message["Message-ID"]),
            "subject": str(self.message["Subject"]),
            "smtp": {
                "host": smtp.host,
                "port": smtp.port,
                "security": smtp.security,
                "user": smtp.user,
            },
            "record": str(self.record),
        }

    def apply(self, state: RunState) -> Outcome:
        message = _current(self.message, self.spec, state)
        msgid = str(message["Message-ID"])
        context = self.spec.context if self.spec else None
        if context is not None:
            already = sent_record(self.record, context.package, context.version)
        else:
            already = msgid if _listed(self.record, msgid) else None
        if already:  # sent by an earlier run since this plan was made: never twice
            return Outcome(
                f"email already sent (Message-ID {already})", RunState(email_message_id=already)
            )
        # The draft is dated with the release date for stable bytes; the message that leaves
        # says when it was actually sent, as RFC 5322's Date means.
        outgoing = copy.deepcopy(message)
        outgoing.replace_header("Date", format_datetime(datetime.now(UTC)))
        refused = send_message(self.smtp, outgoing, self.draft_path)
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
        return Outcome(summary, RunState(email_message_id=msgid))


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
            f"set {config.key('draft')} to a path inside it",
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
    known: RunState | None = None,
    message_id_domain: str | None = None,
) -> EmailPlan:
    """The draft action, and the send action when `send` is asked and not already done.

    Reads only (templates, the `sent` record, `environ`); raises ConfigError for a broken
    template and UsageError for a bad address or missing SMTP settings, all before anything
    is applied. `known` is what the run knows when planned (the plan-time rendering shows
    it, with a placeholder for each PR still to be opened); the actions render again with
    the run's state when applied.
    """
    spec = EmailSpec(config, context, sender, override_dir, message_id_domain)
    message = spec.render(known, planned=True)
    draft = draft_path_for(config, repo_root, context.version)
    record = draft.parent / SENT_RECORD
    actions: list[EmailAction] = [WriteDraftAction(draft, message, spec)]
    notes: list[str] = []
    already = sent_record(record, context.package, context.version) if send else None
    if already:
        notes.append(f"email already sent (Message-ID {already}); not sending it again")
    elif send:
        smtp = smtp_settings(config, environ)
        actions.append(SendEmailAction(message, smtp, draft, record, spec))
    else:
        notes.append("the email is written as a draft only; sending was not asked")
    return EmailPlan(tuple(actions), message, draft, record, tuple(notes), already)


# --- the sent record ----------------------------------------------------------------------------


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
    local = message_id_local(package, version)
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
    write_bytes_atomically(record, f"{existing}{msgid}\n".encode())
