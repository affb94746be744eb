"""`release-tool` (the console script) and `python -m release_tool`: the CLI, imported fast.

Importing the CLI (click, and the modules it starts with) builds tens of thousands of objects
that live as long as the process and form no garbage cycles, and the cyclic collector would
walk them again and again while they are made: about 5% of a local dry run (`nox -s bench`).
So the collector is paused while the CLI is imported; what the import built is then frozen out
of its view (`gc.freeze`), and collections during the run walk only what the run creates.
"""

from __future__ import annotations

import gc


def main() -> None:
    """The console script: the CLI, imported with the cyclic collector paused."""
    gc.disable()
    try:
        from release_tool.cli import main as cli
    finally:
        gc.freeze()
        gc.enable()
    cli()


if __name__ == "__main__":
    main()
