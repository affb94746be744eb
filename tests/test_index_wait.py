"""wait-for-index against a real local index: a PEP 691 JSON simple API on 127.0.0.1.

The server (http.server in a thread) lists the package without the new version for the first
N polls and with it afterwards, the way PyPI looks while the publish workflow runs.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from release_tool.errors import ConfigError, StepFailed
from release_tool.index_wait import (
    ACCEPT,
    WaitForIndexAction,
    files_of_version,
    plan_wait_for_index,
    project_url,
)
from release_tool.plan import RunState
from release_tool.versions import parse_version

VERSION = parse_version("5.3.0")
OLD_FILES = [
    {"filename": "edx-proctoring-5.2.0.tar.gz", "url": "x", "hashes": {}},
    {"filename": "edx_proctoring-5.2.0-py3-none-any.whl", "url": "x", "hashes": {}},
]
NEW_FILES = [
    {"filename": "edx_proctoring-5.3.0.tar.gz", "url": "x", "hashes": {}},
    {"filename": "edx_proctoring-5.3.0-py3-none-any.whl", "url": "x", "hashes": {}},
]


@dataclasses.dataclass
class Index:
    """What the fake index serves, and what it saw."""

    url: str
    appear_after: int = 3  # polls answered without the new version
    missing_project: bool = False  # answer 404 until the version appears (a first release)
    polls: int = 0
    accepts: list[str] = dataclasses.field(default_factory=list)
    paths: list[str] = dataclasses.field(default_factory=list)

    def page(self) -> tuple[int, dict[str, Any] | None]:
        self.polls += 1
        there = self.polls > self.appear_after
        if self.missing_project and not there:
            return 404, None
        files = OLD_FILES + (NEW_FILES if there else [])
        return 200, {
            "meta": {"api-version": "1.1"},
            "name": "edx-proctoring",
            "files": files,
            "versions": ["5.2.0", *(["5.3.0"] if there else [])],
        }


@pytest.fixture
def index() -> Iterator[Index]:
    state = Index(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.accepts.append(self.headers.get("Accept", ""))
            state.paths.append(self.path)
            if self.path != "/simple/edx-proctoring/":
                self.send_error(404)
                return
            status, body = state.page()
            if body is None:
                self.send_error(status)
                return
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ACCEPT)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def action(
    index: Index,
    *,
    timeout: float = 5.0,
    progress: list[str] | None = None,
    package: str = "edx-proctoring",
) -> WaitForIndexAction:
    return WaitForIndexAction(
        package,
        VERSION,
        index.url,
        timeout,
        interval=0.02,
        progress=progress.append if progress is not None else None,
    )


def test_waits_until_the_version_appears(index: Index) -> None:
    progress: list[str] = []
    outcome = action(index, progress=progress).apply(RunState())
    assert index.polls == 4
    assert set(index.accepts) == {ACCEPT}
    assert outcome.summary.endswith(
        "(edx_proctoring-5.3.0-py3-none-any.whl, edx_proctoring-5.3.0.tar.gz)"
    )
    assert len(progress) == 4
    assert all(
        line.startswith("waiting for edx-proctoring 5.3.0 on ") and "not there yet" in line
        for line in progress[:3]
    )
    assert progress[-1].startswith("edx-proctoring 5.3.0 is on the index after ")


def test_a_first_release_is_a_404_until_it_is_published(index: Index) -> None:
    index.missing_project = True
    progress: list[str] = []
    action(index, progress=progress).apply(RunState())
    assert "HTTP 404" in progress[0]


def test_the_name_is_normalised(index: Index) -> None:
    action(index, package="EDX_Proctoring").apply(RunState())
    assert set(index.paths) == {"/simple/edx-proctoring/"}


def test_timeout_fails_the_step_with_a_hint(index: Index) -> None:
    index.appear_after = 10_000
    started = time.monotonic()
    with pytest.raises(StepFailed) as caught:
        action(index, timeout=0.3).apply(RunState())
    assert 0.3 <= time.monotonic() - started < 3
    assert caught.value.message.startswith(
        f"edx-proctoring 5.3.0 did not appear on {index.url} within 0.30s"
    )
    assert "last: not there yet" in caught.value.message
    assert "publish workflow" in caught.value.hint
    assert "--skip wait-for-index" in caught.value.hint


def test_an_unreachable_index_is_retried_until_the_timeout() -> None:
    wait = WaitForIndexAction(
        "edx-proctoring", VERSION, "http://127.0.0.1:9/simple/", 0.2, interval=0.02
    )
    with pytest.raises(StepFailed, match="unreachable"):
        wait.apply(RunState())


def test_which_files_count() -> None:
    page = {
        "files": [
            {"filename": "edx_proctoring-5.3.0-py3-none-any.whl", "yanked": "broken"},
            {"filename": "edx_proctoring-5.3.0rc1.tar.gz"},
            {"filename": "edx-proctoring-proctortrack-5.3.0.tar.gz"},
            {"filename": "edx_proctoring-5.3.0.zip"},
            {"filename": "edx_proctoring-5.3.0.exe"},
            {"filename": "not a file name"},
        ]
    }
    assert files_of_version(page, "edx-proctoring", VERSION) == ["edx_proctoring-5.3.0.zip"]
    assert files_of_version({"files": []}, "edx-proctoring", VERSION) == []
    assert files_of_version("not json object", "edx-proctoring", VERSION) == []


def test_plan() -> None:
    planned = plan_wait_for_index(
        "edx-proctoring", VERSION, index_url="https://pypi.org/simple/", timeout=900
    )
    (wait,) = planned.actions
    assert wait.describe() == (
        "wait until edx-proctoring 5.3.0 is on https://pypi.org/simple/ "
        "(up to 15 min, polling every 10s)"
    )
    assert wait.details() == (f"GET https://pypi.org/simple/edx-proctoring/\nAccept: {ACCEPT}")
    assert (
        project_url("https://pypi.org/simple", "Edx.Proctoring")
        == "https://pypi.org/simple/edx-proctoring/"
    )
    with pytest.raises(ConfigError):
        plan_wait_for_index("edx-proctoring", VERSION, index_url="file:///etc/", timeout=1)


def test_the_release_waits_for_the_index_before_the_pr(
    sandbox: Any, tmp_path: Path, index: Index
) -> None:
    from test_github_release import library_project, release, step

    progress: list[str] = []
    project = library_project(
        sandbox,
        tmp_path,
        change=lambda c: dataclasses.replace(
            c, wait_for_index=True, index_url=index.url, index_timeout=10.0
        ),
        progress=progress.append,
    )
    planned, result = release(project)
    (wait,) = step(planned, "wait-for-index").actions
    assert wait.describe().startswith("wait until edx-proctoring 5.3.0 is on ")
    order = [s for s, _, _ in result.applied]
    assert order.index("github-release") < order.index("wait-for-index") < order.index("downstream")
    assert index.polls == 4
    assert progress[-1].startswith("edx-proctoring 5.3.0 is on the index")
