"""Jinja2 rendering for every template the tool uses: sandboxed, strict, overridable.

All templates (commit message, release name and body, PR title and body, the email) render here,
in a `SandboxedEnvironment` with `StrictUndefined`: a template cannot reach Python internals, and
a misspelt variable is an error instead of an empty string. A project overrides a bundled
template by putting a file of the same name in the folder named by `templates` in its config.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release_tool.errors import ConfigError

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


def bundled_templates_dir() -> Path:
    """The bundled templates: inside the installed package, or the source tree's `templates/`."""
    here = Path(__file__).resolve().parent
    installed = here / "templates"
    return installed if installed.is_dir() else here.parent / "templates"


@cache
def _environment(override_dir: str | None, html: bool) -> SandboxedEnvironment:
    from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loaders.append(FileSystemLoader(str(bundled_templates_dir())))
    return SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=False,
    )


# A template that only substitutes plain variables: `chore: release {{ package }} {{ version }}`.
_PLAIN = re.compile(r"(?:[^{]|\{(?![{%#]))*")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")


def _render_plain(source: str, context: dict[str, Any], name: str) -> str | None:
    """Render `source` without Jinja2 when it is only text and `{{ variable }}`s.

    The commit message is rendered on every dry run, and importing Jinja2 would cost a
    local plan about a tenth of its time. The result is what Jinja2 gives for such a
    template (str() of each value, one trailing newline dropped); anything more — a filter,
    a tag, a comment — returns None and goes to Jinja2.
    """
    if not _PLAIN.fullmatch(_VARIABLE.sub("", source)):
        return None
    missing = [v for v in _VARIABLE.findall(source) if v not in context]
    if missing:
        raise ConfigError(
            f"template {name!r}: {missing[0]!r} is undefined",
            "fix the template (variables: " + ", ".join(sorted(context)) + ")",
        )
    text = _VARIABLE.sub(lambda m: str(context[m.group(1)]), source)
    return text[:-1] if text.endswith("\n") else text


def _source(name: str, override_dir: Path | None) -> str | None:
    for folder in (override_dir, bundled_templates_dir()):
        if folder is not None and (folder / name).is_file():
            return (folder / name).read_text(encoding="utf-8")
    return None


def render(name: str, context: dict[str, Any], *, override_dir: Path | None = None) -> str:
    """Render the template `name` (e.g. 'github/release_body.md.j2'); HTML ones autoescape."""
    if not name.endswith(".html.j2"):
        source = _source(name, override_dir)
        plain = _render_plain(source, context, name) if source is not None else None
        if plain is not None:
            return plain

    from jinja2 import TemplateError, TemplateNotFound

    env = _environment(str(override_dir) if override_dir else None, name.endswith(".html.j2"))
    try:
        return env.get_template(name).render(context)
    except TemplateNotFound:
        raise ConfigError(
            f"template {name!r} not found", "check the file name in your templates folder"
        ) from None
    except TemplateError as exc:
        raise ConfigError(
            f"template {name!r}: {_describe(exc)}",
            "fix the template (variables: " + ", ".join(sorted(context)) + ")",
        ) from None


def render_string(source: str, context: dict[str, Any], *, what: str) -> str:
    """Render a template given inline in the config (e.g. `commit_message`)."""
    plain = _render_plain(source, context, what)
    if plain is not None:
        return plain
    from jinja2 import TemplateError

    env = _environment(None, False)
    try:
        return env.from_string(source).render(context)
    except TemplateError as exc:
        raise ConfigError(
            f"{what}: {_describe(exc)}",
            "fix the template (variables: " + ", ".join(sorted(context)) + ")",
        ) from None


def _describe(exc: Exception) -> str:
    line = getattr(exc, "lineno", None)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{text} (line {line})" if line else text
