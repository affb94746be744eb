"""An edx-platform-sized downstream repository, generated with one `git fast-import` stream.

edx-platform has about 20,000 files and tens of thousands of commits; the benchmark's "16×" size
is 20,000 files and 4,992 commits, and "1×" is a sixteenth of that (1,250 files, 312 commits).
The generated repository has:

* a wide tree of small files (Python, JavaScript, HTML and JSON, 400–900 bytes each) under many
  directories (`lms/djangoapps/app_007/views/…`), 10 files per leaf directory;
* a history of many commits that each touch a few files, and every so often a
  "chore: upgrade edx-proctoring to X" commit that rewrites the requirements files;
* at the tip, exactly `release_tool.example.downstream_files()`: the four compiled
  `requirements/edx/*.txt` files pinning edx-proctoring 5.2.0, `kernel.in` and `constraints.txt`.

Everything is deterministic (a seeded RNG and fixed dates), so a size always gives the same
repository, and `cached_repository` keeps each size under `benchmarks/.cache/` between runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from release_tool import example

# Bump when the generated content changes, so stale caches are not reused.
GENERATOR_VERSION = 1
EDX_PLATFORM_FILES = 20_000
EDX_PLATFORM_COMMITS = 4_992
FILES_PER_DIR = 10
# Older pins the history walks through before the tip's 5.2.0.
PIN_LADDER = ("4.18.0", "5.0.0", "5.0.1", "5.1.0", "5.1.1", "5.1.2")
TOPS = ("lms", "cms", "common", "openedx", "xmodule", "scripts", "themes", "conf")
KINDS = ("models", "views", "api", "tests", "serializers", "tasks")
EXTENSIONS = ("py", "py", "py", "py", "js", "html", "json", "py", "py", "js")
START_EPOCH = 1_370_000_000  # mid-2013
SECONDS_PER_COMMIT = 3_600 * 9
IDENTITY = "Platform Developer <dev@example.org>"


@dataclass(frozen=True)
class Size:
    """A downstream size: `scale` 1 is a sixteenth of edx-platform, 16 is edx-platform."""

    scale: float

    @property
    def files(self) -> int:
        return max(FILES_PER_DIR, round(EDX_PLATFORM_FILES * self.scale / 16))

    @property
    def commits(self) -> int:
        return max(2, round(EDX_PLATFORM_COMMITS * self.scale / 16))

    @property
    def label(self) -> str:
        return f"{self.scale:g}×"

    @property
    def key(self) -> str:
        return f"edx-platform-{self.files}f-{self.commits}c-v{GENERATOR_VERSION}-{content_digest()}"


def content_digest() -> str:
    """A short hash of the requirements files the history writes: the cache key changes
    when `release_tool.example` changes what edx-platform's pins look like."""
    texts = [example.downstream_files(v) for v in (*PIN_LADDER, example.CURRENT_VERSION)]
    data = json.dumps(texts, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()[:10]


def git_env(home: Path) -> dict[str, str]:
    """Git isolated from the machine's configuration (hooks, signing, templates)."""
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }


def cached_repository(size: Size, cache: Path) -> Path:
    """The bare repository of `size`, generated into `cache` on first use."""
    target = cache / f"{size.key}.git"
    if (target / "HEAD").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gen-", dir=cache) as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        bare = Path(scratch) / "repo.git"
        generate(bare, size, git_env(home))
        shutil.rmtree(target, ignore_errors=True)
        bare.rename(target)  # atomic: a half-generated repository is never cached
    return target


def generate(bare: Path, size: Size, env: Mapping[str, str]) -> None:
    """Create the bare repository `bare` holding the generated history of `size`."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(bare)], check=True, env=env)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=bare,
        stdin=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    for chunk in stream(size):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed for {size.key}")
    # One pack with deltas, as a hosting service serves it.
    subprocess.run(["git", "repack", "-a", "-d", "-q"], cwd=bare, check=True, env=env)


def file_paths(count: int) -> list[str]:
    """`count` paths in a wide tree: 10 files per leaf directory, leaves spread over TOPS."""
    paths = []
    for i in range(count):
        leaf = i // FILES_PER_DIR
        top = TOPS[leaf % len(TOPS)]
        app, kind = divmod(leaf // len(TOPS), len(KINDS))
        ext = EXTENSIONS[i % len(EXTENSIONS)]
        paths.append(f"{top}/djangoapps/app_{app:04d}/{KINDS[kind]}/module_{i % 10}.{ext}")
    return paths


def file_text(path: str, rng: random.Random, revision: int = 0) -> bytes:
    """A small source-like file; `revision` > 0 appends that many edits' worth of lines."""
    words = ("course", "block", "user", "exam", "grade", "enrollment", "cohort", "xblock")
    lines = [f"# {path}", f'"""{rng.choice(words).title()} support for the platform."""', ""]
    for n in range(rng.randint(10, 24)):
        a, b = rng.choice(words), rng.choice(words)
        lines.append(f"def {a}_{b}_{n}(request, {b}_id):  # {rng.getrandbits(32):08x}")
    lines += [f"# revision {r}" for r in range(1, revision + 1)]
    return ("\n".join(lines) + "\n").encode()


def _data(payload: bytes) -> bytes:
    return f"data {len(payload)}\n".encode() + payload + b"\n"


def _commit(mark: int, message: str, files: Mapping[str, bytes]) -> bytes:
    when = START_EPOCH + mark * SECONDS_PER_COMMIT
    parts = [
        f"commit refs/heads/master\nmark :{mark}\n"
        f"author {IDENTITY} {when} +0000\ncommitter {IDENTITY} {when} +0000\n".encode(),
        _data(message.encode()),
    ]
    if mark > 1:
        parts.append(f"from :{mark - 1}\n".encode())
    for path, content in files.items():
        parts.append(f"M 100644 inline {path}\n".encode() + _data(content))
    return b"".join(parts) + b"\n"


def _requirements(version: str) -> dict[str, bytes]:
    return {path: text.encode() for path, text in example.downstream_files(version).items()}


def stream(size: Size) -> Iterator[bytes]:
    """The fast-import stream of the whole history, one commit per chunk."""
    rng = random.Random(size.key)
    paths = file_paths(size.files)
    initial = {path: file_text(path, random.Random(path)) for path in paths}
    yield _commit(1, "Initial import", {**initial, **_requirements(PIN_LADDER[0])})
    revisions: dict[str, int] = {}
    last = size.commits
    # Upgrades spread over the history; the last commit brings the tip to today's pins.
    upgrades = {
        2 + round(k * (last - 2) / len(PIN_LADDER)): version
        for k, version in enumerate(PIN_LADDER[1:], start=1)
    }
    for mark in range(2, last + 1):
        if mark == last:
            version = example.CURRENT_VERSION
            yield _commit(
                mark, f"chore: upgrade edx-proctoring to {version}", _requirements(version)
            )
        elif mark in upgrades:
            version = upgrades[mark]
            yield _commit(
                mark, f"chore: upgrade edx-proctoring to {version}", _requirements(version)
            )
        else:
            changed = {}
            for path in rng.sample(paths, k=min(3, len(paths))):
                revisions[path] = revisions.get(path, 0) + 1
                changed[path] = file_text(path, random.Random(path), revisions[path])
            yield _commit(mark, f"fix: change {mark} in {next(iter(changed))} (#{mark})", changed)
    yield b"done\n"
