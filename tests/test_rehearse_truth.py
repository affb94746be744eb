"""`release-tool rehearse` tells the truth (issue 15): the same options as `release`, the working
tree as it is, hints that name only real options, and each downstream's data named for what it
was (the real GitHub, read-only, or the bundled example).

The library rehearsed is a clone of the sandbox's example library (its origin a bare copy, so
`origin/master` is where the "real" remote is); the CLI runs in-process with `--json`.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sandbox_fixtures import DOWNSTREAM, MAINTAINER_TOKEN
from test_github_release import writes

from release_tool import errors as release_errors
from release_tool.cli import cli
from release_tool.git_repo import run_git
from release_tool.sandbox import Sandbox, seed_example

PACKAGE = Path(__file__).resolve().parent.parent / "release_tool"


def library_checkout(tmp_path: Path) -> Path:
    """A working copy of the example library, its origin a bare repository at the same commit."""
    root = tmp_path / "origin-root"
    seed_example(root)
    work = tmp_path / "edx-proctoring"
    run_git("clone", "-q", str(root / "openedx" / "edx-proctoring.git"), str(work), cwd=tmp_path)
    return work


def rehearse(work: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, ["-C", str(work), "rehearse", *args, "--json"])
    data = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, data, result.stderr


def state_of(work: Path) -> tuple[str, str]:
    return run_git("rev-parse", "HEAD", cwd=work), run_git("status", "--porcelain", cwd=work)


# --- the same options as release --------------------------------------------------------------


def options_of(command: str) -> set[str]:
    found = cli.get_command(click.Context(cli), command)
    assert found is not None
    return {opt for param in found.params for opt in getattr(param, "opts", ()) if opt[:2] == "--"}


def test_rehearse_takes_every_option_of_release() -> None:
    release_only = {"--dry-run", "--yes"}  # a rehearsal neither asks nor stops at the plan
    assert options_of("release") - release_only <= options_of("rehearse")


def test_release_options_reach_the_rehearsed_pipeline(tmp_path: Path) -> None:
    work = library_checkout(tmp_path)
    code, summary, err = rehearse(
        work,
        "minor",
        "--pre",
        "rc",
        "--skip",
        "email",
        "--send-email",
        "--workspace",
        str(tmp_path / "ws"),
    )
    assert code == 0, err
    assert (summary["version"], summary["tag"]) == ("5.3.0rc1", "v5.3.0rc1")
    assert summary["email_draft"] is None  # --skip email
    assert any(note.startswith("left out: --send-email") for note in summary["notes"])
    code, summary, err = rehearse(work, "5.2.5", "--only", "bump", "--only", "commit")
    assert code == 0, err
    assert summary["release_url"] is None and summary["downstream_pr_urls"] == []


# --- the working tree as it is -------------------------------------------------------------------


def test_an_uncommitted_config_change_is_rehearsed(tmp_path: Path) -> None:
    work = library_checkout(tmp_path)
    pyproject = work / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'labels = ["dependencies"]', 'labels = ["dependencies", "rehearsed-label"]'
        )
    )
    (work / "NOTES.txt").write_text("untracked, not ignored\n")
    (work / ".gitignore").write_text("*.log\n")
    (work / "debug.log").write_text("ignored\n")
    before = state_of(work)
    code, summary, err = rehearse(work, "minor", "--workspace", str(tmp_path / "ws"))
    assert code == 0, err
    assert "labels: dependencies, rehearsed-label" in summary["downstream_diff"]
    (note,) = [n for n in summary["notes"] if n.startswith("uncommitted changes")]
    assert note == (
        "uncommitted changes rehearsed as committed and pushed: .gitignore, NOTES.txt, "
        "pyproject.toml"
    )
    clone = tmp_path / "ws" / "work" / "edx-proctoring"
    assert (clone / "NOTES.txt").is_file()
    assert not (clone / "debug.log").exists()  # ignored: a release would not commit it either
    assert state_of(work) == before  # the user's repository is not touched


def test_unpushed_commits_are_unpushed_in_the_rehearsal_too(tmp_path: Path) -> None:
    """A real release refuses to publish commits nobody reviewed; so does the rehearsal, with
    the same hint, naming an option the rehearsal has."""
    work = library_checkout(tmp_path)
    (work / "README.rst").write_text("changed\n")
    run_git("commit", "-qam", "docs: an unpushed change", cwd=work)
    code, _, err = rehearse(work, "minor")
    assert code == 2
    assert "the push would publish 1 commit(s)" in err
    (hint,) = [line for line in err.splitlines() if line.startswith("hint:")]
    assert "--allow-unpushed" in hint
    assert hint_options(hint) <= options_of("rehearse")
    assert hint_options(hint)
    code, summary, err = rehearse(work, "minor", "--allow-unpushed")
    assert code == 0, err
    assert summary["tag"] == "v5.3.0"


# --- hints name real options --------------------------------------------------------------------

_OTHER_TOOL = re.compile(r"\b(?:git|gpg|uv|pip|pip-compile)\b[^.;:,()]*$")
_OUR_COMMAND = re.compile(r"release-tool (\w+)[^.;:,()]*$")


def hint_options(text: str, command: str | None = None) -> set[str]:
    """The options `text` names for the `release-tool` command it names (`command`), or, with
    `command` None, for the command that gave the hint (no command named). Options of other
    tools (`git pull --rebase`) are not ours."""
    found = set()
    for match in re.finditer(r"(?<![\w-])--[a-z][a-z-]+", text):
        before = text[: match.start()]
        if _OTHER_TOOL.search(before):
            continue
        named = _OUR_COMMAND.search(before)
        if (named.group(1) if named else None) == command:
            found.add(match.group(0))
    return found


def _text_of(node: ast.AST, constants: dict[str, str]) -> str:
    """The literal text of an expression, in source order (a module constant by its value,
    anything computed as nothing)."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else ""
    if isinstance(node, ast.Name):
        return constants.get(node.id, "")
    return "".join(_text_of(child, constants) for child in ast.iter_child_nodes(node))


def _hint_texts() -> list[tuple[str, str]]:
    """(module, text) of every literal part of every hint the product can give."""
    texts = []
    errors = {
        *(name for name in dir(release_errors) if name.endswith(("Error", "Failed"))),
        "GitHubError",
        "Unfinished",
        "Interrupted",
    }
    for path in sorted(PACKAGE.rglob("*.py")):
        # The pipeline's hints (shared by `release` and `rehearse`); the CLI's own are per
        # command (`--yes` is `release`'s confirmation).
        if "sandbox" in path.parts or "cli" in path.parts:
            continue
        module = ast.parse(path.read_text())
        constants = {  # module-level NAME = "text", as a hint's f-string uses them
            target.id: node.value.value
            for node in module.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        for node in ast.walk(module):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name not in errors:
                continue
            hints = [k.value for k in node.keywords if k.arg == "hint"] + node.args[1:2]
            for hint in hints:
                texts.append((path.name, _text_of(hint, constants)))
    return texts


def test_every_option_a_hint_names_is_an_option_of_the_command_it_suggests() -> None:
    """A hint that names no command speaks to the one that gave it: `release` or `rehearse`
    (they share every step); one that says `release-tool bump … --sync` names `bump`'s."""
    texts = [text for _, text in _hint_texts()]
    assert len(texts) > 100  # the scan does find the hints
    unnamed = set().union(*(hint_options(text) for text in texts))
    assert {"--allow-unpushed", "--allow-empty-notes", "--pre", "--no-verify"} <= unnamed
    for command in ("release", "rehearse"):
        missing = unnamed - options_of(command)
        assert not missing, f"hints name {sorted(missing)}, which `{command}` does not have"
    said = {m.group(1) for text in texts for m in re.finditer(r"release-tool (\w+)", text)}
    commands = said & set(cli.list_commands(click.Context(cli)))  # not "release-tool with …"
    assert "bump" in commands
    for command in commands:
        named = set().union(*(hint_options(text, command) for text in texts))
        missing = named - options_of(command)
        assert not missing, f"hints name {sorted(missing)}, which `{command}` does not have"


# --- downstream data: the real GitHub, or the example, said per downstream ---------------------


def test_without_a_token_the_example_stands_in_and_says_so(tmp_path: Path) -> None:
    code, summary, err = rehearse(library_checkout(tmp_path), "minor")
    assert code == 0, err
    assert summary["downstream_data"] == {
        DOWNSTREAM: f"example data, not {DOWNSTREAM} "
        "(no GITHUB_TOKEN or GH_TOKEN to read it from GitHub with)"
    }
    assert f"downstream {DOWNSTREAM}: example data, not {DOWNSTREAM}" in err


def test_with_a_token_the_downstream_is_read_from_github(
    sandbox: Sandbox, tmp_path: Path, github_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sandbox` stands in for GitHub: its edx-platform pins 5.1.0, unlike the example's."""
    repo = github_client().get_repo(DOWNSTREAM)
    base = repo.get_contents("requirements/edx/base.txt")
    text = base.decoded_content.decode().replace("edx-proctoring==5.2.0", "edx-proctoring==5.1.0")
    repo.update_file(base.path, "pin 5.1.0", text, base.sha)
    head = repo.get_branch("master").commit.sha
    monkeypatch.setenv("GITHUB_TOKEN", MAINTAINER_TOKEN)
    monkeypatch.setenv("RELEASE_TOOL_GITHUB_API", sandbox.api_url)
    before = len(sandbox.requests)
    code, summary, err = rehearse(library_checkout(tmp_path), "minor")
    assert code == 0, err
    words = summary["downstream_data"][DOWNSTREAM]
    assert words.startswith(f"read from GitHub: {DOWNSTREAM}@master {head[:12]} (")
    diff = summary["downstream_diff"]
    assert "-edx-proctoring==5.1.0" in diff  # the real file's pin, not the example's 5.2.0
    assert "+edx-proctoring==5.3.0" in diff
    assert writes(sandbox, before) == []  # GitHub was only read
    assert MAINTAINER_TOKEN not in err + json.dumps(summary)


def test_a_github_that_cannot_be_read_falls_back_to_the_example(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "not-a-token-github-knows")
    monkeypatch.setenv("RELEASE_TOOL_GITHUB_API", sandbox.api_url)
    code, summary, err = rehearse(library_checkout(tmp_path), "minor")
    assert code == 0, err
    words = summary["downstream_data"][DOWNSTREAM]
    assert words.startswith(f"example data, not {DOWNSTREAM} (reading it from GitHub failed: ")
    assert "401" in words
    assert "not-a-token-github-knows" not in err + json.dumps(summary)
