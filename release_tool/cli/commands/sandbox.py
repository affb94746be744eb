"""`sandbox serve`: the embedded GitHub on its own, until Ctrl-C.

Its first line on stdout is the API URL (a script reads it to point the tool there); the
repositories it serves and how to use it follow on stderr (not with --quiet).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from release_tool.cli.console import Output
from release_tool.cli.options import options
from release_tool.cli.run import Invocation, command

if TYPE_CHECKING:
    from release_tool.sandbox import Sandbox


# --- arguments -------------------------------------------------------------------------------


class ServeArgs(NamedTuple):
    """`sandbox serve` (no --json: its output is the API URL)."""

    root: Path
    json_mode: bool = False
    quiet: bool = False
    port: int = 0
    tokens: tuple[str, ...] = ()
    grants: tuple[str, ...] = ()
    faults: tuple[str, ...] = ()
    seed: str | None = None
    index_dir: Path | None = None
    renames: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()


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
    click.option(
        "--rename",
        "renames",
        multiple=True,
        metavar="OWNER/OLD=OWNER/NEW",
        help="Rename a repository first; the old name redirects, as on GitHub. Repeatable.",
    ),
    click.option(
        "--app",
        "apps",
        multiple=True,
        metavar="ID:KEYFILE",
        help="A GitHub App (its private key in PEM), installed on every owner. Repeatable.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="Print only the API URL and errors."),
)


@click.group()
def sandbox() -> None:
    """The embedded GitHub: an API subset and git over HTTP on 127.0.0.1, for rehearsals."""


@sandbox.command()
@serve_options
@command(ServeArgs)
def serve(invocation: Invocation, args: ServeArgs) -> None:
    """Serve a sandbox until interrupted, printing its API URL."""
    output = invocation.output
    server = build_sandbox(output, args)
    try:
        server.serve_forever(partial(say_ready, output))
    except KeyboardInterrupt:
        output.info("sandbox stopped")


def build_sandbox(output: Output, args: ServeArgs) -> Sandbox:
    """The sandbox the options describe (seeded first if asked); its tokens are secrets."""
    from release_tool import sandbox as sb

    token_map = dict(sb.parse_token(spec) for spec in args.tokens)
    for token in token_map:
        output.add_secret(token)
    grants = [sb.parse_grant(spec) for spec in args.grants]
    faults = [sb.parse_fault(spec) for spec in args.faults]
    renames = [sb.parse_rename(spec) for spec in args.renames]
    apps = [sb.parse_app(spec) for spec in args.apps]
    if args.seed:
        sb.seed_example(args.root)
    return sb.Sandbox(
        args.root,
        port=args.port,
        tokens=token_map,
        grants=grants,
        faults=faults,
        index=args.index_dir,
        renames=renames,
        apps=apps,
    )


def say_ready(output: Output, server: Sandbox) -> None:
    """Once the port is bound: the API URL (the final line, on stdout), then how to use it."""
    output.final(server.api_url, stderr=False)
    output.info(
        f"git: {server.url}/OWNER/NAME.git   repositories: "
        f"{', '.join(server.repositories()) or 'none'}"
    )
    if server.index is not None:
        output.info(f"package index: {server.index_url} (serving {server.index.directory})")
    output.info(f"use it with RELEASE_TOOL_GITHUB_API={server.api_url}; Ctrl-C stops it")
