"""`python -m release_tool` runs the same CLI as the `release-tool` script."""

from release_tool.cli import main

main()
