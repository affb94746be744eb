"""Git smart HTTP: which requests the sandbox hands to `git http-backend`, decided on exactly
what http-backend will see.

A request is taken apart segment by segment *before* percent-decoding, each segment decoded
once, and refused if decoding could change its meaning (an encoded `/`, a NUL, `.` or `..`, an
empty segment). Only the three smart-HTTP endpoints exist: `GET info/refs?service=...`,
`POST git-upload-pack`, `POST git-receive-pack`; the query may hold nothing but one `service`
naming one of the two services. http-backend then gets a PATH_INFO and a QUERY_STRING the
sandbox rebuilt from the decoded parts, so `service=git%2Dreceive-pack` or
`git-receive-pac%6B` is a push to the sandbox exactly as it is to http-backend: it needs write
access, whatever its spelling.

A push by a token that may not change workflows runs with the `pre-receive` hook below, which
refuses commits touching `.github/workflows/` with GitHub's words.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

SERVICES = ("git-upload-pack", "git-receive-pack")
HOOKS_DIR = ".sandbox-hooks"
# git runs this hook (core.hooksPath, set for such pushes only) with the pushed objects
# visible; each refused file is named on the client's "remote:" lines.
PRE_RECEIVE = """#!/bin/sh
zero=0000000000000000000000000000000000000000
status=0
while read -r old new ref; do
    [ "$new" = "$zero" ] && continue
    files=$(git log --format= --name-only "$new" --not --all -- .github/workflows/ |
        sed '/^$/d' | sort -u)
    [ -z "$files" ] && continue
    printf '%s\\n' "$files" | while IFS= read -r path; do
        printf '%s%s%s\\n' "$SANDBOX_REFUSAL_PREFIX" "$path" "$SANDBOX_REFUSAL_SUFFIX" >&2
    done
    status=1
done
exit $status
"""


@dataclass(frozen=True)
class GitTarget:
    """A well-formed smart-HTTP request: the repository asked for (as spelled), the endpoint,
    and the service."""

    owner: str
    name: str  # without `.git`
    endpoint: str  # "info/refs", "git-upload-pack" or "git-receive-pack"
    service: str | None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def pushing(self) -> bool:
        return self.endpoint == "git-receive-pack" or self.service == "git-receive-pack"

    @property
    def query_string(self) -> str:
        return f"service={self.service}" if self.service else ""

    def path_info(self, full_name: str) -> str:
        return f"/{full_name}.git/{self.endpoint}"


@dataclass(frozen=True)
class GitRefusal:
    status: int
    text: str


def looks_like_git(path: str) -> bool:
    """Whether a path is meant for git (`/OWNER/NAME.git/...`), well-formed or not."""
    parts = path.lstrip("/").split("/")
    repo = _decode(parts[1]) if len(parts) >= 3 else None
    return repo is not None and repo.endswith(".git")


def parse(method: str, path: str, query: str) -> GitTarget | GitRefusal:
    """The git request `path` and `query` (both as sent) make, or why it is refused."""
    raw = path.lstrip("/").split("/")
    decoded = [_decode(part) for part in raw]
    if any(part is None or part in ("", ".", "..") for part in decoded):
        return GitRefusal(400, "Bad request: ambiguous path.\n")
    parts = [p for p in decoded if p is not None]
    owner, repo, rest = parts[0], parts[1], "/".join(parts[2:])
    name = repo.removesuffix(".git")
    service = None
    if query:
        fields = _query(query)
        if fields is None or len(fields) != 1 or fields[0][0] != "service":
            return GitRefusal(400, "Bad request: unexpected query.\n")
        service = fields[0][1]
        if service not in SERVICES:
            return GitRefusal(403, "Unsupported service.\n")
    if rest == "info/refs" and method in ("GET", "HEAD"):
        if service is None:
            # GitHub serves no dumb HTTP.
            return GitRefusal(
                403,
                "Please upgrade your git client.\n"
                "GitHub.com no longer supports git over dumb-http: "
                "https://github.com/blog/809-git-dumb-http-transport-to-be-decommissioned\n",
            )
        return GitTarget(owner, name, rest, service)
    if rest in SERVICES and method == "POST" and service is None:
        return GitTarget(owner, name, rest, None)
    return GitRefusal(404, "Not Found\n")


def _decode(segment: str) -> str | None:
    """One path segment percent-decoded once; None if the result is not a plain segment
    (it holds a `/`, a NUL or a `%` that a second decoding would read, or is not UTF-8)."""
    try:
        text = unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "/" in text or "\0" in text or "%" in text or "\\" in text:
        return None
    return text


def _query(query: str) -> list[tuple[str, str]] | None:
    """`a=b&c=d` decoded as http-backend decodes it (`+` is a space), or None when a key or
    value is not a plain string."""
    fields = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        decoded_key = _decode(key.replace("+", " "))
        decoded_value = _decode(value.replace("+", " "))
        if not sep or decoded_key is None or decoded_value is None:
            return None
        fields.append((decoded_key, decoded_value))
    return fields


def write_hooks(root: Path) -> Path:
    """The hooks directory for pushes that may not change workflows (written when needed)."""
    hooks = root / HOOKS_DIR
    hook = hooks / "pre-receive"
    if not hook.is_file() or hook.read_text() != PRE_RECEIVE:
        hooks.mkdir(exist_ok=True)
        hook.write_text(PRE_RECEIVE)
        hook.chmod(0o755)
    return hooks


def backend_env(
    *,
    root: Path,
    method: str,
    target: GitTarget,
    full_name: str,
    headers: Mapping[str, str],
    content_length: int,
    remote_addr: str,
    user: str | None,
    workflow_refusal: str,
    hooks: Path | None,
) -> dict[str, str]:
    """The CGI environment of `git http-backend` for one request."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "REQUEST_METHOD": method,
        "PATH_INFO": target.path_info(full_name),
        "QUERY_STRING": target.query_string,
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(content_length),
        "REMOTE_ADDR": remote_addr,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    if user:
        env["REMOTE_USER"] = user  # http-backend enables receive-pack only for a user
    if workflow_refusal and hooks is not None:
        prefix, _, suffix = workflow_refusal.partition("\0")
        env.update(
            {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "core.hooksPath",
                "GIT_CONFIG_VALUE_0": str(hooks),
                "SANDBOX_REFUSAL_PREFIX": prefix,
                "SANDBOX_REFUSAL_SUFFIX": suffix,
            }
        )
    for key, value in headers.items():
        name = "HTTP_" + key.upper().replace("-", "_")
        if name not in ("HTTP_AUTHORIZATION", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE"):
            env[name] = value  # HTTP_GIT_PROTOCOL selects protocol v2; gzip is honoured
    return env
