"""Why a push failed, in git's own words, and what to do about it.

`git push --porcelain` reports every ref on a line of its own on stdout —
`!<TAB>SRC:DST<TAB>[rejected] (non-fast-forward)` — and the remote's own words (its hooks, a
protected branch) come back on stderr as `remote: …` lines. `push_failure` turns both into one
error: the rejected ref and git's reason in the message, a hint that fits the reason, and the
remote's lines as the details. It never suggests deleting a tag that is on the remote: that
would unpublish a release.

Leaf module: it reads text and builds errors; it runs nothing.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from release_tool.errors import StepFailed

# `!	HEAD:refs/heads/master	[rejected] (non-fast-forward)`; `[remote rejected] (…)` too.
_REJECTED = re.compile(
    r"^!\t(?P<src>[^:\t]*):(?P<dst>[^\t]+)\t\[(?P<kind>[^\]]+)\](?: \((?P<why>.*)\))?"
)
# What an atomic push says about the refs it gave up because another one was refused.
_COLLATERAL = ("atomic push failed", "atomic transaction failed")


class Rejection(NamedTuple):
    """One ref the remote (or git, before sending) refused, and why."""

    ref: str  # the destination, e.g. refs/heads/master
    kind: str  # "rejected" (git refused before sending) or "remote rejected"
    reason: str  # git's words: non-fast-forward, already exists, pre-receive hook declined …

    @property
    def short_ref(self) -> str:
        return self.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")

    def __str__(self) -> str:
        return f"{self.short_ref} {self.kind} ({self.reason})" if self.reason else self.short_ref


def rejections(porcelain: str) -> list[Rejection]:
    """The refused refs of `git push --porcelain` output, the real reasons first (a ref an
    atomic push only gave up because of another one comes last)."""
    found = []
    for line in porcelain.splitlines():
        match = _REJECTED.match(line.strip("\n"))
        if match:
            found.append(Rejection(match["dst"], match["kind"], (match["why"] or "").strip()))
    return sorted(found, key=lambda r: r.reason in _COLLATERAL)


def remote_lines(stderr: str) -> list[str]:
    """The remote's own lines (`remote: …`: its hooks, GitHub's GH006 …), padding trimmed."""
    lines = [line.strip() for line in stderr.splitlines()]
    said = [line.removeprefix("remote:").strip() for line in lines if line.startswith("remote:")]
    return [line for line in said if line]


def push_failure(
    remote: str, branch: str | None, message: str, porcelain: str, stderr: str, refused: bool
) -> StepFailed:
    """The error of a failed push: git's reason for the first refused ref, a hint that fits it,
    and the remote's own lines as details. `message` is git's one-line failure (used when no
    ref was refused: the remote could not be reached, the credentials were refused)."""
    said = remote_lines(stderr)
    details = "\n".join(f"remote: {line}" for line in said)
    refused_refs = rejections(porcelain)
    if not refused_refs:
        hint = (
            "set GITHUB_TOKEN (or GH_TOKEN) to a token allowed to push here, then run the "
            "same command again"
            if refused
            else "fix the cause and run the same command again"
        )
        return StepFailed(f"push to {remote!r} failed: {message}", hint, details)
    first = refused_refs[0]
    others = [str(r) for r in refused_refs[1:] if r.reason not in _COLLATERAL]
    text = f"push to {remote!r} refused: {first}" + "".join(f"; {o}" for o in others)
    return StepFailed(text, _hint(remote, branch, first, said), details)


def _hint(remote: str, branch: str | None, first: Rejection, said: list[str]) -> str:
    reason = first.reason.lower()
    words = " ".join(said).lower()
    on = f"{remote}/{branch}" if branch else remote
    if "update workflow" in reason or "update workflow" in words:
        return (
            "the pushed commits change a file under .github/workflows/, which GitHub lets "
            "only a token with the `workflow` scope (a classic token) or the Workflows write "
            "permission (a fine-grained token, a GitHub App) push: use such a token, then run "
            "the same command again"
        )
    if "protected branch" in reason or "gh006" in words or "protected branch" in words:
        return (
            f"{first.short_ref} is a protected branch on {remote}: allow this token to push "
            "to it (or release from a branch it may push to), then run the same command again"
        )
    if "hook declined" in reason:
        return (
            f"a hook on {remote} refused the push (its output is above): fix what it "
            "reports, then run the same command again"
        )
    if first.ref.startswith("refs/tags/") and ("already exists" in reason or "stale" in reason):
        return (
            f"{first.short_ref} is already on {remote}: that version has been released; "
            "pick the next version and run again"
        )
    if "non-fast-forward" in reason or "fetch first" in reason or "stale info" in reason:
        target = branch or first.short_ref
        return (
            f"{on} moved on while releasing: git pull --ff-only {remote} {target}, then run the "
            "same command again (it plans the release anew)"
        )
    return "fix the cause and run the same command again"
