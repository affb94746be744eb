"""The REST API: every operation (from the `ops_*` modules) behind one transport-free `handle()`.

`Api.handle()` takes a method, a path (after `/api/v3`), a query, headers and a body, and
returns a `Response` plus the operation's path template, the key the contract tests look up in
GitHub's OpenAPI description. Checks happen in GitHub's order: unknown route or repository
(404), bad token (401), no token on a write (401), no write access (403), malformed JSON (400),
then the operation's own validation (422).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlencode

from release_tool.sandbox import shapes
from release_tool.sandbox.access import is_full_name
from release_tool.sandbox.ops_actions import ActionOps
from release_tool.sandbox.ops_apps import AppOps
from release_tool.sandbox.ops_assets import AssetOps
from release_tool.sandbox.ops_git import GitOps
from release_tool.sandbox.ops_releases import ReleaseOps
from release_tool.sandbox.ops_repos import RepoOps
from release_tool.sandbox.rest import (
    DOCS,
    ROUTES,
    ApiError,
    Request,
    Response,
    Route,
    forbidden,
    not_found,
)

__all__ = ["Api", "ApiError", "Response"]


class Api(RepoOps, GitOps, ReleaseOps, AssetOps, ActionOps, AppOps):
    """GitHub's REST operations over a `GitStore` and a `State`."""

    def match(
        self, method: str, path: str, host: str = "api"
    ) -> tuple[Route, dict[str, str]] | None:
        """The operation for a request, and its path parameters (percent-decoded: PyGithub
        quotes refs and tags, `heads%2Fmain`)."""
        for candidate in ROUTES:
            if candidate.method != method or candidate.host != host:
                continue
            found = candidate.pattern.fullmatch(path)
            if found:
                return candidate, {k: unquote(v or "") for k, v in found.groupdict().items()}
        return None

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes | Callable[[], bytes],
        host: str = "api",
    ) -> tuple[Response, str | None]:
        """The response to one API request (headers keyed in lower case), and the operation's
        path template (None when no operation matched); `host="uploads"` for a request under
        `/api/uploads`. `body` may be a reader: it is called only once the request passed the
        token and permission checks (a refused request's body is never read)."""
        by_id = _BY_ID.match(path)
        if by_id:  # where a renamed repository's redirects point
            full_name = self.state.repo_by_id(int(by_id["id"]))
            if full_name is None or not self.store.exists(full_name):
                return self._error(not_found(), DOCS), None
            path = f"/repos/{full_name}{by_id['rest'] or ''}"
        matched = self.match(method, path, host)
        if matched is None:
            return self._error(not_found(), DOCS), None
        op, params = matched
        try:
            return self._dispatch(op, params, method, path, query, headers, body), op.template
        except ApiError as exc:
            return self._error(exc, DOCS + op.docs), op.template
        except _Moved as moved:
            return moved.response(self, method, path, query, host), op.template

    def _dispatch(
        self,
        op: Route,
        params: dict[str, str],
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        read_body: bytes | Callable[[], bytes],
    ) -> Response:
        credentials = self.access.from_api_header(headers.get("authorization"))
        full_name = ""
        if "owner" in params and "repo" in params:
            asked = f"{params['owner']}/{params['repo']}"
            found = self.store.canonical(asked) if is_full_name(asked) else None
            if found is not None and not self.ready(found):
                raise not_found()  # a fork still being created
            if found is None:
                moved = self.state.renamed_to(asked) if is_full_name(asked) else None
                if moved and self.store.exists(moved):
                    raise _Moved(moved)
                raise not_found()
            # Owner and name are case-insensitive: the operation sees them as on disk.
            full_name = found
            params["owner"], params["repo"] = found.split("/", 1)
        if credentials.bad:
            raise ApiError(401, credentials.jwt_error or "Bad credentials")
        if (op.access == "app") != (credentials.app is not None):
            # A JWT is for the app's own endpoints, which take nothing else.
            raise ApiError(401, "A JSON web token could not be decoded")
        user, token = credentials.user, credentials.token
        if op.access in ("auth", "write") and user is None:
            raise ApiError(401, "Requires authentication")
        if op.access == "write" and not self.access.may_write(credentials, full_name):
            raise forbidden(token)
        # A token limited to some repositories (fine-grained, installation) changes nothing
        # elsewhere: no pull request, fork or label either.
        if method != "GET" and full_name and token is not None and token.limits(full_name):
            raise forbidden(token)
        body = read_body() if callable(read_body) else read_body
        parsed: Any = None
        if op.host == "uploads":
            pass  # the body is the file
        elif method in ("POST", "PUT", "PATCH", "DELETE") and body.strip():
            try:
                parsed = json.loads(body)
            except ValueError:
                raise ApiError(400, "Problems parsing JSON") from None
        elif method in ("POST", "PUT", "PATCH"):
            parsed = {}
        prefix = "/api/uploads" if op.host == "uploads" else "/api/v3"
        req = Request(
            method,
            prefix + path,
            query,
            parsed,
            user,
            headers.get("accept", ""),
            body,
            headers,
            token,
            credentials.app,
        )
        if method == "GET":
            return op.handler(self, req, **params)
        # Writes are serialised: several of them read, then write, then move a ref.
        with self.state.locked():
            return op.handler(self, req, **params)

    @staticmethod
    def _error(exc: ApiError, docs: str) -> Response:
        body = shapes.error(
            exc.message,
            docs,
            errors=exc.errors,
            status=exc.status if exc.status in (401, 403, 404, 409, 422) else None,
        )
        headers = {"WWW-Authenticate": 'Basic realm="GitHub"'} if exc.status == 401 else {}
        return Response(exc.status, body, headers)


_BY_ID = re.compile(r"/repositories/(?P<id>[0-9]+)(?P<rest>/.*)?")
_REPO_PATH = re.compile(r"/repos/[^/]+/[^/]+(?P<rest>/.*)?")
REDIRECT_DOCS = "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api"


class _Moved(Exception):
    """The repository asked for was renamed: GitHub answers 301 to a read and 307 to a write,
    pointing at `/repositories/{id}/...`, which keeps working whatever the name becomes."""

    def __init__(self, full_name: str) -> None:
        super().__init__(full_name)
        self.full_name = full_name

    def response(
        self, api: Api, method: str, path: str, query: Mapping[str, list[str]], host: str
    ) -> Response:
        found = _REPO_PATH.match(path)
        rest = (found["rest"] if found else "") or ""
        prefix = api.urls.base + ("/api/uploads" if host == "uploads" else "/api/v3")
        location = f"{prefix}/repositories/{api.state.repo(self.full_name).id}{rest}"
        if query:
            location += "?" + urlencode(query, doseq=True)
        body = {
            "message": "Moved Permanently",
            "url": location,
            "documentation_url": REDIRECT_DOCS + "#follow-redirects",
        }
        status = 301 if method in ("GET", "HEAD") else 307
        return Response(status, body, {"Location": location})
