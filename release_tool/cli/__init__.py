"""The command line: the only package that reads argv and the environment, prints, prompts and
chooses exit codes.

Module map:

- `app`: the `release-tool` group; makes one `Output` per invocation, passes it on in an
  `Invocation` (click's context object); `main`, the console script. A command's module is
  imported when the command is used (or for `--help`).
- `commands/`: one module per command family (release/plan/bump, status, email/downstream,
  sandbox serve, rehearse); each command is a small function of `(invocation, args)`.
- `options`: the shared click options and `ReleaseArgs`; each command family's options become
  one frozen arguments record (`ReleaseArgs`; `ReleasedArgs`, `StatusArgs`, `ServeArgs`,
  `RehearseArgs` beside their commands), never a `**options` dictionary.
- `run`: the one place where exceptions become exit codes and error reports (text, JSON,
  Actions annotations).
- `console`: `Output`, plain or JSON, quiet or not, always redacted; rich only on a terminal.
- `show`: plans, progress, result tables, the JSON result and the Actions step summary.
- `loading`: the `Project` from the folder and the environment (token, retry pace).

Commands are thin: each builds a `Project` and a request, calls one function of the pipeline,
and shows what came back. Start-up stays lean: nothing here imports rich, PyGithub, GitPython,
Jinja2 or the email package at import time.
"""

from release_tool.cli.app import cli, main
from release_tool.cli.console import Output
from release_tool.cli.loading import github_token, load_project, retry_policy
from release_tool.cli.run import Invocation

__all__ = ["Invocation", "Output", "cli", "github_token", "load_project", "main", "retry_policy"]
