"""The release notification email: templates → an RFC 5322 message → a .eml draft → maybe SMTP.

The package, by concern:

- `notes`: the changelog section (RST or Markdown) as safe HTML for the HTML part.
- `message`: `EmailContext`, the template variables, `render_email` (deterministic bytes, a
  stable Message-ID), `message_bytes`, `preview`, and the address and link checks.
- `smtp`: `SmtpSettings` from the environment and config, and sending one message.
- `actions`: `WriteDraftAction`, `SendEmailAction`, the `sent` record and `plan_email_actions`.

Everything other modules use is re-exported here: `from release_tool.email import ...`.
Importing the package does not import docutils or markdown-it; they load on first render.
"""

from __future__ import annotations

from release_tool.email.actions import (
    SENT_RECORD,
    EmailAction,
    EmailPlan,
    EmailSpec,
    SendEmailAction,
    WriteDraftAction,
    draft_path_for,
    plan_email_actions,
    sent_record,
)
from release_tool.email.message import (
    EmailContext,
    message_bytes,
    message_id,
    preview,
    render_email,
)
from release_tool.email.notes import NotesFormat, is_safe_url, notes_format_for, notes_to_html
from release_tool.email.smtp import SmtpSettings, smtp_settings

__all__ = [
    "SENT_RECORD",
    "EmailAction",
    "EmailContext",
    "EmailPlan",
    "EmailSpec",
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
