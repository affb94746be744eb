"""wait-for-index: wait until the released version can be installed from the package index.

PyPI and npm publishing run on the GitHub release's `published` event, in another workflow, so
the release step returns before the version exists anywhere. A downstream PR opened at once
fails its CI (pip cannot find the version), hence this optional wait between the two.

It polls the PEP 691 JSON simple API (`{index_url}/{normalized-name}/` with
`Accept: application/vnd.pypi.simple.v1+json`) with the standard library's urllib: one small
GET per poll, no dependency, and any PEP 691 index works (PyPI, devpi, a company mirror). The
version counts as there when a non-yanked wheel or sdist of it is listed. Anything else (a 404
for a package's very first release, a 5xx, a timeout, a non-JSON page) means "not yet" and the
next poll comes; only the overall timeout fails the step. Each GET has an overall deadline
(`release_tool.deadline`: the project's network timeout, at most 30 s), so an index that
trickles its answer cannot stall the wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from release_tool import __version__
from release_tool.config import DEFAULT_NETWORK_TIMEOUT
from release_tool.errors import StepFailed
from release_tool.plan import Outcome, RunState, StepPlan
from release_tool.versions import Version

STEP = "wait-for-index"
ACCEPT = "application/vnd.pypi.simple.v1+json"
DEFAULT_INTERVAL = 10.0

Progress = Callable[[str], None]


def project_url(index_url: str, package: str) -> str:
    """The index page of `package`: `{index}/{PEP 503 normalised name}/`."""
    from packaging.utils import canonicalize_name

    return f"{index_url.rstrip('/')}/{canonicalize_name(package)}/"


def files_of_version(page: Any, package: str, version: Version) -> list[str]:
    """The non-yanked wheels and sdists of `version` listed on a PEP 691 project page."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        canonicalize_name,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version as PackagingVersion

    wanted = PackagingVersion(version.pep440)
    name = canonicalize_name(package)
    found = []
    for entry in page.get("files", []) if isinstance(page, dict) else []:
        if not isinstance(entry, dict) or entry.get("yanked"):
            continue
        filename = str(entry.get("filename", ""))
        try:
            if filename.endswith(".whl"):
                file_name, file_version, *_ = parse_wheel_filename(filename)
            else:
                file_name, file_version = parse_sdist_filename(filename)
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        if file_name == name and file_version == wanted:
            found.append(filename)
    return found


@dataclass(frozen=True)
class WaitForIndexAction:
    """Poll the index until `package` `version` is listed, or fail after `timeout` seconds."""

    package: str
    version: Version
    index_url: str
    timeout: float
    interval: float = DEFAULT_INTERVAL
    progress: Progress | None = field(default=None, repr=False, compare=False)
    step: str = STEP
    request_timeout: float = DEFAULT_NETWORK_TIMEOUT  # one GET, in all (at most 30 s)

    @property
    def url(self) -> str:
        return project_url(self.index_url, self.package)

    def describe(self) -> str:
        return (
            f"wait until {self.package} {self.version} is on {self.index_url} "
            f"(up to {_duration(self.timeout)}, polling every {_duration(self.interval)})"
        )

    def details(self) -> str:
        return f"GET {self.url}\nAccept: {ACCEPT}"

    def data(self) -> dict[str, Any]:
        return {
            "action": "wait-for-index",
            "package": self.package,
            "version": str(self.version),
            "url": self.url,
            "timeout": self.timeout,
            "interval": self.interval,
        }

    def apply(self, state: RunState) -> Outcome:
        start = time.monotonic()
        deadline = start + self.timeout
        polls = 0
        while True:
            polls += 1
            left = max(min(30.0, deadline - time.monotonic()), 1.0)
            files, why_not = self.poll(min(left, self.request_timeout))
            waited = time.monotonic() - start
            if files:
                self._say(
                    f"{self.package} {self.version} is on the index after "
                    f"{_duration(waited)} ({len(files)} file"
                    f"{'s' if len(files) != 1 else ''})"
                )
                return Outcome(
                    f"{self.package} {self.version} is on {self.index_url} "
                    f"({', '.join(sorted(files))})"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StepFailed(
                    f"{self.package} {self.version} did not appear on {self.index_url} within "
                    f"{_duration(self.timeout)} ({polls} polls; last: {why_not})",
                    "check the publish workflow that runs on the GitHub release; once the "
                    "version is on the index, run the same command again (or raise "
                    "index_timeout, or --skip wait-for-index)",
                )
            self._say(
                f"waiting for {self.package} {self.version} on {self.index_url}: "
                f"{why_not} ({_duration(waited)} of {_duration(self.timeout)})"
            )
            time.sleep(min(self.interval, remaining))

    def poll(self, timeout: float) -> tuple[list[str], str]:
        """One GET of the project page: (the version's files, why they are not there)."""
        # Only a run that waits pays for urllib (http.client, ssl, email): not a dry run.
        import http.client
        import urllib.error
        import urllib.request

        from release_tool.deadline import DeadlineExceeded, fetch

        # The URL is the project's own index_url, checked to be http(s) when planned.
        request = urllib.request.Request(  # noqa: S310
            self.url,
            headers={
                "Accept": ACCEPT,
                "User-Agent": f"release-tool/{__version__}",
                # A CDN may hold the page for minutes; we want the index's current answer.
                "Cache-Control": "no-cache",
            },
        )
        try:
            _, body = fetch(request, timeout)  # the whole answer within `timeout`
            page = json.loads(body.decode("utf-8"))
        except urllib.error.HTTPError as exc:
            return [], f"HTTP {exc.code}"
        except DeadlineExceeded as exc:
            return [], f"unreachable ({exc})"
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            return [], f"unreachable ({reason})"
        except (ValueError, UnicodeDecodeError):
            return [], "not a PEP 691 JSON page"
        files = files_of_version(page, self.package, self.version)
        return files, "" if files else "not there yet"

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds:.2f}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f} min"


def plan_wait_for_index(
    package: str,
    version: Version,
    *,
    index_url: str,
    timeout: float,
    interval: float = DEFAULT_INTERVAL,
    progress: Progress | None = None,
    request_timeout: float = DEFAULT_NETWORK_TIMEOUT,
) -> StepPlan:
    """The wait-for-index step's action, planned with no request at all."""
    if not index_url.startswith(("https://", "http://")):
        from release_tool.errors import ConfigError

        raise ConfigError(
            f"tool.release_tool.index_url: {index_url!r} is not an http(s) URL",
            "e.g. https://pypi.org/simple/",
        )
    return StepPlan(
        STEP,
        (
            WaitForIndexAction(
                package, version, index_url, timeout, interval, progress, STEP, request_timeout
            ),
        ),
    )
