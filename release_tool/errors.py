"""The one exception family of release_tool, and the exit code each member maps to.

Only `cli/run.py` turns these into exit codes and printed lines (pypa/build's rule: one
place). Every error carries a one-line message that names the problem and a hint saying what to
do about it.
"""

from __future__ import annotations


class ReleaseError(Exception):
    """A failure the user can act on. Exit code 1: a release step failed."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details  # a table or a list shown under the one-line message

    def __str__(self) -> str:
        return self.message


class UsageError(ReleaseError):
    """Bad usage, bad configuration or bad input: nothing was changed. Exit code 2."""

    exit_code = 2


class ConfigError(UsageError):
    """`[tool.release_tool]` is missing, malformed, or names something that is not there."""


class VersionError(UsageError):
    """A version that cannot be parsed, mapped to SemVer, or released after the current one."""


class FileEditError(UsageError):
    """A version file whose version line is missing, ambiguous or malformed."""


class PreflightError(UsageError):
    """One or more preflight checks failed; `problems` holds every one of them."""

    def __init__(self, problems: list[ReleaseError]) -> None:
        lines = "; ".join(p.message for p in problems)
        hints = "; ".join(dict.fromkeys(p.hint for p in problems if p.hint))
        details = "\n".join(p.details for p in problems if p.details)
        super().__init__(f"preflight failed: {lines}", hints, details)
        self.problems = problems


class StepFailed(ReleaseError):
    """A step failed while applying the plan. Exit code 1; re-running the command finishes it."""


class Interrupted(ReleaseError):
    """The user interrupted the run (Ctrl-C) or declined the confirmation. Exit code 130."""

    exit_code = 130


class InternalError(ReleaseError):
    """A bug: an exception that is not a ReleaseError. Exit code 1; the cause is kept, and
    shown as a traceback under RELEASE_TOOL_DEBUG=1."""


class Unfinished(StepFailed):
    """A run that stopped with its local state unsettled: whether its push landed could not be
    told, or its rollback was cut short. The release lock keeps its journal, and the next run's
    `recover` step settles what this one could not. Exit code 1, or 130 when interrupted."""

    def __init__(self, message: str, hint: str = "", details: str = "", exit_code: int = 1):
        super().__init__(message, hint, details)
        self.exit_code = exit_code
