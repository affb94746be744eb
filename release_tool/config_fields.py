"""The configuration's field helpers (`_opt`: a field with its TOML key, help and check; `_Keyed`:
a table that knows its key path) and the checks the fields use; `config` holds the dataclasses
built from them."""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable
from dataclasses import field
from pathlib import PurePosixPath
from typing import Any

#: Seconds one network operation may take (`network_timeout`): a stalled remote fails the
#: step instead of hanging the run.
DEFAULT_NETWORK_TIMEOUT = 120.0

_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_PACKAGE_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_EMAIL_RE = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HTTP_URL = r"^https?://[^/?#\s]+"  # compiled on first use: only a config that sets index_url


def _opt(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    key: str | None = None,
    check: Callable[[Any], str | None] | None = None,
    path: bool = False,
) -> Any:
    """A config field: its help, its TOML key if not the field name, and an extra check."""
    meta = {"help": help, "key": key, "check": check, "path": path}
    if isinstance(default, list | tuple | dict):
        frozen = (
            tuple(default) if not isinstance(default, dict) else types.MappingProxyType(default)
        )
        return field(default_factory=lambda: frozen, metadata=meta)
    return field(default=default, metadata=meta)


def _internal(default: str) -> Any:
    """A field the loader fills in that is no TOML key (`where`): no key, schema or docs row."""
    return field(default=default, repr=False, compare=False, metadata={"internal": True})


def _key_path(where: str, key: str) -> str:
    """`tool.release_tool.sign`, or `release-tool.toml: sign` at that file's top level."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


class _Keyed:
    """A table that knows its key path (`where`, filled in by the loader; no TOML key), so a
    message raised after loading names a key as the file spells it."""

    where: str

    def key(self, name: str) -> str:
        """`name`'s key path: `tool.release_tool.email.subject`, or
        `release-tool.toml: email.subject` when the configuration is in that file."""
        return _key_path(self.where, name)


def toml_fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    """A config class's fields that are TOML keys (not the `_internal` ones)."""
    return tuple(f for f in dataclasses.fields(cls) if not f.metadata.get("internal"))


def _check_repository(value: str) -> str | None:
    return None if _REPO_RE.match(value) else f"{value!r} is not of the form 'owner/name'"


def _check_package(value: str) -> str | None:
    return None if _PACKAGE_RE.match(value) else f"{value!r} is not a valid package name"


def _check_tag_format(value: str) -> str | None:
    if value.count("{version}") != 1:
        return f"{value!r} must contain '{{version}}' exactly once"
    if re.search(r"[\s~^:?*\[\\]|\.\.|@\{", value):
        return f"{value!r} would not be a valid git tag name"
    return None


def check_address(value: str) -> str | None:
    """An email address, bare (`a@b.org`) or with a display name (`Name <a@b.org>`)."""
    match = re.fullmatch(r"\s*(?:[^<>]*<([^<>]+)>|([^<>]+))\s*", value)
    addr = (match.group(1) or match.group(2)).strip() if match else ""
    return None if _EMAIL_RE.match(addr) else f"{value!r} is not a valid email address"


def _check_addresses(values: tuple[str, ...]) -> str | None:
    for value in values:
        problem = check_address(value)
        if problem:
            return problem
    return None


def _check_optional_address(value: str | None) -> str | None:
    return None if value is None else check_address(value)


def _check_nonempty(values: tuple[Any, ...]) -> str | None:
    return None if values else "must not be empty"


def _check_positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _check_globs(values: tuple[str, ...]) -> str | None:
    for value in values:
        pure = PurePosixPath(value)
        if not value or pure.is_absolute() or ".." in pure.parts or "\\" in value:
            return f"{value!r} must be a relative path (a glob) inside the checkout"
    return None


def _check_http_url(value: str) -> str | None:
    return None if re.match(_HTTP_URL, value) else f"{value!r} is not an http(s) URL"


def _check_pr_head(value: str) -> str | None:
    try:
        value.format(actor="a", package="p")
    except (KeyError, IndexError, ValueError):
        return f"{value!r} may name only {{actor}} and {{package}}"
    return None


def _check_search(value: str | None) -> str | None:
    if value is not None and value.count("{version}") != 1:
        return f"{value!r} must contain '{{version}}' exactly once"
    return None
