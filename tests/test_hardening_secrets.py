"""No token in any output: the terminal, JSON, the Actions files, the email draft, the working
copy, the sandbox, git's command lines.

(a) The Redactor masks a token in every form it travels in.
(b) Whole releases through the CLI (a subprocess, as in CI), with a distinctive token, inside
    GitHub Actions and not, with `--json` and not, succeeding and failing (a 500 that never
    clears; a token GitHub rejects): no form of the token in stdout, stderr, $GITHUB_OUTPUT,
    $GITHUB_STEP_SUMMARY, the .eml draft, any file of the working copy (.git included: config,
    the release lock, git's objects decompressed) or any file of the sandbox; in Actions the
    only lines that carry it are the `::add-mask::` lines, and they come first.
(c) While a release runs, a `git` first on PATH records every git command's argv and which
    environment variables hold the token: the token is on no command line, in no remote URL,
    and reaches git only through the GIT_CONFIG_* variables that carry its http.extraheader.

The session-wide scan of every produced file is in `hardening_report.py`.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import actions_env
from hardening_report import produced_files, scan_for_tokens
from hardening_support import (
    LIBRARY,
    OUTSIDER_TOKEN,
    RELEASE_ARGS,
    Run,
    SmtpServer,
    Template,
    World,
    build_template,
    cli_subprocess,
    new_world,
    smtp_server,
)

from release_tool.git_repo import run_git
from release_tool.redact import MASK, Redactor, forms

# GitHub's classic PAT shape: what an Actions log mask is usually asked to hide.
TOKEN = "ghp_" + secrets.token_hex(18)


def spellings(token: str) -> set[str]:
    """The token as it could leak: as is, URL-encoded, Base64 (alone, as Basic credentials)."""
    out = {token, quote(token, safe="")}
    for raw in (token, f"x-access-token:{token}", f":{token}"):
        encoded = base64.b64encode(raw.encode()).decode()
        out |= {encoded, encoded.rstrip("=")}
    return out


# --- (a) the Redactor ---------------------------------------------------------------------------

UNIT_TOKENS = [
    pytest.param(TOKEN, id="ghp"),
    pytest.param("github_pat_11ABCDEFG0_" + "x" * 40, id="fine-grained"),
    pytest.param("tok/en+with=special&chars?%", id="url-special"),
]


@pytest.mark.parametrize("token", UNIT_TOKENS)
def test_redactor_masks_every_spelling(token: str) -> None:
    redact = Redactor([token])
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    texts = [
        f"token {token} in a sentence",
        f"https://x-access-token:{quote(token, safe='')}@github.com/o/r.git",
        f"?access_token={quote(token, safe='')}&x=1",
        f"Authorization: Basic {basic}",
        f"Authorization: Basic {basic.rstrip('=')}",
        f"b64: {base64.b64encode(token.encode()).decode()}",
        f"{{'Authorization': 'token {token}'}}",  # a header dump in an exception's text
    ]
    for text in texts:
        masked = redact(text)
        assert MASK in masked, text
        for form in spellings(token):
            assert form not in masked, (text, form)
    assert redact("nothing secret here") == "nothing secret here"
    assert spellings(token) <= forms(token) | {token}


def test_redactor_masks_several_tokens_and_overlapping_forms() -> None:
    redact = Redactor([TOKEN, OUTSIDER_TOKEN])
    text = f"{TOKEN}{OUTSIDER_TOKEN} {quote(TOKEN)}"
    masked = redact(text)
    assert TOKEN not in masked and OUTSIDER_TOKEN not in masked
    assert masked.count(MASK) == 3


# --- (b) whole releases -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("secrets-template"))


def world_with_token(template: Template, smtp: SmtpServer, dest: Path) -> World:
    """A world whose sandbox knows TOKEN as the maintainer's."""
    return new_world(
        template, dest, smtp, tokens={TOKEN: "maintainer", OUTSIDER_TOKEN: "outsider"}, token=TOKEN
    )


def leaks(data: bytes | str, token: str = TOKEN) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return sorted(form for form in spellings(token) if form.encode() in raw)


def files_with_token(root: Path, token: str = TOKEN) -> list[str]:
    return [
        f"{path.relative_to(root)} ({kind}): {found}"
        for path, data, kind in produced_files(root)
        if (found := leaks(data, token))
    ]


def check_streams(run: Run, *, actions: bool, token: str = TOKEN, json_mode: bool = False) -> None:
    """Workflow commands are on stdout (GitHub's documented channel), on stderr with --json
    (stdout is the JSON document then): the masks come first there; no other line leaks."""
    commands, other = (run.stderr, run.stdout) if json_mode else (run.stdout, run.stderr)
    assert not leaks(other, token), other
    lines = commands.splitlines()
    masks = [i for i, line in enumerate(lines) if line.startswith("::add-mask::")]
    if actions:
        assert f"::add-mask::{token}" in lines
        assert masks == list(range(len(masks))), "the masks must come first"
    else:
        assert not masks
    rest = "\n".join(lines[len(masks) :])
    assert not leaks(rest, token), rest


def check_world(world: World, extra: list[Path], token: str = TOKEN) -> None:
    found = files_with_token(world.root, token)  # the working copy and the sandbox's root
    for path in extra:
        if leaks(path.read_bytes(), token):
            found.append(str(path))
    assert not found, found


@pytest.mark.parametrize(
    ("in_actions", "json_mode", "fault"),
    [
        pytest.param(True, False, None, id="success, Actions"),
        pytest.param(True, True, None, id="success, Actions, --json"),
        pytest.param(False, False, None, id="success, terminal"),
        # Retried with the real backoff (1 + 2 + 4 s) before the run gives up.
        pytest.param(True, False, "POST /repos/*/releases 500 *", id="API 500 forever, Actions"),
        # git's own error text reaches the message.
        pytest.param(True, True, "POST /*/git-receive-pack 500 *", id="push 500, Actions, --json"),
        pytest.param(False, True, "POST /*/git-receive-pack 500 *", id="push 500, --json"),
    ],
)
def test_no_token_anywhere_after_a_release(
    in_actions: bool,
    json_mode: bool,
    fault: str | None,
    template: Template,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    world = world_with_token(template, smtp, tmp_path / "world")
    env = {**world.env(), **(actions_env(tmp_path) if in_actions else {})}
    try:
        if fault:
            world.sandbox.add_fault(fault)
        run = cli_subprocess(world, *RELEASE_ARGS, *(["--json"] if json_mode else []), env=env)
        assert run.code == (1 if fault else 0), run.stderr
        if json_mode:
            assert ("error" in json.loads(run.stdout)) == bool(fault)
        check_streams(run, actions=in_actions, json_mode=json_mode)
        outputs = [Path(env[k]) for k in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY") if k in env]
        if in_actions:
            assert "version<<" in outputs[0].read_text()  # the Actions files were written
        draft = world.work / "dist" / "release" / "5.3.0" / "notification.eml"
        assert draft.is_file() == (fault is None)
        check_world(world, outputs)
    finally:
        world.stop()


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(RELEASE_ARGS, id="release (git is refused first)"),
        pytest.param(("downstream", "5.3.0", "--yes"), id="downstream (PyGithub gets the 401)"),
        pytest.param(("status",), id="status"),
    ],
)
def test_no_token_anywhere_when_github_rejects_it(
    command: tuple[str, ...], template: Template, smtp: SmtpServer, tmp_path: Path
) -> None:
    """A token the sandbox does not know: 401 from git and from the API."""
    world = new_world(template, tmp_path / "world", smtp, token=TOKEN)  # TOKEN unknown here
    env = {**world.env(), **actions_env(tmp_path)}
    try:
        run = cli_subprocess(world, *command, env=env)
        assert run.code in (0, 1, 2), run.stderr
        if command[0] != "status":
            assert run.code == 2, run.stderr
        assert "Traceback" not in run.stderr
        check_streams(run, actions=True)
        check_world(world, [Path(env["GITHUB_OUTPUT"]), Path(env["GITHUB_STEP_SUMMARY"])])
    finally:
        world.stop()


# --- (c) git's command lines --------------------------------------------------------------------

WRAPPER = """#!{python}
import json, os, sys
sys.path.insert(0, {project!r})
from release_tool.redact import forms

token = os.environ.get("GITHUB_TOKEN", "")
spelt = forms(token) if token else set()
record = {{
    "argv": sys.argv[1:],
    "argv_has_token": any(f in arg for arg in sys.argv for f in spelt),
    "env_with_token": sorted(k for k, v in os.environ.items() if any(f in v for f in spelt)),
    "git_config_keys": sorted(
        v for k, v in os.environ.items() if k.startswith("GIT_CONFIG_KEY_")
    ),
}}
with open({log!r}, "a", encoding="utf-8") as handle:
    handle.write(json.dumps(record) + "\\n")
os.execv({git!r}, [{git!r}, *sys.argv[1:]])
"""


def test_the_token_reaches_git_only_through_its_environment(
    template: Template, smtp: SmtpServer, tmp_path: Path
) -> None:
    real_git = shutil.which("git")
    assert real_git is not None
    bin_dir, log = tmp_path / "bin", tmp_path / "git-calls.jsonl"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(
        WRAPPER.format(
            python=sys.executable,
            project=str(Path(__file__).resolve().parents[1]),
            log=str(log),
            git=real_git,
        )
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    world = world_with_token(template, smtp, tmp_path / "world")
    env = {**world.env(), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    try:
        run = cli_subprocess(world, *RELEASE_ARGS, env=env)
        assert run.code == 0, run.stderr
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        remotes = run_git("remote", "-v", cwd=world.work)
        config = (world.work / ".git" / "config").read_text()
    finally:
        world.stop()

    assert len(calls) >= 10, calls  # the release's git really went through the wrapper
    assert not [c["argv"] for c in calls if c["argv_has_token"]]
    assert not leaks(log.read_bytes())
    # Only the commands that talk to the remote carry the credential, as an http.extraheader
    # scoped to the remote's host; the user's own GITHUB_TOKEN is merely inherited.
    talking = {"ls-remote", "push", "fetch", "pull", "clone"}
    for call in calls:
        carriers = set(call["env_with_token"]) - {"GITHUB_TOKEN"}
        if call["argv"] and call["argv"][0] in talking:
            assert carriers == {"GIT_CONFIG_VALUE_0"}, call
            (key,) = call["git_config_keys"]
            assert key == f"http.{world.sandbox.url}/.extraheader", call
        else:
            assert carriers == set(), call
    assert {c["argv"][0] for c in calls if c["argv"]} >= {"ls-remote", "push", "commit", "tag"}
    assert "x-access-token" not in remotes and "@" not in remotes, remotes
    assert world.sandbox.git_url(LIBRARY) in remotes
    assert not leaks(config) and "extraheader" not in config


# --- the scans themselves find what they look for ------------------------------------------------


def test_the_scans_find_a_planted_token() -> None:
    """Negative control, outside the session's temporary tree (which the session scan reads):
    a token in a file, and one committed into git (only in a compressed object), are found; a
    copy of this project's own test source, which names the fixtures' tokens, is not."""
    project = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="release-tool-planted-") as tmp:
        root = Path(tmp)
        (root / "log.txt").write_text(f"Authorization: Basic {spellings(TOKEN).pop()}\n")
        repo = root / "repo"
        repo.mkdir()
        run_git("init", "-q", cwd=repo)
        (repo / "leak.txt").write_text("sandbox-token-outsider\n")
        run_git("add", "leak.txt", cwd=repo)
        run_git("commit", "-qm", "leak", cwd=repo)
        (repo / "leak.txt").unlink()  # only the git object holds it now
        shutil.copy(project / "tests" / "sandbox_fixtures.py", root / "copy.py")

        assert [f.split(" ")[0] for f in files_with_token(root)] == ["log.txt"]
        result = scan_for_tokens(root, project)
        assert result.objects >= 3
        assert result.source_copies == 1
        assert len(result.findings) == 1
        assert result.findings[0].startswith("repo/.git/objects/")
        assert "sandbox-token-outsider" in result.findings[0]
