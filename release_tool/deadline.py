"""An overall deadline for one HTTP request: what a socket timeout is not.

A socket timeout bounds each read, not the request: a server (or a proxy) that answers one
byte every few seconds never trips it, and the request never ends. A `Deadline` bounds the
whole exchange: connecting, sending, the status line, the headers and the body. When it
passes, a timer thread shuts down the sockets of the request's connections, so the read that
is waiting returns at once and the request fails; the caller then reports it as timed out
("timed out after N s").

The connections are `http.client` connections (urllib's, and urllib3's, which derive from
them) that start the clock of the running thread's deadline each time a request starts on
them (`WatchedConnection`). `urlopen` is urllib's with such connections;
`release_tool.github_transport` gives urllib3 (under requests and PyGithub) the same.

Standard library only: the package-index wait imports it without requests.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.request
from types import TracebackType
from typing import Any

_current = threading.local()


class DeadlineExceeded(TimeoutError):
    """A request that was still running when its deadline passed (`fetch` raises it)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class Deadline:
    """`with Deadline(seconds):` — each request a watched connection starts in the block
    must be over within `seconds`, or its socket is shut down. `expired` says whether the
    last request ran out of time.

    The clock starts when a request starts on a connection (`begin`): a client that retries
    (urllib3 does, for an idempotent request) gives each attempt the whole deadline, and
    its waits between attempts are not counted.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._attempt = 0  # which `begin` the running timer belongs to
        self._connection: http.client.HTTPConnection | None = None
        self._timer: threading.Timer | None = None
        self._outer: Deadline | None = None

    def __enter__(self) -> Deadline:
        self._outer = current()
        _current.deadline = self
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            self._attempt += 1  # a timer that fires now finds nothing to do
            if self._timer is not None:
                self._timer.cancel()
        _current.deadline = self._outer

    def begin(self, connection: http.client.HTTPConnection) -> None:
        """A request starts on `connection` (or it connects): the clock starts again."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._attempt += 1
            self.expired = False
            self._connection = connection
            self._timer = threading.Timer(self.seconds, self._expire, (self._attempt,))
            self._timer.daemon = True
            self._timer.start()

    def _expire(self, attempt: int) -> None:
        with self._lock:
            if attempt != self._attempt or self._connection is None:
                return
            self.expired = True
            _shut(self._connection.sock)


def current() -> Deadline | None:
    """The deadline of the request running in this thread, if any."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    return deadline


def _shut(sock: Any) -> None:
    """Shut a socket down (a blocked read returns at once); closing it is the owner's job."""
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed: nothing is waiting on it
        sock.shutdown(socket.SHUT_RDWR)


class WatchedConnection(http.client.HTTPConnection):
    """An `http.client` connection that the running thread's `Deadline` can shut down.

    Mixed in before urllib's or urllib3's connection class: every request starts with
    `putrequest`, and opening the socket (`connect`, before or after it) starts the clock
    too, with the connect timeout no longer than the deadline.
    """

    def putrequest(self, *args: Any, **kwargs: Any) -> None:
        deadline = current()
        if deadline is not None:
            deadline.begin(self)
        super().putrequest(*args, **kwargs)

    def connect(self) -> None:
        deadline = current()
        if deadline is not None:
            deadline.begin(self)
            given = self.timeout if isinstance(self.timeout, int | float) else None
            self.timeout = min(given or deadline.seconds, deadline.seconds)
        super().connect()


# --- urllib ------------------------------------------------------------------------------------


class _HTTPConnection(WatchedConnection, http.client.HTTPConnection):
    pass


class _HTTPSConnection(WatchedConnection, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=getattr(self, "_context", None))


def fetch(request: urllib.request.Request, seconds: float) -> tuple[int, bytes]:
    """GET with urllib, the whole response read within `seconds`: (status, body).

    An error status raises urllib's HTTPError; the deadline raises `DeadlineExceeded`.
    """
    opener = urllib.request.build_opener(_HTTPHandler, _HTTPSHandler)
    with Deadline(seconds) as deadline:
        try:
            with opener.open(request, timeout=seconds) as response:
                status, body = int(response.status), bytes(response.read())
        except (OSError, http.client.HTTPException):
            if deadline.expired:
                raise DeadlineExceeded(seconds) from None
            raise
    if deadline.expired:  # a body without a length, cut short by the shutdown
        raise DeadlineExceeded(seconds)
    return status, body
