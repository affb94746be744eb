"""Template rendering: Jinja2 for every template, and the default commit message built in code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from release_tool.git_repo import run_git
from release_tool.rendering import bundled_templates_dir, render, render_string

CONTEXTS = [
    {"package": "edx-proctoring", "version": "5.2.0", "previous_version": "5.1.2", "tag": "v5.2.0"},
    {"package": "xblock-lti-consumer", "version": "10.0.0rc1", "previous_version": "9.14.3"},
    {"package": "{{ odd }} <name> & 'quotes'", "version": "1.0.0.dev3", "tag": "x"},
    {"package": "pâquerette\tüber", "version": "2!1.0", "previous_version": ""},
]


@pytest.mark.parametrize("context", CONTEXTS)
def test_default_commit_message_is_what_jinja2_renders(
    tmp_path: Path, context: dict[str, str]
) -> None:
    # The same bundled template, offered as an override, goes through Jinja2.
    shutil.copy(bundled_templates_dir() / "commit_message.txt.j2", tmp_path)
    by_jinja2 = render("commit_message.txt.j2", context, override_dir=tmp_path)
    assert render("commit_message.txt.j2", context) == by_jinja2
    assert render("commit_message.txt.j2", context, override_dir=tmp_path / "none") == by_jinja2
    assert by_jinja2 == f"chore: release {context['package']} {context['version']}"


def test_an_override_template_is_used(tmp_path: Path) -> None:
    (tmp_path / "commit_message.txt.j2").write_bytes(b"release {{ version }}\r\n\r\n{{ tag }}\r\n")
    context = {"package": "p", "version": "1.0.0", "tag": "v1.0.0"}
    # Jinja2 reads CRLF as a newline, and drops the one that ends the template.
    assert (
        render("commit_message.txt.j2", context, override_dir=tmp_path) == "release 1.0.0\n\nv1.0.0"
    )


def test_inline_templates_are_jinja2() -> None:
    assert render_string("release {{ true }} {{ version }}", {"version": "1"}, what="x") == (
        "release True 1"
    )
    assert render_string("a {{ version }}\r\n", {"version": "1"}, what="x") == "a 1"


def _plan_imports(repo: Path) -> tuple[str, set[str]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "release_tool", "plan", "patch", "--local"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {
        line.split("|")[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result.stdout, imported


def test_a_local_dry_run_does_not_import_jinja2(library: Path) -> None:
    out, imported = _plan_imports(library)
    assert "chore: release edx-proctoring " in out
    assert "jinja2" not in imported


def test_a_configured_commit_message_goes_through_jinja2(library: Path) -> None:
    pyproject = library / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert "[tool.release_tool]\n" in text
    pyproject.write_text(
        text.replace(
            "[tool.release_tool]\n",
            '[tool.release_tool]\ncommit_message = "Release {{ version | upper }}"\n',
        ),
        encoding="utf-8",
    )
    run_git("commit", "-qam", "chore: own commit message", cwd=library)
    out, imported = _plan_imports(library)
    assert "jinja2" in imported
    assert "Release " in out
