"""GitHub Actions support: workflow commands, $GITHUB_OUTPUT, the step summary, the workflows.

The output file is read back with a parser that follows the runner's own algorithm
(actions/runner, FileCommandManager), so "exact contents" means "what a workflow would see".
The summary is rendered with markdown-it-py (GFM tables on, raw HTML on) to check that hostile
changelog text stays inside its cell.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import actions_env
from markdown_it import MarkdownIt

from release_tool import cli
from release_tool.apply import apply_plan
from release_tool.config import load_config
from release_tool.email import WriteDraftAction
from release_tool.gha import (
    OUTPUT_NAMES,
    Actions,
    escape_data,
    escape_property,
    markdown_link,
    markdown_text,
    release_outputs,
    summary_markdown,
)
from release_tool.git_repo import GitRepo
from release_tool.pipeline import plan_release
from release_tool.project import Bump, Project, ReleaseRequest
from release_tool.redact import Redactor

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
TOKEN = "ghp_Secret_Token-1234567890"
HOSTILE = "a | b\n| --- |\n## Injected heading\n<script>alert(1)</script> [x](javascript:alert(1))"


def no_redaction(text: str) -> str:
    return text


def read(path: str) -> str:
    """A file's text exactly: no newline translation (a value may hold \\r\\n)."""
    return Path(path).read_bytes().decode("utf-8")


def heading(text: str) -> str:
    return f"## {markdown_text(text)}\n"


# --- the runner's side: parsing what we write ---------------------------------------------------


def parse_output_file(text: str) -> list[tuple[str, str]]:
    """(name, value) records as the runner reads $GITHUB_OUTPUT (Linux newline handling).

    `NAME=VALUE` lines, or `NAME<<DELIMITER` then lines up to a line equal to DELIMITER; the
    value is the text in between, without the newline before the delimiter line.
    """
    records = []
    index = 0

    def read_line() -> tuple[str | None, bool]:
        nonlocal index
        if index >= len(text):
            return None, False
        end = text.find("\n", index)
        if end < 0:
            line, index = text[index:], len(text)
            return line, False
        line, index = text[index:end], end + 1
        return line, True

    line, _ = read_line()
    while line is not None:
        if line:
            equals, heredoc = line.find("="), line.find("<<")
            if equals >= 0 and (heredoc < 0 or equals < heredoc):
                name, value = line.split("=", 1)
            else:
                assert heredoc > 0, f"malformed record {line!r}"
                name, delimiter = line.split("<<", 1)
                start = end = index
                value_line, had_newline = read_line()
                while value_line != delimiter:
                    assert value_line is not None, f"delimiter {delimiter} not found"
                    assert had_newline, "EOF marker missing new line"
                    end = index - 1
                    value_line, had_newline = read_line()
                value = text[start:end] if end > start else ""
            records.append((name, value))
        line, _ = read_line()
    return records


def unescape_data(value: str) -> str:
    """The runner's UnescapeData, in its order."""
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(value: str) -> str:
    return (
        value.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """`::name k=v,k=v::data` → (name, properties, data), unescaped as the runner does."""
    match = re.fullmatch(r"::([a-z-]+)(?: ([^:]*))?::(.*)", line, re.DOTALL)
    assert match, line
    name, props, data = match.groups()
    properties = {}
    for pair in (props or "").split(","):
        if pair:
            key, value = pair.split("=", 1)
            properties[key] = unescape_property(value)
    return name, properties, unescape_data(data)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """An Actions environment whose output and summary files are empty temp files."""
    return actions_env(tmp_path)


def actions_for(environ: dict[str, str], redact: Any = no_redaction) -> Actions:
    actions = Actions.from_environ(environ, redact=redact)
    assert actions is not None
    return actions


def plan_json(notes: str = "* Fix exam submit email content") -> dict[str, Any]:
    """`ReleasePlan.to_json()`'s shape, with `notes` as the release body."""
    return {
        "package": "edx-proctoring",
        "current_version": "5.2.0",
        "version": "5.3.0",
        "tag": "v5.3.0",
        "resumed": False,
        "steps": [
            {
                "name": "preflight",
                "skipped": None,
                "notes": ["version files agree on 5.2.0"],
                "actions": [],
            },
            {
                "name": "bump",
                "skipped": None,
                "notes": [],
                "actions": [
                    {
                        "description": "edit package.json: 5.2.0 → 5.3.0",
                        "details": '--- a/package.json\n+++ b/package.json\n-  "version": '
                        '"5.2.0",\n+  "version": "5.3.0",',
                    }
                ],
            },
            {"name": "wait-for-index", "skipped": "not configured", "notes": [], "actions": []},
            {
                "name": "github-release",
                "skipped": None,
                "notes": [],
                "actions": [{"description": "create the release v5.3.0", "details": notes}],
            },
            {
                "name": "downstream",
                "skipped": None,
                "notes": [],
                "actions": [
                    {"description": "open a PR on openedx/edx-platform", "details": "diff"},
                    {"description": "open a PR on openedx/other", "details": ""},
                ],
            },
            {
                "name": "email",
                "skipped": None,
                "notes": [],
                "actions": [{"description": "write the email draft", "details": "preview"}],
            },
        ],
    }


RELEASE_URL = "https://github.com/openedx/edx-proctoring/releases/tag/v5.3.0"
PR_URLS = [
    "https://github.com/openedx/edx-platform/pull/36001",
    "https://github.com/openedx/other/pull/7",
]


def run_result(**extra: Any) -> dict[str, Any]:
    """The CLI's result JSON of a complete run of `plan_json()`."""
    applied = [
        ("bump", "edit package.json: 5.2.0 → 5.3.0", "edited package.json"),
        ("github-release", "create the release v5.3.0", f"created release v5.3.0: {RELEASE_URL}"),
        ("downstream", "open a PR on openedx/edx-platform", f"opened PR #36001: {PR_URLS[0]}"),
        ("downstream", "open a PR on openedx/other", f"opened PR #7: {PR_URLS[1]}"),
        ("email", "write the email draft", "email draft written"),
    ]
    return {
        "applied": [{"step": s, "action": a, "summary": o} for s, a, o in applied],
        "outputs": {
            "release_url": RELEASE_URL,
            "downstream_pr_urls": "\n".join(PR_URLS),
            "email_draft": "/w/dist/release/5.3.0/notification.eml",
            "tag": "v5.3.0",
        },
        **extra,
    }


EMAIL = (
    "From: Maintainer <maintainer@example.org>\n"
    "To: release-notifications@edx.org\n"
    "Subject: edx-proctoring 5.3.0 released\n\n"
    "edx-proctoring 5.3.0 is out.\n\n* Fix exam submit email content\n"
)


# --- rendering the summary the way GitHub does ----------------------------------------------------


class Table(HTMLParser):
    """Rows of cells (text and raw inner HTML tags) of the first HTML table, and every tag."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def render(markdown: str) -> Table:
    # html=True: raw HTML passes through, as it reaches GitHub's sanitizer; a `<script>` that
    # got through the escaping would show up here as a tag.
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    table = Table()
    table.feed(html)
    return table


def fenced_blocks_removed(markdown: str) -> str:
    return re.sub(r"(?ms)^(`{3,})[^\n]*\n.*?^\1\s*$", "", markdown)


# --- from_environ, masks, groups, annotations ---------------------------------------------------


def test_only_inside_actions() -> None:
    assert Actions.from_environ({}, redact=no_redaction) is None
    assert Actions.from_environ({"GITHUB_ACTIONS": "false"}, redact=no_redaction) is None
    actions = Actions.from_environ({"GITHUB_ACTIONS": "true"}, redact=no_redaction)
    assert actions is not None
    assert actions.output_path is None
    # No files offered: nothing to write, and nothing raised.
    assert actions.set_outputs({"version": "1.0"}) is False
    assert actions.write_summary("# x") is False


def test_mask_lines_are_raw_and_in_order() -> None:
    """Masks are never redacted (the CLI prints them first); one per line of a secret."""
    redactor = Redactor([TOKEN])
    actions = actions_for({"GITHUB_ACTIONS": "true"}, redactor)
    assert actions.mask(TOKEN) == f"::add-mask::{TOKEN}"
    assert actions.mask("50%\nsecond line\r\n\n") == "::add-mask::50%25\n::add-mask::second line"
    assert [parse_command(line)[2] for line in actions.mask("a%0Ab\nc").splitlines()] == [
        "a%0Ab",
        "c",
    ]
    with pytest.raises(ValueError, match="blank"):
        actions.mask(" \n ")


def test_group_and_endgroup() -> None:
    actions = actions_for({"GITHUB_ACTIONS": "true"})
    assert actions.group("bump") == "::group::bump"
    assert actions.group("two\nlines 100%") == "::group::two%0Alines 100%25"
    assert actions.endgroup() == "::endgroup::"


def test_error_escapes_data_and_properties() -> None:
    actions = actions_for({"GITHUB_ACTIONS": "true"})
    message = "push failed: 100% sure\r\nhint: run it again, then: check"
    title = "release-tool: push, step 5%"
    line = actions.error(message, title=title)
    assert line == (
        "::error title=release-tool%3A push%2C step 5%25::"
        "push failed: 100%25 sure%0D%0Ahint: run it again, then: check"
    )
    assert parse_command(line) == ("error", {"title": title}, message)
    assert actions.error("plain") == "::error::plain"
    assert parse_command(actions.warning("w", title="t")) == ("warning", {"title": "t"}, "w")
    assert escape_data("%0A") == "%250A"  # a literal %0A in a message stays literal
    assert escape_property("a=b") == "a=b"


# --- $GITHUB_OUTPUT ---------------------------------------------------------------------------


def delimiters(text: str) -> list[str]:
    return re.findall(r"<<(ghadelimiter_[0-9a-f-]{36})\n", text)


def test_outputs_exact_file_contents(files: dict[str, str]) -> None:
    outputs = {
        "version": "5.3.0",
        "tag": "v5.3.0",
        "release_url": RELEASE_URL,
        "downstream_pr_urls": "\n".join(PR_URLS),
        "email_draft": "",
    }
    assert actions_for(files).set_outputs(outputs)
    text = read(files["GITHUB_OUTPUT"])
    found = delimiters(text)
    assert len(found) == len(outputs)
    assert all(str(uuid.UUID(d.removeprefix("ghadelimiter_"))) for d in found)
    expected = "".join(
        f"{name}<<{d}\n{value}\n{d}\n"
        for (name, value), d in zip(outputs.items(), found, strict=True)
    )
    assert text == expected
    assert parse_output_file(text) == list(outputs.items())


def test_delimiters_differ_per_value_and_per_run(files: dict[str, str]) -> None:
    actions_for(files).set_outputs({"a": "1", "b": "2", "c": "3"})
    actions_for(files).set_outputs({"a": "1", "b": "2", "c": "3"})
    found = delimiters(read(files["GITHUB_OUTPUT"]))
    assert len(found) == 6
    assert len(set(found)) == 6


@pytest.mark.parametrize(
    "value",
    [
        "line one\nline two\n",
        "\n\nleading and trailing blank lines\n\n",
        "windows\r\nline endings\r\n",
        "ghadelimiter_\nghadelimiter_00000000-0000-0000-0000-000000000000\nEOF",
        "forged=1\nother<<EOF\nx\nEOF",
        HOSTILE,
        "",
    ],
)
def test_values_survive_exactly(files: dict[str, str], value: str) -> None:
    actions_for(files).set_outputs({"first": value, "after": "intact"})
    records = parse_output_file(read(files["GITHUB_OUTPUT"]))
    assert records == [("first", value), ("after", "intact")]


def test_a_value_holding_the_delimiter_gets_another(
    files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stdlib's uuid4 made predictable: the first delimiter is in the value, so not used."""
    fixed = [uuid.UUID(int=1), uuid.UUID(int=1), uuid.UUID(int=2)]
    monkeypatch.setattr(uuid, "uuid4", lambda: fixed.pop(0))
    first = f"ghadelimiter_{uuid.UUID(int=1)}"
    value = f"a\n{first}\nforged<<X\nX"
    actions_for(files).set_outputs({"first": value})
    text = read(files["GITHUB_OUTPUT"])
    assert delimiters(text) == [f"ghadelimiter_{uuid.UUID(int=2)}"]
    assert parse_output_file(text) == [("first", value)]


@pytest.mark.parametrize("name", ["", "a=b", "a<<b", "1st", "with space", "new\nline"])
def test_bad_output_names_are_refused_before_writing(files: dict[str, str], name: str) -> None:
    with pytest.raises(ValueError, match="invalid output name"):
        actions_for(files).set_outputs({"ok": "1", name: "2"})
    assert read(files["GITHUB_OUTPUT"]) == ""


def test_release_outputs_always_sets_every_name() -> None:
    dry = release_outputs(plan_json(), None)
    assert dry == {
        "version": "5.3.0",
        "tag": "v5.3.0",
        "release_url": "",
        "downstream_pr_urls": "",
        "downstream_run_urls": "",
        "email_draft": "",
        "dry_run": "true",
    }
    real = release_outputs(plan_json(), run_result())
    assert tuple(real) == OUTPUT_NAMES
    assert real["release_url"] == RELEASE_URL
    assert real["downstream_pr_urls"] == "\n".join(PR_URLS)
    assert real["email_draft"].endswith("notification.eml")
    assert real["dry_run"] == "false"
    assert real["downstream_run_urls"] == ""  # no downstream was dispatched


def test_release_outputs_name_the_dispatched_workflow_runs() -> None:
    runs = [
        "https://github.com/openedx/openedx-platform/actions/runs/101",
        "https://github.com/openedx/other/actions/runs/7",
    ]
    result = run_result()
    result["outputs"]["downstream_run_urls"] = "\n".join(runs)
    assert release_outputs(plan_json(), result)["downstream_run_urls"] == "\n".join(runs)
    spaced = release_outputs(plan_json(), {"outputs": {"downstream_pr_urls": " a  b\n c "}})
    assert spaced["downstream_pr_urls"] == "a\nb\nc"


# --- the step summary ---------------------------------------------------------------------------


def test_markdown_text_is_inert() -> None:
    assert markdown_text("a | b") == "a \\| b"
    assert markdown_text("<script>") == "&lt;script&gt;"
    assert markdown_text("x\ny\r\nz") == "x<br>y<br>z"
    assert markdown_text("[x](y) *b* `c` $m$ @you \\") == (
        "\\[x\\]\\(y\\) \\*b\\* \\`c\\` \\$m\\$ \\@you \\\\"
    )
    assert markdown_link("x", "javascript:alert(1)") == "javascript\\:alert\\(1\\)"
    assert markdown_link("PR", "https://h/a|b\\c") == "[PR](<https://h/a%7Cb%5Cc>)"


def test_dry_run_summary_is_the_plan() -> None:
    markdown = summary_markdown(plan_json(), None, EMAIL, redact=no_redaction)
    assert markdown.startswith(heading("Dry run: edx-proctoring 5.2.0 → 5.3.0 (v5.3.0)"))
    table = render(markdown)
    header, *rows = table.rows
    assert header == ["step", "status", "what", "link"]
    assert [(r[0], r[1]) for r in rows] == [
        ("preflight", "✓"),
        ("bump", "planned"),
        ("wait-for-index", "skipped"),
        ("github-release", "planned"),
        ("downstream", "planned"),
        ("email", "planned"),
    ]
    assert rows[2][2] == "not configured"
    assert rows[4][2] == "open a PR on openedx/edx-platformopen a PR on openedx/other"  # <br>
    assert all(r[3] == "—" for r in rows)  # nothing was made: nothing to link
    assert table.links == []
    # The email: subject and recipients, then the text body in a fence.
    assert "**Subject:** edx\\-proctoring 5\\.3\\.0 released" in markdown
    assert "```text\nedx-proctoring 5.3.0 is out.\n\n* Fix exam submit email content\n```" in (
        markdown
    )
    # Each action's details, folded; the email's are not repeated there.
    assert markdown.count("<details>") == 3
    assert "```diff\n--- a/package.json" in markdown


def test_real_run_summary_has_links() -> None:
    markdown = summary_markdown(plan_json(), run_result(), EMAIL, redact=no_redaction)
    assert markdown.startswith(heading("Released edx-proctoring 5.3.0 (v5.3.0)"))
    table = render(markdown)
    rows = {row[0]: row for row in table.rows[1:]}
    assert rows["bump"][1:3] == ["✓", "edited package.json"]
    assert rows["github-release"][1] == "✓"
    assert rows["github-release"][3] == "openedx/edx-proctoring v5.3.0"
    assert rows["downstream"][3] == "openedx/edx-platform#36001openedx/other#7"
    assert rows["email"][3] == "/w/dist/release/5.3.0/notification.eml"
    assert rows["wait-for-index"][1] == "skipped"
    assert table.links == [RELEASE_URL, *PR_URLS]
    assert "<details>" not in markdown  # the diffs were in the log and the dry run


def test_failed_run_summary_marks_the_step_and_what_did_not_run() -> None:
    result = run_result(failed_step="downstream", error="downstream failed: 502 Bad Gateway")
    result["applied"] = result["applied"][:3]  # bump, release, the first PR
    result["outputs"] = {"release_url": RELEASE_URL, "downstream_pr_urls": PR_URLS[0]}
    markdown = summary_markdown(plan_json(), result, None, redact=no_redaction)
    assert markdown.startswith(heading("Release failed: edx-proctoring 5.3.0 (v5.3.0)"))
    assert markdown_text("Run the same workflow again to finish") in markdown
    rows = {row[0]: row for row in render(markdown).rows[1:]}
    assert rows["downstream"][1] == "✗"
    assert "502 Bad Gateway" in rows["downstream"][2]
    assert rows["downstream"][3] == "openedx/edx-platform#36001"
    assert rows["email"][1] == "not run"
    assert "### Email" not in markdown


def test_nothing_to_do_summary() -> None:
    result: dict[str, Any] = {"applied": [], "outputs": {}}
    assert summary_markdown(plan_json(), result, None, redact=no_redaction).startswith(
        heading("Nothing to do: edx-proctoring 5.3.0 (v5.3.0)")
    )


def test_hostile_changelog_text_cannot_change_the_structure() -> None:
    """`|`, newlines, headings, HTML and links in changelog text all stay text in one cell."""
    plan = plan_json(notes=HOSTILE)
    plan["steps"][3]["actions"][0]["description"] = f"create the release: {HOSTILE}"
    plan["steps"][2]["skipped"] = HOSTILE
    email = EMAIL.replace("edx-proctoring 5.3.0 released", HOSTILE.replace("\n", " "))
    email += "\n```\n" + HOSTILE + "\n````\n"  # backticks must not close the fence either
    for result in (None, run_result()):
        markdown = summary_markdown(plan, result, email, redact=no_redaction)
        table = render(markdown)
        assert len(table.rows) == 1 + len(plan["steps"])
        assert all(len(row) == 4 for row in table.rows)
        assert "script" not in table.tags
        assert "h2" not in table.tags[1:]  # only our own heading, first
        assert table.tags.count("h2") == 1
        assert not any(link.startswith("javascript") for link in table.links)
        assert "<script>" not in fenced_blocks_removed(markdown)
        # Table lines are exactly the header, the separator and one per step.
        outside = fenced_blocks_removed(markdown).splitlines()
        table_lines = [line for line in outside if line.startswith("|")]
        assert len(table_lines) == 2 + len(plan["steps"])
    cell = {
        row[0]: row for row in render(summary_markdown(plan, None, None, redact=no_redaction)).rows
    }
    assert cell["wait-for-index"][2] == HOSTILE.replace("\n", "")  # every character, as text


def test_long_details_are_cut() -> None:
    plan = plan_json(notes="x" * 50_000)
    markdown = summary_markdown(plan, None, None, redact=no_redaction)
    assert len(markdown) < 30_000
    assert "the job log has it all" in markdown


# --- redaction of everything written -------------------------------------------------------------


def test_a_token_never_reaches_a_file_or_a_command(files: dict[str, str]) -> None:
    redactor = Redactor([TOKEN])
    actions = actions_for(files, redactor)
    leaky = f"token {TOKEN} leaked | {TOKEN}"
    plan = plan_json(notes=leaky)
    plan["steps"][1]["actions"][0]["description"] = leaky
    plan["steps"][2]["skipped"] = leaky
    plan["package"] = TOKEN
    result = run_result()
    result["outputs"]["release_url"] = f"https://x-access-token:{TOKEN}@github.com/o/r/releases/1"
    email = EMAIL + f"\n{leaky}\n"
    lines = [
        actions.group(leaky),
        actions.error(leaky, title=leaky),
        actions.warning(leaky, title=leaky),
    ]
    actions.set_outputs({"version": leaky, "release_url": result["outputs"]["release_url"]})
    for res in (None, result):
        actions.write_summary(summary_markdown(plan, res, email, redact=redactor))
    written = [
        read(files["GITHUB_OUTPUT"]),
        read(files["GITHUB_STEP_SUMMARY"]),
        *lines,
    ]
    escaped = markdown_text(TOKEN)
    assert escaped != TOKEN  # the form that would slip past a redactor run after escaping
    for text in written:
        assert "***" in text or "%2A%2A%2A" in text or "\\*\\*\\*" in text
        for form in (TOKEN, escaped, escape_property(TOKEN), "Secret_Token", "Secret\\_Token"):
            assert form not in text
    # Even a summary built without the redactor is redacted on the way to the file.
    actions.write_summary(f"raw {TOKEN}")
    assert TOKEN not in read(files["GITHUB_STEP_SUMMARY"])


# --- a real plan and run ------------------------------------------------------------------------


def test_summary_and_outputs_of_a_real_local_release(library: Path, files: dict[str, str]) -> None:
    """The pipeline's own plan and result (local steps and the email draft), not a fixture."""
    project = Project(root=library, config=load_config(library), repo=GitRepo(library))
    request = ReleaseRequest(
        bump=Bump.parse("minor"), only=frozenset({"bump", "commit", "tag", "push", "email"})
    )
    plan = plan_release(project, request)
    preview = next(a.details() for a in plan.actions if isinstance(a, WriteDraftAction))
    dry = summary_markdown(plan.to_json(), None, preview, redact=no_redaction)
    steps = [row[0] for row in render(dry).rows[1:]]
    assert steps == [step.name for step in plan.steps]

    run = apply_plan(plan)
    result = {
        "applied": [{"step": s, "action": d, "summary": o.summary} for s, d, o in run.applied],
        "outputs": run.outputs,
    }
    actions = actions_for(files)
    actions.set_outputs(release_outputs(plan.to_json(), result))
    actions.write_summary(summary_markdown(plan.to_json(), result, preview, redact=no_redaction))
    outputs = dict(parse_output_file(read(files["GITHUB_OUTPUT"])))
    assert outputs["version"] == "5.3.0"
    assert outputs["tag"] == "v5.3.0"
    assert outputs["release_url"] == ""  # github-release was not selected
    assert Path(outputs["email_draft"]).is_file()
    summary = read(files["GITHUB_STEP_SUMMARY"])
    rows = {row[0]: row[1] for row in render(summary).rows[1:]}
    assert rows["bump"] == rows["commit"] == rows["tag"] == rows["push"] == rows["email"] == "✓"
    assert rows["github-release"] == "skipped"


# --- the CLI inside Actions -----------------------------------------------------------------------


def test_cli_masks_first_groups_steps_and_writes_outputs_and_summary(
    library: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in files.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)  # not needed by --local, masked all the same
    result = CliRunner().invoke(
        cli.cli, ["-C", str(library), "release", "minor", "--yes", "--local"]
    )
    assert result.exit_code == 0, result.output
    # Workflow commands go to standard output, GitHub's documented channel; masks first.
    assert result.stdout.splitlines()[0] == f"::add-mask::{TOKEN}"
    assert result.output.count(TOKEN) == 1  # only in the mask
    assert "::group::bump" in result.stdout
    assert "::" not in result.stderr
    assert result.stdout.count("::group::") == result.stdout.count("::endgroup::")
    outputs = dict(parse_output_file(read(files["GITHUB_OUTPUT"])))
    assert (outputs["version"], outputs["tag"], outputs["dry_run"]) == ("5.3.0", "v5.3.0", "false")
    summary = read(files["GITHUB_STEP_SUMMARY"])
    assert summary.startswith(heading("Released edx-proctoring 5.3.0 (v5.3.0)"))


def test_cli_json_mode_keeps_stdout_one_document_and_masks_first(
    library: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --json, stdout is the JSON alone (a `$(...)` capture must parse); the commands
    go to stderr instead, masks still before any other line."""
    for key, value in files.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    args = ["-C", str(library), "release", "minor", "--local", "--dry-run", "--json"]
    result = CliRunner().invoke(cli.cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dry_run"] is True
    assert result.stderr.splitlines()[0] == f"::add-mask::{TOKEN}"
    assert TOKEN not in result.stdout


def test_cli_dry_run_and_error_annotation(
    library: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in files.items():
        monkeypatch.setenv(key, value)
    args = ["-C", str(library), "release", "minor", "--local", "--dry-run", "--json"]
    result = CliRunner().invoke(cli.cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("{")  # workflow commands never go to the JSON on stdout
    json.loads(result.stdout)
    assert dict(parse_output_file(read(files["GITHUB_OUTPUT"])))["dry_run"] == "true"
    assert read(files["GITHUB_STEP_SUMMARY"]).startswith("## Dry run")

    (library / "README.rst").write_text("changed")  # a dirty tree: preflight refuses, exit 2
    result = CliRunner().invoke(cli.cli, ["-C", str(library), "release", "minor", "--yes"])
    assert result.exit_code == 2
    command, properties, message = parse_command(
        next(line for line in result.stdout.splitlines() if line.startswith("::error"))
    )
    assert command == "error"
    assert properties == {"title": "release-tool (exit 2)"}
    assert "uncommitted changes" in message
    assert "\nhint: " in message


# --- the workflows ----------------------------------------------------------------------------


def load_workflow(name: str) -> dict[Any, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is in the test extra")
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_of(workflow: dict[Any, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


@pytest.mark.parametrize("name", ["release.yml", "ci.yml"])
def test_workflow_hardening(name: str) -> None:
    workflow = load_workflow(name)
    for job_id, step in steps_of(workflow):
        run = step.get("run", "")
        # Expressions in a script are pasted into it before bash runs: template injection.
        # Values reach scripts through env: only.
        assert "${{" not in run, (job_id, run)
        uses = step.get("uses")
        if uses and uses != "./":  # ./ is this repository's own action (action.yml)
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses
        if uses and uses.startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
    for job in workflow["jobs"].values():
        assert "permissions" in job


def test_release_workflow() -> None:
    workflow = load_workflow("release.yml")
    assert workflow["permissions"] == {}
    job = workflow["jobs"]["release"]
    # Read only: every write (push, release, PRs) goes through the release token.
    assert job["permissions"] == {"contents": "write"}
    concurrency = job.get("concurrency") or workflow.get("concurrency")
    assert concurrency == {"group": "release-${{ github.repository }}", "cancel-in-progress": False}

    dispatch = workflow["on"]["workflow_dispatch"]["inputs"]
    assert dispatch["bump"]["type"] == "choice"
    assert dispatch["bump"]["options"] == ["patch", "minor", "major", "current", "version"]
    assert dispatch["version"]["type"] == "string"
    assert dispatch["dry_run"] == {**dispatch["dry_run"], "type": "boolean", "default": True}
    call = workflow["on"]["workflow_call"]
    assert {k: v["type"] for k, v in call["inputs"].items()} == {
        "bump": "string",
        "version": "string",
        "dry_run": "boolean",
    }
    assert call["inputs"]["dry_run"]["default"] is True
    assert call["secrets"]["release_token"]["required"] is True
    assert set(call["outputs"]) == set(OUTPUT_NAMES)

    checkout = next(
        s for _, s in steps_of(workflow) if s.get("uses", "").startswith("actions/checkout")
    )
    assert checkout["with"]["fetch-depth"] == 0
    # The release step is the composite action at the repository's root (action.yml; its
    # script is tested in test_action.py): the inputs and the token go to it as `with:`.
    release = next(s for _, s in steps_of(workflow) if s.get("id") == "release")
    assert release["uses"] == "./"
    given = release["with"]
    token = given["token"]
    assert "secrets.release_token" in token
    assert "secrets.RELEASE_TOKEN" in token
    assert "github.token" not in token
    assert "secrets.GITHUB_TOKEN" not in token
    assert given["bump"] == "${{ inputs.bump }}"
    assert given["version"] == "${{ inputs.version }}"
    assert given["dry-run"] == "${{ inputs.dry_run }}"
    upload = next(s for _, s in steps_of(workflow) if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "dist/release/"
    assert upload["with"]["if-no-files-found"] == "ignore"


def test_ci_workflow() -> None:
    workflow = load_workflow("ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert workflow["permissions"] == {"contents": "read"}
    runs = " ".join(step.get("run", "") for _, step in steps_of(workflow))
    for session in ("lint", "typecheck", "tests"):
        assert f"nox -s {session}" in runs
    assert workflow["jobs"]["tests"]["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
