"""Tiny wheels and sdists, built deterministically with no network, for the sandbox index.

    publish(index_dir, "edx-proctoring", "5.3.0", ["newdep>=1.0"])

writes `edx_proctoring-5.3.0-py3-none-any.whl` and `edx_proctoring-5.3.0.tar.gz`: a package
`edx_proctoring/__init__.py` holding `__version__`, and metadata (2.2, no dynamic fields) with the
given `Requires-Dist`s, extras and `Requires-Python`. The zip and the tar are written by hand per
the binary distribution format and the sdist spec (PEP 625 names), with fixed timestamps, modes
and order: the same arguments give the same bytes, so the same sha256, on every run.

The sdist is buildable offline: its `pyproject.toml` names an in-tree backend (`backend-path`)
with no build requirements, which zips the same wheel. Files appear atomically (written aside,
then renamed), so an index reading the directory never lists half a file.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from release_tool.errors import UsageError

EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold
TAG = "py3-none-any"


@dataclass(frozen=True)
class Project:
    """What a tiny distribution says about itself."""

    name: str
    version: str
    dependencies: tuple[str, ...] = ()
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    requires_python: str | None = None
    summary: str = ""

    @property
    def dist_name(self) -> str:
        """The file-name form of the name: normalised, with underscores."""
        return re.sub(r"[-_.]+", "_", str(canonicalize_name(self.name)))

    @property
    def module(self) -> str:
        return self.dist_name

    @property
    def normal_version(self) -> str:
        return str(Version(self.version))

    def metadata(self) -> str:
        """The core metadata (a wheel's METADATA, an sdist's PKG-INFO)."""
        lines = ["Metadata-Version: 2.2", f"Name: {self.name}", f"Version: {self.normal_version}"]
        if self.summary:
            lines.append(f"Summary: {self.summary}")
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Requires-Dist: {dep}" for dep in self.dependencies]
        for extra, deps in self.extras.items():
            lines.append(f"Provides-Extra: {extra}")
            for dep in deps:
                req = Requirement(dep)
                marker = f'extra == "{extra}"'
                if req.marker is not None:
                    marker = f"({req.marker}) and {marker}"
                req.marker = None
                lines.append(f"Requires-Dist: {req}; {marker}")
        return "\n".join(lines) + "\n\n"

    def module_source(self) -> str:
        return f'"""{self.name} {self.normal_version}: a tiny sandbox package."""\n\n' + (
            f'__version__ = "{self.normal_version}"\n'
        )


def project(
    name: str,
    version: str,
    dependencies: Sequence[str] = (),
    *,
    extras: Mapping[str, Sequence[str]] | None = None,
    requires_python: str | None = None,
    summary: str = "",
) -> Project:
    """A checked `Project`: the version is PEP 440, every dependency PEP 508."""
    try:
        Version(version)
        for dep in [*dependencies, *(d for ds in (extras or {}).values() for d in ds)]:
            Requirement(dep)
    except ValueError as exc:
        raise UsageError(f"cannot build {name} {version}: {exc}", "give PEP 440/508 text") from None
    return Project(
        name,
        version,
        tuple(dependencies),
        {k: tuple(v) for k, v in (extras or {}).items()},
        requires_python,
        summary,
    )


def wheel_bytes(proj: Project) -> bytes:
    """The wheel's bytes."""
    dist_info = f"{proj.dist_name}-{proj.normal_version}.dist-info"
    wheel = f"Wheel-Version: 1.0\nGenerator: release-tool\nRoot-Is-Purelib: true\nTag: {TAG}\n"
    files = [
        (f"{proj.module}/__init__.py", proj.module_source().encode()),
        (f"{dist_info}/METADATA", proj.metadata().encode()),
        (f"{dist_info}/WHEEL", wheel.encode()),
    ]
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files)
    files.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def sdist_bytes(proj: Project) -> bytes:
    """The sdist's bytes (`.tar.gz`, PEP 625)."""
    root = f"{proj.dist_name}-{proj.normal_version}"
    deps = "".join(f"    {_toml_string(d)},\n" for d in proj.dependencies)
    pyproject = (
        "[build-system]\nrequires = []\n"
        'build-backend = "_tiny_backend"\nbackend-path = ["."]\n\n'
        f"[project]\nname = {_toml_string(proj.name)}\n"
        f"version = {_toml_string(proj.normal_version)}\n"
        f"dependencies = [\n{deps}]\n"
    )
    if proj.requires_python:
        pyproject += f"requires-python = {_toml_string(proj.requires_python)}\n"
    if proj.extras:
        pyproject += "\n[project.optional-dependencies]\n" + "".join(
            f"{extra} = [{', '.join(_toml_string(d) for d in deps_)}]\n"
            for extra, deps_ in proj.extras.items()
        )
    files = [
        ("PKG-INFO", proj.metadata().encode()),
        ("_tiny_backend.py", _BACKEND.encode()),
        (f"{proj.module}/__init__.py", proj.module_source().encode()),
        ("pyproject.toml", pyproject.encode()),
    ]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in sorted(files):
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue()


def wheel_filename(proj: Project) -> str:
    return f"{proj.dist_name}-{proj.normal_version}-{TAG}.whl"


def sdist_filename(proj: Project) -> str:
    return f"{proj.dist_name}-{proj.normal_version}.tar.gz"


def build_wheel(directory: Path, proj: Project) -> Path:
    """Write the wheel into `directory` (atomically); returns its path."""
    return _write(Path(directory) / wheel_filename(proj), wheel_bytes(proj))


def build_sdist(directory: Path, proj: Project) -> Path:
    """Write the sdist into `directory` (atomically); returns its path."""
    return _write(Path(directory) / sdist_filename(proj), sdist_bytes(proj))


def publish(
    directory: Path,
    name: str,
    version: str,
    dependencies: Sequence[str] = (),
    *,
    extras: Mapping[str, Sequence[str]] | None = None,
    requires_python: str | None = None,
    sdist: bool = True,
    wheel: bool = True,
) -> list[Path]:
    """Build `name` `version` into the index directory: a wheel and an sdist by default."""
    proj = project(name, version, dependencies, extras=extras, requires_python=requires_python)
    Path(directory).mkdir(parents=True, exist_ok=True)
    paths = []
    if wheel:
        paths.append(build_wheel(directory, proj))
    if sdist:
        paths.append(build_sdist(directory, proj))
    return paths


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return path


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The sdist's own build backend: stdlib only, no build requirements, builds the same wheel.
_BACKEND = '''"""A minimal PEP 517 backend: zips the package and PKG-INFO into a pure wheel."""

import base64
import hashlib
import os
import re
import zipfile


def _meta():
    with open("PKG-INFO", encoding="utf-8") as handle:
        text = handle.read()
    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    name = re.sub(r"[-_.]+", "_", fields["Name"]).lower()
    return text, name, fields["Version"]


def _hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    text, name, version = _meta()
    dist_info = f"{name}-{version}.dist-info"
    wheel = "Wheel-Version: 1.0\\nGenerator: release-tool\\nRoot-Is-Purelib: true\\n"
    wheel += "Tag: py3-none-any\\n"
    with open(os.path.join(name, "__init__.py"), "rb") as handle:
        source = handle.read()
    files = [
        (f"{name}/__init__.py", source),
        (f"{dist_info}/METADATA", text.encode()),
        (f"{dist_info}/WHEEL", wheel.encode()),
    ]
    record = "".join(f"{p},{_hash(d)},{len(d)}\\n" for p, d in files)
    files.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\\n").encode()))
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return filename
'''
