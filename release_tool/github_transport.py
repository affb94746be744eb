"""GitHub's HTTP transport under PyGithub: an overall deadline per request, JSON answers only.

PyGithub's `timeout` is requests' (urllib3's) per-read socket timeout: a response that trickles
in one byte at a time never trips it. `install` swaps the requests adapter PyGithub mounts for a
`DeadlineAdapter`, whose `send` runs each request attempt — connecting, the headers and the
whole body — under a `release_tool.deadline.Deadline`: when it passes, the request's socket is
shut down and the request fails with `DeadlineTimeout` (a requests `Timeout`: like a dropped
connection, a POST that timed out may have been done; `GitHub.create` looks before repeating).
urllib3's own retries of an idempotent request each get a fresh deadline.

A 307 or 308 (GitHub's answer to a write to a renamed repository, which PyGithub does not
follow) becomes `Redirected`, never a redirect body mistaken for the answer.

The adapter also refuses a successful answer that is not JSON (`NotJson`): a captive portal, a
proxy's login page or a wrong `github_api` answers 200 with HTML, which PyGithub would hand
over as `{"data": "<html>…"}`.

Imported by `github_api` only, when it makes its client (requests is PyGithub's dependency).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import RequestException, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from release_tool.deadline import Deadline, WatchedConnection

if TYPE_CHECKING:  # requests' own type aliases (a private module: for the checker only)
    from requests._types import CertType, TimeoutType, VerifyType


class DeadlineTimeout(Timeout):
    """A request that had not finished when its overall deadline passed."""

    def __init__(self, seconds: float, request: PreparedRequest) -> None:
        super().__init__(f"timed out after {seconds:g} s", request=request)
        self.seconds = seconds


class NotJson(RequestException):
    """A successful answer whose body is not JSON; `what` names the request."""

    def __init__(self, what: str, content_type: str, response: Response) -> None:
        super().__init__(f"{what}: the answer is not JSON ({content_type})", response=response)
        self.what = what
        self.content_type = content_type


class Redirected(RequestException):
    """GitHub answered a request with a redirect PyGithub does not follow (307 or 308: a write
    to a renamed or transferred repository). PyGithub would hand the redirect's body over as
    the answer (and the caller would fail on a missing key); this stops it first."""

    def __init__(self, what: str, status: int, location: str, response: Response) -> None:
        super().__init__(f"{what}: moved ({status})", response=response)
        self.what = what
        self.status = status
        self.location = location


class _HTTPConnection(WatchedConnection, HTTPConnection):
    pass


class _HTTPSConnection(WatchedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with an overall deadline per request (`seconds`), body included.

    `prefix` is the API's path (`/api/v3` on Enterprise), left out when a request is named.
    """

    def __init__(self, seconds: float, prefix: str = "", **kwargs: Any) -> None:
        self.seconds = seconds
        self.prefix = prefix.rstrip("/")
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS  # connections a deadline can shut

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools have their own classes
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: TimeoutType = None,
        verify: VerifyType = True,
        cert: CertType = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        with Deadline(self.seconds) as deadline:
            try:
                response = super().send(
                    request, stream, _capped(timeout, self.seconds), verify, cert, proxies
                )
                if not stream:
                    response.content  # noqa: B018 -- read the body under the deadline
            except (RequestException, OSError):
                if deadline.expired:
                    raise DeadlineTimeout(self.seconds, request) from None
                raise
        if deadline.expired:
            raise DeadlineTimeout(self.seconds, request)
        if response.status_code in (307, 308):
            raise Redirected(
                self._name(request),
                response.status_code,
                response.headers.get("Location", ""),
                response,
            )
        if not stream:
            self._check_json(request, response)
        return response

    def _name(self, request: PreparedRequest) -> str:
        path = urlsplit(request.url or "").path
        if self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix) :]
        return f"{request.method} {path}"

    def _check_json(self, request: PreparedRequest, response: Response) -> None:
        if not 200 <= response.status_code < 300 or not response.content:
            return
        content_type = response.headers.get("Content-Type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if media == "application/json" or media.endswith("+json"):
            return
        raise NotJson(self._name(request), media or "no content type", response)


def _capped(timeout: TimeoutType, seconds: float) -> float | tuple[float, float]:
    """requests' (connect, read) timeouts, neither longer than the deadline."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        return (min(connect or seconds, seconds), min(read or seconds, seconds))
    return min(timeout or seconds, seconds)


def install(client: Any, seconds: float, prefix: str = "") -> None:
    """Make every request of a PyGithub `Github` client go through a `DeadlineAdapter`.

    PyGithub creates its requests session lazily, in the connection class its requester
    holds; a subclass of that class mounts the adapter as the session is made.
    """
    requester = client.requester
    attribute = "_Requester__connectionClass"  # PyGithub's own, per requester (2.x)
    base = getattr(requester, attribute)

    class Connection(base):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.adapter = DeadlineAdapter(
                seconds,
                prefix,
                max_retries=self.retry,
                pool_connections=self.pool_size,
                pool_maxsize=self.pool_size,
            )
            self.session.mount(f"{self.protocol}://", self.adapter)

    setattr(requester, attribute, Connection)
