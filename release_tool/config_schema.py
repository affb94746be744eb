"""A JSON Schema of the configuration, generated from the config dataclasses.

The schema describes the `[tool.release_tool]` table itself, and so also a whole
`release-tool.toml` (the same keys at its top level): editors with a TOML language server,
`check-jsonschema --schemafile … release-tool.toml` and `validate-pyproject` (through the
plugin `validate_pyproject_plugin`, registered as the `validate_pyproject.tool_schema` entry
point `release_tool`) check a configuration before a release does. It is generated, never
written by hand: `python -m release_tool.config_schema` prints it;
`release_tool/config.schema.json` (shipped in the wheel) and `docs/config.schema.json` are its
output, and a test keeps both in step with `config.py`.

What the loader checks with code is carried over where JSON Schema can say it: the
repository and package name patterns, `{version}` in `tag_format` and `search`, a version
file's kind from its name, `search`/`spelling` only with `kind = "pattern"`, positive timeouts,
and no unknown keys anywhere. The loader stays the authority (paths outside the repository,
email address syntax); the schema never accepts less than it.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal

from release_tool import config, config_fields
from release_tool.config import CompileConfig, Config, VersionFile

SCHEMA_FILE = Path(__file__).with_name("config.schema.json")
DRAFT = "http://json-schema.org/draft-07/schema#"
SCHEMA_ID = (
    "https://raw.githubusercontent.com/release-tool/release-tool/main/docs/config.schema.json"
)

# What a field's check says, in JSON Schema words (the checks themselves: config_fields.py).
_CHECKS: dict[Any, dict[str, Any]] = {
    config_fields._check_repository: {"pattern": config_fields._REPO_RE.pattern},
    config_fields._check_package: {"pattern": config_fields._PACKAGE_RE.pattern},
    config_fields._check_tag_format: {"pattern": r"\{version\}"},
    config_fields._check_search: {"pattern": r"\{version\}"},
    config_fields._check_positive: {"exclusiveMinimum": 0},
    config_fields._check_http_url: {"pattern": config_fields._HTTP_URL},
}
_NONEMPTY = {("EmailConfig", "to")}
# A default that depends on other keys (the kind follows the file's name): not shown.
_NO_DEFAULT = {("VersionFile", "kind")}
_SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}


def schema() -> dict[str, Any]:
    """The configuration's JSON Schema (draft-07, which validate-pyproject speaks)."""
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "release-tool configuration",
        **_object(Config),
        "description": "[tool.release_tool] in pyproject.toml, or the top level of "
        "release-tool.toml: everything the pipeline needs to know about the library.",
    }


def schema_text() -> str:
    """The schema as the shipped files hold it."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def validate_pyproject_plugin(tool_name: str) -> dict[str, Any]:
    """validate-pyproject's plugin: the schema of `[tool.<tool_name>]`."""
    del tool_name  # registered for `release_tool` only
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def _object(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in config_fields.toml_fields(cls):
        key = f.metadata.get("key") or f.name
        prop = {"description": f.metadata["help"], **_type(hints[f.name])}
        prop.update(_CHECKS.get(f.metadata.get("check"), {}))
        if (cls.__name__, f.name) in _NONEMPTY:
            prop["minItems"] = 1
        default = None if (cls.__name__, f.name) in _NO_DEFAULT else _default(f)
        if default is not None:
            prop["default"] = default
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(key)
        properties[key] = prop
    out: dict[str, Any] = {
        "type": "object",
        "description": _summary(cls),
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    if cls is VersionFile:
        # search and spelling belong to the pattern editor (a kind given as another one).
        out["if"] = {"required": ["kind"], "properties": {"kind": {"not": {"const": "pattern"}}}}
        out["then"] = {"not": {"anyOf": [{"required": ["search"]}, {"required": ["spelling"]}]}}
    return out


def _type(tp: Any) -> dict[str, Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in args if a is not type(None)]  # TOML has no null: None is absent
        return _type(inner)
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin is tuple:
        return {"type": "array", "items": _type(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(args[1])}
    if tp is VersionFile:
        return {"anyOf": [_version_file_name(), _object(VersionFile)]}
    if tp is CompileConfig:
        # A string is the `.in` file alone (`source`).
        return {"anyOf": [{"type": "string", "minLength": 1}, _object(CompileConfig)]}
    if dataclasses.is_dataclass(tp):
        return _object(typing.cast(type[Any], tp))
    return {"type": _SCALARS[tp]}


def _version_file_name() -> dict[str, Any]:
    """A version file given by its path alone: the kind must show in the name."""
    names = "|".join(name.replace(".", r"\.") for name in config._KIND_BY_NAME)
    return {
        "type": "string",
        "description": "A path whose name tells the kind: *.py, " + ", ".join(config._KIND_BY_NAME),
        "pattern": f"(^|/)({names})$|\\.py$",
    }


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return list(value) if isinstance(value, tuple) else dict(value)
    return None


def _summary(cls: type[Any]) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0]


if __name__ == "__main__":
    print(schema_text(), end="")
