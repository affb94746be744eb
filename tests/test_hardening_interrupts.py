"""Interrupts and failures at the awkward moments: the outcome is established, never assumed.

- A push interrupted while git waits for the remote's answer (Ctrl-C, SIGTERM): the remote is
  asked; it has the release, so the commit and tag are kept, origin/master moves forward, and
  the same command finishes the release. If the remote cannot be asked, nothing is rolled back
  and the journal stays: the next run asks again.
- Ctrl-C after git wrote the commit or the tag but before git exited (a hook still running):
  the rollback finds what git wrote and undoes it — nothing changed.
- A second Ctrl-C during the rollback waits for it; a third aborts it and leaves the journal,
  and the next run finishes the rollback, then the release.

The interrupts come from git hooks (in the clone, or in the bare `origin` for the push), so they
arrive at exact points and nothing in the product knows a test is running.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import make_library
from local_support import (
    RELEASE_TOOL_PID,
    ZERO,
    cli,
    hook,
    local_view,
    once,
    origin_of,
    released,
    start_cli,
)

from release_tool.git_repo import run_git


def _pid_hook(origin: Path, pid_file: Path, body: str) -> Path:
    """A post-receive hook in origin: the remote has taken the push; `body` runs with $PID,
    the release's process group, before git push hears back."""
    return hook(origin, "post-receive", f'cat >/dev/null\nPID="$(cat {pid_file})"\n{body}')


def _run_with_pid(repo: Path, pid_file: Path) -> tuple[int, str]:
    proc = start_cli(repo, "release", "minor")
    pid_file.write_text(str(proc.pid))
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def test_ctrl_c_while_the_push_waits_keeps_the_release_and_the_same_command_finishes(
    tmp_path: Path,
) -> None:
    repo = make_library(tmp_path)
    before = run_git("rev-parse", "HEAD", cwd=repo)
    pid_file = tmp_path / "pid"
    # A terminal's Ctrl-C: SIGINT to the whole group (release-tool, git push, receive-pack).
    _pid_hook(origin_of(repo), pid_file, 'kill -INT "-$PID"\nsleep 1\n')
    code, err = _run_with_pid(repo, pid_file)
    assert code == 130, err
    assert "interrupted during push, after origin took the push" in err, err
    assert "run the same command again, with 5.3.0 (or current) as BUMP, to finish" in err
    assert "delete" not in err
    # State moved forward: the release commit and tag kept, origin/master where origin is.
    head = run_git("rev-parse", "HEAD", cwd=repo)
    assert run_git("rev-parse", "HEAD~1", cwd=repo) == before
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=repo) == head
    assert run_git("rev-parse", "refs/remotes/origin/master", cwd=repo) == head
    assert run_git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / ".git" / "release-tool.lock").exists()

    (origin_of(repo) / "hooks" / "post-receive").unlink()
    again = cli(repo, "release", "current")  # HEAD carries v5.3.0: finish it
    assert again.returncode == 0, again.stderr
    assert "already done" in again.stdout
    released(repo, before)


def test_sigterm_while_the_push_waits_is_handled_as_ctrl_c(tmp_path: Path) -> None:
    repo = make_library(tmp_path)
    before = run_git("rev-parse", "HEAD", cwd=repo)
    pid_file = tmp_path / "pid"
    # SIGTERM to release-tool alone (a CI runner cancelling the job): git push goes on.
    _pid_hook(origin_of(repo), pid_file, 'kill -TERM "$PID"\nsleep 1\n')
    code, err = _run_with_pid(repo, pid_file)
    assert code == 130, err
    assert "terminated during push, after origin took the push" in err, err
    assert run_git("rev-parse", "refs/remotes/origin/master", cwd=repo) == run_git(
        "rev-parse", "HEAD", cwd=repo
    )
    (origin_of(repo) / "hooks" / "post-receive").unlink()
    again = cli(repo, "release", "current")  # HEAD carries v5.3.0: finish it
    assert again.returncode == 0, again.stderr
    released(repo, before)


def test_a_push_whose_fate_cannot_be_told_keeps_everything_for_the_next_run(
    tmp_path: Path,
) -> None:
    """The push is interrupted after the remote took it, and the remote is then gone: nothing
    is rolled back (the tag may be published), the journal stays, and the next run — the
    remote back — asks again and finishes the release."""
    repo = make_library(tmp_path)
    before = run_git("rev-parse", "HEAD", cwd=repo)
    origin = origin_of(repo)
    away = tmp_path / "away.git"
    pid_file = tmp_path / "pid"
    _pid_hook(origin, pid_file, f'mv "{origin}" "{away}"\nkill -INT "-$PID"\nsleep 1\n')
    code, err = _run_with_pid(repo, pid_file)
    assert code == 130, err
    assert "cannot be told" in err, err
    assert "it asks the remote first" in err
    assert "rolled back" not in err
    assert (repo / ".git" / "release-tool.lock").exists()  # the journal, for the next run
    assert run_git("rev-parse", "v5.3.0^{commit}", cwd=repo) == run_git(
        "rev-parse", "HEAD", cwd=repo
    )

    shutil.move(away, origin)
    (origin / "hooks" / "post-receive").unlink()
    again = cli(repo, "release", "minor")
    assert again.returncode == 0, again.stderr
    assert "interrupted release" in again.stderr
    released(repo, before)


def test_ctrl_c_after_git_wrote_the_commit_but_before_it_exited_changes_nothing(
    library: Path,
) -> None:
    before = local_view(library)
    # post-commit: the commit is written; git is still running its hook.
    hook(library / ".git", "post-commit", RELEASE_TOOL_PID + 'kill -INT "$PY"\nsleep 1\n')
    done = cli(library, "release", "minor")
    assert done.returncode == 130, done.stderr
    assert "interrupted during commit; local changes rolled back" in done.stderr
    assert local_view(library) == before


def test_ctrl_c_after_git_wrote_the_tag_but_before_it_exited_changes_nothing(
    library: Path,
) -> None:
    before = local_view(library)
    hook(
        library / ".git",
        "reference-transaction",
        '[ "$1" = committed ] || exit 0\ngrep -q " refs/tags/" || exit 0\n'
        + once(library.parent / "fired")
        + RELEASE_TOOL_PID
        + 'kill -INT "$PY"\nsleep 1\n',
    )
    done = cli(library, "release", "minor")
    assert done.returncode == 130, done.stderr
    assert "interrupted during tag; local changes rolled back" in done.stderr
    (library / ".git" / "hooks" / "reference-transaction").unlink()
    assert local_view(library) == before


# While the rollback deletes the tag, the hook signals release-tool `times` times.
def _interrupt_the_rollback(repo: Path, times: int) -> None:
    kills = "sleep 0.3\n".join('kill -INT "$PY"\n' for _ in range(times))
    hook(
        repo / ".git",
        "reference-transaction",
        '[ "$1" = committed ] || exit 0\n'
        f'grep -q "^[0-9a-f]* {ZERO} refs/tags/" || exit 0\n'
        + once(repo.parent / "fired")
        + RELEASE_TOOL_PID
        + kills,
    )
    # The push fails: origin's hook declines it, so the run rolls back.
    hook(origin_of(repo), "pre-receive", "echo 'policy: not today'\nexit 1\n")


def test_a_second_ctrl_c_during_the_rollback_waits_for_it(library: Path) -> None:
    before = local_view(library)
    _interrupt_the_rollback(library, times=1)
    done = cli(library, "release", "minor")
    assert (library.parent / "fired").exists()  # the Ctrl-C came, during the rollback
    assert done.returncode == 1, done.stderr
    assert "pre-receive hook declined" in done.stderr
    assert "local changes rolled back" in done.stderr
    (library / ".git" / "hooks" / "reference-transaction").unlink()
    (origin_of(library) / "hooks" / "pre-receive").unlink()
    assert local_view(library) == before


def test_a_third_ctrl_c_aborts_the_rollback_and_the_next_run_finishes_it(library: Path) -> None:
    head = run_git("rev-parse", "HEAD", cwd=library)
    _interrupt_the_rollback(library, times=2)
    done = cli(library, "release", "minor")
    assert done.returncode == 130, done.stderr
    assert "interrupted twice during the rollback" in done.stderr
    assert "it finishes the rollback first" in done.stderr
    assert (library / ".git" / "release-tool.lock").exists()  # the journal stays
    (library / ".git" / "hooks" / "reference-transaction").unlink()
    (origin_of(library) / "hooks" / "pre-receive").unlink()

    plan = cli(library, "plan", "minor")
    assert plan.returncode == 0, plan.stderr
    assert "roll back its local changes" in plan.stdout
    again = cli(library, "release", "minor")
    assert again.returncode == 0, again.stderr
    assert "interrupted release" in again.stderr
    released(library, head)
