"""Whether git can sign what a release asks it to sign: checked before anything is written.

Signing is on for the tag with `sign = true` in the config or git's `tag.gpgsign`, and for
the commit with `commit.gpgsign`. git then needs a key it can use, and finds out only while
committing or tagging — mid-release. `signing_problems` asks first, the way git would look:

* `gpg.format = ssh`: `user.signingkey` is a key (`key::…`, `ssh-…`) or a key file that
  exists, or `gpg.ssh.defaultKeyCommand` finds one;
* `gpg.format = x509`: the program (`gpgsm`) is installed;
* OpenPGP (the default): the program (`gpg`) has a secret key for `user.signingkey`, or for
  the committer identity when no key is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from release_tool.errors import UsageError

_OFF_HINT = "or turn signing off (sign = false; git config commit.gpgsign/tag.gpgsign false)"


def is_true(value: str | None) -> bool:
    """A git boolean (a key with no value is true)."""
    return value is not None and value.strip().lower() in ("", "true", "yes", "on", "1")


def signing_problems(
    settings: Mapping[str, str],
    *,
    commit: bool,
    tag: bool,
    sign_tags: bool,
    ident: str | None,
    root: Path,
) -> list[UsageError]:
    """What keeps git from signing the release's commit (`commit`: one is made) and tag
    (`tag`: one is made; `sign_tags`: `sign = true`). `settings` are git's signing settings,
    keys lowercased (`GitRepo.readiness`)."""
    reasons = []
    if commit and is_true(settings.get("commit.gpgsign")):
        reasons.append("commit.gpgsign")
    if tag and sign_tags:
        reasons.append("sign = true")
    elif tag and is_true(settings.get("tag.gpgsign")):
        reasons.append("tag.gpgsign")
    if not reasons:
        return []
    why = f"signing is on ({', '.join(reasons)})"
    form = settings.get("gpg.format", "openpgp").strip().lower() or "openpgp"
    key = settings.get("user.signingkey", "").strip()
    if form == "ssh":
        return _ssh(why, key, settings, root)
    program = (
        settings.get(f"gpg.{form}.program")
        or (settings.get("gpg.program") if form == "openpgp" else None)
        or ("gpgsm" if form == "x509" else "gpg")
    )
    import shutil

    if shutil.which(program) is None:
        return [
            UsageError(
                f"{why}, but {program} (gpg.format = {form}) is not installed",
                f"install it, or point gpg.{form}.program at it; {_OFF_HINT}",
            )
        ]
    if form != "openpgp":
        return []
    wanted = key or _name_and_email(ident)
    if not wanted:
        return []  # no identity either: reported as its own problem
    if _has_secret_key(program, wanted, root):
        return []
    return [
        UsageError(
            f"{why}, but {program} has no secret key for {wanted!r}",
            f"import the key (gpg --import), or set user.signingkey to a key {program} has; "
            + _OFF_HINT,
        )
    ]


def _ssh(why: str, key: str, settings: Mapping[str, str], root: Path) -> list[UsageError]:
    if not key:
        if settings.get("gpg.ssh.defaultkeycommand"):
            return []
        return [
            UsageError(
                f"{why} with gpg.format = ssh, but user.signingkey is not set",
                f"git config user.signingkey ~/.ssh/id_ed25519.pub; {_OFF_HINT}",
            )
        ]
    if key.startswith(("key::", "ssh-", "ecdsa-", "sk-")):
        return []  # the key itself: the agent holds its private half
    path = Path(os.path.expanduser(key))
    if not path.is_absolute():
        path = root / path
    if path.is_file():
        return []
    return [
        UsageError(
            f"{why} with gpg.format = ssh, but the key file {key} does not exist",
            f"point user.signingkey at your SSH key file; {_OFF_HINT}",
        )
    ]


def _name_and_email(ident: str | None) -> str:
    """`Name <email>` of `git var GIT_COMMITTER_IDENT` ("Name <email> 1700000000 +0000")."""
    if not ident:
        return ""
    return ident.rsplit(" ", 2)[0] if ident.count(" ") >= 2 else ident


def _has_secret_key(program: str, key: str, root: Path) -> bool:
    import subprocess

    try:
        listed = subprocess.run(
            [program, "--batch", "--no-tty", "--with-colons", "--list-secret-keys", "--", key],
            cwd=root,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return listed.returncode == 0 and any(
        line.startswith("sec") for line in listed.stdout.splitlines()
    )
