"""The commands' options, and one frozen arguments object per command family.

Each family's click options are declared once here, as a decorator (`release_options`,
`output_options`, …), beside the dataclass its values become (`ReleaseArgs`, `ReleasedArgs`,
…): `run.command` builds that object from click's keyword arguments, so a command body works
with typed fields, never with a `**options` dictionary. Every command has `--quiet`; every
command that reports something has `--json`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from release_tool.cli.console import Mode

if TYPE_CHECKING:
    from release_tool.project import ReleaseRequest

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

PRE_CHOICES = click.Choice(["a", "alpha", "b", "beta", "rc"])


def options(*decorators: Decorator) -> Decorator:
    """Several click decorators as one, applied in the order written."""

    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


# --- every command ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OutputArgs:
    """`--json` and `--quiet`: what every command's arguments carry."""

    json_mode: bool = False
    quiet: bool = False

    @property
    def mode(self) -> Mode:
        return Mode(json=self.json_mode, quiet=self.quiet)


QUIET = click.option("--quiet", "-q", is_flag=True, help="Print only errors and the final line.")


def output_options(json_help: str) -> Decorator:
    """`--json` (with what it prints) and `--quiet`."""
    return options(click.option("--json", "json_mode", is_flag=True, help=json_help), QUIET)


# --- release, plan, bump ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReleaseArgs(OutputArgs):
    """`release`, `plan` and `bump` (which have a subset of the options: the rest default)."""

    bump: str
    pre: str | None = None
    sync: bool = False
    allow_downgrade: bool = False
    allow_empty_notes: bool = False
    skip: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    local: bool = False
    send_email: bool = False
    dry_run: bool = False
    yes: bool = False

    def request(self, today: date | None = None) -> ReleaseRequest:
        """The pipeline's request: the bump parsed once, here at the edge."""
        from release_tool.project import Bump, ReleaseRequest

        return ReleaseRequest(
            bump=Bump.parse(self.bump),
            pre={"alpha": "a", "beta": "b"}.get(self.pre or "", self.pre),
            allow_downgrade=self.allow_downgrade,
            allow_empty_notes=self.allow_empty_notes,
            sync=self.sync,
            send_email=self.send_email,
            skip=frozenset(self.skip),
            only=frozenset(self.only),
            local=self.local,
            today=today or date.today(),
        )


bump_options = options(
    click.argument("bump", metavar="BUMP"),
    click.option(
        "--pre", type=PRE_CHOICES, help="Start or advance a pre-release (e.g. `patch --pre rc`)."
    ),
    click.option(
        "--sync", is_flag=True, help="Bring disagreeing version files to the explicit VERSION."
    ),
    click.option(
        "--allow-downgrade",
        is_flag=True,
        help="Allow a version that is not greater than the current one.",
    ),
    output_options("Print the plan and result as JSON."),
)

release_options = options(
    bump_options,
    click.option(
        "--allow-empty-notes",
        is_flag=True,
        help="Release even if the changelog has no notes for it.",
    ),
    click.option("--skip", multiple=True, metavar="STEP", help="Leave out a step (repeatable)."),
    click.option("--only", multiple=True, metavar="STEP", help="Run only this step (repeatable)."),
    click.option(
        "--local",
        is_flag=True,
        help="Only the local steps: bump, commit, tag, push (no GitHub, no email).",
    ),
    click.option(
        "--send-email",
        is_flag=True,
        help="Send the notification email through SMTP, not only the draft.",
    ),
)

DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")


def yes_option(what: str) -> Decorator:
    return click.option("--yes", "-y", is_flag=True, help=f"Do not ask before {what}.")


# --- email, downstream: for a version released earlier --------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReleasedArgs(OutputArgs):
    """`email VERSION` and `downstream VERSION`."""

    version: str
    send: bool = False  # email: send it through SMTP too
    dry_run: bool = False
    yes: bool = False


def released_options(what: str) -> Decorator:
    return options(
        click.argument("version"),
        click.option("--dry-run", is_flag=True, help=f"Show the {what} and change nothing."),
        output_options(f"Print the {what} and the result as JSON."),
    )


# --- sandbox serve --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ServeArgs(OutputArgs):
    root: Path
    port: int = 0
    tokens: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    faults: tuple[str, ...] = ()
    seed: str | None = None
    index_dir: Path | None = None


serve_options = options(
    click.option(
        "--root",
        type=click.Path(path_type=Path),
        required=True,
        help="Folder of the sandbox's repositories (ROOT/OWNER/NAME.git) and state.",
    ),
    click.option("--port", type=int, default=0, help="Port to listen on (default: a free one)."),
    click.option(
        "--token",
        "tokens",
        multiple=True,
        metavar="TOKEN[:USER]",
        help="A token and its user (default user: maintainer). Repeatable.",
    ),
    click.option(
        "--grant",
        "grants",
        multiple=True,
        metavar="USER:OWNER/NAME",
        help="Let USER write OWNER/NAME. Repeatable.",
    ),
    click.option(
        "--fault",
        "faults",
        multiple=True,
        metavar="'METHOD PATH_GLOB STATUS [COUNT]'",
        help="Make matching requests fail (STATUS: a code, reset, ratelimit). Repeatable.",
    ),
    click.option(
        "--seed",
        type=click.Choice(["example"]),
        help="Create the bundled example repositories first.",
    ),
    click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path, file_okay=False),
        help="Also serve the wheels and sdists in DIR as a package index at /simple/.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="Print only the API URL and errors."),
)


# --- rehearse -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RehearseArgs(OutputArgs):
    bump: str = "patch"
    example: bool = False
    downstream_from: Path | None = None
    pre: str | None = None
    keep: bool = False
    workspace: Path | None = None


rehearse_options = options(
    click.argument("bump", metavar="[BUMP]", default="patch"),
    click.option(
        "--example",
        is_flag=True,
        help="Rehearse the bundled example pair instead of this repository.",
    ),
    click.option(
        "--downstream-from",
        type=click.Path(path_type=Path, exists=True),
        help="A local copy of the downstream repository to rehearse against.",
    ),
    click.option("--pre", type=PRE_CHOICES, help="Start or advance a pre-release."),
    click.option(
        "--keep",
        is_flag=True,
        help="Keep the sandbox serving afterwards, to browse the result (Ctrl-C stops).",
    ),
    click.option(
        "--workspace",
        type=click.Path(path_type=Path),
        help="Folder for the sandbox and the working copy (default: a new temp folder).",
    ),
    output_options("Print the summary as JSON."),
)
