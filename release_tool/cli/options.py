"""The options the commands share, and the release family's arguments object.

Each command family's click options are declared once, as a decorator (`release_options`,
`output_options`, …), beside the typed, immutable record its values become (`ReleaseArgs`
here; `ReleasedArgs`, `StatusArgs`, `ServeArgs` and `RehearseArgs` in their command modules,
so a command that is not run does not build them): `run.command` builds that record from
click's keyword arguments, so a command body works with typed fields, never with a
`**options` dictionary. Every command has `--quiet`; every command that reports something has
`--json`. Every record satisfies `OutputArgs`.

The records are `NamedTuple`s rather than frozen dataclasses on purpose: they are built when
the CLI starts, and a dataclass costs about a millisecond to create.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import click

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


if TYPE_CHECKING:  # for type checking only: nothing at run time needs the class

    class OutputArgs(Protocol):
        """`--json` and `--quiet`: what every command's arguments record carries."""

        @property
        def json_mode(self) -> bool: ...

        @property
        def quiet(self) -> bool: ...


QUIET = click.option("--quiet", "-q", is_flag=True, help="Print only errors and the final line.")


def output_options(json_help: str) -> Decorator:
    """`--json` (with what it prints) and `--quiet`."""
    return options(click.option("--json", "json_mode", is_flag=True, help=json_help), QUIET)


# --- release, plan, bump ------------------------------------------------------------------------


class ReleaseArgs(NamedTuple):
    """`release`, `plan` and `bump` (which have a subset of the options: the rest default)."""

    bump: str
    json_mode: bool = False
    quiet: bool = False
    pre: str | None = None
    sync: bool = False
    allow_downgrade: bool = False
    allow_empty_notes: bool = False
    skip: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    local: bool = False
    send_email: bool = False
    allow_unpushed: bool = False
    no_verify: bool = False
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
            allow_unpushed=self.allow_unpushed,
            no_verify=self.no_verify,
            today=today or date.today(),
        )


bump_flags = options(
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
bump_options = options(click.argument("bump", metavar="BUMP"), bump_flags)

release_flags = options(  # every option of `release` but --dry-run and --yes (`rehearse` too)
    bump_flags,
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
    click.option(
        "--allow-unpushed",
        is_flag=True,
        help="Let the push publish local commits the remote's branch does not have yet.",
    ),
    click.option(
        "--no-verify", is_flag=True, help="Skip the repository's commit hooks (git --no-verify)."
    ),
)
release_options = options(click.argument("bump", metavar="BUMP"), release_flags)

DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")


def yes_option(what: str) -> Decorator:
    return click.option("--yes", "-y", is_flag=True, help=f"Do not ask before {what}.")
