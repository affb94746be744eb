"""Repositories as git sees them: hooks, symlinks, signing, identity, and the remote's refusals.

Each case runs `release minor --yes --local` as a process on a clone of the example library
with a bare `origin`, and asserts on what a user depends on: the exit code, git's own reason
and a hint that fits it in the error, and either "nothing changed" (files, index, refs, origin,
no lock left) or the released state.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from local_support import cli, hook, local_view, origin_of, released

from release_tool.git_repo import run_git

# --- hooks run as git runs them ---------------------------------------------------------------


def test_a_failing_commit_hook_is_reported_with_its_output_and_changes_nothing(
    library: Path,
) -> None:
    before = local_view(library)
    hook(library / ".git", "pre-commit", "echo 'DCO: missing Signed-off-by' >&2\nexit 1\n")
    done = cli(library, "release", "minor")
    assert done.returncode == 1, done.stderr
    assert "commit failed" in done.stderr
    assert "DCO: missing Signed-off-by" in done.stderr  # the hook's own words
    assert "pre-commit hook refused the commit" in done.stderr
    assert "--no-verify" in done.stderr
    assert "local changes rolled back" in done.stderr
    assert local_view(library) == before  # the index too: nothing left staged

    skipped = cli(library, "release", "minor", "--no-verify")
    assert skipped.returncode == 0, skipped.stderr
    released(library, str(before["head"]))


def test_commit_hooks_run(library: Path) -> None:
    """A commit-msg hook (a DCO sign-off) runs on the release commit."""
    hook(
        library / ".git",
        "commit-msg",
        'echo "\nSigned-off-by: Test Maintainer <maintainer@example.org>" >> "$1"\n',
    )
    head = run_git("rev-parse", "HEAD", cwd=library)
    done = cli(library, "release", "minor")
    assert done.returncode == 0, done.stderr
    assert "Signed-off-by: Test Maintainer" in run_git("log", "-1", "--format=%B", cwd=library)
    released(library, head)


@pytest.mark.parametrize("stage", [True, False], ids=["staged", "left in the tree"])
def test_a_hook_that_changes_files_is_reported_and_everything_is_rolled_back(
    library: Path, stage: bool
) -> None:
    before = local_view(library)
    script = "echo '# formatted' >> README.rst\n" + ("git add README.rst\n" if stage else "")
    hook(library / ".git", "pre-commit", script + "echo 'formatter: reformatted README.rst'\n")
    done = cli(library, "release", "minor")
    assert done.returncode == 1, done.stderr
    assert "a commit hook changed files: README.rst" in done.stderr
    assert "formatter: reformatted README.rst" in done.stderr
    assert local_view(library) == before


# --- symlinks ---------------------------------------------------------------------------------


def test_a_symlinked_version_file_is_edited_at_its_target_and_stays_a_link(library: Path) -> None:
    (library / "js").mkdir()
    run_git("mv", "package.json", "js/package.json", cwd=library)
    (library / "package.json").symlink_to("js/package.json")
    run_git("add", "package.json", cwd=library)
    run_git("commit", "-qm", "chore: package.json lives in js/", cwd=library)
    run_git("push", "-q", "origin", "master", cwd=library)
    head = run_git("rev-parse", "HEAD", cwd=library)

    done = cli(library, "release", "minor")
    assert done.returncode == 0, done.stderr
    assert (library / "package.json").is_symlink()
    assert os.readlink(library / "package.json") == "js/package.json"
    assert run_git("ls-tree", "HEAD", "package.json", cwd=library).startswith("120000 ")
    assert '"version": "5.3.0"' in run_git("show", "HEAD:js/package.json", cwd=library)
    assert "js/package.json" in run_git("diff", "--name-only", "HEAD~1", "HEAD", cwd=library)
    released(library, head)


def test_a_version_file_linked_into_dot_git_is_refused_at_preflight(library: Path) -> None:
    (library / ".git" / "package.json").write_bytes((library / "package.json").read_bytes())
    (library / "package.json").unlink()
    (library / "package.json").symlink_to(".git/package.json")
    run_git("add", "package.json", cwd=library)
    run_git("commit", "-qm", "chore: a link", cwd=library)
    before = local_view(library)
    done = cli(library, "release", "minor")
    assert done.returncode == 2, done.stderr
    assert "package.json: a symlink that leads outside the repository" in done.stderr
    assert local_view(library) == before


# --- preflight: what would fail mid-release is found first ------------------------------------


def _without_identity(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git has no committer identity (and may not guess one) for the release process."""
    run_git("config", "user.useConfigOnly", "true", cwd=repo)
    home = tmp_path / "empty-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.delenv("EMAIL", raising=False)


def test_preflight_reports_identity_signing_and_ignored_files_at_once(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_git("rm", "-q", "--cached", "package-lock.json", cwd=library)
    (library / ".gitignore").write_text("package-lock.json\n")
    run_git("add", ".gitignore", cwd=library)
    run_git("commit", "-qm", "chore: ignore the lockfile", cwd=library)
    run_git("push", "-q", "origin", "master", cwd=library)
    run_git("config", "commit.gpgsign", "true", cwd=library)
    run_git("config", "gpg.format", "ssh", cwd=library)
    run_git("config", "user.signingkey", str(tmp_path / "no-such-key"), cwd=library)
    before = local_view(library)
    _without_identity(library, tmp_path, monkeypatch)

    done = cli(library, "release", "minor")
    assert done.returncode == 2, done.stderr
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert error.startswith("error: preflight failed: ")
    assert "git has no committer identity for the release commit" in error
    assert "package-lock.json is ignored by git" in error
    assert "signing is on (commit.gpgsign) with gpg.format = ssh" in error
    assert "no-such-key does not exist" in error
    assert "git config user.email" in done.stderr
    assert local_view(library) == before


def test_an_openpgp_key_gpg_does_not_have_is_refused_at_preflight(library: Path) -> None:
    run_git("config", "tag.gpgsign", "true", cwd=library)
    run_git("config", "gpg.program", "false", cwd=library)  # gpg that finds no secret key
    before = local_view(library)
    done = cli(library, "release", "minor")
    assert done.returncode == 2, done.stderr
    assert "signing is on (tag.gpgsign), but false has no secret key for" in done.stderr
    assert "Test Maintainer <maintainer@example.org>" in done.stderr
    assert local_view(library) == before


def test_an_untracked_version_file_is_refused_at_preflight(library: Path) -> None:
    run_git("rm", "-q", "--cached", "package.json", cwd=library)
    run_git("commit", "-qm", "chore: untrack package.json", cwd=library)
    run_git("push", "-q", "origin", "master", cwd=library)
    before = local_view(library)
    done = cli(library, "release", "minor")
    assert done.returncode == 2, done.stderr
    assert "package.json is not tracked by git" in done.stderr
    assert local_view(library) == before


def test_ssh_signing_with_a_key_that_exists_signs_the_release(
    library: Path, tmp_path: Path
) -> None:
    key = tmp_path / "signing-key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30
    )
    run_git("config", "commit.gpgsign", "true", cwd=library)
    run_git("config", "tag.gpgsign", "true", cwd=library)
    run_git("config", "gpg.format", "ssh", cwd=library)
    run_git("config", "user.signingkey", str(key), cwd=library)
    head = run_git("rev-parse", "HEAD", cwd=library)
    done = cli(library, "release", "minor")
    assert done.returncode == 0, done.stderr
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in run_git(
        "cat-file", "commit", "HEAD", cwd=library
    )
    assert "-----BEGIN SSH SIGNATURE-----" in run_git("cat-file", "tag", "v5.3.0", cwd=library)
    released(library, head)


# --- git's own reason for a refused push ------------------------------------------------------


def _refused(repo: Path) -> subprocess.CompletedProcess[str]:
    before = local_view(repo)
    origin_before = before["origin"]
    done = cli(repo, "release", "minor")
    assert done.returncode == 1, done.stderr
    assert "local changes rolled back" in done.stderr
    after = local_view(repo)
    # The local state is back as it was (origin changed only by the test's own hand).
    for key in ("files", "status", "index", "refs", "head", "lock"):
        assert after[key] == before[key], key
    assert after["origin"] == origin_before or "moved" in done.stderr or "already" in done.stderr
    assert "delete" not in done.stderr  # never: a tag on the remote is a published release
    return done


def _error_and_hint(done: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    lines = done.stderr.splitlines()
    (error,) = [line for line in lines if line.startswith("error: ")]
    (hint,) = [line for line in lines if line.startswith("hint: ")]
    return error, hint


def test_a_push_refused_by_a_hook_says_so_with_the_hook_output(library: Path) -> None:
    hook(origin_of(library), "pre-receive", "echo 'policy: releases need a ticket'\nexit 1\n")
    done = _refused(library)
    error, hint = _error_and_hint(done)
    assert "push to 'origin' refused: master remote rejected (pre-receive hook declined)" in error
    assert "remote: policy: releases need a ticket" in done.stderr
    assert "a hook on origin refused the push" in hint


def test_a_push_to_a_protected_branch_says_so(library: Path) -> None:
    hook(
        origin_of(library),
        "pre-receive",
        "echo 'error: GH006: Protected branch update failed for refs/heads/master.' >&2\nexit 1\n",
    )
    done = _refused(library)
    _, hint = _error_and_hint(done)
    assert "GH006: Protected branch update failed" in done.stderr
    assert "master is a protected branch on origin" in hint


def _from_the_commit_hook(repo: Path, script: str) -> None:
    """Between planning and pushing, someone else writes to origin (`script` runs in it)."""
    hook(repo / ".git", "post-commit", f'cd "{origin_of(repo)}" && unset GIT_DIR\n{script}')


def test_a_push_that_is_not_a_fast_forward_says_pull_and_run_again(library: Path) -> None:
    _from_the_commit_hook(
        library,
        'new="$(git commit-tree -p master -m concurrent master^{tree})"\n'
        'git update-ref refs/heads/master "$new"\n',
    )
    done = _refused(library)
    error, hint = _error_and_hint(done)
    assert "refused: master rejected (fetch first)" in error or "non-fast-forward" in error
    assert "origin/master moved on while releasing" in hint
    assert "git pull --ff-only origin master" in hint


def test_a_push_of_a_tag_already_on_origin_says_it_is_released(library: Path) -> None:
    _from_the_commit_hook(library, "git tag v5.3.0 master\n")
    done = _refused(library)
    error, hint = _error_and_hint(done)
    assert "refused: v5.3.0 rejected (already exists)" in error
    assert "v5.3.0 is already on origin" in hint

    # The re-run is refused at preflight, with the same words and no deleting.
    (library / ".git" / "hooks" / "post-commit").unlink()
    again = cli(library, "release", "minor")
    assert again.returncode == 2, again.stderr
    assert "v5.3.0 is already on origin" in again.stderr
    assert "delete" not in again.stderr


def test_a_commit_that_fails_after_git_add_leaves_nothing_staged(
    library: Path, tmp_path: Path
) -> None:
    """Signing fails only when git signs (the key file is there, but is no key): git has
    staged the files by then; the rollback unstages them."""
    key = tmp_path / "not-a-key"
    key.write_text("this is not an ssh key\n")
    run_git("config", "commit.gpgsign", "true", cwd=library)
    run_git("config", "gpg.format", "ssh", cwd=library)
    run_git("config", "user.signingkey", str(key), cwd=library)
    before = local_view(library)
    done = cli(library, "release", "minor")
    assert done.returncode == 1, done.stderr
    assert "commit failed" in done.stderr
    assert "local changes rolled back" in done.stderr
    assert local_view(library) == before
