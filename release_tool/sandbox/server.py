"""HTTP for the sandbox: one port, several kinds of traffic.

- `/api/v3/...`: the REST API (`api.Api`), JSON in and out, with GitHub's headers;
- `/OWNER/NAME.git/...`: git's smart HTTP protocol, handed to `git http-backend` as a CGI
  script, with the token checked first (push needs write access, as on GitHub);
- `/simple/...` and `/files/...`, when the sandbox has an index directory: the package index
  (`index.Index`: PEP 503/691/658 over a directory of wheels and sdists);
- the web URLs the API hands out (`/OWNER/NAME`, `/OWNER/NAME/pull/N`, ...): HTML pages
  (`pages`);
- anything else: 404.

Faults are applied here, before routing, so they hit API and git traffic alike. Every request is
recorded as (method, path, status); every API exchange is also passed to the observer (the
contract tests validate each response body against GitHub's OpenAPI description with it).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from release_tool.sandbox import git_http, pages, shapes
from release_tool.sandbox.access import Access, is_full_name
from release_tool.sandbox.api import Api, Response
from release_tool.sandbox.faults import API_PREFIX, Fault, FaultSet
from release_tool.sandbox.index import Index, is_index_path, send
from release_tool.sandbox.rest import BodyTooLarge

log = logging.getLogger("release_tool.sandbox")

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
UPLOADS_PREFIX = "/api/uploads"
_DOWNLOAD = re.compile(
    r"/(?P<owner>[^/]+)/(?P<repo>[^/]+)/releases/download/(?P<tag>[^/]+)/(?P<name>[^/]+)"
)
MAX_JSON_BODY = 25 * 1024 * 1024  # bytes; larger API (and upload) bodies get 413
MAX_GIT_BODY = 100 * 1024 * 1024  # bytes; a larger push gets 413
RATE_LIMIT = 5000
ANONYMOUS_RATE_LIMIT = 60


@dataclass(frozen=True)
class Exchange:
    """One API request and its response, as the observer sees it."""

    method: str
    path: str  # as requested, without the query
    operation: str | None  # GitHub's path template, e.g. /repos/{owner}/{repo}/git/refs
    status: int
    body: Any  # the parsed JSON response body (None when there is none)
    request_body: Any = None  # the parsed JSON request body, if any
    fault: Fault | None = None  # the injected fault that produced this response


class SandboxServer(ThreadingHTTPServer):
    """The listening socket, and what every request thread shares."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, port: int, access: Access, faults: FaultSet, make_api: Callable[[int], Api]
    ) -> None:
        self.access, self.faults = access, faults
        self.observer: Callable[[Exchange], None] | None = None
        self.index: Index | None = None  # the package index, when the sandbox serves one
        self.requests: list[tuple[str, str, int]] = []  # the Sandbox swaps in its own list
        self.pages: dict[str, str] = {}  # extra HTML pages by path (the Sandbox's own dict)
        self.used: dict[str, int] = {}  # requests per user (or "" for anonymous), for headers
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)
        # The API hands out its own address in every URL, known only once the socket is bound.
        self.api = make_api(self.server_address[1])
        self._hooks_lock = threading.Lock()
        self.max_json_body, self.max_git_body = MAX_JSON_BODY, MAX_GIT_BODY

    def hooks(self) -> Path:
        with self._hooks_lock:
            return git_http.write_hooks(self.api.store.root)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open keep-alive connection, so a stopped sandbox answers nothing more."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)

    def record(self, method: str, path: str, status: int) -> None:
        self.requests.append((method, path, status))


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"  # keep-alive: PyGithub reuses one connection
    server_version = "release-tool-sandbox"
    timeout = 120  # an idle keep-alive connection is dropped eventually
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits
    # for the client's delayed ACK (~40 ms per response).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- the request ------------------------------------------------------------------------

    def _serve(self) -> None:
        split = urlsplit(self.path)
        path, query = split.path, split.query
        self._body_read: bytes | None = None
        try:
            fault = self.server.faults.take(self.command, path)
            if fault is not None and fault.after:
                self._lost_answer(path, query)
                self._fault(fault, path, self._body_read or b"")
            elif fault is not None:
                self._fault(fault, path, self._body(self.server.max_git_body))
            else:
                self._route(path, query)
        except BodyTooLarge as exc:
            body = shapes.error(f"Request body too large: over {exc.limit} bytes", status=413)
            self.server.record(self.command, path, 413)
            self._send(413, json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _lost_answer(self, path: str, query: str) -> None:
        """Serve the request for real, and throw its answer away (an `after:` fault's answer
        goes out instead)."""
        wfile, self.wfile = self.wfile, io.BytesIO()
        try:
            self._route(path, query)
        finally:
            self.wfile = wfile
            self.close_connection = False

    def _route(self, path: str, query: str) -> None:
        if path.startswith(UPLOADS_PREFIX + "/"):
            self._api(path, query, UPLOADS_PREFIX, "uploads")
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            self._api(path, query, API_PREFIX, "api")
        elif self.server.index is not None and is_index_path(path):
            response = self.server.index.handle(self.command, self.path, dict(self.headers))
            self.server.record(self.command, path, response.status)
            send(self, response)
        elif self.command in ("GET", "HEAD") and _DOWNLOAD.fullmatch(path):
            self._download(path)
        elif git_http.looks_like_git(path):
            self._git(path, query)
        elif self.command in ("GET", "HEAD") and self._page(path):
            pass
        else:
            self._plain(404, b"Not Found\n", path)

    def _page(self, path: str) -> bool:
        """An HTML page for a web URL (`pages`); False when `path` is not one."""
        api = self.server.api
        page = pages.render(api.store, api.state, self.server.pages, path)
        if page is None:
            return False
        self.server.record(self.command, path, page.status)
        self._send(page.status, page.html.encode(), {"Content-Type": "text/html; charset=utf-8"})
        return True

    def _body(self, limit: int) -> bytes:
        """The request body, read once, only once the request may proceed; more than `limit`
        bytes is refused (BodyTooLarge) without reading the rest."""
        if self._body_read is not None:
            return self._body_read
        chunks: list[bytes] = []
        total = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                total += size
                if total > limit:
                    raise BodyTooLarge(limit)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length > limit:
                raise BodyTooLarge(limit)
            chunks.append(self.rfile.read(length) if length > 0 else b"")
        self._body_read = b"".join(chunks)
        return self._body_read

    def _body_pending(self) -> bool:
        """Whether the request came with a body this answer leaves unread (the connection must
        then close: what follows on it is not a request)."""
        if self._body_read is not None:
            return False
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        return chunked or int(self.headers.get("Content-Length") or 0) > 0

    # -- faults -----------------------------------------------------------------------------

    def _fault(self, fault: Fault, path: str, request_body: bytes) -> None:
        log.info("fault %s hits %s %s", fault, self.command, path)
        if fault.status == "reset":
            self.server.record(self.command, path, 0)
            # SO_LINGER 0 makes close() send a TCP reset: the client sees the connection
            # dropped mid-request, with no response at all.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        headers: dict[str, str] = {}
        if fault.status == "ratelimit":
            status = 403
            user = self._api_user()
            limit = RATE_LIMIT if user else ANONYMOUS_RATE_LIMIT
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + 3600),
                "X-RateLimit-Used": str(limit),
                "X-RateLimit-Resource": "core",
            }
            request_id = uuid.uuid4().hex[:16].upper()
            headers["X-GitHub-Request-Id"] = request_id
            who = f"user ID {self.server.api.state.user_id(user)}" if user else "127.0.0.1"
            # GitHub's wording: PyGithub recognises a rate limit by "API rate limit exceeded".
            body = shapes.error(
                f"API rate limit exceeded for {who}. If you reach out to GitHub Support for "
                f"help, please include the request ID {request_id}.",
                "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                status=403,
            )
        elif fault.status == "secondary":
            status = 403
            request_id = uuid.uuid4().hex[:16].upper()
            headers = {"Retry-After": str(fault.retry_after), "X-GitHub-Request-Id": request_id}
            body = shapes.error(
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                f"request ID {request_id}.",
                "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-"
                "rest-api#about-secondary-rate-limits",
                status=403,
            )
        elif fault.status in ("nocommits", "headinvalid"):
            status, body = 422, _too_soon(fault.status, _parse(request_body))
        else:
            assert isinstance(fault.status, int)
            status = fault.status
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Sandbox fault"
            body = shapes.error(phrase, status=status)
        operation = None
        if path.startswith(API_PREFIX + "/"):
            matched = self.server.api.match(self.command, path.removeprefix(API_PREFIX))
            operation = matched[0].template if matched else None
        self._json(
            status,
            body,
            headers,
            path=path,
            operation=operation,
            request_body=_parse(request_body),
            fault=fault,
        )

    def _api_user(self) -> str | None:
        return self.server.access.from_api_header(self.headers.get("Authorization")).user

    # -- the REST API -----------------------------------------------------------------------

    def _api(self, path: str, query: str, prefix: str, host: str) -> None:
        api_path = path.removeprefix(prefix) or "/"
        headers = {k.lower(): v for k, v in self.headers.items()}
        limit = self.server.max_json_body if host == "api" else self.server.max_git_body
        try:
            # The body is read only once the token was checked: `handle` calls the reader.
            response, operation = self.server.api.handle(
                self.command,
                api_path,
                parse_qs(query, keep_blank_values=True),
                headers,
                lambda: self._body(limit),
                host,
            )
        except BodyTooLarge:
            raise
        except Exception:  # a bug in the sandbox: answer like GitHub's 500, keep serving
            log.exception("sandbox error on %s %s", self.command, path)
            response = Response(500, shapes.error("Server Error"))
            operation = None
        if response.raw is not None:
            self.server.record(self.command, path, response.status)
            self._send(
                response.status,
                response.raw,
                {
                    "Content-Type": "application/vnd.github.raw",
                    **self._rate_headers(),
                    **response.headers,
                },
            )
            return
        sent = self._body_read if host == "api" else None
        self._json(
            response.status,
            response.body,
            response.headers,
            path=path,
            operation=operation,
            request_body=_parse(sent or b""),
        )

    def _download(self, path: str) -> None:
        """A release asset's `browser_download_url`: the bytes, as github.com sends them."""
        found = _DOWNLOAD.fullmatch(path)
        assert found is not None
        full_name = f"{unquote(found['owner'])}/{unquote(found['repo'])}"
        data = None
        if is_full_name(full_name) and self.server.api.store.exists(full_name):
            data = self.server.api.download(
                full_name, unquote(found["tag"]), unquote(found["name"]), self._api_user()
            )
        if data is None:
            self._plain(404, b"Not Found\n", path)
            return
        self.server.record(self.command, path, 200)
        self._send(200, data, {"Content-Type": "application/octet-stream"})

    def _rate_headers(self) -> dict[str, str]:
        user = self._api_user()
        key = user or ""
        self.server.used[key] = used = self.server.used.get(key, 0) + 1
        limit = RATE_LIMIT if user else ANONYMOUS_RATE_LIMIT
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Reset": str(self.server.api.started + 3600),
            "X-RateLimit-Used": str(min(used, limit)),
            "X-RateLimit-Resource": "core",
        }

    def _json(
        self,
        status: int,
        body: Any,
        headers: dict[str, str],
        *,
        path: str,
        operation: str | None,
        request_body: Any,
        fault: Fault | None = None,
    ) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        all_headers = {**self._rate_headers(), **headers}
        if body is not None:
            all_headers["Content-Type"] = "application/json; charset=utf-8"
        all_headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        all_headers.setdefault("X-GitHub-Request-Id", uuid.uuid4().hex[:16].upper())
        if self._api_user():
            all_headers.setdefault("X-OAuth-Scopes", "repo, workflow")
        # Recorded and observed *before* the client gets the answer: once a client call
        # returns, its exchange is already in `requests` and through the contract check.
        self.server.record(self.command, path, status)
        observer = self.server.observer
        if observer is not None:
            try:
                observer(Exchange(self.command, path, operation, status, body, request_body, fault))
            except Exception:  # the observer is test code: its failure must not kill serving
                log.exception("sandbox observer failed")
        self._send(status, payload, all_headers)

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        closing = self._body_pending()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(payload)

    def _plain(
        self, status: int, text: bytes, path: str, headers: dict[str, str] | None = None
    ) -> None:
        self.server.record(self.command, path, status)
        self._send(status, text, {"Content-Type": "text/plain; charset=utf-8", **(headers or {})})

    # -- git smart HTTP ---------------------------------------------------------------------

    def _git(self, path: str, query: str) -> None:
        target = git_http.parse(self.command, path, query)
        if isinstance(target, git_http.GitRefusal):
            self._plain(target.status, target.text.encode(), path)
            return
        api = self.server.api
        asked = target.full_name
        full_name = api.store.canonical(asked) if is_full_name(asked) else None
        if full_name is not None and not api.ready(full_name):
            full_name = None  # a fork still being created
        if full_name is None:
            moved = api.state.renamed_to(asked) if is_full_name(asked) else None
            if moved and api.store.exists(moved):
                # As github.com: the old name redirects, and git follows it.
                location = f"{api.urls.clone(moved)}/{target.endpoint}"
                if target.query_string:
                    location += "?" + target.query_string
                status = 301 if self.command in ("GET", "HEAD") else 307
                self._plain(status, b"Moved Permanently\n", path, {"Location": location})
                return
            self._plain(404, b"Repository not found.\n", path)
            return
        # Decided on the decoded request, as http-backend will see it (see git_http).
        credentials = self.server.access.from_api_header(self.headers.get("Authorization"))
        user = credentials.user
        if credentials.bad or (target.pushing and user is None):
            # git retries with credentials only after this challenge.
            self._plain(
                401,
                b"Invalid username or token.\n"
                if credentials.bad
                else b"Authentication required.\n",
                path,
                {"WWW-Authenticate": 'Basic realm="GitHub"'},
            )
            return
        if target.pushing and not self.server.access.may_write(credentials, full_name):
            self._plain(403, f"Permission to {full_name}.git denied to {user}.\n".encode(), path)
            return
        refusal = ""
        if target.pushing and credentials.token is not None and not credentials.token.workflow:
            refusal = credentials.token.workflow_refusal("\0")
        body = self._body(self.server.max_git_body)  # only now: the token was checked
        env = git_http.backend_env(
            root=api.store.root,
            method=self.command,
            target=target,
            full_name=full_name,
            headers=dict(self.headers.items()),
            content_length=len(body),
            remote_addr=self.client_address[0],
            user=user,
            workflow_refusal=refusal,
            hooks=self.server.hooks() if refusal else None,
        )
        self._cgi(path, body, env)

    def _cgi(self, path: str, body: bytes, env: dict[str, str]) -> None:
        proc = subprocess.Popen(
            [HTTP_BACKEND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        errors: list[bytes] = []
        # Feed stdin and drain stderr on threads: a big push and a big answer must not
        # deadlock on full pipes.
        feeder = threading.Thread(target=_feed, args=(proc.stdin, body), daemon=True)
        drainer = threading.Thread(
            target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""), daemon=True
        )
        feeder.start()
        drainer.start()
        status, headers = 200, []
        while True:
            line = proc.stdout.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((key, value.strip()))
        self.server.record(self.command, path, status)
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while chunk := proc.stdout.read1(65536):  # type: ignore[attr-defined]
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
        proc.wait()
        feeder.join()
        drainer.join()
        if proc.returncode != 0 or any(errors):
            log.info(
                "git http-backend %s: exit %s %s",
                path,
                proc.returncode,
                b"".join(errors).decode(errors="replace").strip(),
            )


def _feed(stdin: Any, body: bytes) -> None:
    try:
        stdin.write(body)
    except BrokenPipeError:
        pass  # http-backend refused the request early; its answer says why
    finally:
        stdin.close()


def _too_soon(kind: str, request: Any) -> dict[str, Any]:
    """GitHub's answers to a pull request opened right after its head branch was pushed,
    before GitHub has seen the branch's commits."""
    if kind == "headinvalid":
        errors = [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
    else:
        fields = request if isinstance(request, dict) else {}
        base = fields.get("base", "")
        head = str(fields.get("head", "")).rpartition(":")[2]
        errors = [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": f"No commits between {base} and {head}",
            }
        ]
    return shapes.error(
        "Validation Failed",
        "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        errors=errors,
        status=422,
    )


def _parse(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None
