"""docs/configuration.md, generated from the config dataclasses' fields and their help.

`python -m release_tool.config_reference > docs/configuration.md`; a test keeps the file in
step with `release_tool/config.py`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from release_tool.config import (
    CONFIG_FILE,
    PYPROJECT,
    CompileConfig,
    Config,
    DownstreamConfig,
    EmailConfig,
    ExportConfig,
    VersionFile,
)
from release_tool.config_fields import toml_fields


def field_help(cls: type[Any] = Config) -> list[tuple[str, str, str]]:
    """(key, default, help) for every field of a config class: the reference docs show."""
    rows = []
    for f in toml_fields(cls):
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()  # a tuple or a read-only mapping: show it as TOML-ish
            default = repr(list(value) if isinstance(value, tuple) else dict(value))
        else:
            default = "required"
        rows.append((f.metadata.get("key") or f.name, default, f.metadata["help"]))
    return rows


def reference_markdown() -> str:
    """docs/configuration.md: every key of every section, from the fields themselves."""
    sections = [
        ("[tool.release_tool]", Config),
        ("[tool.release_tool.email]", EmailConfig),
        ("[[tool.release_tool.downstream]]", DownstreamConfig),
        ("downstream exports entries: { output, args }", ExportConfig),
        ("downstream compile entries: a path or { source, output, args }", CompileConfig),
        ("version_files entries as tables: { path, kind, search, spelling }", VersionFile),
    ]
    out = [
        "# Configuration reference",
        "",
        "Generated from `release_tool/config.py` (`python -m release_tool.config_reference`); "
        "a test keeps it in step. The same keys as a JSON Schema, for editors, "
        "`check-jsonschema` and `validate-pyproject`: "
        "[config.schema.json](config.schema.json).",
        "",
        "## Where the configuration lives",
        "",
        f"Either in `{PYPROJECT}`, under `[tool.release_tool]`, or in a `{CONFIG_FILE}` at the "
        "repository's root, with the same keys at its top level (`[email]` and "
        "`[[downstream]]` for the tables below) — for a library with `setup.py` or "
        "`setup.cfg` and no pyproject.toml. Never both: a repository with both is refused, "
        "naming the two files. Errors name the key path: "
        "`tool.release_tool.downstream[0].labels`, or "
        f"`{CONFIG_FILE}: downstream[0].labels`. `release-tool init` writes a starting "
        "configuration from what it finds in the repository (into pyproject.toml if the "
        f"project has one, else into {CONFIG_FILE}).",
        "",
    ]
    for title, cls in sections:
        out += [f"## {title}", "", "| key | default | what it is |", "| --- | --- | --- |"]
        out += [f"| `{key}` | `{default}` | {help_} |" for key, default, help_ in field_help(cls)]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(reference_markdown(), end="")
