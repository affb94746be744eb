"""The commands, one module per family; `cli.app` adds them to the `release-tool` group.

- `release`: `release BUMP`, `plan BUMP`, `bump BUMP`
- `status`: `status`
- `init`: `init` (a starting configuration)
- `released`: `email VERSION`, `downstream VERSION` (one step, for a version released earlier)
- `sandbox`: `sandbox serve`
- `rehearse`: `rehearse [BUMP]`

Each command is a small function `fn(invocation, args)` that calls named functions; imports of
the pipeline and its features stay inside them, so `--help` loads none of it.
"""
