"""A package index over a directory of wheels and sdists: the sandbox's PyPI.

Serves every distribution file in one flat directory, read afresh on each request (a file
published while the index runs is listed at once):

- `/simple/`: the project list; `/simple/NAME/`: one project's files. PEP 503 HTML or PEP 691
  JSON (API version 1.1, PEP 700's `versions` and `size`), chosen by the `Accept` header (or
  `?format=`); a name that is not PEP 503-normalised, or a URL without its trailing slash,
  redirects to the normalised one.
- `/files/FILENAME`: the file itself; every link carries `#sha256=` (HTML) or `hashes` (JSON).
- `/files/FILENAME.metadata`: a wheel's `METADATA`, extracted (PEP 658), announced with its
  sha256 as `data-dist-info-metadata` and `data-core-metadata` (PEP 714), `core-metadata` and
  `dist-info-metadata` in JSON.
- A sidecar `FILENAME.yanked` marks the file yanked (PEP 592); its text is the reason.

`Index.handle()` is the whole logic, HTTP-server free: the sandbox server mounts it, and
`IndexServer` serves it alone (tests, `release-tool sandbox serve --index DIR`). Links are
relative (`../../files/...`), so the index works under any host and port.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

SIMPLE = "/simple/"
FILES = "/files/"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
API_VERSION = "1.1"
_NO_CACHE = {"Cache-Control": "no-cache"}  # uv and pip revalidate: a new release shows at once


@dataclass(frozen=True)
class IndexResponse:
    """What the index answers: status, headers and body bytes."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Distribution:
    """One file of the directory, with what the pages say about it."""

    filename: str
    project: str  # normalised
    version: str
    size: int
    sha256: str
    metadata: bytes | None  # a wheel's METADATA, None for an sdist
    requires_python: str | None
    yanked: str | None  # the reason ("" for none given), None when not yanked
    mtime: float

    @property
    def metadata_sha256(self) -> str | None:
        return None if self.metadata is None else hashlib.sha256(self.metadata).hexdigest()


def parse_filename(filename: str) -> tuple[str, str] | None:
    """(normalised project, version) of a wheel or sdist file name, or None for anything else."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return str(name), str(version)


def wheel_metadata(path: Path) -> bytes | None:
    """The `*.dist-info/METADATA` of a wheel, or None when it has none (a broken wheel)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.split("/")[0].endswith(".dist-info")
                if n.endswith("/METADATA")
            ]
            return archive.read(names[0]) if len(names) == 1 else None
    except (OSError, zipfile.BadZipFile):
        return None


class Index:
    """The index over `directory`; `handle()` answers one request. Thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        # Hashing and unzipping once per file version: (name, size, mtime_ns) -> Distribution.
        self._cache: dict[tuple[str, int, int], Distribution] = {}
        self._lock = threading.Lock()

    # -- reading the directory --------------------------------------------------------------

    def distributions(self) -> dict[str, list[Distribution]]:
        """Every distribution in the directory now, by normalised project, sorted by name."""
        projects: dict[str, list[Distribution]] = {}
        try:
            entries = sorted(os.scandir(self.directory), key=lambda e: e.name)
        except FileNotFoundError:
            return {}
        names = {e.name for e in entries}
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_file():
                continue
            parsed = parse_filename(entry.name)
            if parsed is None:
                continue
            dist = self._describe(entry, parsed)
            yanked_file = f"{entry.name}.yanked"
            if yanked_file in names:
                reason = (self.directory / yanked_file).read_text(errors="replace").strip()
                dist = dataclasses.replace(dist, yanked=reason)
            projects.setdefault(parsed[0], []).append(dist)
        return dict(sorted(projects.items()))

    def _describe(self, entry: os.DirEntry[str], parsed: tuple[str, str]) -> Distribution:
        stat = entry.stat()
        key = (entry.name, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        path = Path(entry.path)
        data = path.read_bytes()
        metadata = wheel_metadata(path) if entry.name.endswith(".whl") else None
        requires_python = None
        if metadata is not None:
            requires_python = BytesHeaderParser().parsebytes(metadata).get("Requires-Python")
        dist = Distribution(
            filename=entry.name,
            project=parsed[0],
            version=parsed[1],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            metadata=metadata,
            requires_python=str(requires_python) if requires_python else None,
            yanked=None,
            mtime=stat.st_mtime,
        )
        with self._lock:
            self._cache[key] = dist
        return dist

    # -- answering --------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> IndexResponse:
        """Answer `method target` (target: path and query, as in the request line)."""
        if method not in ("GET", "HEAD"):
            return _text(405, "Method Not Allowed\n", {"Allow": "GET, HEAD"})
        split = urlsplit(target)
        path = unquote(split.path)
        if path == SIMPLE.rstrip("/"):
            return _redirect(SIMPLE)
        if path.startswith(FILES):
            return self._file(path.removeprefix(FILES))
        if not path.startswith(SIMPLE):
            return _text(404, "Not Found\n")
        media = negotiate(
            next((v for k, v in headers.items() if k.lower() == "accept"), ""),
            parse_qs(split.query).get("format", [None])[0],
        )
        if media is None:
            return _text(406, f"Not Acceptable: use {JSON_TYPE} or {HTML_TYPE}\n")
        rest = path.removeprefix(SIMPLE)
        if rest == "":
            return self._root(media)
        name = rest.rstrip("/")
        if "/" in name:
            return _text(404, "Not Found\n")
        normal = canonicalize_name(name)
        if name != normal or not rest.endswith("/"):
            query = f"?{split.query}" if split.query else ""
            return _redirect(f"{SIMPLE}{normal}/{query}")
        files = self.distributions().get(normal)
        if not files:
            return _text(404, f"Not Found: no project {normal}\n")
        return self._project(normal, files, media)

    def _root(self, media: str) -> IndexResponse:
        projects = list(self.distributions())
        if media == JSON_TYPE:
            body: dict[str, Any] = {
                "meta": {"api-version": API_VERSION},
                "projects": [{"name": p} for p in projects],
            }
            return _json(body)
        links = "".join(f'    <a href="{quote(p)}/">{html.escape(p)}</a><br/>\n' for p in projects)
        return _html(media, "Simple index", links)

    def _project(self, name: str, files: list[Distribution], media: str) -> IndexResponse:
        if media == JSON_TYPE:
            body = {
                "meta": {"api-version": API_VERSION},
                "name": name,
                "versions": sorted({d.version for d in files}, key=_version_key),
                "files": [_json_file(d) for d in files],
            }
            return _json(body)
        links = "".join(_html_link(d) for d in files)
        return _html(media, f"Links for {name}", links)

    def _file(self, filename: str) -> IndexResponse:
        metadata = filename.endswith(".metadata")
        wanted = filename.removesuffix(".metadata") if metadata else filename
        dist = next(
            (d for ds in self.distributions().values() for d in ds if d.filename == wanted), None
        )
        if dist is None or (metadata and dist.metadata is None):
            return _text(404, "Not Found\n")
        if metadata:
            assert dist.metadata is not None
            return IndexResponse(200, dist.metadata, {"Content-Type": "text/plain; charset=utf-8"})
        data = (self.directory / dist.filename).read_bytes()
        return IndexResponse(
            200,
            data,
            {"Content-Type": "application/octet-stream", "ETag": f'"{dist.sha256}"', **_NO_CACHE},
        )


def negotiate(accept: str, format_param: str | None = None) -> str | None:
    """The response type for an `Accept` header (PEP 691's rules): the highest quality among
    JSON, versioned HTML and `text/html`; HTML when nothing is asked; None when only other
    types are acceptable (the caller answers 406). `?format=` wins over the header."""
    if format_param:
        accept = format_param.replace(" ", "+")  # an unescaped `+` in a query reads as a space
    if not accept.strip():
        return HTML_TYPE
    offers = (JSON_TYPE, HTML_TYPE, "text/html")
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in ("*/*", "application/*"):
            matched = JSON_TYPE if media == "application/*" else HTML_TYPE
        elif media == "text/*":
            matched = "text/html"
        elif media in offers:
            matched = media
        else:
            continue
        candidate = (quality, -position, matched)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


def _version_key(version: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(version), "")
    except InvalidVersion:
        return (1, None, version)


def _file_url(filename: str) -> str:
    return f"../../files/{quote(filename)}"


def _json_file(dist: Distribution) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": dist.filename,
        "url": _file_url(dist.filename),
        "hashes": {"sha256": dist.sha256},
        "size": dist.size,
    }
    if dist.requires_python:
        entry["requires-python"] = dist.requires_python
    digest = dist.metadata_sha256
    metadata: Any = {"sha256": digest} if digest else False
    entry["core-metadata"] = metadata
    entry["dist-info-metadata"] = metadata  # PEP 714: older clients read the old key
    if dist.yanked is not None:
        entry["yanked"] = dist.yanked or True
    return entry


def _html_link(dist: Distribution) -> str:
    attributes = [f'href="{_file_url(dist.filename)}#sha256={dist.sha256}"']
    if dist.requires_python:
        attributes.append(f'data-requires-python="{html.escape(dist.requires_python)}"')
    digest = dist.metadata_sha256
    if digest:
        attributes.append(f'data-dist-info-metadata="sha256={digest}"')
        attributes.append(f'data-core-metadata="sha256={digest}"')
    if dist.yanked is not None:
        attributes.append(f'data-yanked="{html.escape(dist.yanked)}"')
    return f"    <a {' '.join(attributes)}>{html.escape(dist.filename)}</a><br/>\n"


def _html(media: str, title: str, links: str) -> IndexResponse:
    page = (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{links}  </body>\n</html>\n"
    )
    headers = {"Content-Type": f"{media}; charset=utf-8", "Vary": "Accept", **_NO_CACHE}
    return IndexResponse(200, page.encode(), headers)


def _json(body: dict[str, Any]) -> IndexResponse:
    headers = {"Content-Type": JSON_TYPE, "Vary": "Accept", **_NO_CACHE}
    return IndexResponse(200, json.dumps(body, indent=1).encode(), headers)


def _text(status: int, text: str, headers: Mapping[str, str] | None = None) -> IndexResponse:
    return IndexResponse(
        status, text.encode(), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
    )


def _redirect(location: str) -> IndexResponse:
    return _text(301, f"Moved to {location}\n", {"Location": location})


def is_index_path(path: str) -> bool:
    """Whether a request path belongs to the index (the sandbox server routes it here)."""
    return path == SIMPLE.rstrip("/") or path.startswith((SIMPLE, FILES))


# -- serving alone ---------------------------------------------------------------------------


class IndexServer:
    """The index alone on 127.0.0.1 (port 0: a free one), on a background thread.

    with IndexServer(wheel_dir) as index:
        subprocess.run(["uv", "lock", "--default-index", index.url], ...)
    """

    def __init__(self, directory: Path, *, port: int = 0) -> None:
        self.index = Index(directory)
        self.requests: list[tuple[str, str, int]] = []
        self._server = _IndexHTTPServer(("127.0.0.1", port), _IndexHandler)
        self._server.index, self._server.requests = self.index, self.requests
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The index URL, as uv's `--default-index` and pip's `--index-url` take it."""
        return f"http://127.0.0.1:{self.port}{SIMPLE}"

    def start(self) -> IndexServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"index:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _IndexHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    index: Index
    requests: list[tuple[str, str, int]]


class _IndexHandler(BaseHTTPRequestHandler):
    server: _IndexHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "release-tool-index"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # a request body is not read: drop the connection
        response = self.server.index.handle(self.command, self.path, dict(self.headers.items()))
        self.server.requests.append((self.command, urlsplit(self.path).path, response.status))
        send(self, response)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET


def send(handler: BaseHTTPRequestHandler, response: IndexResponse) -> None:
    """Write `response` through an `http.server` handler (HEAD: headers only)."""
    handler.send_response(response.status)
    for key, value in response.headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(response.body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(response.body)
