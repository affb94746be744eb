"""Jinja2 rendering for every template the tool uses: sandboxed, strict, overridable.

All templates (commit message, release name and body, PR title and body, the email) render here,
in a `SandboxedEnvironment` with `StrictUndefined`: a template cannot reach Python internals, and
a misspelt variable is an error instead of an empty string. A project overrides a bundled
template by putting a file of the same name in the folder named by `templates` in its config.

Jinja2 is the only template engine. One output is built in code instead: the default commit
message (the bundled `commit_message.txt.j2`, not overridden), which every local dry run needs,
so that such a run never imports Jinja2; a test proves it equal to Jinja2's rendering.
"""

from __future__ import annotations

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


# The bundled `commit_message.txt.j2`, built in code: a local dry run renders the commit message
# on every start, and importing Jinja2 would cost it about a tenth of its time. A test checks
# that this gives exactly what Jinja2 gives for the bundled template.
DEFAULT_COMMIT_MESSAGE = "commit_message.txt.j2"


def default_commit_message(context: dict[str, Any]) -> str:
    """What the bundled `commit_message.txt.j2` renders to (`chore: release PACKAGE VERSION`)."""
    return f"chore: release {context['package']} {context['version']}"


def render(name: str, context: dict[str, Any], *, override_dir: Path | None = None) -> str:
    """Render the template `name` (e.g. 'github/release_body.md.j2'); HTML ones autoescape."""
    if (
        name == DEFAULT_COMMIT_MESSAGE
        and not (override_dir is not None and (override_dir / name).is_file())
        and {"package", "version"} <= context.keys()
    ):
        return default_commit_message(context)

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
    except UnicodeDecodeError as exc:  # jinja2 reads template files as UTF-8
        bad = exc.object[exc.start]
        raise ConfigError(
            f"template {name!r}: not UTF-8 (byte 0x{bad:02x} at offset {exc.start})",
            "save the template as UTF-8",
        ) from None


def render_string(source: str, context: dict[str, Any], *, what: str) -> str:
    """Render a template given inline in the config (e.g. `commit_message`)."""
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
