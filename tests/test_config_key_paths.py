"""Messages raised after loading name a key the way its file spells it: `release-tool.toml:
commit_message` when the configuration is in release-tool.toml, `tool.release_tool.commit_message`
when it is in pyproject.toml; the same as the loader's own errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_library
from sandbox_fixtures import LIBRARY, MAINTAINER_TOKEN
from test_config_files import own_file
from test_release_local import invoke

from release_tool import example
from release_tool.cli import cli
from release_tool.config import CONFIG_FILE, PYPROJECT, load_config
from release_tool.config_schema import schema
from release_tool.errors import ConfigError
from release_tool.git_repo import auth_environment, run_git
from release_tool.sandbox import Sandbox

# (the file the configuration is in, how its messages spell the top level's keys)
FILES = [(PYPROJECT, "tool.release_tool."), (CONFIG_FILE, "release-tool.toml: ")]


def configured(pyproject: str, file: str, top: str = "", email: str = "") -> dict[str, str | None]:
    """The example library's files with `top` added to the top-level table and `email` to the
    email table, the configuration in `file`."""
    text = pyproject.replace("[tool.release_tool]\n", "[tool.release_tool]\n" + top, 1)
    text = text.replace("[tool.release_tool.email]\n", "[tool.release_tool.email]\n" + email, 1)
    if file == PYPROJECT:
        return {PYPROJECT: text}
    head = text[: text.index("[tool.release_tool]")]  # [build-system] stays in pyproject.toml
    return {PYPROJECT: head or None, CONFIG_FILE: own_file(text)}


def library(tmp_path: Path, file: str, top: str = "", email: str = "") -> Path:
    files = {**example.library_files(), **configured(example.LIBRARY_PYPROJECT, file, top, email)}
    return make_library(tmp_path, files)  # type: ignore[arg-type]


@pytest.mark.parametrize(("file", "prefix"), FILES)
def test_a_bad_commit_message_template_names_its_key(
    tmp_path: Path, file: str, prefix: str
) -> None:
    repo = library(tmp_path, file, top='commit_message = "release {{ version"\n')
    code, _, err = invoke(repo, "plan", "minor")
    assert code == 2, err
    assert f"error: {prefix}commit_message: " in err
    assert "tool.release_tool" not in err.replace(prefix, "")


@pytest.mark.parametrize(("file", "prefix"), FILES)
def test_a_bad_email_subject_template_names_its_key(tmp_path: Path, file: str, prefix: str) -> None:
    repo = library(tmp_path, file, email='subject = "{{ package }} {% if %}"\n')
    code, _, err = invoke(repo, "email", "5.2.0", "--dry-run")
    assert code == 2, err
    assert f"error: {prefix}email.subject: " in err
    assert not (repo / "dist").exists()


@pytest.mark.parametrize(("file", "prefix"), FILES)
def test_an_index_url_that_is_not_http_is_refused_on_loading(
    tmp_path: Path, file: str, prefix: str
) -> None:
    repo = library(tmp_path, file, top='index_url = "file:///srv/simple/"\n')
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert f"error: {prefix}index_url: 'file:///srv/simple/' is not an http(s) URL" in err
    with pytest.raises(ConfigError) as refused:
        load_config(repo)
    assert (
        refused.value.message == f"{prefix}index_url: 'file:///srv/simple/' is not an http(s) URL"
    )


@pytest.mark.parametrize(("file", "prefix"), FILES)
def test_build_command_without_assets_names_its_key(tmp_path: Path, file: str, prefix: str) -> None:
    repo = library(tmp_path, file, top='build_command = ["python", "-m", "build"]\n')
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert f"error: {prefix}build_command: set, but release_assets is empty" in err


@pytest.mark.parametrize(("file", "prefix"), FILES)
def test_where_is_no_key_of_the_file(tmp_path: Path, file: str, prefix: str) -> None:
    """The tables' own key path is filled in by the loader: a file cannot set it, and the
    list of known keys does not offer it."""
    repo = library(tmp_path, file, top='where = "elsewhere"\n')
    code, _, err = invoke(repo, "status")
    assert code == 2
    assert f"error: {prefix}where: unknown key" in err
    hint = err[err.index("known keys here:") :]
    assert "package" in hint
    assert "where" not in hint
    assert "where" not in schema()["properties"]


@pytest.mark.parametrize(("file", "prefix"), FILES)
def test_a_downstream_glob_that_matches_nothing_names_the_entry(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, prefix: str
) -> None:
    """`release-tool downstream` against GitHub (the sandbox), as a maintainer runs it."""
    url = sandbox.git_url(LIBRARY)
    work = tmp_path / "edx-proctoring"
    run_git(
        "clone", "-q", url, str(work), cwd=tmp_path, env=auth_environment(url, MAINTAINER_TOKEN)
    )
    pyproject = (work / PYPROJECT).read_text()
    pyproject = pyproject.replace(
        'files = ["requirements/edx/*.txt"]', 'files = ["requirements/edx/*.txt", "reqs/*.pip"]'
    )
    for name, text in configured(pyproject, file).items():
        if text is None:
            (work / name).unlink()
        else:
            (work / name).write_text(text)
    monkeypatch.setenv("GITHUB_TOKEN", MAINTAINER_TOKEN)
    monkeypatch.setenv("RELEASE_TOOL_GITHUB_API", sandbox.api_url)
    result = CliRunner().invoke(cli, ["-C", str(work), "downstream", "5.2.0", "--dry-run"])
    assert result.exit_code == 2, result.stderr
    assert (
        f"error: {prefix}downstream[0].files: 'reqs/*.pip' matches no file in "
        "openedx/edx-platform@master"
    ) in result.stderr


@pytest.mark.parametrize(("file", "prefix"), FILES)
def test_the_smtp_hint_names_the_key_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, prefix: str
) -> None:
    """Sending with no SMTP host: the hint names the key to set as the configuration's file
    spells it."""
    monkeypatch.delenv("RELEASE_TOOL_SMTP_HOST", raising=False)
    repo = library(tmp_path, file)
    code, _, err = invoke(repo, "email", "5.2.0", "--dry-run", "--send-email")
    assert code == 2, err
    assert f"set {prefix}email.smtp_host or RELEASE_TOOL_SMTP_HOST" in err
