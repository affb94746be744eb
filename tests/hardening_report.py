"""Pytest plugin: the hardening counts, and the session-wide token scan, at the end of the run.

Listed in conftest.py's `pytest_plugins` (or loaded with `-p hardening_report`).

Counts. A test marked `@pytest.mark.hardening("fault")` (or "bad_input") is one case. Its outcome
reaches the terminal through its test report: `pytest_runtest_makereport` (where the test runs,
an xdist worker or this process) tags each report with the case kind in `user_properties`, and
`pytest_runtest_logreport` (where the terminal is: the controller under xdist, which receives
every worker's reports, or this process without xdist) counts them. So the two lines below are
printed the same way with `-n auto` and without it, and no file has to be shared.

    faults survived: 36/36
    bad inputs: 47/47 rejected with nothing changed

A case that fails, errors in setup or teardown, or is an expected failure (a known product bug,
`xfail(strict=True)`) is not counted as survived/rejected; the line then says how many are
known bugs.

Token scan. When the session ends (on the controller only), every file under the session's
temporary directory (`tmp_path_factory.getbasetemp()`: under xdist, the workers' folders are in
it) is searched for the tokens the fixtures hand out: `sandbox-token-maintainer`,
`sandbox-token-outsider` (with their URL-encoded and Base64 forms) and the rehearsal tokens
(`rehearsal-` + 24 hex digits). Git's loose objects are decompressed first, so a token committed
or pushed anywhere is found too. Files that are byte-for-byte copies of this project's own files
(a test clones the project, whose test sources name the tokens on purpose) are skipped. A finding
fails the session (exit status 1) and is listed in the summary.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from release_tool.redact import forms

KINDS = {
    "fault": "faults survived: {ok}/{total}",
    "bad_input": "bad inputs: {ok}/{total} rejected with nothing changed",
}
FIXED_TOKENS = ("sandbox-token-maintainer", "sandbox-token-outsider")
REHEARSAL_TOKEN = re.compile(rb"rehearsal-[0-9a-f]{24}(?![0-9a-f])")
MAX_FILE = 50 * 1024 * 1024


@dataclass
class Tally:
    """Per case (node id): its kind and the worst outcome of its phases."""

    kinds: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)

    def add(self, nodeid: str, kind: str, outcome: str) -> None:
        self.kinds[nodeid] = kind
        rank = ["passed", "skipped", "xfailed", "failed"]
        old = self.outcomes.get(nodeid, "passed")
        self.outcomes[nodeid] = max(old, outcome, key=rank.index)

    def lines(self) -> list[str]:
        out = []
        for kind, template in KINDS.items():
            cases = [n for n, k in self.kinds.items() if k == kind]
            counted = Counter(self.outcomes[n] for n in cases)
            total = len(cases) - counted["skipped"]
            if total <= 0:
                continue
            line = template.format(ok=counted["passed"], total=total)
            extra = []
            if counted["xfailed"]:
                extra.append(f"{counted['xfailed']} known product bugs (xfail)")
            if counted["failed"]:
                extra.append(f"{counted['failed']} failed")
            out.append(line + (f" ({', '.join(extra)})" if extra else ""))
        return out


@dataclass
class ScanResult:
    root: Path
    files: int = 0
    objects: int = 0  # git loose objects decompressed and searched
    packs: int = 0  # git pack files: searched as stored (compressed), not unpacked
    source_copies: int = 0
    findings: list[str] = field(default_factory=list)

    def line(self) -> str:
        what = (
            f"token scan: {self.files} files under {self.root} "
            f"({self.objects} git objects decompressed, {self.source_copies} copies of the "
            f"project's sources skipped, {self.packs} pack files searched as stored)"
        )
        if not self.findings:
            return f"{what}: no token found"
        return f"{what}: {len(self.findings)} FINDINGS"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hardening(kind): a hardening case counted in the summary (fault, bad_input)"
    )
    config.pluginmanager.register(HardeningReport(config), "hardening-report")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Where the test runs: tag its reports with the case kind (they travel to the controller)."""
    report = yield
    marker = item.get_closest_marker("hardening")
    if marker is not None and marker.args:
        report.user_properties.append(("hardening", str(marker.args[0])))
    return report


class HardeningReport:
    """Where the terminal is: count the cases, scan the temporary tree, print both."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tally = Tally()
        self.scan: ScanResult | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        kind = next((v for k, v in report.user_properties if k == "hardening"), None)
        if kind is None:
            return
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "failed"  # a strict xpass fails
        elif report.failed:
            outcome = "failed"
        elif report.skipped:
            outcome = "skipped"
        else:
            outcome = "passed"
        self.tally.add(report.nodeid, str(kind), outcome)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return  # a worker: the controller scans the whole tree once
        factory = getattr(self.config, "_tmp_path_factory", None)
        if factory is None:
            return
        self.scan = scan_for_tokens(factory.getbasetemp(), self.config.rootpath)
        if self.scan.findings and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.tally.lines():
            terminalreporter.write_line(line)
        if self.scan is None:
            return
        terminalreporter.write_line(self.scan.line(), red=bool(self.scan.findings))
        for finding in self.scan.findings[:50]:
            terminalreporter.write_line(f"  token found: {finding}", red=True)


# --- the scan -------------------------------------------------------------------------------


def _needles() -> list[bytes]:
    return sorted({f.encode() for token in FIXED_TOKENS for f in forms(token)}, key=len)


def _source_hashes(rootpath: Path) -> set[str]:
    """sha256 of every file of this project, as in the working tree and as committed."""
    hashes = set()
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=rootpath, capture_output=True, check=True
        ).stdout
        names = [rootpath / n.decode() for n in listed.split(b"\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = [p for p in rootpath.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts]
    names += list((rootpath / "tests").glob("*.py"))  # new test files, not committed yet
    for path in names:
        if path.is_file():
            hashes.add(hashlib.sha256(path.read_bytes()).hexdigest())
    # The committed version of files that name a token (a clone holds that one).
    grep = subprocess.run(
        ["git", "grep", "-l", "-e", "sandbox-token-", "-e", "rehearsal-", "HEAD"],
        cwd=rootpath,
        capture_output=True,
        text=True,
        check=False,
    )
    for spec in grep.stdout.split():
        shown = subprocess.run(
            ["git", "show", spec], cwd=rootpath, capture_output=True, check=False
        ).stdout
        hashes.add(hashlib.sha256(shown).hexdigest())
    return hashes


def _project_objects(rootpath: Path) -> set[str]:
    """Every object id in the project's own repository (none if it is not a git checkout)."""
    listed = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch-check=%(objectname)"],
        cwd=rootpath,
        capture_output=True,
        text=True,
        check=False,
    )
    return set(listed.stdout.split()) if listed.returncode == 0 else set()


def _is_loose_object(path: Path) -> bool:
    parent = path.parent
    return (
        parent.parent.name == "objects"
        and len(parent.name) == 2
        and len(path.name) == 38
        and all(c in "0123456789abcdef" for c in parent.name + path.name)
    )


def produced_files(root: Path) -> Iterator[tuple[Path, bytes, str]]:
    """Every regular file under `root` as (path, searchable bytes, what it is): a git loose
    object decompressed ("object"), a pack file as stored ("pack"), anything else as is."""
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            if path.stat().st_size > MAX_FILE:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if path.suffix == ".pack":
            yield path, data, "pack"
        elif _is_loose_object(path):
            try:
                raw = zlib.decompress(data)
            except zlib.error:
                yield path, data, "file"
            else:
                yield path, raw.split(b"\0", 1)[1] if b"\0" in raw else raw, "object"
        else:
            yield path, data, "file"


def scan_for_tokens(root: Path, rootpath: Path) -> ScanResult:
    result = ScanResult(root)
    if not root.is_dir():
        return result
    needles = _needles()
    sources = _source_hashes(rootpath)
    own_objects = _project_objects(rootpath)
    for path, data, kind in produced_files(root):
        result.files += 1
        result.packs += kind == "pack"
        result.objects += kind == "object"
        if hashlib.sha256(data).hexdigest() in sources or (
            kind == "object" and path.parent.name + path.name in own_objects
        ):
            # The project's own files, or its own history in a clone of it (a test that
            # rehearses release_tool itself copies every commit, test sources included).
            result.source_copies += 1
            continue
        hits = [n.decode() for n in needles if n in data]
        hits += [m.group().decode() for m in REHEARSAL_TOKEN.finditer(data)][:1]
        if hits:
            result.findings.append(f"{path.relative_to(root)}: {', '.join(sorted(set(hits)))}")
    return result
