"""GitHub Actions: workflow commands, step outputs and the step summary, always redacted.

Used by `release_tool.cli` (the only package that prints) when the tool runs inside Actions
(`GITHUB_ACTIONS=true`). Functions here *return* workflow-command lines instead of printing
them, so the CLI decides the order (every `::add-mask::` before any other line) and the
stream. The only I/O is appending to the two files the runner gives a step: `$GITHUB_OUTPUT`
and `$GITHUB_STEP_SUMMARY`.

Every text that reaches a command line or a file goes through the redactor given at
construction first, before any escaping: escaping `ghp_…` to `ghp\\_…` would otherwise hide
the token from the redactor and let it through.
"""

from __future__ import annotations

import html
import re
import string
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Redact = Callable[[str], str]

# Output names become `steps.<id>.outputs.<name>` expressions and the runner splits each
# record on the first `=` or `<<`: anything outside this set would be misparsed or unusable.
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

# The outputs a release step always sets (see `release_outputs`).
OUTPUT_NAMES = (
    "version",
    "tag",
    "release_url",
    "downstream_pr_urls",
    "downstream_run_urls",
    "email_draft",
    "dry_run",
)

# GitHub refuses a step summary over 1 MiB; one long diff must not cost the whole summary.
_DETAILS_LIMIT = 20_000


# --- workflow-command escaping ------------------------------------------------------------------


def escape_data(value: str) -> str:
    """Escape the data part of a workflow command (after `::`), as the runner unescapes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a property value (`title=…`): data escaping plus `:` and `,`, its separators."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


# --- the Actions environment -------------------------------------------------------------------


class Actions:
    """The current Actions step: command lines to print, and its output and summary files.

    Build it with `from_environ`, which is None outside Actions, so the CLI's
    `if actions:` is the whole switch. `redact` is required: an Actions writer that
    could leak a token by default would be one forgotten argument away from doing it.
    """

    def __init__(self, environ: Mapping[str, str], *, redact: Redact) -> None:
        self.redact = redact
        self.output_path = _path(environ.get("GITHUB_OUTPUT"))
        self.summary_path = _path(environ.get("GITHUB_STEP_SUMMARY"))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, redact: Redact) -> Actions | None:
        """The Actions step we run in, or None when not in GitHub Actions."""
        if environ.get("GITHUB_ACTIONS") != "true":
            return None
        return cls(environ, redact=redact)

    # --- command lines (the CLI prints them) ---------------------------------------------------

    @staticmethod
    def mask(secret: str) -> str:
        """The `::add-mask::` line(s) for `secret`: print before any line that could hold it.

        Never redacted (a mask of `***` would protect nothing). The log is shown line by line,
        so a multi-line secret gets one mask per line — a single mask of the whole value would
        leave each of its lines visible. Raises ValueError for a blank secret, which the runner
        cannot mask.
        """
        lines = [line for line in re.split(r"\r\n|\r|\n", secret) if line.strip()]
        if not lines:
            raise ValueError("a blank secret cannot be masked")
        return "\n".join(f"::add-mask::{escape_data(line)}" for line in lines)

    def group(self, title: str) -> str:
        """Start a collapsible group in the log (groups do not nest: end one first)."""
        return f"::group::{escape_data(self.redact(title))}"

    @staticmethod
    def endgroup() -> str:
        return "::endgroup::"

    def error(self, message: str, title: str | None = None) -> str:
        """An error annotation: shown on the run's page and the PR, not only in the log."""
        return self._command("error", message, title=title)

    def warning(self, message: str, title: str | None = None) -> str:
        return self._command("warning", message, title=title)

    def _command(self, name: str, message: str, **properties: str | None) -> str:
        props = ",".join(
            f"{key}={escape_property(self.redact(value))}"
            for key, value in properties.items()
            if value
        )
        return f"::{name}{' ' + props if props else ''}::{escape_data(self.redact(message))}"

    # --- files ---------------------------------------------------------------------------------

    def set_outputs(self, outputs: Mapping[str, str]) -> bool:
        """Append `outputs` to $GITHUB_OUTPUT; False (and nothing written) if there is none.

        Each value is written in the heredoc form `name<<DELIMITER` … `DELIMITER` with a fresh
        random delimiter, so no value — a changelog line, a URL list — can end its own record
        early and forge another output after it.
        """
        for name in outputs:
            if not _OUTPUT_NAME.fullmatch(name):
                raise ValueError(f"invalid output name {name!r}")
        if self.output_path is None:
            return False
        records = []
        for name, value in outputs.items():
            text = self.redact(value)
            delimiter = _delimiter(text)
            records.append(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")
        _append(self.output_path, "".join(records))
        return True

    def write_summary(self, markdown: str) -> bool:
        """Append `markdown` to $GITHUB_STEP_SUMMARY; False if there is none."""
        if self.summary_path is None:
            return False
        text = self.redact(markdown)
        _append(self.summary_path, text if text.endswith("\n") else text + "\n")
        return True


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _delimiter(value: str) -> str:
    """A delimiter that does not occur in `value` (a uuid4 collision is only ever contrived)."""
    for _ in range(100):
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        if delimiter not in value:
            return delimiter
    raise ValueError("could not find a heredoc delimiter absent from the value")


def _append(path: Path, text: str) -> None:
    # One write of the whole text, newline="" so the bytes are exactly ours on every OS
    # (text mode on Windows would turn each \n into \r\n inside the values).
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(text)


# --- outputs of a run --------------------------------------------------------------------------


def release_outputs(
    plan_json: Mapping[str, Any], result: Mapping[str, Any] | None
) -> dict[str, str]:
    """The step outputs of a release (`result` None: a dry run). Every name is always set.

    `version` and `tag` are the release's, planned or done. `release_url`,
    `downstream_pr_urls` and `downstream_run_urls` (the workflow runs a `dispatch` downstream
    started; one URL per line) and `email_draft` are what this run produced, and
    the empty string otherwise (a dry run, a skipped or failed step): a workflow can test
    `!= ''` without first asking whether the output exists. `dry_run` is `true` or `false`.
    """
    produced: Mapping[str, str] = (result or {}).get("outputs") or {}
    return {
        "version": str(plan_json.get("version", "")),
        "tag": str(plan_json.get("tag", "")),
        "release_url": produced.get("release_url", ""),
        "downstream_pr_urls": "\n".join(produced.get("downstream_pr_urls", "").split()),
        "downstream_run_urls": "\n".join(produced.get("downstream_run_urls", "").split()),
        "email_draft": produced.get("email_draft", ""),
        "dry_run": "true" if result is None else "false",
    }


# --- the step summary --------------------------------------------------------------------------

# Every ASCII punctuation character can be backslash-escaped in (GitHub-flavoured) Markdown;
# escaping all of them leaves no inline syntax to the text: no link, image, emphasis, code
# span, math, mention or table-cell `|`. `&`, `<` and `>` become entities instead, so no
# raw HTML (`<script>`) and no entity can be formed either.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPES = {c: "\\" + c for c in string.punctuation if c not in _ENTITIES} | _ENTITIES


def markdown_text(text: str) -> str:
    """`text` as inert inline Markdown, one line: safe in a table cell or a heading.

    Line breaks become `<br>` (the only HTML here, and ours), so a newline in changelog text
    can never end a table row and start new Markdown.
    """
    lines = re.split(r"\r\n|\r|\n", text)
    return "<br>".join("".join(_ESCAPES.get(c, c) for c in line) for line in lines)


def markdown_link(label: str, url: str) -> str:
    """A link to an http(s) URL; anything else is shown as text, never made clickable."""
    if not re.fullmatch(r"https?://[^\s<>]+", url):
        return markdown_text(url)
    # The destination in <…> form; `|` and `\` are encoded because the table splits cells and
    # handles escapes before it parses links.
    safe = url.replace("\\", "%5C").replace("|", "%7C")
    return f"[{markdown_text(label)}](<{safe}>)"


def _fenced(text: str, info: str = "") -> str:
    """A fenced code block that no backtick run inside `text` can close."""
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def _url_label(url: str) -> str:
    """`owner/repo#12` for a pull request or release URL, the URL itself otherwise."""
    parts = urlsplit(url).path.strip("/").split("/")
    if len(parts) == 4 and parts[2] == "pull":
        return f"{parts[0]}/{parts[1]}#{parts[3]}"
    if len(parts) >= 5 and parts[2:4] == ["releases", "tag"]:
        return f"{parts[0]}/{parts[1]} {'/'.join(parts[4:])}"
    return url


def _step_links(name: str, produced: Mapping[str, str]) -> str:
    urls: list[str] = []
    if name == "github-release" and produced.get("release_url"):
        urls = [produced["release_url"]]
    elif name == "downstream":
        urls = produced.get("downstream_pr_urls", "").split()
    if name == "email" and produced.get("email_draft"):
        return markdown_text(produced["email_draft"])
    return "<br>".join(markdown_link(_url_label(url), url) for url in urls) or "—"


def _status_rows(
    plan_json: Mapping[str, Any], result: Mapping[str, Any] | None, redact: Redact
) -> list[tuple[str, str, str, str]]:
    """(step, status, what, link) per step: plain text, except the finished link column."""
    raw: Mapping[str, str] = (result or {}).get("outputs") or {}
    produced = {key: redact(value) for key, value in raw.items()}
    applied: dict[str, list[str]] = {}
    for entry in (result or {}).get("applied", []):
        applied.setdefault(entry["step"], []).append(entry.get("summary") or entry["action"])
    failed_step = (result or {}).get("failed_step")
    rows = []
    for step in plan_json.get("steps", []):
        name = step["name"]
        descriptions = [action["description"] for action in step.get("actions", [])]
        notes = list(step.get("notes", []))
        if step.get("skipped"):
            status, what = "skipped", step["skipped"]
        elif result is None:
            status = "planned" if descriptions else "✓"
            what = "\n".join([*notes, *descriptions])
        elif name == failed_step:
            error = (result or {}).get("error") or "failed"
            status, what = "✗", "\n".join([*applied.get(name, []), error])
        elif name in applied:
            status, what = "✓", "\n".join(applied[name])
        elif not descriptions:
            status, what = "✓", "\n".join(notes)
        else:  # after a failure; or left out of a run that stopped early
            status, what = "not run", "\n".join(descriptions)
        rows.append((name, status, what, _step_links(name, produced)))
    return rows


def _email_section(email_preview: str, redact: Redact) -> list[str]:
    """Subject and recipients as text, the plain-text body in a fenced block."""
    head, _, body = redact(email_preview).partition("\n\n")
    headers = {
        name: value
        for name, sep, value in (line.partition(": ") for line in head.splitlines())
        if sep
    }
    out = ["", "### Email", ""]
    for name in ("Subject", "To", "Cc"):
        if headers.get(name):
            out.append(f"**{name}:** {markdown_text(headers[name])}  ")
    out += ["", _fenced(body, "text")]
    return out


def _details_section(plan_json: Mapping[str, Any], redact: Redact) -> list[str]:
    """Each action's full content (diffs, release notes, PR body), folded."""
    out: list[str] = []
    for step in plan_json.get("steps", []):
        if step["name"] == "email":
            continue  # shown in its own section
        for action in step.get("actions", []):
            details = redact(action.get("details") or "")
            if not details.strip():
                continue
            if len(details) > _DETAILS_LIMIT:
                details = details[:_DETAILS_LIMIT] + "\n… (cut here; the job log has it all)"
            title = " ".join(redact(f"{step['name']}: {action['description']}").split())
            info = "diff" if details.lstrip().startswith(("---", "@@", "diff ")) else "text"
            # An HTML block: the summary text is HTML-escaped, and blank lines around the
            # fence let Markdown resume inside <details>.
            out += [
                "",
                f"<details><summary>{html.escape(title)}</summary>",
                "",
                _fenced(details, info),
                "",
                "</details>",
            ]
    return out


def summary_markdown(
    plan_json: Mapping[str, Any],
    result: Mapping[str, Any] | None,
    email_preview: str | None,
    *,
    redact: Redact,
) -> str:
    """The step summary of a release: the plan (dry run, `result` None) or what the run did.

    `plan_json` is `ReleasePlan.to_json()`. `result` is the CLI's result JSON
    (`{"applied": [{"step", "action", "summary"}], "outputs": {…}}`), plus `failed_step` and
    `error` when the run failed part-way. `email_preview` is the email as `email.preview`
    shows it (headers, blank line, text body).

    Every text is redacted *before* it is escaped (escaping changes `ghp_x` to `ghp\\_x`, which
    a redactor would no longer recognise), and then escaped, so changelog text cannot add rows,
    links or HTML to the table.
    """
    package = redact(str(plan_json.get("package", "")))
    current = str(plan_json.get("current_version", ""))
    version = str(plan_json.get("version", ""))
    tag = redact(str(plan_json.get("tag", "")))
    if result is None:
        headline = f"Dry run: {package} {current} → {version} ({tag})"
        lead = "Nothing was changed. Run the workflow again with dry_run off to release."
    elif result.get("failed_step"):
        headline = f"Release failed: {package} {version} ({tag})"
        lead = (
            f"The {result['failed_step']} step failed. Run the same workflow again to finish: "
            "steps already done are kept and skipped."
        )
    elif not result.get("applied"):
        headline = f"Nothing to do: {package} {version} ({tag})"
        lead = "Every step was already done."
    else:
        headline = f"Released {package} {version} ({tag})"
        lead = ""
    out = [f"## {markdown_text(headline)}", ""]
    if lead:
        out += [markdown_text(lead), ""]
    out += ["| step | status | what | link |", "| --- | --- | --- | --- |"]
    for name, status, what, link in _status_rows(plan_json, result, redact):
        cells = (markdown_text(redact(name)), status, markdown_text(redact(what)) or "—", link)
        out.append("| " + " | ".join(cells) + " |")
    if email_preview:
        out += _email_section(email_preview, redact)
    if result is None:
        out += _details_section(plan_json, redact)
    return "\n".join(out) + "\n"


__all__ = [
    "OUTPUT_NAMES",
    "Actions",
    "escape_data",
    "escape_property",
    "markdown_link",
    "markdown_text",
    "release_outputs",
    "summary_markdown",
]
