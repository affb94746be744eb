"""The released library on its package index: whether a version is there, waiting for it, and the
dependencies each release declares (its core metadata, PEP 658).

The `edit` strategy changes a downstream's pin lines only: right when the new release declares
the same dependencies as the one the downstream pins, wrong otherwise (the pins of the
dependencies would not be moved with it; edx-proctoring's history has releases that change
pyjwt, swap jsonfield2 for jsonfield, move django-simple-history). So before editing, the plan
compares the two releases' `Requires-Dist`, read from the library's `index_url`:

* the project page, PEP 691 JSON (`Accept: application/vnd.pypi.simple.v1+json`), lists the
  files of each version; a wheel's core metadata is at `URL.metadata` when the page says so
  (PEP 658 `core-metadata`, PEP 714; its older spelling `dist-info-metadata`), else it is read
  from the wheel itself (its `*.dist-info/METADATA`);
* the requirements are compared as `packaging` reads them (names normalised, specifiers and
  markers in their canonical spelling), so a reformatted but equal metadata file is equal.

`PackageIndex.wait` polls the project page until a version is listed (the `dispatch`
strategy's first step, and the `edit` strategy's dependency check during a release, which is
planned before the version is published). Each GET has an overall deadline
(`release_tool.deadline`).
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser

from release_tool import __version__
from release_tool.config import DEFAULT_NETWORK_TIMEOUT
from release_tool.deadline import DeadlineExceeded, fetch
from release_tool.errors import StepFailed, UsageError

ACCEPT = "application/vnd.pypi.simple.v1+json"
DEFAULT_INTERVAL = 10.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DistFile:
    """One non-yanked file of a version on the index."""

    filename: str
    url: str  # absolute
    metadata: bool  # the index serves its core metadata at `url + ".metadata"` (PEP 658)


@dataclass(frozen=True)
class PackageIndex:
    """The library's package index (`index_url`), and how long and how often to wait on it."""

    url: str
    timeout: float = 900.0  # a wait's overall limit (`index_timeout`)
    interval: float = DEFAULT_INTERVAL
    request_timeout: float = DEFAULT_NETWORK_TIMEOUT
    progress: Progress | None = field(default=None, compare=False, repr=False)

    def project_url(self, package: str) -> str:
        from packaging.utils import canonicalize_name

        return f"{self.url.rstrip('/')}/{canonicalize_name(package)}/"

    def _get(self, url: str, accept: str = "*/*") -> bytes:
        if not url.startswith(("https://", "http://")):
            raise UsageError(
                f"tool.release_tool.index_url: {self.url!r} is not an http(s) URL",
                "e.g. https://pypi.org/simple/",
            )
        request = urllib.request.Request(  # noqa: S310 -- http(s) only, checked above
            url,
            headers={
                "Accept": accept,
                "User-Agent": f"release-tool/{__version__}",
                "Cache-Control": "no-cache",
            },
        )
        _, body = fetch(request, min(self.request_timeout, 30.0))
        return body

    def files(self, package: str, version: str) -> tuple[list[DistFile], str]:
        """The version's non-yanked files, and why there are none ("" when there are).

        Never raises for the index's state: a 404, a 5xx, a timeout or a non-JSON page is a
        reason, as for a wait (the caller decides whether that is "not yet" or an error)."""
        page_url = self.project_url(package)
        try:
            page = json.loads(self._get(page_url, ACCEPT).decode("utf-8"))
        except urllib.error.HTTPError as exc:
            return [], f"HTTP {exc.code} from {page_url}"
        except DeadlineExceeded as exc:
            return [], f"{page_url} unreachable ({exc})"
        except (urllib.error.URLError, OSError) as exc:
            return [], f"{page_url} unreachable ({getattr(exc, 'reason', exc)})"
        except (ValueError, UnicodeDecodeError):
            return [], f"{page_url} is not a PEP 691 JSON page"
        found = _files_of(page, page_url, package, version)
        return found, "" if found else f"{package} {version} is not on {self.url}"

    def wait(self, package: str, version: str) -> str:
        """Poll until `version` is listed; a summary of the wait. StepFailed after `timeout`."""
        start = time.monotonic()
        polls = 0
        while True:
            polls += 1
            found, why = self.files(package, version)
            waited = time.monotonic() - start
            if found:
                if polls > 1:
                    self._say(f"{package} {version} is on the index after {waited:.0f}s")
                return f"{package} {version} is on {self.url}"
            if waited >= self.timeout:
                raise StepFailed(
                    f"{package} {version} did not appear on {self.url} within "
                    f"{self.timeout:.0f}s ({polls} polls; last: {why})",
                    "check the publish workflow that runs on the GitHub release; once the "
                    "version is on the index, run the same command again (or raise "
                    "index_timeout)",
                )
            self._say(f"waiting for {package} {version} on {self.url}: {why} ({waited:.0f}s)")
            time.sleep(min(self.interval, max(self.timeout - waited, 0.0)))

    def requirements(self, package: str, version: str) -> tuple[str, ...] | None:
        """The `Requires-Dist` of `package` `version`, normalised and sorted; None when the
        index does not list the version. UsageError when it is listed but its metadata cannot
        be read (no wheel, a broken file)."""
        found, _ = self.files(package, version)
        if not found:
            return None
        wheels = [f for f in found if f.filename.endswith(".whl")]
        if not wheels:
            raise UsageError(
                f"{package} {version} has no wheel on {self.url}: its dependencies cannot be "
                "read without building it",
                'use strategy = "relock" for that downstream (its resolver reads them), or '
                "check_dependencies = false",
            )
        chosen = next((w for w in wheels if w.metadata), wheels[0])
        try:
            if chosen.metadata:
                text = self._get(chosen.url + ".metadata").decode("utf-8")
            else:
                text = _wheel_metadata(self._get(chosen.url))
        except (urllib.error.URLError, OSError, ValueError, zipfile.BadZipFile) as exc:
            raise UsageError(
                f"cannot read the metadata of {chosen.filename} from {self.url}: {exc}",
                "check the index, then run the same command again",
            ) from None
        return normalised_requirements(text)

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


def _files_of(page: object, page_url: str, package: str, version: str) -> list[DistFile]:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        canonicalize_name,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import InvalidVersion, Version

    try:
        wanted = Version(version)
    except InvalidVersion:
        return []
    name = canonicalize_name(package)
    found = []
    entries = page.get("files", []) if isinstance(page, dict) else []
    for entry in entries if isinstance(entries, list) else []:
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
        if file_name != name or file_version != wanted:
            continue
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
        url = urllib.parse.urljoin(page_url, str(entry.get("url", "")))
        found.append(DistFile(filename, url.split("#", 1)[0], bool(metadata)))
    return found


def _wheel_metadata(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        names = [n for n in wheel.namelist() if n.count("/") == 1]
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        return wheel.read(metadata).decode("utf-8")


def normalised_requirements(metadata: str) -> tuple[str, ...]:
    """A core metadata file's `Requires-Dist`, each as packaging spells it, sorted."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    message = HeaderParser().parsestr(metadata)
    out = set()
    for value in message.get_all("Requires-Dist") or ():
        try:
            requirement = Requirement(value)
            requirement.name = canonicalize_name(requirement.name)
            out.add(str(requirement))
        except InvalidRequirement:
            out.add(" ".join(value.split()))
    return tuple(sorted(out, key=lambda r: (_name(r), r)))


def _name(requirement: str) -> str:
    from packaging.utils import canonicalize_name

    head = requirement.split(";", 1)[0]
    for stop in "[<>=!~@ (":
        head = head.split(stop, 1)[0]
    return str(canonicalize_name(head.strip() or requirement))


def dependency_changes(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """How `new`'s requirements differ from `old`'s, in words ([] when they are the same):
    "adds jsonfield>=3.1", "drops jsonfield2", "pyjwt>=1.7 → pyjwt>=2.8"."""
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    for requirements, by_name in ((old, before), (new, after)):
        for requirement in sorted(requirements):
            by_name.setdefault(_name(requirement), []).append(requirement)
    words = []
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if was == now:
            continue
        if was is None:
            words.append("adds " + ", ".join(now or ()))
        elif now is None:
            words.append("drops " + ", ".join(was))
        else:
            words.append(f"{', '.join(was)} → {', '.join(now)}")
    return words


@dataclass(frozen=True)
class DependencyCheck:
    """The `edit` strategy's guard: the release the downstream pins (`olds`) and the new one
    must declare the same dependencies, else editing the pin alone is wrong."""

    index: PackageIndex
    package: str
    olds: tuple[str, ...]  # versions as the downstream pins them (not versions: not compared)
    new: str
    downstream: str

    def compared(self) -> tuple[str, ...]:
        """The pinned versions that are release versions (a git commit has no release)."""
        from packaging.version import InvalidVersion, Version

        out = []
        for old in self.olds:
            try:
                if Version(old) != Version(self.new):
                    out.append(old)
            except InvalidVersion:
                continue
        return tuple(dict.fromkeys(out))

    def run(self, *, wait: bool) -> bool:
        """Compare now: True when compared (and equal), False when the new version is not on
        the index yet and `wait` is false. With `wait`, wait for it first. UsageError when
        the dependencies differ, or when a pinned version's cannot be read."""
        olds = self.compared()
        if not olds:
            return True
        new = self.index.requirements(self.package, self.new)
        if new is None:
            if not wait:
                return False
            self.index.wait(self.package, self.new)
            new = self.index.requirements(self.package, self.new) or ()
        for old in olds:
            before = self.index.requirements(self.package, old)
            if before is None:
                raise UsageError(
                    f"{self.package} {old}, which {self.downstream} pins, is not on "
                    f"{self.index.url}: its dependencies cannot be compared with {self.new}'s",
                    f'use strategy = "relock" for {self.downstream} (its resolver re-resolves '
                    "the dependencies), or check_dependencies = false to edit the pin anyway",
                )
            words = dependency_changes(before, new)
            if words:
                raise UsageError(
                    f"{self.package} {self.new} changes its dependencies since {old} "
                    f"({'; '.join(words)}): editing {self.downstream}'s pins alone would leave "
                    "them behind",
                    f'use strategy = "relock" for {self.downstream}: its own resolver moves the '
                    'dependencies with the package (or strategy = "dispatch" to run its '
                    "upgrade workflow)",
                )
        return True
