"""Bad input changes nothing: each case is refused with exit 2 (or 1 for a remote step that
failed), one `error:` line that names the problem, a `hint:` line, and no change anywhere.

Every case starts from the rehearsal-shaped world (the example pair in a sandbox and a clone of
the library, see `hardening_support`), spoils one thing (an argument, a file, a ref, the config,
a template, the token, the downstream), takes a snapshot, runs `release-tool release` in this
process, and takes the snapshot again. The snapshot is exact (SHAs, not trees): the working
tree's bytes (untracked files too), the index, every local ref, `.git/config`, the release lock,
the sandbox's state file and every ref of its bare repositories, and the emails the SMTP server
received.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hardening_support import (
    DOWNSTREAM,
    LIBRARY,
    MAINTAINER_TOKEN,
    OUTSIDER_TOKEN,
    Run,
    SmtpServer,
    Template,
    World,
    build_template,
    cli_in_process,
    new_world,
    replace_config,
    smtp_server,
    work_files,
)

from release_tool.git_repo import auth_environment, run_git

# --- the snapshot -------------------------------------------------------------------------------


def frozen(world: World) -> dict[str, Any]:
    """Everything a refused release must leave as it was, byte for byte and SHA for SHA."""
    work, sandbox = world.work, world.sandbox
    git_dir = work / ".git"
    view: dict[str, Any] = {
        "work.files": {k: hashlib.sha256(v).hexdigest() for k, v in work_files(work).items()},
        "work.index": run_git("ls-files", "-s", cwd=work),
        "work.refs": run_git("for-each-ref", "--format=%(refname) %(objectname)", cwd=work),
        "work.HEAD": (git_dir / "HEAD").read_text(),
        "work.config": (git_dir / "config").read_bytes(),
        "work.lock": (git_dir / "release-tool.lock").exists(),
        "sandbox.state": _state(sandbox.root / "sandbox-state.json"),
        "sandbox.repositories": sandbox.repositories(),
    }
    for name in sandbox.repositories():
        view[f"sandbox.refs:{name}"] = run_git(
            "for-each-ref", "--format=%(refname) %(objectname)", cwd=sandbox.repository_path(name)
        )
    if world.smtp is not None:
        view["smtp.messages"] = len(world.smtp.mailbox.messages)
    return view


def _state(path: Path) -> dict[str, Any]:
    """The sandbox's state file, less its id bookkeeping: the sandbox gives an owner a user id
    the first time a response names it (a read), which GitHub's visible state does not show."""
    data = json.loads(path.read_text())
    return {k: v for k, v in data.items() if k not in ("users", "next_id")}


# --- ways to spoil the world --------------------------------------------------------------------


def commit_files(
    world: World, files: dict[str, str | bytes], message: str = "chore: spoil"
) -> None:
    for relpath, text in files.items():
        path = world.work / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    run_git("add", "-A", *files, cwd=world.work)
    run_git("commit", "-qm", message, cwd=world.work)


def edit(world: World, relpath: str, old: str, new: str, *, commit: bool = True) -> None:
    path = world.work / relpath
    text = path.read_text()
    assert old in text, (relpath, old)
    path.write_text(text.replace(old, new, 1))
    if commit:
        run_git("commit", "-qam", f"chore: edit {relpath}", cwd=world.work)


def config(old: str, new: str) -> Callable[[World], None]:
    return lambda world: replace_config(world, old, new)


def config_line(key: str, new: str) -> Callable[[World], None]:
    """Replace the first `key = ...` line of the config."""

    def spoil(world: World) -> None:
        pyproject = world.work / "pyproject.toml"
        text, count = re.subn(rf"(?m)^{key} = .*$", new, pyproject.read_text(), count=1)
        assert count == 1, key
        pyproject.write_text(text)
        run_git("commit", "-qam", "chore: config", cwd=world.work)

    return spoil


DOWNSTREAM_ENTRY = f'repository = "{DOWNSTREAM}"\n'


def with_templates(files: dict[str, str | bytes]) -> Callable[[World], None]:
    def spoil(world: World) -> None:
        commit_files(world, {f"release-templates/{k}": v for k, v in files.items()})
        replace_config(
            world,
            'changelog = "CHANGELOG.rst"\n',
            'changelog = "CHANGELOG.rst"\ntemplates = "release-templates"\n',
        )

    return spoil


def push_elsewhere(repository: str, files: dict[str, str], message: str) -> Callable[[World], None]:
    """Someone else pushes a commit to the sandbox's `repository` (master)."""

    def spoil(world: World) -> None:
        other = world.root / f"other-{repository.replace('/', '-')}"
        url = world.sandbox.git_url(repository)
        env = auth_environment(url, MAINTAINER_TOKEN)
        run_git("clone", "-q", url, str(other), cwd=world.root, env=env)
        for relpath, text in files.items():
            (other / relpath).parent.mkdir(parents=True, exist_ok=True)
            (other / relpath).write_text(text)
        run_git("add", "-A", cwd=other)
        run_git("commit", "-qm", message, cwd=other)
        run_git("push", "-q", "origin", "HEAD:master", cwd=other, env=env)

    return spoil


def hashed_downstream(world: World) -> None:
    base = "requirements/edx/base.txt"
    bare = world.sandbox.repository_path(DOWNSTREAM)
    text = run_git("show", f"master:{base}", cwd=bare)
    hashed = text.replace(
        "edx-proctoring==5.2.0\n",
        "edx-proctoring==5.2.0 \\\n    --hash=sha256:" + "0" * 64 + "\n",
    )
    push_elsewhere(DOWNSTREAM, {base: hashed + "\n"}, "build: hash the requirements")(world)


def tag_elsewhere(where: str) -> Callable[[World], None]:
    """`v5.3.0` already exists, on the commit before HEAD: locally or on the remote."""

    def spoil(world: World) -> None:
        run_git("tag", "v5.3.0", "HEAD~1", cwd=world.work)
        if where == "remote":
            url = world.sandbox.git_url(LIBRARY)
            env = auth_environment(url, MAINTAINER_TOKEN)
            run_git("push", "-q", "origin", "v5.3.0", cwd=world.work, env=env)
            run_git("tag", "-d", "v5.3.0", cwd=world.work)

    return spoil


def symlink_out(world: World) -> None:
    outside = world.root / "outside-templates"
    outside.mkdir()
    (world.work / "release-templates").symlink_to(outside)
    run_git("add", "release-templates", cwd=world.work)
    run_git("commit", "-qm", "chore: templates", cwd=world.work)
    replace_config(
        world,
        'changelog = "CHANGELOG.rst"\n',
        'changelog = "CHANGELOG.rst"\ntemplates = "release-templates"\n',
    )


def tag_pushed_by_maintainer(world: World) -> None:
    """The local steps are done (tag on the remote): only the GitHub release is left."""
    # `--local` reads no token (git's own credentials push): hand git the maintainer's.
    auth = auth_environment(world.sandbox.git_url(LIBRARY), MAINTAINER_TOKEN)
    done = cli_in_process(
        world, "release", "5.3.0", "--yes", "--local", env={**world.env(), **auth}
    )
    assert done.code == 0, done.stderr


def rewrite(relpath: str, change: Callable[[bytes], bytes]) -> Callable[[World], None]:
    """Commit `relpath` with its bytes changed by `change`."""

    def spoil(world: World) -> None:
        commit_files(world, {relpath: change((world.work / relpath).read_bytes())})

    return spoil


def deep_lockfile(world: World) -> None:
    """package-lock.json, valid JSON but nested 100,000 levels deep in one of its packages."""
    text = (world.work / "package-lock.json").read_text()
    deep = '"deep": ' + "[" * 100_000 + "]" * 100_000 + ",\n      "
    head, found, tail = text.partition('"node_modules/')
    assert found
    entry_start = tail.index("{") + 1
    spoiled = head + found + tail[:entry_start] + "\n      " + deep + tail[entry_start:]
    commit_files(world, {"package-lock.json": spoiled})


#: Stands for the URL of `html_api` (a server answering every request with an HTML page).
HTML_API = "<html api>"


# --- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A spoilt world, the command run on it, and the answer expected."""

    says: str | tuple[str, ...]  # the error line contains this (or one of these), any case
    args: tuple[str, ...] = ("release", "5.3.0", "--yes", "--send-email")
    spoil: Callable[[World], object] | None = None
    env: dict[str, str | None] = field(default_factory=dict)  # None: unset
    code: int = 2
    xfail: str | None = None


def args(*extra: str, version: str = "5.3.0") -> tuple[str, ...]:
    return ("release", version, "--yes", "--send-email", *extra)


CASES: dict[str, Case] = {
    # -- versions ----------------------------------------------------------------------------
    "version two parts 1.2": Case("has 2 part(s)", args(version="1.2")),
    "version with v prefix": Case("v1.2.3", args(version="v1.2.3")),
    "version post-release": Case("1.2.3.post1", args(version="1.2.3.post1")),
    "version with epoch": Case("1!1.0", args(version="1!1.0")),
    "version local": Case("5.3.0+local", args(version="5.3.0+local")),
    "version with shell": Case("rm -rf", args(version="1.2.3; rm -rf /")),
    "version empty": Case("empty", args(version="")),
    "version dev release": Case("5.3.0.dev1", args(version="5.3.0.dev1")),
    "downgrade": Case("lower than the current version 5.2.0", args(version="5.1.0")),
    "same version as the files": Case("already the version in the files", args(version="5.2.0")),
    "pre with an explicit version": Case("--pre", args("--pre", "rc")),
    "unknown step": Case("unknown step 'deploy'", args("--skip", "deploy")),
    "skip preflight": Case("preflight cannot be skipped", args("--skip", "preflight")),
    # -- version files -----------------------------------------------------------------------
    "version files disagree": Case(
        "version files disagree",
        spoil=lambda w: edit(w, "package.json", '"version": "5.2.0"', '"version": "5.2.1"'),
    ),
    "version line missing": Case(
        "edx_proctoring/__init__.py",
        spoil=lambda w: edit(
            w, "edx_proctoring/__init__.py", "__version__ = '5.2.0'", "VERSION = '5.2.0'"
        ),
    ),
    "version line twice": Case(
        "edx_proctoring/__init__.py",
        spoil=lambda w: edit(
            w,
            "edx_proctoring/__init__.py",
            "__version__ = '5.2.0'\n",
            "__version__ = '5.2.0'\n__version__ = '5.2.0'\n",
        ),
    ),
    "package.json malformed": Case(
        "package.json", spoil=lambda w: edit(w, "package.json", '"main":', '"main"')
    ),
    "version file missing": Case(
        "file not found",
        spoil=config('"package-lock.json"]', '"package-lock.json", "npm-shrinkwrap.json"]'),
    ),
    "no release notes": Case(
        "no release notes for 5.3.0",
        spoil=lambda w: edit(
            w,
            "CHANGELOG.rst",
            "* Send the proctoring review email in the learner's preferred language\n"
            "* Fix a crash when an exam's due date is removed while an attempt is open\n",
            "",
        ),
    ),
    # -- undecodable and unparsable input ----------------------------------------------------
    "version file not UTF-8": Case(
        "edx_proctoring/__init__.py: not UTF-8 (byte 0xe9 at offset 5, line 1)",
        spoil=rewrite("edx_proctoring/__init__.py", lambda b: b"# caf\xe9\n" + b),
    ),
    "changelog not UTF-8": Case(
        "CHANGELOG.rst: not UTF-8 (byte 0xff at offset",
        spoil=rewrite("CHANGELOG.rst", lambda b: b.replace(b"Fix a crash", b"Fix a \xff crash")),
    ),
    "version file with a NUL byte": Case(
        "package.json: a NUL byte at offset 2, line 2",
        spoil=rewrite("package.json", lambda b: b"{\n\0" + b[2:]),
    ),
    "changelog with a NUL byte": Case(
        "CHANGELOG.rst: a NUL byte at offset",
        spoil=rewrite("CHANGELOG.rst", lambda b: b.replace(b"Fix a crash", b"Fix a \0 crash")),
    ),
    "lockfile nested too deeply": Case(
        "package-lock.json: JSON nested too deeply to read", spoil=deep_lockfile
    ),
    "config not UTF-8": Case(
        "pyproject.toml: not UTF-8 (byte 0xfe",
        spoil=rewrite("pyproject.toml", lambda b: b"# \xfe\n" + b),
    ),
    "config with a byte-order mark": Case(
        "pyproject.toml starts with a byte-order mark",
        spoil=rewrite("pyproject.toml", lambda b: b"\xef\xbb\xbf" + b),
    ),
    "template not UTF-8": Case(
        "'commit_message.txt.j2': not UTF-8 (byte 0xe9 at offset 11)",
        spoil=with_templates({"commit_message.txt.j2": b"release caf\xe9 {{ version }}\n"}),
    ),
    "GitHub answers HTML while planning": Case(
        "GET /repos/openedx/edx-proctoring",
        env={"RELEASE_TOOL_GITHUB_API": HTML_API},
    ),
    # -- the repository ----------------------------------------------------------------------
    "dirty tree": Case(
        "uncommitted changes (README.rst)",
        spoil=lambda w: edit(w, "README.rst", "Proctoring", "Proctored", commit=False),
    ),
    "wrong branch": Case(
        "branch 'feature', not 'master'",
        spoil=lambda w: run_git("checkout", "-qb", "feature", cwd=w.work),
    ),
    "detached HEAD": Case(
        "HEAD is detached at", spoil=lambda w: run_git("checkout", "-q", "--detach", cwd=w.work)
    ),
    "behind the remote": Case(
        "is behind origin/master",
        spoil=push_elsewhere(LIBRARY, {"NOTES.rst": "notes\n"}, "docs: notes"),
    ),
    "tag exists locally on another commit": Case(
        "tag v5.3.0 already exists locally", spoil=tag_elsewhere("local")
    ),
    "tag exists on the remote on another commit": Case(
        "tag v5.3.0 already exists on origin", spoil=tag_elsewhere("remote")
    ),
    "unreachable remote": Case(
        "unreachable",
        spoil=lambda w: run_git(
            "remote",
            "set-url",
            "origin",
            "http://127.0.0.1:9/openedx/edx-proctoring.git",
            cwd=w.work,
        ),
    ),
    "no such remote": Case(
        "no git remote named 'upstream'",
        spoil=config('branch = "master"\n', 'branch = "master"\nremote = "upstream"\n'),
    ),
    # -- credentials -------------------------------------------------------------------------
    "no token": Case("no GitHub token", env={"GITHUB_TOKEN": None, "PATH": "/usr/bin:/bin"}),
    "wrong token": Case(
        ("401", "token", "authentication", "credentials"),
        env={"GITHUB_TOKEN": "sandbox-token-wrong"},
    ),
    "token without write access (push refused)": Case(
        ("push failed", "403"), env={"GITHUB_TOKEN": OUTSIDER_TOKEN}, code=1
    ),
    "token without write access (GitHub release refused)": Case(
        "github-release failed",
        args=("release", "5.3.0", "--yes", "--only", "github-release"),
        spoil=tag_pushed_by_maintainer,
        env={"GITHUB_TOKEN": OUTSIDER_TOKEN},
        code=1,
    ),
    # -- configuration -----------------------------------------------------------------------
    "config unknown key": Case(
        "tool.release_tool.colour: unknown key",
        spoil=config('branch = "master"\n', 'branch = "master"\ncolour = "blue"\n'),
    ),
    "config wrong type": Case(
        "tool.release_tool.sign: expected true or false",
        spoil=config('branch = "master"\n', 'branch = "master"\nsign = "yes"\n'),
    ),
    "config path ../x": Case(
        "is outside the repository",
        spoil=config('changelog = "CHANGELOG.rst"', 'changelog = "../CHANGELOG.rst"'),
    ),
    "config path absolute": Case(
        "is outside the repository",
        spoil=config('"edx_proctoring/__init__.py"', '"/tmp/edx_proctoring/__init__.py"'),
    ),
    "config path symlink out": Case("leads outside the repository", spoil=symlink_out),
    "config not TOML": Case(
        "not valid TOML", spoil=config('branch = "master"\n', 'branch = "master\n')
    ),
    "config repository name": Case(
        "is not of the form 'owner/name'",
        spoil=config(f'repository = "{LIBRARY}"', 'repository = "edx-proctoring"'),
    ),
    "config tag_format without version": Case(
        "must contain '{version}'", spoil=config('tag_format = "v{version}"', 'tag_format = "v"')
    ),
    "config invalid email address": Case(
        "is not a valid email address",
        spoil=config(
            'to = ["release-notifications@edx.org"]', 'to = ["release-notifications at edx.org"]'
        ),
    ),
    "config invalid sender": Case(
        "is not a valid email address",
        spoil=config(
            'from = "Open edX Release Bot <release-bot@example.org>"', 'from = "Release Bot <bot@>"'
        ),
    ),
    "config inline commit message undefined variable": Case(
        "commit_message",
        spoil=config(
            'branch = "master"\n', 'branch = "master"\ncommit_message = "release {{ versoin }}"\n'
        ),
    ),
    # -- templates ---------------------------------------------------------------------------
    "template syntax error": Case(
        "commit_message.txt.j2",
        spoil=with_templates({"commit_message.txt.j2": "release {{ version \n"}),
    ),
    "template undefined variable": Case(
        "email/body.txt.j2", spoil=with_templates({"email/body.txt.j2": "{{ no_such_variable }}\n"})
    ),
    "template reaching for Python": Case(
        "commit_message.txt.j2",
        spoil=with_templates(
            {
                "commit_message.txt.j2": "{{ cycler.__init__.__globals__.os.system("
                "'touch /tmp/release-tool-template-ran-code') }}\n"
            }
        ),
    ),
    # -- downstream --------------------------------------------------------------------------
    "downstream file does not pin the package": Case(
        "does not pin edx-proctoring",
        spoil=config_line("files", 'files = ["README.rst"]'),
    ),
    "downstream glob matches nothing": Case(
        "matches no file",
        spoil=config_line("files", 'files = ["requirements/none/*.txt"]'),
    ),
    "downstream hashed requirements": Case("--hash", spoil=hashed_downstream),
    "downstream repository does not exist": Case(
        "openedx/no-such-platform not found",
        spoil=config(DOWNSTREAM_ENTRY, 'repository = "openedx/no-such-platform"\n'),
    ),
    "downstream base branch does not exist": Case(
        "has no branch 'release'", spoil=config('base = "master"', 'base = "release"')
    ),
    # -- email -------------------------------------------------------------------------------
    "smtp port not a number": Case("is not a port number", env={"RELEASE_TOOL_SMTP_PORT": "smtp"}),
    "smtp none over the network": Case(
        "'none' is refused", env={"RELEASE_TOOL_SMTP_HOST": "smtp.example.org"}
    ),
    "smtp user without password": Case(
        "RELEASE_TOOL_SMTP_PASSWORD is not", env={"RELEASE_TOOL_SMTP_USER": "bot"}
    ),
}

PARAMS = [
    pytest.param(
        case,
        id=name,
        marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
    )
    for name, case in CASES.items()
]


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("bad-input-template"))


@pytest.fixture(scope="module")
def html_api() -> Iterator[str]:
    """A server that answers every request with 200 and an HTML page (a proxy's login page)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>Please sign in to the proxy</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_PATCH = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _env(world: World, case: Case, html_api: str) -> dict[str, str | None]:
    env: dict[str, str | None] = dict(world.env())
    env.update({k: html_api if v == HTML_API else v for k, v in case.env.items()})
    return env


def _check_answer(run: Run, case: Case) -> None:
    """Exit code, one `error:` line naming the problem, then a `hint:` line; no traceback."""
    assert run.code == case.code, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "internal error" not in run.stderr
    block = run.error_block
    assert block, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, run.stderr
    says = (case.says,) if isinstance(case.says, str) else case.says
    assert any(s.lower() in block[0].lower() for s in says), run.stderr
    assert block[-1].startswith("hint: "), run.stderr
    assert len(block[-1]) > len("hint: ") + 10, run.stderr
    if case.code == 2:
        # Refused before anything was applied: the error is the first thing said.
        assert run.stderr.startswith("error: "), run.stderr


@pytest.mark.hardening("bad_input")
@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_is_refused_and_changes_nothing(
    case: Case, template: Template, smtp: SmtpServer, html_api: str, tmp_path: Path
) -> None:
    world = new_world(template, tmp_path / "world", smtp)
    try:
        if case.spoil is not None:
            case.spoil(world)
        before = frozen(world)
        run = cli_in_process(world, *case.args, env=_env(world, case, html_api))
        _check_answer(run, case)
        after = frozen(world)
        changed = sorted(k for k in before if before[k] != after.get(k))
        assert not changed, f"changed: {changed}\n{run.stderr}"
    finally:
        world.stop()
    assert not Path("/tmp/release-tool-template-ran-code").exists()


def test_a_hint_says_each_thing_once(template: Template, smtp: SmtpServer, tmp_path: Path) -> None:
    world = new_world(template, tmp_path / "world", smtp)
    try:
        run = cli_in_process(world, *args(), env={**world.env(), "GITHUB_TOKEN": OUTSIDER_TOKEN})
    finally:
        world.stop()
    assert run.code == 1
    clauses = [c.strip() for c in run.error_block[-1].removeprefix("hint: ").split(";")]
    assert len(clauses) == len(set(clauses)), run.error_block[-1]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
