"""Fault injection: chosen requests fail the way GitHub fails (5xx, rate limits, dropped
connections, a pull request opened too soon after its branch was pushed).

A fault is `METHOD PATH_GLOB STATUS [COUNT]`. It is matched against every request the sandbox
receives (API and git smart HTTP alike), so a test can fail one `POST /repos/*/releases` or one
`git-receive-pack`, and then show that re-running the same command converges. STATUS is an HTTP
code or a kind:

- `reset`: the connection is dropped, no answer;
- `ratelimit`: the primary rate limit (403, `X-RateLimit-Remaining: 0`);
- `secondary` or `secondary:SECONDS`: the secondary rate limit (403 with `Retry-After`,
  default 60 seconds, and GitHub's "You have exceeded a secondary rate limit" message);
- `nocommits`: a pull request creation gets GitHub's 422 "No commits between BASE and HEAD", as
  it does for a moment after the head branch was pushed;
- `headinvalid`: the same moment's other answer, 422 with `head` invalid.

A STATUS written `after:STATUS` (`after:502`, `after:reset`) fires *after* the sandbox has done
the work: the release is created, the push's refs are updated, and only then is the answer
replaced by the fault — the "GitHub did it but the answer was lost" case.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from dataclasses import dataclass
from typing import Literal

from release_tool.errors import UsageError

API_PREFIX = "/api/v3"

FaultKind = Literal["reset", "ratelimit", "secondary", "nocommits", "headinvalid"]
_KINDS: tuple[FaultKind, ...] = ("reset", "ratelimit", "secondary", "nocommits", "headinvalid")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"})
_SPEC_HINT = (
    "write a fault as 'METHOD PATH_GLOB STATUS [COUNT]', e.g. 'POST /repos/*/releases 500 1': "
    "METHOD an HTTP method or '*', STATUS an HTTP code, 'reset', 'ratelimit', 'secondary' "
    "(or 'secondary:SECONDS'), 'nocommits' or 'headinvalid' (prefixed 'after:' to fire once "
    "the request is done), "
    "COUNT a number of requests (default 1) or '*' / 0 for every request"
)


@dataclass(frozen=True)
class Fault:
    """One fault: which requests it hits, what they get, and how many times (None: always)."""

    method: str
    path_glob: str
    status: int | FaultKind
    count: int | None = 1  # None or 0: every matching request
    retry_after: int = 60  # seconds, for `secondary`
    after: bool = False  # the request is served first; only its answer is replaced

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (path without its query) is one this fault hits.

        The glob is tried against the path as sent and against it without `/api/v3`, so a fault
        written in GitHub's own terms (`/repos/*/releases`) hits the Enterprise-style API path.
        """
        if self.method not in ("*", method.upper()):
            return False
        candidates = [path]
        if path.startswith(API_PREFIX + "/"):
            candidates.append(path.removeprefix(API_PREFIX))
        return any(fnmatch.fnmatchcase(candidate, self.path_glob) for candidate in candidates)

    def __str__(self) -> str:
        count = "*" if self.count is None else str(self.count)
        status = f"secondary:{self.retry_after}" if self.status == "secondary" else self.status
        status = f"after:{status}" if self.after else str(status)
        return f"{self.method} {self.path_glob} {status} {count}"


def parse_fault(spec: str | Fault) -> Fault:
    """`'POST /repos/*/releases 500 1'` → a Fault; a UsageError with a hint on bad input."""
    if isinstance(spec, Fault):
        return spec
    parts = spec.split()
    if len(parts) not in (3, 4):
        raise UsageError(
            f"bad fault {spec!r}: expected 3 or 4 fields, got {len(parts)}", _SPEC_HINT
        )
    method, glob, status_text = parts[0].upper(), parts[1], parts[2].lower()
    after = status_text.startswith("after:")
    status_text = status_text.removeprefix("after:")
    if method not in _METHODS:
        raise UsageError(f"bad fault {spec!r}: {parts[0]!r} is not an HTTP method", _SPEC_HINT)
    if not glob.startswith(("/", "*")):
        raise UsageError(
            f"bad fault {spec!r}: the path glob must start with '/' or '*'", _SPEC_HINT
        )
    status: int | FaultKind
    retry_after = 60
    kind, _, seconds = status_text.partition(":")
    if kind == "secondary" and (not seconds or seconds.isdigit()):
        status, retry_after = "secondary", int(seconds or "60")
    elif status_text in _KINDS:
        status = next(k for k in _KINDS if k == status_text)
    elif re.fullmatch(r"[1-5][0-9][0-9]", status_text):
        status = int(status_text)
    else:
        raise UsageError(
            f"bad fault {spec!r}: {parts[2]!r} is not an HTTP status or a fault kind",
            _SPEC_HINT,
        )
    count: int | None = 1
    if len(parts) == 4:
        if parts[3] in ("*", "0"):
            count = None
        elif parts[3].isdigit():
            count = int(parts[3])
        else:
            raise UsageError(
                f"bad fault {spec!r}: COUNT {parts[3]!r} is not a number or '*'", _SPEC_HINT
            )
    return Fault(method, glob, status, count, retry_after, after)


@dataclass
class _Armed:
    fault: Fault
    left: int | None  # None: never spent


class FaultSet:
    """The active faults and what is left of each; shared by every request thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            # COUNT 0 means "always", as in the spec syntax.
            self._armed.append(_Armed(fault, fault.count or None))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def active(self) -> list[tuple[Fault, int | None]]:
        """Each fault with the number of hits it has left (None: unlimited)."""
        with self._lock:
            return [(armed.fault, armed.left) for armed in self._armed]

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault that hits this request, spending one of its hits."""
        with self._lock:
            for armed in self._armed:
                if not armed.fault.matches(method, path):
                    continue
                if armed.left is not None:
                    armed.left -= 1
                    # A spent fault is dropped, so `active()` shows only what can still fire.
                    if armed.left <= 0:
                        self._armed.remove(armed)
                return armed.fault
            return None
