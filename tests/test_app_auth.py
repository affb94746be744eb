"""GitHub App authentication through the CLI, against the sandbox (which signs nothing but checks
the App's JWTs and issues installation tokens): RELEASE_TOOL_APP_ID and the private key make
an installation token per repository; nothing asks `GET /user`; the key never shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sandbox_fixtures import DOWNSTREAM, LIBRARY, MAINTAINER_TOKEN

from release_tool.cli import cli
from release_tool.git_repo import auth_environment, run_git
from release_tool.github_api.auth import app_from_environ
from release_tool.redact import Redactor
from release_tool.sandbox import Sandbox, parse_app

APP_ID = 4242
BOT = "sandbox-app[bot]"


def new_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def private_pem() -> str:
    return new_key()


@pytest.fixture
def work(
    sandbox: Sandbox, private_pem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A clone of the library; the App installed (by the sandbox) on every owner; no token."""
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_pem)
    sandbox.add_app(parse_app(f"{APP_ID}:{key_file}"))
    url = sandbox.git_url(LIBRARY)
    dest = tmp_path / "edx-proctoring"
    run_git(
        "clone", "-q", url, str(dest), cwd=tmp_path, env=auth_environment(url, MAINTAINER_TOKEN)
    )
    monkeypatch.setenv("RELEASE_TOOL_GITHUB_API", sandbox.api_url)
    monkeypatch.setenv("RELEASE_TOOL_APP_ID", str(APP_ID))
    monkeypatch.setenv("RELEASE_TOOL_APP_PRIVATE_KEY", private_pem)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # git, and no `gh` to ask for a token
    return dest


def invoke(work: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-C", str(work), *args])
    return result.exit_code, result.stdout, result.stderr


def shows_key(text: str, pem: str) -> list[str]:
    body = [line for line in pem.splitlines() if not line.startswith("-----")]
    return [line for line in body if line in text]


def test_a_whole_release_as_an_app(work: Path, sandbox: Sandbox, private_pem: str) -> None:
    code, out, err = invoke(work, "release", "minor", "--yes")
    assert code == 0, err
    # git pushed with the library's installation token.
    assert sandbox.store.git(LIBRARY, "tag", "-l", "v5.3.0").decode().strip() == "v5.3.0"
    (release,) = sandbox.state.releases(LIBRARY)
    assert (release.tag_name, release.author) == ("v5.3.0", BOT)
    # The downstream repository got its own installation's token: its PR is the App's.
    (pull,) = sandbox.state.pulls(DOWNSTREAM)
    assert pull.user == BOT
    assert pull.head_ref == "release-tool/edx-proctoring"  # on the downstream, not a fork
    assert not [r for r in sandbox.requests if r[1].endswith("/user")]
    assert not shows_key(out + err, private_pem)


def test_the_key_from_a_file_and_a_dry_run(
    work: Path, sandbox: Sandbox, private_pem: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RELEASE_TOOL_APP_PRIVATE_KEY")
    monkeypatch.setenv("RELEASE_TOOL_APP_PRIVATE_KEY_FILE", str(tmp_path / "app.pem"))
    code, out, err = invoke(work, "release", "minor", "--dry-run")
    assert code == 0, err
    assert "create GitHub release" in out
    assert f"open PR on {DOWNSTREAM}: " in out  # the App's rights there, not a fork
    assert sandbox.state.releases(LIBRARY) == []


def test_a_key_github_does_not_know_is_a_usage_error_that_shows_no_key(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = new_key()
    monkeypatch.setenv("RELEASE_TOOL_APP_PRIVATE_KEY", wrong)
    code, out, err = invoke(work, "release", "minor", "--dry-run")
    assert code == 2
    assert "GitHub refused the App's credentials (401)" in err
    assert "RELEASE_TOOL_APP_ID" in err
    assert not shows_key(out + err, wrong)


def test_an_app_cannot_fork(work: Path, sandbox: Sandbox) -> None:
    pyproject = (work / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(
        pyproject.replace('labels = ["dependencies"]\n', 'labels = ["dependencies"]\nfork = true\n')
    )
    run_git("commit", "-q", "-am", "chore: push downstream changes to a fork", cwd=work)
    url = sandbox.git_url(LIBRARY)
    run_git("push", "-q", "origin", "HEAD", cwd=work, env=auth_environment(url, MAINTAINER_TOKEN))
    code, _, err = invoke(work, "release", "minor", "--dry-run")
    assert code == 2
    assert "the GitHub App cannot push to openedx/edx-platform (fork = true)" in err


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"RELEASE_TOOL_APP_ID": "my-app", "RELEASE_TOOL_APP_PRIVATE_KEY": "x"}, "not an App id"),
        ({"RELEASE_TOOL_APP_ID": "1"}, "the App's private key is not"),
        ({"RELEASE_TOOL_APP_PRIVATE_KEY": "x"}, "is set without RELEASE_TOOL_APP_ID"),
        ({"RELEASE_TOOL_APP_ID": "1", "RELEASE_TOOL_APP_PRIVATE_KEY": "ghp_x"}, "not a PEM"),
        ({"RELEASE_TOOL_APP_ID": "1", "RELEASE_TOOL_APP_PRIVATE_KEY_FILE": "/nope"}, "cannot read"),
    ],
)
def test_bad_app_settings_are_usage_errors(environ: dict[str, str], message: str) -> None:
    from release_tool.errors import UsageError

    with pytest.raises(UsageError) as refused:
        app_from_environ(environ)
    assert message in refused.value.message
    assert app_from_environ({}) is None


def test_a_pem_key_is_redacted_line_by_line(private_pem: str) -> None:
    redact = Redactor([private_pem])
    line = private_pem.splitlines()[3]
    assert redact(f"jwt failed near {line}") == "jwt failed near ***"
    assert redact(private_pem).count("***") >= 1 and line not in redact(private_pem)
