"""`sandbox serve`: the embedded GitHub on its own, until Ctrl-C.

Its first line on stdout is the API URL (a script reads it to point the tool there); the
repositories it serves and how to use it follow on stderr (not with --quiet).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import click

from release_tool.cli.console import Output
from release_tool.cli.options import ServeArgs, serve_options
from release_tool.cli.run import Invocation, command

if TYPE_CHECKING:
    from release_tool.sandbox import Sandbox


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
    if args.seed:
        sb.seed_example(args.root)
    return sb.Sandbox(
        args.root,
        port=args.port,
        tokens=token_map,
        grants=grants,
        faults=faults,
        index=args.index_dir,
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
