"""What every REST operation of the sandbox shares: requests, responses, errors, the route table,
body-field readers, pagination, and the `Operations` base class with the common lookups.

The operations themselves live in `ops_*.py`, one module per area, each method registered with
GitHub's path template by `@route`; `api.Api` puts them together and dispatches.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from release_tool.sandbox import shapes
from release_tool.sandbox import state as st
from release_tool.sandbox import store as gs
from release_tool.sandbox.access import Access, Token
from release_tool.sandbox.shapes import Json, Urls

AccessLevel = Literal["read", "auth", "write", "app"]
T = TypeVar("T")

DOCS = "https://docs.github.com/rest/"


class ApiError(Exception):
    """An error response: GitHub's `{"message", "documentation_url"[, "errors"]}` body."""

    def __init__(self, status: int, message: str, *, errors: list[Json] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class BodyTooLarge(Exception):
    """A request body over the sandbox's limit (413): refused before it is read in full."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def forbidden(token: Token | None = None) -> ApiError:
    if token is not None and token.kind == "installation":
        return ApiError(403, "Resource not accessible by integration")
    return ApiError(403, "Resource not accessible by personal access token")


def invalid(resource: str, field_name: str, code: str = "invalid") -> ApiError:
    """GitHub's 422 "Validation Failed" naming the field at fault."""
    return ApiError(
        422, "Validation Failed", errors=[{"resource": resource, "field": field_name, "code": code}]
    )


def custom(resource: str, message: str) -> ApiError:
    """GitHub's 422 "Validation Failed" with a sentence (duplicate pull request, ...)."""
    return ApiError(
        422,
        "Validation Failed",
        errors=[{"resource": resource, "code": "custom", "message": message}],
    )


@dataclass
class Request:
    method: str
    path: str  # with the /api/v3 prefix, without the query
    query: Mapping[str, list[str]]
    body: Any
    user: str | None
    accept: str = ""
    raw: bytes = b""  # the body as sent (uploads are not JSON)
    headers: Mapping[str, str] = dataclass_field(default_factory=dict)  # keys in lower case
    token: Token | None = None  # what the token presented may do (None: no token)
    app: int | None = None  # the GitHub App whose JWT was presented
    cache: dict[str, Json] = dataclass_field(default_factory=dict)  # shapes, per request

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def obj(self) -> Json:
        if not isinstance(self.body, dict):
            raise ApiError(422, "Invalid request.\n\nThe request body must be a JSON object.")
        return self.body


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = dataclass_field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (raw file content)


# -- routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # GitHub's path template: the contract tests' key into the OpenAPI paths
    # read: anyone; auth: a valid token; write: push access to the repo; app: an app's JWT
    access: AccessLevel
    docs: str
    handler: Callable[..., Response]
    pattern: re.Pattern[str]
    host: str = "api"  # "uploads": served under /api/uploads (GitHub's uploads.github.com)


# Parameters that may span several path segments (refs, file paths, tags, branch names).
_MULTI = {"ref", "path", "tag", "tree_sha", "branch"}
ROUTES: list[Route] = []


def _compile(template: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[a-z_]+\})", template):
        if part.startswith("{"):
            name = part[1:-1]
            body = ".*" if name == "path" else ".+" if name in _MULTI else "[^/]+"
            regex += f"(?P<{name}>{body})"
        else:
            regex += re.escape(part)
    # `/contents` with no path lists the root, as `/contents/` does.
    regex = regex.replace("/contents/(?P<path>.*)", "/contents(?:/(?P<path>.*))?")
    return re.compile(regex + "/?")


def route(
    method: str, template: str, access: AccessLevel, docs: str, *, host: str = "api"
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register an operation; `docs` is the page under docs.github.com/rest/ errors link to;
    `host="uploads"` for the operations GitHub serves on uploads.github.com."""

    def register(handler: Callable[..., Response]) -> Callable[..., Response]:
        ROUTES.append(Route(method, template, access, docs, handler, _compile(template), host))
        return handler

    return register


# -- body fields ------------------------------------------------------------------------------


def field(body: Json, key: str, kind: type[T], *, needed: bool = False) -> T | None:
    """`body[key]` if it has type `kind`; a 422 worded like GitHub's otherwise."""
    value = body.get(key)
    if value is None:
        if needed:
            raise ApiError(422, f'Invalid request.\n\n"{key}" wasn\'t supplied.')
        return None
    # bool is an int in Python; GitHub's schemas never mean both.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(
            422,
            f"Invalid request.\n\nFor '{key}', {json.dumps(value)} is not a "
            f"{kind.__name__.replace('str', 'string')}.",
        )
    return value


def text(body: Json, key: str) -> str | None:
    return field(body, key, str)


def required(body: Json, key: str) -> str:
    value = field(body, key, str, needed=True)
    assert value is not None
    return value


def flag(body: Json, key: str, default: bool) -> bool:
    value = field(body, key, bool)
    return default if value is None else value


def strings(body: Json, key: str) -> list[str]:
    value = field(body, key, list) or []
    if not all(isinstance(v, str) for v in value):
        raise ApiError(422, f"Invalid request.\n\nFor '{key}', every item must be a string.")
    return list(value)


def person(body: Json, key: str, fallback: gs.Person) -> gs.Person:
    """An author, committer or tagger object; its date is optional (default: `fallback`'s)."""
    value = field(body, key, dict)
    if value is None:
        return fallback
    date = fallback.date
    if isinstance(value.get("date"), str):
        try:
            date = datetime.fromisoformat(value["date"])
        except ValueError:
            raise ApiError(
                422, f"Invalid request.\n\n{value['date']!r} is not a valid date-time."
            ) from None
        if date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
    return gs.Person(required(value, "name"), required(value, "email"), date)


def b64(content: str) -> bytes:
    try:
        return base64.b64decode(content.encode(), validate=False)
    except (binascii.Error, ValueError):
        raise ApiError(422, "content is not valid Base64") from None


# What `git check-ref-format` accepts, minus the rules checked separately in `valid_ref`.
_REF_NAME = re.compile(r"refs/[^\x00-\x20~^:?*\[\\\x7f]+")


def valid_ref(ref: str) -> bool:
    """`git check-ref-format`'s rules, without a subprocess."""
    return (
        _REF_NAME.fullmatch(ref) is not None
        and ".." not in ref
        and "@{" not in ref
        and "//" not in ref
        and "/." not in ref
        and ".lock/" not in ref
        and not ref.endswith((".", "/", ".lock"))
    )


def page(req: Request, items: list[Json], urls: Urls, wrap: str | None = None) -> Response:
    """GitHub's pagination: `per_page` (default 30, at most 100), `page`, and a `Link` header
    with prev/next/last/first, which PyGithub follows. `wrap` names the key of the page's items
    in a `{"total_count": N, KEY: [...]}` body (workflow runs, installations)."""
    try:
        per_page = min(100, max(1, int(req.arg("per_page", "30") or "30")))
        number = max(1, int(req.arg("page", "1") or "1"))
    except ValueError:
        per_page, number = 30, 1
    last = max(1, -(-len(items) // per_page))
    chunk = items[(number - 1) * per_page : number * per_page]

    def link(target: int, rel: str) -> str:
        query = {k: v[-1] for k, v in req.query.items()}
        query.update({"per_page": str(per_page), "page": str(target)})
        return f'<{urls.base}{req.path}?{urlencode(query)}>; rel="{rel}"'

    links = []
    if number > 1:
        links.append(link(min(number - 1, last), "prev"))
    if number < last:
        links += [link(number + 1, "next"), link(last, "last")]
    if number > 1:
        links.append(link(1, "first"))
    body: Any = chunk if wrap is None else {"total_count": len(items), wrap: chunk}
    return Response(200, body, {"Link": ", ".join(links)} if links else {})


# -- the shared base of the operations ----------------------------------------------------------


class Operations:
    """State, store and addresses, plus the lookups several areas need."""

    fork_delay: float = 0.0  # seconds a new fork takes to appear (set by the Sandbox)

    def __init__(self, store: gs.GitStore, state: st.State, access: Access, urls: Urls) -> None:
        self.store, self.state, self.access, self.urls = store, state, access, urls
        self.started = int(time.time())  # rate-limit windows are counted from here

    def ready(self, full_name: str) -> bool:
        """Whether a repository that exists on disk may be seen: a fork GitHub is still
        creating answers 404 until it is done."""
        ready_at = self.state.repo(full_name).ready_at
        return ready_at is None or time.time() >= ready_at

    def user_json(self, login: str) -> Json:
        # An owner that is nobody's login but has repositories is an organization (openedx).
        organization = login not in self.access.users and (self.store.root / login).is_dir()
        return shapes.user(self.urls, login, self.state.user_id(login), organization=organization)

    def repo_json(self, req: Request, full_name: str, *, nested: bool = False) -> Json:
        """`full-repository` (with parent and source for a fork), or, `nested`, the plain
        `repository` that pull requests, forks lists and parents carry."""
        key = f"{full_name}:{nested}"
        if key in req.cache:
            return req.cache[key]
        meta = self.state.repo(full_name)
        pushed = (
            self.store.git(
                full_name,
                "for-each-ref",
                "--sort=-committerdate",
                "--count=1",
                "--format=%(committerdate:unix)",
                "refs/heads",
            )
            .decode()
            .strip()
        )
        pushed_at = (
            shapes.iso(datetime.fromtimestamp(int(pushed), UTC)) if pushed else meta.created_at
        )
        parent = source = None
        if meta.parent and not nested and self.store.exists(meta.parent):
            parent = self.repo_json(req, meta.parent, nested=True)
            root = meta.parent
            while (up := self.state.repo(root).parent) and self.store.exists(up):
                root = up
            source = self.repo_json(req, root, nested=True)
        body = shapes.repository(
            self.urls,
            meta,
            owner=self.user_json(full_name.split("/", 1)[0]),
            default_branch=self.store.default_branch(full_name),
            pushed_at=pushed_at,
            size=0,
            forks=len(self.state.forks_of(full_name)),
            open_issues=sum(p.state == "open" for p in self.state.pulls(full_name)),
            permissions=self.access.permissions(req.user, full_name),
            parent=parent,
            source=source,
        )
        req.cache[key] = body
        return body

    def commit_or_404(self, full_name: str, sha: str) -> gs.Commit:
        found = self.store.commit(full_name, sha)
        if found is None:
            raise not_found()
        return found

    def check_workflows(self, req: Request, full_name: str, new: str) -> None:
        """Refuse (403, with the words git pushes get) to move a ref onto commits that change
        `.github/workflows/` when the token may not change workflows: a classic token without
        the `workflow` scope, a fine-grained or installation token without `workflows`."""
        token = req.token
        if token is None or token.workflow:
            return
        out = self.store.git(
            full_name,
            "log",
            "--format=",
            "--name-only",
            new,
            "--not",
            "--exclude=refs/sandbox/*",  # scratch refs of the sandbox's own operations
            "--all",
            "--",
            ".github/workflows/",
        )
        files = sorted({line for line in out.decode(errors="replace").splitlines() if line})
        if files:
            raise ApiError(403, token.workflow_refusal(files[0]))

    def default_person(self, req: Request) -> gs.Person:
        """Who a commit is by when the request names nobody: the token's user, as on GitHub."""
        login = req.user or "ghost"
        email = f"{self.state.user_id(login)}+{login}@users.noreply.github.com"
        return gs.Person(login, email, datetime.now(UTC).replace(microsecond=0))

    @staticmethod
    def created(body: Json) -> Response:
        return Response(201, body, {"Location": str(body.get("url", ""))})
