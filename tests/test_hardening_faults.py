"""Fault drill: every remote write of a release fails once, then the same command converges.

The fault points are not listed by hand. At collection, `discover_fault_points` releases 5.3.0
once through the pipeline, undisturbed, in the rehearsal-shaped world (the example pair in a
sandbox, the email sent to a loopback SMTP server), and records, per applied action, every
non-GET request the sandbox received (git's pushes and the GitHub API's writes; git-upload-pack
is git's read) and every email the SMTP server accepted. A step added to the pipeline adds its
writes here by itself.

For each point:

- a fault: that one request answers 500, has its connection reset, or is rate-limited (403 with
  the quota spent); or the sandbox does the work and only then answers 502 or resets the
  connection (`after:502`, `after:reset`: the answer is lost, the push's refs have moved, the
  release exists); the SMTP send gets a 451, a 554 or a dropped connection. The run either
  absorbs it (a POST is looked after and repeated; a push is checked on the remote) or stops
  with exit 1 and a one-line error; then the same command is run again, undisturbed;
- a SIGKILL: the release runs as a subprocess, and is killed outright (with its git children)
  the moment the sandbox has done that write, before the answer reaches it (for the API, from
  the sandbox's observer; for a push, from a post-receive hook in the sandbox's bare repository;
  for the email, from the SMTP server's DATA handler, before it accepts the message). The same
  command is run again;
- an interrupt while the push waits for its answer (the remote has taken it): Ctrl-C to the
  whole process group, or SIGTERM to the tool alone. The run asks the remote, keeps the
  release commit and tag, and stops with exit 130; the same command is run again.

Either way, the world afterwards must equal the world after an undisturbed release
(`hardening_support.snapshot`): the working copy's files and refs, the sandbox's refs, exactly one
release with the same name and body, exactly one PR with the same title, body, branches, labels,
reviewers and diff, exactly one email received.

Any difference fails the case. The product bugs the drill found (a re-run that left the PR link
out of the email; a stale remote-tracking branch after a kill) are fixed, and each keeps a test
of its own at the end of this module.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hardening_support import (
    RELEASE_ARGS,
    FaultPoint,
    SmtpServer,
    Template,
    World,
    build_template,
    cli_command,
    cli_in_process,
    cli_subprocess,
    differences,
    discover_fault_points,
    install_post_receive_kill,
    install_post_receive_signal,
    kill_group,
    new_world,
    smtp_server,
    snapshot,
)

from release_tool.sandbox import Exchange

POINTS = discover_fault_points()
# A fault before the request is served, or after it (the remote did the work, the answer
# is lost: a 502 from a proxy, a dropped connection).
HTTP_FAULTS = ("500", "reset", "ratelimit", "after:502", "after:reset")
SMTP_FAULTS = ("451", "554", "drop")

FAULT_CASES = [
    pytest.param(point, fault, id=f"{point.label} :: {fault}")
    for point in POINTS
    for fault in (SMTP_FAULTS if point.kind == "smtp" else HTTP_FAULTS)
]
KILL_CASES = [pytest.param(point, id=f"{point.label} :: SIGKILL") for point in POINTS]


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("fault-template"))


@pytest.fixture(scope="module")
def baseline(
    template: Template, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The world after the release, undisturbed, through the CLI."""
    world = new_world(template, tmp_path_factory.mktemp("baseline") / "world", smtp)
    try:
        done = cli_in_process(world, *RELEASE_ARGS)
        assert done.code == 0, done.stderr
        view = snapshot(world)
    finally:
        world.stop()
    assert len(view["sandbox.releases"]) == 1
    assert len(view["sandbox.pulls"]) == 1
    assert len(view["smtp.messages"]) == 1
    return view


def test_the_fault_points_cover_every_remote_step() -> None:
    """What discovery found: the push, the release, the PR's writes and the email."""
    steps = {point.step for point in POINTS}
    assert steps == {"push", "github-release", "downstream", "email"}
    assert any(p.is_git and p.path.endswith("/git-receive-pack") for p in POINTS)
    assert sum(p.kind == "smtp" for p in POINTS) == 1


def _repo_of(point: FaultPoint) -> str:
    owner, name = point.path.strip("/").split("/")[:2]
    return f"{owner}/{name.removesuffix('.git')}"


def _check_failure(stderr: str) -> None:
    """A run stopped by a fault: one `error:` line, a hint that says to run it again."""
    lines = stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    block = lines[errors[0] :]
    assert block[-1].startswith("hint: "), stderr
    assert "run the same command again" in block[-1], stderr
    assert "Traceback" not in stderr
    assert "internal error" not in stderr


@pytest.mark.hardening("fault")
@pytest.mark.parametrize(("point", "fault"), FAULT_CASES)
def test_a_fault_then_the_same_command_converges(
    point: FaultPoint,
    fault: str,
    template: Template,
    smtp: SmtpServer,
    baseline: dict[str, Any],
    tmp_path: Path,
) -> None:
    world = new_world(template, tmp_path / "world", smtp)
    try:
        if point.kind == "smtp":
            smtp.mailbox.fault = fault
            fired_before = smtp.mailbox.faults_fired
        else:
            world.sandbox.add_fault(f"{point.method} {point.path} {fault} 1")
        first = cli_in_process(world, *RELEASE_ARGS)
        if point.kind == "smtp":
            assert smtp.mailbox.faults_fired == fired_before + 1
        else:
            assert world.sandbox.faults == [], "the fault never fired"
        assert first.code in (0, 1), first.stderr
        if first.code == 1:
            _check_failure(first.stderr)
        again = cli_in_process(world, *RELEASE_ARGS)
        assert again.code == 0, again.stderr
        _compare(baseline, world)
    finally:
        world.stop()


@pytest.mark.hardening("fault")
@pytest.mark.parametrize("point", KILL_CASES)
def test_killed_at_a_remote_write_then_the_same_command_converges(
    point: FaultPoint,
    template: Template,
    smtp: SmtpServer,
    baseline: dict[str, Any],
    tmp_path: Path,
) -> None:
    victim: dict[str, int] = {}
    fired: list[str] = []

    def kill() -> None:
        fired.append(point.label)
        kill_group(victim["pid"])
        time.sleep(0.2)  # let it die before the answer goes out

    def observer(exchange: Exchange) -> None:
        if (exchange.method, exchange.path) == (point.method, point.path) and not fired:
            kill()

    api_write = point.kind == "http" and not point.is_git
    world = new_world(template, tmp_path / "world", smtp, observer=observer if api_write else None)
    pid_file = tmp_path / "pid"
    hook = None
    try:
        if point.is_git:
            hook = install_post_receive_kill(
                world.sandbox.repository_path(_repo_of(point)), pid_file
            )
        if point.kind == "smtp":
            smtp.mailbox.fault = kill
        proc = subprocess.Popen(
            cli_command(world, *RELEASE_ARGS),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **world.env()},
            start_new_session=True,  # its own process group: the kill takes its git too
        )
        victim["pid"] = proc.pid
        pid_file.write_text(str(proc.pid))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == -9, err  # it really died there
        if hook is not None:
            hook.unlink()
        else:
            assert fired
        assert (world.work / ".git" / "release-tool.lock").exists()

        again = cli_subprocess(world, *RELEASE_ARGS)
        assert again.code == 0, again.stderr
        assert "interrupted release" in again.stderr
        _compare(baseline, world)
    finally:
        world.stop()


@pytest.mark.hardening("fault")
@pytest.mark.parametrize(
    ("signal_name", "group"),
    [pytest.param("INT", True, id="Ctrl-C"), pytest.param("TERM", False, id="SIGTERM")],
)
def test_interrupted_while_the_push_waits_then_the_same_command_converges(
    signal_name: str,
    group: bool,
    template: Template,
    smtp: SmtpServer,
    baseline: dict[str, Any],
    tmp_path: Path,
) -> None:
    """The remote took the push; the run is interrupted before git hears so. It asks the
    remote, keeps the release commit and tag, and stops; the same command finishes."""
    world = new_world(template, tmp_path / "world", smtp)
    pid_file = tmp_path / "pid"
    hook = install_post_receive_signal(world.bare, pid_file, signal_name, group)
    try:
        proc = subprocess.Popen(
            cli_command(world, *RELEASE_ARGS),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **world.env()},
            start_new_session=True,
        )
        pid_file.write_text(str(proc.pid))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert "after origin took the push: the release commit and tag are kept" in err, err
        assert "delete" not in err
        assert not (world.work / ".git" / "release-tool.lock").exists()
        hook.unlink()
        again = cli_subprocess(world, *RELEASE_ARGS)
        assert again.code == 0, again.stderr
        _compare(baseline, world)
    finally:
        world.stop()


def _compare(baseline: dict[str, Any], world: World) -> None:
    diffs = differences(baseline, snapshot(world))
    assert not diffs, "\n".join(diffs)


# --- the product bugs the drill found, each kept as a regression test ---------------------------


def test_a_rerun_after_a_complete_release_leaves_the_email_draft_alone(
    template: Template, smtp: SmtpServer, tmp_path: Path
) -> None:
    world = new_world(template, tmp_path / "world", smtp)
    try:
        assert cli_in_process(world, *RELEASE_ARGS).code == 0
        draft = world.work / "dist" / "release" / "5.3.0" / "notification.eml"
        before = draft.read_bytes()
        again = cli_in_process(world, *RELEASE_ARGS)
        assert again.code == 0, again.stderr
        assert draft.read_bytes() == before
    finally:
        world.stop()


def test_an_email_sent_by_the_rerun_links_the_pr(
    template: Template, smtp: SmtpServer, tmp_path: Path
) -> None:
    world = new_world(template, tmp_path / "world", smtp)
    try:
        smtp.mailbox.fault = "451"
        assert cli_in_process(world, *RELEASE_ARGS).code == 1
        assert cli_in_process(world, *RELEASE_ARGS).code == 0
        (sent,) = smtp.mailbox.messages
        assert b"/openedx/edx-platform/pull/1" in sent
    finally:
        world.stop()


def test_killed_after_the_remote_took_the_push_the_rerun_updates_origin_master(
    template: Template, tmp_path: Path
) -> None:
    world = new_world(template, tmp_path / "world")
    pid_file = tmp_path / "pid"
    install_post_receive_kill(world.bare, pid_file)
    try:
        args = ("release", "5.3.0", "--yes", "--local")
        proc = subprocess.Popen(
            cli_command(world, *args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **world.env()},
            start_new_session=True,
        )
        pid_file.write_text(str(proc.pid))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == -9, err
        (world.bare / "hooks" / "post-receive").unlink()
        again = cli_subprocess(world, *args)
        assert again.code == 0, again.stderr
        status = subprocess.run(
            ["git", "status", "-sb"], cwd=world.work, capture_output=True, text=True, check=True
        ).stdout
        assert "ahead" not in status, status
    finally:
        world.stop()
